"""`bucket track`: saved plans against what happened since (DESIGN §14)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import LedgerInputs, OutputOptions, RunOptions, opt
from bucket.cli.output import emit, err, make_folder, refuse_inputs, to_stdout, warn_all, write

SaveOpt = Annotated[
    Path | None,
    opt(
        "--save",
        "Also save the plan into this folder (created if needed) as <as-of period>_<key>.json, "
        "for `bucket track` to score as months arrive; the same inputs saved twice write one "
        "file.",
        metavar="DIR",
        file_okay=False,
    ),
]


def before_saving(save: Path | None, output: Path | None, inputs: list) -> list:
    """Checks before a command that saves its plan does any work: ``--output`` must not be a
    saved plan of the folder (an input of track), and must have a folder to go to (else the
    plan would be saved and the command still fail). The inputs plus the saved plans."""
    if save is None:  # nothing to check, nothing to import
        return list(inputs)
    from bucket.analysis.saved import saved_files
    from bucket.cli.output import refuse_inputs, to_stdout
    from bucket.errors import OutputError

    given = [*inputs, *saved_files(save)]
    if save is not None and not to_stdout(output):
        assert output is not None
        refuse_inputs(output, given)
        if not output.parent.is_dir():
            raise OutputError(f"{output}: no folder {output.parent} to write into; create it first")
    return given


def save_into(directory: Path, name: str, saved, inputs: list, quiet: bool) -> None:
    """Write ``saved`` as ``directory/name`` unless that name is taken (the same inputs)."""
    from bucket.cli.output import refuse_inputs
    from bucket.errors import OutputError
    from bucket.render import render

    path = directory / name
    if path.exists():
        from bucket.analysis.saved import load_saved
        from bucket.errors import InputError

        try:
            load_saved(path)
        except InputError as exc:
            raise OutputError(
                f"{path} exists but is not a saved plan ({exc.problem.message}); delete it and "
                "save again"
            ) from None
        if not quiet:
            err(f"Note: {path} already holds this plan (same inputs); nothing written")
        return
    refuse_inputs(path, inputs, "--save")
    make_folder(directory)
    write(render(saved, "json"), path, inputs=inputs, option="--save")
    if not quiet:
        err(f"Saved the plan as {path}")


@command()
def track(
    *,
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder of plans saved with `bucket plan LEDGER --save DIR`.",
            file_okay=False,
            show_default=False,
        ),
    ],
    inputs: LedgerInputs,
    out: OutputOptions,
    run: RunOptions,
) -> None:
    """Score saved plans against what happened since: plan against actual.

    For each plan in DIR whose as-of period the ledger has moved past: the plan's model replayed
    on the spend actually made (per channel and on retention) against the customers, new and
    churned customers that followed, per period ahead (MAPE, bias, coverage of the 80 %
    intervals, skill against carrying the last period forward); how far the spend followed the
    recommendation (adherence: 0 kept today's split, 1 followed); whether that paid off by the
    model's own account; periods the ledger restated since; and how the calibrated parameters
    drifted between plans (flagged beyond 2 of their own SDs).

    Examples:

      bucket plan ledger.csv --save plans/

      bucket track plans/ ledger.csv

      bucket track plans/ ledger.csv --json | jq .summary
    """
    from bucket.analysis.saved import saved_files
    from bucket.analysis.track import track as run_track

    given: list[str | Path | None] = [*inputs.input_paths(), *saved_files(directory)]
    if not to_stdout(out.output):
        refuse_inputs(out.output, given)  # type: ignore[arg-type]
    ledger = inputs.load()
    result = run_track(directory, ledger)
    emit(result, out, given)
    warn_all(result.warnings, run.quiet)

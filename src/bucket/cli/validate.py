"""`bucket validate`: list every problem of a ledger, exit 1 if any is an error."""

from __future__ import annotations

import typer

from bucket.cli.command import command
from bucket.cli.options import LedgerInputs, OutputOptions, RunOptions
from bucket.cli.output import emit, err


@command()
def validate(
    *,
    inputs: LedgerInputs,
    out: OutputOptions,
    run: RunOptions,
) -> None:
    """Check a ledger and report every problem found, not only the first.

    Every problem is printed on stderr as one line: Error: FILE, row N, column C: what is
    wrong; how to fix it. Exit code 1 if any problem is an error, 0 if there are only
    warnings or none. The table report goes to stdout only for a valid file; --json, --format
    csv and --format markdown always write the report (with every problem) to stdout;
    --output is written only for a valid file.

    Examples:

      bucket validate ledger.csv

      bucket validate ledger.csv --json | jq '.problems[] | .line'
    """
    from bucket.errors import InputError
    from bucket.io.ledger import inspect_ledger
    from bucket.results.common import ProblemOut, ValidationResult

    try:
        if not inputs.given and inputs.spend is None:
            if inputs.file is None:
                raise typer.BadParameter(
                    "give a ledger FILE, or --transactions FILE", param_hint="FILE"
                )
            ledger, problems = inspect_ledger(inputs.file, inputs.ledger_map())
        else:  # events: the derived ledger must read cleanly; its warnings are the report
            ledger = inputs.load()
            problems = list(ledger.warnings)
    except InputError as exc:  # the file itself could not be read: one problem, no ledger
        ledger, problems = None, [exc.problem]
    if ledger is not None and not any(p.severity == "error" for p in problems):
        problems += _readiness(ledger)
    errors = [p for p in problems if p.severity == "error"]
    result = ValidationResult(
        file=problems[0].file if problems else (ledger.file if ledger else str(inputs.file)),
        valid=not errors,
        errors=len(errors),
        warnings=len(problems) - len(errors),
        rows=None if ledger is None else len(ledger.frame),
        frequency=None if ledger is None else ledger.frequency,  # type: ignore[arg-type]
        periods=None if ledger is None else len(ledger.periods),
        channels=[] if ledger is None else ledger.channels,
        problems=[
            ProblemOut(
                severity=p.severity,
                code=p.code,
                row=p.row,
                column=p.column,
                value=p.value,
                message=p.message,
                fix=p.fix,
                line=p.line(),
            )
            for p in problems
        ],
    )
    # A machine-readable report is the result even when the file fails; the table view of a
    # failing file stays off stdout (the problems are the Error: lines on stderr).
    if not errors or (out.format != "table" and out.output is None):
        emit(result, out, inputs.input_paths())
    for p in problems:
        if p.severity == "error" or not run.quiet:
            err(f"{'Error' if p.severity == 'error' else 'Warning'}: {p.line()}")
    if errors:
        raise typer.Exit(1)


def _readiness(ledger) -> list:
    """A valid ledger that plan would still refuse gets a warning saying why."""
    from bucket.analysis.plan import plan_readiness
    from bucket.settings import load_settings

    found = plan_readiness(ledger, load_settings(None, {})[0])  # as plan would: bucket.toml
    return [] if found is None else [found]

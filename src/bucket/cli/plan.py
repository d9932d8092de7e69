"""`bucket plan` and `bucket simulate`: the leaky-bucket planner."""

from __future__ import annotations

from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import (
    LedgerInputs,
    ModelOptions,
    ObjectiveOpt,
    OutputOptions,
    RunOptions,
    ScenarioOptions,
    load_settings,
    opt,
    without_target,
)
from bucket.cli.output import emit, refuse_inputs, spinner, to_stdout, warn_all
from bucket.cli.track import SaveOpt, before_saving, save_into

DetailOpt = Annotated[
    bool,
    opt(
        "--detail",
        "Every table (marginal economics, channel quality, parameters, projection, "
        "sensitivity, break-even, leverage, backtest), not only the first screen; --json and "
        "files written with -o always have everything.",
    ),
]


def progress(draws: int):
    """A transient spinner on stderr while the scenarios run, only on a terminal."""
    return spinner(f"Planning with {draws} scenarios…" if draws > 0 else "")


@command()
def plan(
    *,
    inputs: LedgerInputs,
    model: ModelOptions,
    objective: ObjectiveOpt = None,
    target_growth: Annotated[
        float | None,
        opt("--target-growth", "Growth of the customer base over the horizon to reach, e.g. 0.2."),
    ] = None,
    scenarios: ScenarioOptions,
    backtest_h: Annotated[
        int | None,
        opt(
            "--backtest",
            "Backtest the model on N held-out periods, the most recent in which spend moved "
            "(default 3 when the history allows; 0 skips it).",
            min=0,
        ),
    ] = None,
    detail: DetailOpt = False,
    save: SaveOpt = None,
    out: OutputOptions,
    run: RunOptions,
) -> None:
    """Recommend how to split the budget between acquisition and retention, and across channels.

    Calibrates the leaky-bucket model on the last --window periods (every parameter fitted,
    observed, assumed or set, and says which), finds the split that maximises the objective
    over the horizon, and explains it: marginal economics, projection, sensitivity to each
    assumption, the break-even value of each, and the leverage of 1 % better acquisition,
    retention and ARPU.

    Examples:

      bucket plan ledger.csv

      bucket plan ledger.csv --margin 0.7 --rho 7 --horizon 24 --json

      bucket plan ledger.csv --objective target --target-growth 0.2

      bucket plan --transactions orders.csv --spend spend.csv

      bucket plan ledger.csv --save plans/   # then, next month: bucket track plans/ ledger.csv
    """
    from bucket.analysis.plan import make_plan

    settings, sources = load_settings(
        model,
        **scenarios.values(),
        objective=objective,
        target_growth=target_growth,
        backtest=backtest_h,
    )
    given = before_saving(save, out.output, [*inputs.input_paths(), *model.input_paths()])
    ledger = inputs.load(("acquisition_spend",))
    with progress(settings.draws):
        if save is None:
            result = make_plan(ledger, settings, sources)
        else:
            from bucket.analysis.saved import save_plan

            result, name, saved = save_plan(ledger, settings, sources)
    if save is not None:  # first: a plan that cannot be saved fails before it is printed
        if not to_stdout(out.output):
            refuse_inputs(out.output, [save / name])  # type: ignore[arg-type]
        save_into(save, name, saved, given, run.quiet)
    emit(result, out, given, detail=detail)
    warn_all(result.warnings, run.quiet)


@command()
def simulate(
    *,
    split: Annotated[
        float,
        typer.Option("--split", "-s", help="Acquisition share of the budget to simulate, 0–1."),
    ],
    inputs: LedgerInputs,
    model: ModelOptions,
    objective: ObjectiveOpt = None,
    detail: DetailOpt = False,
    out: OutputOptions,
    run: RunOptions,
) -> None:
    """What if: project the customer base and value for a split you name, beside today's.

    The acquisition part is spread across channels the way plan would spread it (by what
    each channel's customers are worth, or at equal marginal CAC with --channel-quality off);
    today's split keeps today's channel mix.

    Examples:

      bucket simulate ledger.csv --split 0.6

      bucket simulate ledger.csv --split 0.5 --budget 40000 --json
    """
    from bucket.analysis.plan import simulate_split

    settings, sources = load_settings(model, objective=without_target(objective))
    ledger = inputs.load(("acquisition_spend",))
    result = simulate_split(ledger, settings, sources, split)
    emit(result, out, [*inputs.input_paths(), *model.input_paths()], detail=detail)
    warn_all(result.warnings, run.quiet)

"""`bucket report`: the plan as one self-contained HTML page with the charts behind it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import (
    LedgerInputs,
    ModelOptions,
    ObjectiveOpt,
    RunOptions,
    ScenarioOptions,
    load_settings,
    opt,
    without_target,
)
from bucket.cli.output import refuse_inputs, warn_all, write
from bucket.cli.plan import progress
from bucket.cli.track import SaveOpt, before_saving, save_into


@command()
def report(
    *,
    inputs: LedgerInputs,
    output: Annotated[
        Path | None,
        opt(
            "--output",
            "Write the HTML page here (default: stdout, when it is not a terminal).",
            "-o",
            dir_okay=False,
        ),
    ] = None,
    model: ModelOptions,
    objective: ObjectiveOpt = None,
    scenarios: ScenarioOptions,
    backtest_h: Annotated[
        int | None,
        opt(
            "--backtest",
            "Hold out N periods for the backtest chart: the most recent N in which spend moved, "
            "else the last N (default 3).",
            min=1,
        ),
    ] = None,
    cohorts_file: Annotated[
        str | None,
        opt(
            "--cohorts",
            "Cohort CSV (cohort, age, active) to read for the survival chart and for "
            "--retention-model sbg, in place of the cohorts an event input brings.",
        ),
    ] = None,
    plans: Annotated[
        Path | None,
        opt(
            "--plans",
            "Folder of saved plans (plan --save DIR): adds chart 8, their forecasts against "
            "what happened since.",
            file_okay=False,
        ),
    ] = None,
    save: SaveOpt = None,
    run: RunOptions,
) -> None:
    """Write the plan as one HTML page for the board: the charts behind the recommendation.

    Up to eight charts, each under a one-line takeaway: the objective against the split (with
    the P10–P90 band), the marginal cost of the next customer on each side, the customer base
    over the horizon, spend per channel, the backtest, (from events) the cohort curves with the
    sBG fit, each channel's next customer's cost and worth, and (with --plans) saved plans'
    forecasts against what happened. Then the KPI summary, parameters with sources, sensitivity and warnings. The page
    is self-contained (inline SVG and CSS, no script, nothing fetched), prints cleanly and reads
    on a phone. The numbers are those of `bucket plan` with the same options and seed.

    Examples:

      bucket report ledger.csv -o plan.html

      bucket report ledger.csv --margin 0.7 --horizon 24 -o plan.html

      bucket report ledger.csv --cohorts cohorts.csv -o plan.html

      bucket report --transactions orders.csv --spend spend.csv -o plan.html

      bucket report ledger.csv --save plans/ --plans plans/ -o plan.html
    """
    if output is None and sys.stdout.isatty():
        raise typer.BadParameter(
            "the report is an HTML page; give a file to write, e.g. -o plan.html",
            param_hint="--output",
        )
    from bucket import __version__
    from bucket.analysis.report import make_report
    from bucket.analysis.saved import saved_files
    from bucket.render.html import to_html

    read: list[str | Path | None] = [*inputs.input_paths(), *model.input_paths(), cohorts_file]
    read += saved_files(plans)
    read = before_saving(save, output, read)
    if output is not None:
        refuse_inputs(output, read)
    settings, sources = load_settings(
        model, **scenarios.values(), objective=without_target(objective), backtest=backtest_h
    )
    ledger = inputs.load(("acquisition_spend",))
    if settings.objective == "target":
        from bucket.errors import ConfigError

        raise ConfigError(
            "the report draws the value, customers or profit objective",
            "bucket plan --objective target answers the budget question",
        )
    cohort_table = None
    if cohorts_file is not None:
        from bucket.io.cohorts import read_cohorts

        cohort_table = read_cohorts(cohorts_file)
    with progress(settings.draws):
        result = make_report(
            ledger, settings, sources, cohorts=cohort_table, plans=plans, save=save is not None
        )
    from bucket.results.common import check_finite

    check_finite(result.plan)
    if save is not None and result.saved is not None:
        if output is not None:
            refuse_inputs(output, [save / result.saved[0]])
        save_into(save, *result.saved, read, run.quiet)
    write(to_html(result, __version__), output, inputs=read)
    warn_all(result.warnings, run.quiet)

"""`bucket report`: the plan as one self-contained HTML page with the charts behind it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from bucket.cli._common import (
    DebugOpt,
    FrequencyOpt,
    EngineOpt,
    InactiveOpt,
    SparkRemoteOpt,
    TableOpt,
    LedgerPath,
    MapOpt,
    QuietOpt,
    SpendOpt,
    SubscriptionsOpt,
    TransactionsOpt,
    _write_atomic,
    refuse_inputs,
    guarded,
    load_ledger,
    warn_all,
)
from bucket.cli.app import app
from bucket.cli.plan import (
    Arpu,
    Budget,
    Capacity,
    Config,
    Discount,
    Horizon,
    Margin,
    MaxGrowth,
    Mu,
    ObjectiveChoice,
    Phi,
    Rho,
    Window,
    _opt,
    _progress,
    _settings,
)


@app.command()
@guarded
def report(
    file: LedgerPath = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Write the HTML page here (default: stdout, when it is not a terminal).",
                     dir_okay=False, show_default=False),
    ] = None,  # fmt: skip
    budget: Budget = None,
    horizon: Horizon = None,
    objective: Annotated[
        Optional[ObjectiveChoice],
        _opt("--objective", "What to maximise: value (customer equity, default), customers or profit.",
             case_sensitive=False),
    ] = None,  # fmt: skip
    window: Window = None,
    phi: Phi = None,
    mu: Mu = None,
    rho: Rho = None,
    margin: Margin = None,
    discount_rate: Discount = None,
    arpu: Arpu = None,
    capacity: Capacity = None,
    max_growth: MaxGrowth = None,
    draws: Annotated[
        Optional[int], _opt("--draws", "Scenarios behind the bands (default 200; 0: no bands).", min=0)
    ] = None,  # fmt: skip
    seed: Annotated[Optional[int], _opt("--seed", "Random seed of the draws (default 0).", min=0)] = None,
    backtest_h: Annotated[
        Optional[int],
        _opt("--backtest", "Hold out the last N periods for the backtest chart (default 3).", min=1),
    ] = None,  # fmt: skip
    retention_model: Annotated[
        Optional[str], _opt("--retention-model", "constant (default) or sbg (needs event inputs).")
    ] = None,  # fmt: skip
    cohorts_file: Annotated[
        Optional[str],
        _opt("--cohorts", "Cohort CSV (cohort, age, active) for the survival chart and for "
             "--retention-model sbg, in place of the cohorts an event input brings."),
    ] = None,  # fmt: skip
    config: Config = None,
    map_: MapOpt = None,
    transactions: TransactionsOpt = None,
    subscriptions: SubscriptionsOpt = None,
    spend: SpendOpt = None,
    inactive_after: InactiveOpt = 90,
    engine: EngineOpt = "duckdb",
    table: TableOpt = None,
    spark_remote: SparkRemoteOpt = None,
    frequency: FrequencyOpt = "month",
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write the plan as one HTML page for the board: the charts behind the recommendation.

    Six charts, each under a one-line takeaway: the objective against the split (with the
    P10–P90 band), the marginal cost of the next customer on each side, the customer base over
    the horizon, spend per channel, the backtest, and (from events) the cohort curves with the
    sBG fit. Then the KPI summary, parameters with sources, sensitivity and warnings. The page
    is self-contained (inline SVG and CSS, no script, nothing fetched), prints cleanly and reads
    on a phone. The numbers are those of `bucket plan` with the same options and seed.

    Examples:

      bucket report ledger.csv -o plan.html

      bucket report ledger.csv --margin 0.7 --horizon 24 -o plan.html

      bucket report ledger.csv --cohorts cohorts.csv -o plan.html

      bucket report --transactions orders.csv --spend spend.csv -o plan.html
    """
    if output is None and sys.stdout.isatty():
        raise typer.BadParameter("the report is an HTML page; give a file to write, e.g. -o plan.html",
                                 param_hint="--output")  # fmt: skip
    from bucket import __version__
    from bucket.render.html import to_html
    from bucket.analysis.report import make_report

    settings, sources = _settings(
        config, budget=budget, horizon=horizon, objective=objective, window=window, phi=phi,
        mu=mu, rho=rho, margin=margin, annual_discount_rate=discount_rate, arpu=arpu,
        capacity=capacity, max_growth=max_growth, draws=draws, seed=seed, backtest=backtest_h,
        retention_model=retention_model,
    )  # fmt: skip
    ledger = load_ledger(file, transactions, spend, frequency, inactive_after, map_,
                         ("acquisition_spend",), subscriptions, engine, table, spark_remote)
    if settings.objective == "target":
        from bucket.errors import ConfigError

        raise ConfigError("the report draws the value, customers or profit objective",
                          "bucket plan --objective target answers the budget question")  # fmt: skip
    cohort_table = None
    if cohorts_file is not None:
        from bucket.io.cohorts import read_cohorts

        cohort_table = read_cohorts(cohorts_file)
    with _progress(settings.draws):
        result = make_report(ledger, settings, sources, cohorts=cohort_table)
    from bucket.results.common import check_finite

    check_finite(result.plan)
    page = to_html(result, __version__)
    if output is None or str(output) == "-":
        sys.stdout.write(page)
        sys.stdout.flush()
    else:
        refuse_inputs(output, (file, transactions, subscriptions, spend, cohorts_file))
        _write_atomic(output, page)
    warn_all(result.warnings, quiet)

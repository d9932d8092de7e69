"""`bucket backtest` and `bucket check`: evidence for the model, alarms for cron."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from bucket.cli._common import (
    DebugOpt,
    Format,
    FormatOpt,
    FrequencyOpt,
    EngineOpt,
    InactiveOpt,
    SparkRemoteOpt,
    TableOpt,
    LedgerPath,
    SpendOpt,
    SubscriptionsOpt,
    TransactionsOpt,
    JsonOpt,
    MapOpt,
    OutputOpt,
    QuietOpt,
    emit,
    guarded,
    load_ledger,
    resolve_format,
    warn_all,
)
from bucket.cli.app import app
from bucket.cli.plan import Config, Mu, Phi, Rho, Window, _settings


@app.command()
@guarded
def backtest(
    file: LedgerPath = None,
    holdout: Annotated[
        int, typer.Option("--holdout", min=1, help="Periods to forecast: the last H of the ledger.")
    ] = 6,
    window: Window = None,
    phi: Phi = None,
    mu: Mu = None,
    rho: Rho = None,
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
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Could the model have forecast your own past? Calibrate on all but the last H periods,
    replay the spend actually made, and compare with what happened.

    Reports new, churned and total customers per period, predicted against actual, the mean
    absolute percentage error of each series, and a verdict in plain words.

    Examples:

      bucket backtest ledger.csv --holdout 6

      bucket backtest ledger.csv --json | jq .mape
    """
    from bucket.analysis.backtest import backtest as run_backtest

    settings, sources = _settings(config, window=window, phi=phi, mu=mu, rho=rho)
    ledger = load_ledger(file, transactions, spend, frequency, inactive_after, map_,
                         ("acquisition_spend",), subscriptions, engine, table, spark_remote)
    result = run_backtest(ledger, settings, sources, holdout)
    emit(result, resolve_format(fmt, as_json), output, (file, transactions, subscriptions, spend))
    warn_all(result.warnings, quiet)


@app.command()
@guarded
def check(
    file: LedgerPath = None,
    maximum: Annotated[
        Optional[list[str]],
        typer.Option("--max", help="Alert when metric > value, e.g. --max churn_rate=0.06 (repeatable).",
                     show_default=False),
    ] = None,  # fmt: skip
    minimum: Annotated[
        Optional[list[str]],
        typer.Option("--min", help="Alert when metric < value, e.g. --min ltv_to_cac=3 (repeatable).",
                     show_default=False),
    ] = None,  # fmt: skip
    window: Annotated[
        Optional[int],
        typer.Option("--window", min=1, help="Metrics over the last N periods (default: the last one).",
                     show_default=False),
    ] = None,  # fmt: skip
    split_gap: Annotated[
        Optional[float],
        typer.Option("--max-split-gap", help="Alert when today's split is more than this share of "
                     "the budget away from the recommended one, e.g. 0.1.", show_default=False),
    ] = None,  # fmt: skip
    mape: Annotated[
        Optional[float],
        typer.Option("--max-mape", help="Alert when the backtest's worst mean absolute percentage "
                     "error exceeds this, e.g. 0.25.", show_default=False),
    ] = None,  # fmt: skip
    holdout: Annotated[
        Optional[int],
        typer.Option("--holdout", min=1, help="Backtest periods for --max-mape (default 6).",
                     show_default=False),
    ] = None,  # fmt: skip
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every check, not only the breached ones.")
    ] = False,
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
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Threshold alerts for cron: exit 0 when all is clear, 3 when a threshold is breached.

    Checks KPIs of the last period (or --window periods) against --max/--min thresholds and, if
    asked, how far today's split is from the plan (--max-split-gap) and how well the model
    forecast the recent past (--max-mape). Thresholds can also live in a [check] table of
    bucket.toml. Silent on success unless --verbose, so cron mails only when something is wrong;
    --json always prints the full result. Exit codes: 0 clear, 3 breached, 1 bad input.

    Examples:

      bucket check ledger.csv --max churn_rate=0.06 --min ltv_to_cac=3

      0 7 * * * bucket check /data/ledger.csv --window 3 --max-split-gap 0.1 || notify
    """
    from bucket.analysis.check import parse_thresholds, run_checks
    from bucket.settings import check_config

    cfg = check_config(config)
    try:
        maxima = {**cfg.get("max", {}), **parse_thresholds(maximum or [], "--max")}
        minima = {**cfg.get("min", {}), **parse_thresholds(minimum or [], "--min")}
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings, sources = _settings(config)
    ledger = load_ledger(file, transactions, spend, frequency, inactive_after, map_, (),
                         subscriptions, engine, table, spark_remote)
    result = run_checks(
        ledger, settings, sources, maxima, minima,
        window or cfg.get("window"),
        split_gap if split_gap is not None else cfg.get("split_gap"),
        mape if mape is not None else cfg.get("mape"),
        holdout or cfg.get("holdout"),
    )  # fmt: skip
    out_fmt = resolve_format(fmt, as_json)
    if out_fmt != "table" or result.breached or verbose:
        shown = result if verbose or out_fmt != "table" else _only_alerts(result)
        emit(shown, out_fmt, output, (file, transactions, subscriptions, spend))
    # on success stay silent (cron mails whatever is printed), warnings included
    warn_all(result.warnings, quiet or not (result.breached or verbose))
    if result.breached:
        sys.stderr.flush()
        raise typer.Exit(3)


def _only_alerts(result):
    from dataclasses import replace

    return replace(result, checks=[c for c in result.checks if c.status != "ok"])

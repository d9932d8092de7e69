"""`bucket metrics`: every KPI overall, per period and per channel."""

from __future__ import annotations

from pathlib import Path
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


@app.command()
@guarded
def metrics(
    file: LedgerPath = None,
    window: Annotated[
        Optional[int],
        typer.Option(
            "--window", "-w", min=1, help="Also report the last N periods as a block.",
            show_default=False,
        ),
    ] = None,
    margin: Annotated[
        Optional[float],
        typer.Option("--margin", help="Gross margin for CLTV and payback, 0 < m ≤ 1 (default: "
                     "bucket.toml's, else 1).", show_default=False),
    ] = None,  # fmt: skip
    discount_rate: Annotated[
        Optional[float],
        typer.Option("--discount-rate", help="Annual discount rate for CLTV (default: "
                     "bucket.toml's, else 0.10).", show_default=False),
    ] = None,  # fmt: skip
    config: Annotated[
        Optional[Path],
        typer.Option("--config", help="TOML file with settings (default: ./bucket.toml if present).",
                     dir_okay=False, show_default=False),
    ] = None,  # fmt: skip
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
    """Compute the KPIs of a ledger: CAC, CLTV, LTV/CAC, payback, churn, ROAS, NPS, ...

    All rates are ratios of sums over the rows considered, per period of the ledger's
    frequency. Undefined values show as — (null in JSON).

    Examples:

      bucket metrics ledger.csv

      bucket metrics ledger.csv --window 6 --margin 0.7 --json

      cat ledger.csv | bucket metrics - --format markdown

      bucket metrics --transactions orders.csv --spend spend.csv
    """
    from bucket.analysis.metrics import compute_metrics
    from bucket.io.config import config_path

    if config_path(config) is not None and (margin is None or discount_rate is None):
        # the same margin and discount rate as plan, so CLTV agrees between the two
        from bucket.settings import load_settings

        settings, _, _ = load_settings(config, {"margin": margin,
                                                "annual_discount_rate": discount_rate})  # fmt: skip
        margin, discount_rate = settings.margin, settings.annual_discount_rate
    margin = 1.0 if margin is None else margin
    discount_rate = 0.10 if discount_rate is None else discount_rate

    ledger = load_ledger(file, transactions, spend, frequency, inactive_after, map_, (),
                         subscriptions, engine, table, spark_remote)
    result = compute_metrics(ledger, margin, discount_rate, window)
    emit(result, resolve_format(fmt, as_json), output, (file, transactions, subscriptions, spend))
    warn_all(result.warnings, quiet)

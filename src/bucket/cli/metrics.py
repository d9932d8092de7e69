"""`bucket metrics`: every KPI overall, per period and per channel."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from bucket.cli._common import (
    DebugOpt,
    DiscountOpt,
    Format,
    FormatOpt,
    FrequencyOpt,
    InactiveOpt,
    LedgerPath,
    SpendOpt,
    SubscriptionsOpt,
    TransactionsOpt,
    JsonOpt,
    MapOpt,
    MarginOpt,
    OutputOpt,
    QuietOpt,
    emit,
    guarded,
    load_ledger,
    parse_map,
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
    margin: MarginOpt = 1.0,
    discount_rate: DiscountOpt = 0.10,
    map_: MapOpt = None,
    transactions: TransactionsOpt = None,
    subscriptions: SubscriptionsOpt = None,
    spend: SpendOpt = None,
    inactive_after: InactiveOpt = 90,
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
    from bucket.metrics import compute_metrics

    ledger = load_ledger(file, transactions, spend, frequency, inactive_after, parse_map(map_), subscriptions=subscriptions)
    result = compute_metrics(ledger, margin, discount_rate, window)
    emit(result, resolve_format(fmt, as_json), output, [x for x in (file, transactions, subscriptions, spend) if x])
    warn_all(result.warnings, quiet)

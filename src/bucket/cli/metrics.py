"""`bucket metrics`: every KPI overall, per period and per channel."""

from __future__ import annotations

from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import LedgerInputs, MoneyOptions, OutputOptions, RunOptions
from bucket.cli.output import emit, warn_all


@command()
def metrics(
    *,
    inputs: LedgerInputs,
    window: Annotated[
        int | None,
        typer.Option(
            "--window",
            "-w",
            min=1,
            help="Also report the last N periods as a block.",
            show_default=False,
        ),
    ] = None,
    money: MoneyOptions,
    out: OutputOptions,
    run: RunOptions,
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

    margin, discount_rate = money.resolved()
    ledger = inputs.load()
    result = compute_metrics(ledger, margin, discount_rate, window)
    emit(result, out, [*inputs.input_paths(), *money.input_paths()])
    warn_all(result.warnings, run.quiet)

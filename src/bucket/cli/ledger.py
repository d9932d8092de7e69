"""`bucket ledger`: events → the ledger CSV every other command reads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from bucket.cli._common import (
    DebugOpt,
    FrequencyOpt,
    InactiveOpt,
    OutputOpt,
    QuietOpt,
    SpendOpt,
    SubscriptionsOpt,
    _write_atomic,
    guarded,
    warn_all,
)
from bucket.cli.app import app


@app.command()
@guarded
def ledger(
    transactions: Annotated[
        Optional[str],
        typer.Option("--transactions", help="Transactions CSV: customer_id, date, amount[, channel] (path or -).",
                     show_default=False),
    ] = None,
    subscriptions: SubscriptionsOpt = None,
    spend: SpendOpt = None,
    frequency: FrequencyOpt = "month",
    inactive_after: InactiveOpt = 90,
    cohorts_out: Annotated[
        Optional[Path],
        typer.Option("--cohorts", help="Also write the cohort table (cohort, age, active) here.",
                     dir_okay=False, show_default=False),
    ] = None,  # fmt: skip
    memory_limit: Annotated[
        Optional[str],
        typer.Option("--memory-limit", help="Cap DuckDB's memory, e.g. 256MB (it spills to disk).",
                     show_default=False),
    ] = None,  # fmt: skip
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Derive the per-period ledger from raw transactions or subscriptions (DuckDB, streaming)
    and write it as CSV.

    A customer is new in the period of their first purchase (channel = that purchase's), active
    while they bought within the last --inactive-after days, churned when that runs out, and
    reactivated on buying again after churning. Revenue is summed exactly. A last period the
    events do not cover to its end is left out with a warning.

    Examples:

      bucket ledger --transactions orders.csv --spend spend.csv -o ledger.csv

      bucket ledger --transactions orders.csv --cohorts cohorts.csv > ledger.csv

      bucket ledger --subscriptions subscriptions.csv
    """
    from bucket.events.engine import (
        cohorts_csv,
        derive_subscriptions,
        derive_transactions,
        ledger_csv,
    )

    if frequency not in ("month", "week", "quarter"):
        raise typer.BadParameter("choose month, week or quarter", param_hint="--frequency")
    if (transactions is None) == (subscriptions is None):
        raise typer.BadParameter("give --transactions FILE or --subscriptions FILE (one of them)")
    if transactions is not None:
        derived = derive_transactions(transactions, frequency, inactive_after, memory_limit)
    else:
        derived = derive_subscriptions(subscriptions, frequency, memory_limit)
    from bucket.io.text import display_name

    source = display_name(transactions or subscriptions)
    notes = list(derived.warnings)
    rows = derived.rows
    if spend is not None:  # pandas only for the join
        from bucket.events.spend import read_spend, with_spend

        frame, extra = with_spend(derived, read_spend(spend), source)
        rows = frame.to_dict("records")
        notes += extra
    text = ledger_csv(rows)
    if output is not None and str(output) != "-":
        _write_atomic(output, text)
    else:
        sys.stdout.write(text)
    if cohorts_out is not None:
        _write_atomic(cohorts_out, cohorts_csv(derived.cohorts_rows))
    warn_all([f"{source}: {n}" for n in notes], quiet)

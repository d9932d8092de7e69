"""`bucket cohorts`: the survival table and the sBG model."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from bucket.cli._common import (
    DebugOpt,
    DiscountOpt,
    Format,
    FormatOpt,
    EngineOpt,
    FrequencyOpt,
    InactiveOpt,
    SparkRemoteOpt,
    TableOpt,
    engine_spec,
    SubscriptionsOpt,
    TransactionsOpt,
    JsonOpt,
    MarginOpt,
    OutputOpt,
    QuietOpt,
    emit,
    guarded,
    resolve_format,
    warn_all,
)
from bucket.cli.app import app


@app.command()
@guarded
def cohorts(
    file: Annotated[
        Optional[str],
        typer.Argument(help="Cohort CSV with columns cohort, age, active (path, or - for stdin); "
                       "or give --transactions.", show_default=False),
    ] = None,
    transactions: TransactionsOpt = None,
    subscriptions: SubscriptionsOpt = None,
    inactive_after: InactiveOpt = 90,
    engine: EngineOpt = "duckdb",
    table: TableOpt = None,
    spark_remote: SparkRemoteOpt = None,
    frequency: FrequencyOpt = "month",
    arpu: Annotated[
        Optional[float],
        typer.Option("--arpu", help="Revenue per customer per period, to turn lifetimes into CLTV.",
                     show_default=False),
    ] = None,  # fmt: skip
    horizon: Annotated[
        Optional[int],
        typer.Option("--horizon", min=1, help="Ages to project (default: twice the oldest cohort).",
                     show_default=False),
    ] = None,  # fmt: skip
    margin: MarginOpt = 1.0,
    discount_rate: DiscountOpt = 0.10,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Cohort survival, retention by age, and the shifted-beta-geometric (sBG) model.

    Fits sBG (Fader & Hardie 2007) by maximum likelihood with right-censoring, pooled over
    cohorts of different ages and per cohort, compares it with a constant churn rate, projects
    survival, and gives the expected discounted lifetime (and CLTV with --arpu) under both.

    Examples:

      bucket cohorts cohorts.csv

      bucket cohorts cohorts.csv --arpu 49 --margin 0.8 --json

      bucket cohorts --transactions orders.csv
    """
    from bucket.io.cohorts import read_cohorts
    from bucket.io.periods import PeriodProblem, parse_label, resolve
    from bucket.model.money import check_assumptions
    from bucket.analysis.cohorts import analyse

    check_assumptions(margin, discount_rate)
    spec = engine_spec(engine, table, spark_remote)
    if transactions is not None or subscriptions is not None or spec is not None:
        from bucket.events.ledger import Events, derive
        from bucket.io.cohorts import CohortTable, cohort_counts
        from bucket.io.text import display_name

        kind = "subscriptions" if subscriptions is not None else "transactions"
        derived = derive(Events(kind, transactions or subscriptions, frequency, inactive_after,
                                engine=spec[0] if spec else None, table=table, remote=spark_remote))  # fmt: skip
        labels, counts = cohort_counts(derived.cohorts_rows)
        name = table or display_name(transactions or subscriptions or "")
        table_ = CohortTable(name, labels, counts)
    elif file is None:
        raise typer.BadParameter("give a cohort FILE, or --transactions FILE", param_hint="FILE")
    else:
        table_ = read_cohorts(file)
        try:
            frequency = resolve([parse_label(x) for x in table_.labels]).frequency
        except PeriodProblem:
            frequency = "month"
    result = analyse(table_, frequency, discount_rate, arpu, margin, horizon)
    emit(result, resolve_format(fmt, as_json), output, (file, transactions, subscriptions))
    warn_all(result.warnings, quiet)

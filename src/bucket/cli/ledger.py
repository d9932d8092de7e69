"""`bucket ledger`: events → the ledger CSV every other command reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import EventInputs, OutputOpt, RunOptions, SpendOpt, opt
from bucket.cli.output import refuse_inputs, spinner, warn_all, write


@command()
def ledger(
    *,
    events: EventInputs,
    spend: SpendOpt = None,
    cohorts_out: Annotated[
        Path | None,
        opt(
            "--cohorts-output",
            "Also write the cohort table (cohort, age, active) to this file.",
            dir_okay=False,
        ),
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="Cap DuckDB's memory (default 768MB, or DuckDB's own default where lower), "
            "e.g. 256MB or 2GB; beyond it DuckDB spills to a temporary folder.",
            show_default=False,
        ),
    ] = None,
    print_sql: Annotated[
        bool,
        typer.Option("--print-sql", help="Print the query (for --dialect) instead of running it."),
    ] = False,
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect",
            help="With --print-sql: spark, bigquery, snowflake, postgres, trino or "
            "duckdb. Columns are customer_id, date, amount, channel unless --map names "
            "them (--map date=order_date; --map channel=- when there is none).",
        ),
    ] = "duckdb",
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="With --print-sql: first period of the ledger (2024-01).",
            show_default=False,
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="With --print-sql: last complete period (2025-12).", show_default=False
        ),
    ] = None,
    output: OutputOpt = None,
    run: RunOptions,
) -> None:
    """Derive the per-period ledger from raw transactions or subscriptions (DuckDB, streaming)
    and write it as CSV.

    A customer is new in the period of their first purchase (channel = that purchase's), active
    while they bought within the last --inactive-after days, churned when that runs out, and
    reactivated on buying again after churning. Revenue is summed exactly. A last period the
    events do not cover to its end is left out with a warning.

    Examples:

      bucket ledger --transactions orders.csv --spend spend.csv -o ledger.csv

      bucket ledger --transactions orders.csv --cohorts-output cohorts.csv > ledger.csv

      bucket ledger --subscriptions subscriptions.csv

      bucket ledger --transactions orders.parquet --engine spark

      bucket ledger --engine postgresql://me@db/shop --table orders

      bucket ledger --print-sql --dialect bigquery --table shop.orders --from 2024-01 --to 2025-12
    """
    from bucket.events.derived import cohorts_csv, ledger_csv
    from bucket.events.ledger import check_derived, derive

    read = [*events.input_paths(), spend]
    for path, option in ((output, "--output"), (cohorts_out, "--cohorts-output")):
        if path is not None:
            refuse_inputs(path, read, option)
    if output is not None and cohorts_out is not None and output == cohorts_out:
        raise typer.BadParameter(
            "--output and --cohorts-output name the same file", param_hint="--cohorts-output"
        )
    if print_sql:
        kind = "subscriptions" if events.subscriptions is not None else "transactions"
        events.check_frequency()
        text = _print_sql(
            kind,
            dialect=dialect,
            table=events.table,
            first=from_,
            last=to,
            frequency=events.frequency,
            inactive=events.inactive_after,
            mapping=events.event_map(kind),
        )
        write(text, output, inputs=read)
        return
    source = events.events(memory_limit)
    with spinner("Reading the events…"):
        derived = derive(source)
    notes = list(derived.warnings)
    rows = derived.rows
    if spend is not None:  # pandas only for the join
        from bucket.events.spend import read_spend, with_spend

        frame, extra = with_spend(derived.frame, read_spend(spend), source.name)
        rows = frame.to_dict("records")
        notes += extra
    text = ledger_csv(rows)
    check_derived(text, source.name)  # what plan, metrics... would refuse is refused here
    write(text, output, inputs=read)
    if cohorts_out is not None:
        write(
            cohorts_csv(derived.cohorts_rows), cohorts_out, inputs=read, option="--cohorts-output"
        )
    warn_all([f"{source.name}: {n}" for n in notes], run.quiet)


def _print_sql(
    kind: str,
    *,
    dialect: str,
    table: str | None,
    first: str | None,
    last: str | None,
    frequency: str,
    inactive: int,
    mapping: dict[str, str],
) -> str:
    """The whole query, events table → ledger table, in the dialect, to paste into a warehouse."""
    from bucket.events.sql import CANONICAL, DIALECTS, ledger_query
    from bucket.io.periods import PeriodProblem, parse_label, period_of

    if dialect not in DIALECTS:
        raise typer.BadParameter(f"choose one of {', '.join(DIALECTS)}", param_hint="--dialect")
    if not table:
        raise typer.BadParameter(
            "name the events table, e.g. --table shop.orders", param_hint="--table"
        )
    if not first or not last:
        raise typer.BadParameter(
            "give the ledger's range, e.g. --from 2024-01 --to 2025-12", param_hint="--from/--to"
        )
    ends = []
    for flag, text in (("--from", first), ("--to", last)):
        try:
            label = parse_label(text)
        except PeriodProblem:
            label = None
        if label is None or (label.period is None and label.date is None):
            raise typer.BadParameter(f"'{text}' is not a period or date", param_hint=flag)
        if label.date is not None:
            day = label.date
        else:  # a month, quarter or week: --from from its first day, --to to its last
            day = label.period.start if flag == "--from" else label.period.end  # type: ignore[union-attr]
        if not 1900 <= day.year <= 2200:
            raise typer.BadParameter(
                f"'{text}' is not a plausible date for a ledger", param_hint=flag
            )
        ends.append(period_of(day, frequency))
    start, stop = ends
    if stop < start:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    if stop.ordinal - start.ordinal > 60 * 53:
        raise typer.BadParameter("the range spans more than 60 years", param_hint="--from/--to")
    periods = [start + i for i in range(-1, stop.ordinal - start.ordinal + 1)]
    columns = {c: c for c in CANONICAL[kind]}
    for canon, theirs in mapping.items():
        if theirs == "-":  # --map channel=- : the table has no such column
            columns.pop(canon, None)
        else:
            columns[canon] = theirs
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:  # every part quoted: project-ids with hyphens, reserved words, odd characters
        relation = exp.to_table(table, dialect=dialect).sql(dialect="duckdb", identify=True)
    except SqlglotError as exc:
        raise typer.BadParameter(
            f"'{table}' is not a table name ({exc})", param_hint="--table"
        ) from None
    return ledger_query(
        kind, frequency, inactive, relation, columns, periods=periods, dialect=dialect
    )

"""Run the event SQL in an embedded DuckDB and hand back the small ledger (DESIGN §2.2, §10).

The file is read by DuckDB itself, streaming, with explicit column types: 10 million
transactions never pass through pandas. Only the header (first 64 KiB) is read in Python, to
match column names with the same aliases and delimiter rules as ledgers. Amounts are summed
as integer cents, so revenue carries no float noise. DuckDB is imported only here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bucket.errors import InputError, Problem
from bucket.io.columns import normalize
from bucket.io.periods import Period, period_of
from bucket.io.text import decode, display_name, sniff_delimiter

if TYPE_CHECKING:
    import pandas as pd

SQL = Path(__file__).with_name("transactions.sql")
SUBSCRIPTIONS_SQL = Path(__file__).with_name("subscriptions.sql")
LEDGER_SQL = Path(__file__).with_name("ledger.sql")
TX_ALIASES = {
    "customer_id": ("customer_id", "customer", "client_id", "user_id", "customerid", "клиент",
                    "id клиента", "客户id", "kunden_id", "kundennummer", "id_client", "id_cliente"),
    "date": ("date", "day", "order_date", "purchase_date", "created_at", "timestamp", "дата",
             "日期", "datum", "fecha"),
    "amount": ("amount", "revenue", "value", "total", "order_total", "price", "сумма", "金额",
               "betrag", "montant", "importe"),
    "channel": ("channel", "source", "канал", "渠道", "kanal", "canal"),
}  # fmt: skip
SUB_ALIASES = {
    "customer_id": TX_ALIASES["customer_id"],
    "start": ("start", "start_date", "started_at", "subscription_start", "начало", "开始日期",
              "beginn", "début", "inicio"),
    "end": ("end", "end_date", "ended_at", "cancelled_at", "canceled_at", "subscription_end",
            "окончание", "结束日期", "ende", "fin"),
    "mrr": ("mrr", "monthly_revenue", "monthly_amount", "price", "amount"),
    "channel": TX_ALIASES["channel"],
}  # fmt: skip


@dataclass
class Derived:
    """The ledger and cohort counts derived from events (small: plain rows, no pandas)."""

    rows: list[dict]  # one per (period, channel), ledger columns
    cohorts_rows: list[dict]  # cohort, age, active
    frequency: str
    warnings: list[str] = field(default_factory=list)

    @property
    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows)

    @property
    def cohorts(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.cohorts_rows, columns=["cohort", "age", "active"])


def _header(path: str, name: str) -> tuple[list[str], str, list[list[str]]]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except FileNotFoundError:
        raise InputError(Problem("error", "file-not-found", "no such file", "check the path", name)) from None
    text, _ = decode(head, name)
    delimiter = sniff_delimiter(text)
    if delimiter is None:
        raise InputError(Problem("error", "not-csv", "the first line has no delimiter",
                                 "export the transactions as CSV", name, row=1))  # fmt: skip
    import csv

    lines = text.splitlines()
    header = next(csv.reader([lines[0]], delimiter=delimiter))
    sample = list(csv.reader(lines[1:-1], delimiter=delimiter))  # the last line may be cut off
    return [h.strip().lstrip("\ufeff") for h in header], delimiter, sample


def _columns(header: list[str], name: str, aliases=None, required=("customer_id", "date", "amount")) -> dict[str, str]:
    found: dict[str, str] = {}
    for canon, names in (aliases or TX_ALIASES).items():
        wanted = {normalize(n) for n in names}
        for h in header:
            if normalize(h) in wanted:
                found[canon] = h
                break
    for canon in required:
        if canon not in found:
            raise InputError(Problem(
                "error", "missing-column",
                f"required column {canon} not found (columns found: {', '.join(header)})",
                f"the file needs {', '.join(required)}", name, row=1, column=canon,
            ))  # fmt: skip
    return found


def _periods(first: dt.date, last: dt.date, frequency: str, name: str = "") -> list[Period]:
    if (last - first).days > 50 * 366 or last.year >= 9999:
        raise InputError(Problem(
            "error", "date-range",
            f"the dates run from {first.isoformat()} to {last.isoformat()}",
            "look for placeholder dates (1900-01-01, 9999-12-31) and remove or fix them", name,
        ))  # fmt: skip
    p, end = period_of(first, frequency), period_of(last, frequency)
    out = [p + -1]  # the period before the first: its end gives the first customers_start
    while p <= end:
        out.append(p)
        p = p + 1
    return out


def derive(kind: str, path: str | None, frequency: str = "month", inactive: int = 90,
           memory_limit: str | None = None, engine: str | None = None, table: str | None = None,
           remote: str | None = None, mapping: dict[str, str] | None = None) -> Derived:  # fmt: skip
    """Events (``kind`` transactions or subscriptions, a path, or ``table`` on ``engine``) →
    ledger rows and cohort counts: on the embedded engine, or where the data lives when an
    engine other than the embedded one is named (Spark, a database URL)."""
    if engine is not None:
        from bucket.events.remote import derive_remote

        return derive_remote(kind, engine, path, table, frequency, inactive, remote, mapping)
    if path is None:
        raise InputError(Problem("error", "no-data", f"no {kind} given", f"give --{kind} FILE", "-"))
    if kind == "subscriptions":
        return derive_subscriptions(path, frequency, memory_limit)
    return derive_transactions(path, frequency, inactive, memory_limit)


def derive_transactions(path: str, frequency: str = "month", inactive: int = 90,
                        memory_limit: str | None = None) -> Derived:  # fmt: skip
    """Aggregate a transactions CSV into ledger rows and cohort survival counts."""

    name = display_name(path)
    with _spooled(path) as source:
        return _derive_transactions(source, name, frequency, inactive, memory_limit)


@contextlib.contextmanager
def _spooled(path: str):
    """A real file for the path: stdin is copied to a temporary file first, since DuckDB and
    the header sniffing both need to read it, and a pipe can be read only once."""
    if path != "-":
        yield path
        return
    import shutil
    import sys
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        shutil.copyfileobj(sys.stdin.buffer, tmp)
        tmp.flush()
        yield tmp.name


def _derive_transactions(source: str, name: str, frequency: str, inactive: int,
                         memory_limit: str | None) -> Derived:  # fmt: skip
    import duckdb

    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    if _is_parquet(source):
        return _derive_parquet(con, source, name, frequency, inactive)
    header, delimiter, _ = _header(source, name)
    cols = _columns(header, name)
    # ids stay text ("007" and "7" are two customers); as integers they sorted no faster here
    types = {h: "VARCHAR" for h in header}
    types[cols["date"]] = "DATE"
    types[cols["amount"]] = "DECIMAL(18, 2)"
    try:
        con.execute("CREATE VIEW tx AS "
                    + source_sql("transactions", _csv_relation(source, delimiter, types), cols))  # fmt: skip
        # the one pass over the file: purchases → a few thousand steps (transactions.sql)
        con.execute("CREATE TEMP TABLE steps AS " + render_sql(frequency, inactive))
    except duckdb.Error as exc:
        raise InputError(_duck_problem(exc, name)) from None
    return from_steps(con, frequency, name, "channel" in cols, "transactions", row=2)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:  # a view takes no parameters
    return "'" + text.replace("'", "''") + "'"


def _csv_relation(source: str, delimiter: str, types: dict[str, str]) -> str:
    """read_csv with explicit column types: DuckDB streams and converts, no sniffing."""
    columns = ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in types.items())
    return (f"read_csv({_lit(source)}, header = true, delim = {_lit(delimiter)}, "
            f"columns = {{{columns}}}, auto_detect = false)")  # fmt: skip


def source_sql(kind: str, relation: str, columns: dict[str, str]) -> str:
    """The input view (tx or sub) over ``relation`` with the canonical columns, in DuckDB SQL:
    ids as trimmed text, dates as DATE, money as integer cents. The same text, transpiled,
    reads the events on every engine."""
    c = {k: _q(v) for k, v in columns.items()}
    channel = f"COALESCE(CAST({c['channel']} AS VARCHAR), '')" if "channel" in c else "''"
    if kind == "transactions":
        return (f"SELECT TRIM(CAST({c['customer_id']} AS VARCHAR)) AS customer_id, "
                f"CAST({c['date']} AS DATE) AS day, "
                f"CAST(ROUND(CAST({c['amount']} AS DECIMAL(18, 2)) * 100) AS BIGINT) AS amount_cents, "
                f"{channel} AS channel FROM {relation}")  # fmt: skip
    mrr = (f"CAST(ROUND(COALESCE(CAST({c['mrr']} AS DECIMAL(18, 2)), 0) * 100) AS BIGINT)"
           if "mrr" in c else "0")  # fmt: skip
    # an end in the far future (9999-12-31 as "never") is an open subscription
    return (f"SELECT TRIM(CAST({c['customer_id']} AS VARCHAR)) AS customer_id, "
            f"CAST({c['start']} AS DATE) AS start_day, "
            f"CASE WHEN CAST({c['end']} AS DATE) >= DATE '9000-01-01' THEN NULL "
            f"ELSE CAST({c['end']} AS DATE) END AS end_day, {mrr} AS mrr_cents, "
            f"{channel} AS channel FROM {relation}")  # fmt: skip


def from_steps(con, frequency: str, name: str, has_channel: bool, what: str,
               row: int | None = None) -> Derived:  # fmt: skip
    """The steps table in ``con`` → ledger and cohort rows: the period range from the steps,
    then ledger.sql. Every engine's path ends here."""
    first, last = con.execute("SELECT MIN(first_day), MAX(last_day) FROM steps").fetchone()
    if first is None:
        raise InputError(Problem("error", "no-data", f"no {what}", "export some", name, row=row))
    periods = _periods(first, last, frequency, name)
    return _collect(_finish(con, periods, frequency), periods, last, has_channel, frequency, name)


def _is_parquet(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


def _derive_parquet(con, source: str, name: str, frequency: str, inactive: int) -> Derived:
    """Transactions in a Parquet file: the same query over read_parquet (typed columns, so
    no header sniffing; the casts make any integer, decimal or text column work)."""
    import duckdb

    relation = f"read_parquet({_lit(source)})"
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        cols = _columns(header, name)
        con.execute("CREATE VIEW tx AS " + source_sql("transactions", relation, cols))
        con.execute("CREATE TEMP TABLE steps AS " + render_sql(frequency, inactive))
    except duckdb.Error as exc:
        raise InputError(_duck_problem(exc, name)) from None
    return from_steps(con, frequency, name, "channel" in cols, "transactions")


def _finish(con, periods: list[Period], frequency: str) -> list[tuple]:
    """Run ledger.sql over the steps table and the periods (both small)."""
    con.execute("CREATE TEMP TABLE periods (ordinal INTEGER, start_day DATE, end_day DATE)")
    # literal VALUES: parameter binding would make the duckdb module import pandas (0.4 s)
    values = ", ".join(f"({p.ordinal}, DATE '{p.start.isoformat()}', DATE '{p.end.isoformat()}')"
                       for p in periods)  # fmt: skip
    con.execute(f"INSERT INTO periods VALUES {values}")
    return con.execute(render_sql(frequency, 0, LEDGER_SQL)).fetchall()


def _collect(result, periods, last, has_channel: bool, frequency: str, name: str) -> Derived:
    """Ledger rows (customers_start = the previous period's end) and cohort rows from the
    query's output; a last period the events do not cover to its end is left out."""
    labels = {p.ordinal: p.label for p in periods}
    partial = last < periods[-1].end
    last_full = periods[-1].ordinal - (1 if partial else 0)
    warnings = []
    if partial:
        warnings.append(
            f"the events end on {last.isoformat()}, before the end of {periods[-1].label}; "
            "that partial period is left out"
        )
    # ledger rows: customers_start is the previous period's customers_end of the channel
    ends: dict[tuple[str, int], tuple] = {}
    for part, ordinal, channel, end, new, react, cents in result:
        if part == "ledger":
            ends[(channel, int(ordinal))] = (int(end), int(new), int(react), int(cents))
    rows = []
    for channel in sorted({c for c, _ in ends}):
        for p in periods[1:]:
            if p.ordinal > last_full:
                break
            end, new, react, cents = ends[(channel, p.ordinal)]
            start = ends[(channel, p.ordinal - 1)][0]
            rows.append({
                "period": p.label, "channel": channel, "new_customers": new,
                "reactivated_customers": react, "customers_start": start,
                "churned_customers": start + new + react - end, "customers_end": end,
                "revenue": cents / 100,
            })  # fmt: skip
    rows.sort(key=lambda r: (r["period"], r["channel"]))
    if not rows:
        raise InputError(Problem(
            "error", "no-complete-period",
            f"the events cover no complete {frequency} (they end on {last.isoformat()})",
            f"export events through the end of at least one {frequency}", name,
        ))  # fmt: skip
    if not has_channel:
        for r in rows:
            del r["channel"]
    # every cohort at every age up to the last complete period, zero where nobody is left
    cohort = [(int(c), int(a), int(n)) for part, c, a, n, *_ in result if part == "cohorts"]
    observed = {(c, a): n for c, a, n in cohort}
    cohorts = [
        {"cohort": labels[c], "age": a - c, "active": observed.get((c, a), 0)}
        for c in sorted({c for c, _, _ in cohort if c <= last_full})
        for a in range(c, last_full + 1)
    ]
    return Derived(rows, cohorts, frequency, warnings)


PERIOD_SQL = {
    # date → period ordinal, as io/periods.Period counts them (consecutive periods differ by 1)
    "month": "(EXTRACT(YEAR FROM {x}) * 12 + EXTRACT(MONTH FROM {x}) - 1)",
    "quarter": "(EXTRACT(YEAR FROM {x}) * 4 + FLOOR((EXTRACT(MONTH FROM {x}) - 1) / 3))",
    # ISO weeks: 0001-01-01 was a Monday
    "week": "FLOOR(DATE_DIFF('day', DATE '0001-01-01', {x}) / 7)",
}


MONTHS_PER_PERIOD = {"month": "1", "quarter": "3", "week": "(12.0 / 52)"}


def render_sql(frequency: str, inactive: int, source: Path = SQL) -> str:
    """The query with its parameters written in (the same text runs on any engine)."""
    import re

    sql = source.read_text(encoding="utf-8")
    sql = sql.replace("{inactive_plus_one}", str(int(inactive) + 1))
    sql = sql.replace("{inactive}", str(int(inactive)))
    sql = sql.replace("{months_per_period}", MONTHS_PER_PERIOD[frequency])
    template = PERIOD_SQL[frequency]
    body = sql.split("\nWITH ", 1)
    head, rest = (body[0], "WITH " + body[1]) if len(body) == 2 else ("", sql)
    rest = re.sub(r"\{period\((.*?)\)\}", lambda m: "CAST(" + template.format(x=m.group(1)) + " AS INTEGER)", rest)
    return head + "\n" + rest


def _duck_problem(exc: Exception, name: str) -> Problem:
    """DuckDB's conversion errors name the line; turn them into one of our lines."""
    import re

    text = " ".join(str(exc).split())
    m = re.search(r"line[: ]+(\d+)", text, re.IGNORECASE)
    row = int(m.group(1)) if m else None
    col = re.search(r'column "?([^"\s]+)"?', text)
    conv = re.search(r"Could not convert string \"(.*?)\" to '(\w+)'", text)
    if conv:
        kind = {"DATE": "date", "DECIMAL": "number"}.get(conv.group(2), conv.group(2).lower())
        what = f"'{conv.group(1)}' is not a {kind}"
    else:
        what = f"cannot read the transactions ({text[:160]})"
    return Problem("error", "bad-event", what,
                   "dates as YYYY-MM-DD, amounts as plain numbers (1234.56)", name, row,
                   col.group(1) if col else None)  # fmt: skip


def ledger_csv(rows: list[dict]) -> str:
    """The ledger rows as CSV text (money with two decimals)."""
    import csv
    import io

    buf = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    money = ("revenue", "acquisition_spend", "retention_spend")
    for r in rows:
        writer.writerow({k: (f"{v:.2f}" if k in money and math.isfinite(v) else v) for k, v in r.items()})
    return buf.getvalue()


def cohorts_csv(rows: list[dict]) -> str:
    lines = ["cohort,age,active"] + [f"{r['cohort']},{r['age']},{r['active']}" for r in rows]
    return "\n".join(lines) + "\n"


# what every engine checks in a subscriptions table before deriving anything from it
SUBSCRIPTION_CHECKS = ("SELECT MIN(start_day) AS first_start, MAX(start_day) AS last_start, "
                       "MAX(end_day) AS last_end, COUNT(*) AS n, "
                       "SUM(CASE WHEN end_day < start_day THEN 1 ELSE 0 END) AS bad")  # fmt: skip


def check_subscriptions(rows, bad, last_start, last_end, name: str, row: int | None = None,
                        start: str = "start") -> str | None:  # fmt: skip
    """Refuse an empty table (or one without a single start date) or subscriptions that end
    before they start; return a warning when ends run far past the last start (scheduled or
    paid-through dates), else None. ``row``: where a file's data would begin, and ``start`` the
    start column's name as the user wrote it, for the messages."""
    if not rows:
        raise InputError(Problem("error", "no-data", "no subscriptions", "export some", name, row=row))
    if last_start is None:
        raise InputError(Problem("error", "no-data", "no subscription has a start date",
                                 "fill in the start dates", name, row=row, column=start))  # fmt: skip
    if bad:
        raise InputError(Problem("error", "end-before-start",
                                 f"{int(bad)} subscription(s) end before they start",
                                 "check the start and end columns", name))  # fmt: skip
    if last_end is not None and last_start is not None and (last_end - last_start).days > 366:
        return (
            f"the latest end ({last_end.isoformat()}) is well after the latest start "
            f"({last_start.isoformat()}); if ends are scheduled or paid-through dates, the "
            "periods after the export are projections, not history"
        )
    return None


def derive_subscriptions(path: str, frequency: str = "month",
                         memory_limit: str | None = None) -> Derived:  # fmt: skip
    """Aggregate a subscriptions CSV (customer_id, start, end[, mrr, channel]; empty end =
    active) into ledger rows and cohort survival counts."""
    name = display_name(path)
    with _spooled(path) as source:
        return _derive_subscriptions(source, name, frequency, memory_limit)


def _derive_subscriptions(source: str, name: str, frequency: str,
                          memory_limit: str | None) -> Derived:  # fmt: skip
    import duckdb

    header, delimiter, _ = _header(source, name)
    cols = _columns(header, name, SUB_ALIASES, ("customer_id", "start", "end"))
    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    types = {h: "VARCHAR" for h in header}
    types[cols["start"]] = types[cols["end"]] = "DATE"
    if "mrr" in cols:
        types[cols["mrr"]] = "DECIMAL(18, 2)"
    try:
        con.execute("CREATE TABLE sub AS "
                    + source_sql("subscriptions", _csv_relation(source, delimiter, types), cols))  # fmt: skip
        first, last_start, last_end, rows, bad = con.execute(SUBSCRIPTION_CHECKS + " FROM sub").fetchone()
    except duckdb.Error as exc:
        raise InputError(_duck_problem(exc, name)) from None
    future_note = check_subscriptions(rows, bad, last_start, last_end, name, 2, cols["start"])
    as_of = max(d for d in (last_start, last_end) if d is not None)
    periods = _periods(first, as_of, frequency, name)
    try:
        con.execute("CREATE TEMP TABLE steps AS " + render_sql(frequency, 0, SUBSCRIPTIONS_SQL))
    except duckdb.Error as exc:
        raise InputError(_duck_problem(exc, name)) from None
    result = _finish(con, periods, frequency)
    derived = _collect(result, periods, as_of, "channel" in cols, frequency, name)
    if future_note:
        derived.warnings.append(future_note)
    return derived

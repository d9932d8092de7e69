"""Run the event SQL in an embedded DuckDB and hand back the small ledger (DESIGN §2.2, §10).

The file is read by DuckDB itself, streaming, with explicit column types: 10 million
transactions never pass through pandas. Only the header (first 64 KiB) is read in Python, to
match column names with the same aliases and delimiter rules as ledgers. Amounts are summed
as integer cents, so revenue carries no float noise. DuckDB is imported only here.
"""

from __future__ import annotations

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
TX_ALIASES = {
    "customer_id": ("customer_id", "customer", "client_id", "user_id", "customerid", "клиент",
                    "id клиента", "客户id", "kunden_id", "kundennummer", "id_client", "id_cliente"),
    "date": ("date", "day", "order_date", "purchase_date", "created_at", "timestamp", "дата",
             "日期", "datum", "fecha"),
    "amount": ("amount", "revenue", "value", "total", "order_total", "price", "сумма", "金额",
               "betrag", "montant", "importe"),
    "channel": ("channel", "source", "канал", "渠道", "kanal", "canal"),
}  # fmt: skip


@dataclass
class Derived:
    """The ledger and cohort counts derived from events."""

    frame: pd.DataFrame  # one row per (period, channel), ledger columns
    cohorts: pd.DataFrame  # cohort, age, active
    frequency: str
    warnings: list[str] = field(default_factory=list)


def _header(path: str) -> tuple[list[str], str]:
    name = display_name(path)
    try:
        with open("/dev/stdin" if path == "-" else path, "rb") as fh:
            head = fh.read(65536)
    except FileNotFoundError:
        raise InputError(Problem("error", "file-not-found", "no such file", "check the path", name)) from None
    text, _ = decode(head, name)
    delimiter = sniff_delimiter(text)
    if delimiter is None:
        raise InputError(Problem("error", "not-csv", "the first line has no delimiter",
                                 "export the transactions as CSV", name, row=1))  # fmt: skip
    import csv

    header = next(csv.reader([text.splitlines()[0]], delimiter=delimiter))
    return [h.strip().lstrip("\ufeff") for h in header], delimiter


def _columns(header: list[str], name: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for canon, names in TX_ALIASES.items():
        wanted = {normalize(n) for n in names}
        for h in header:
            if normalize(h) in wanted:
                found[canon] = h
                break
    for canon in ("customer_id", "date", "amount"):
        if canon not in found:
            raise InputError(Problem(
                "error", "missing-column",
                f"required column {canon} not found (columns found: {', '.join(header)})",
                "transactions need customer_id, date, amount[, channel]", name, row=1, column=canon,
            ))  # fmt: skip
    return found


def _periods(first: dt.date, last: dt.date, frequency: str) -> list[Period]:
    p, end = period_of(first, frequency), period_of(last, frequency)
    out = [p + -1]  # the period before the first: its end gives the first customers_start
    while p <= end:
        out.append(p)
        p = p + 1
    return out


def derive_transactions(path: str, frequency: str = "month", inactive: int = 90,
                        memory_limit: str | None = None) -> Derived:  # fmt: skip
    """Aggregate a transactions CSV into ledger rows and cohort survival counts."""
    import duckdb
    import pandas as pd

    name = display_name(path)
    header, delimiter = _header(path)
    cols = _columns(header, name)
    source = "/dev/stdin" if path == "-" else path
    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    types = {h: "VARCHAR" for h in header}
    types[cols["date"]] = "DATE"
    types[cols["amount"]] = "DECIMAL(18, 2)"
    q = lambda s: '"' + s.replace('"', '""') + '"'  # noqa: E731
    lit = lambda s: "'" + s.replace("'", "''") + "'"  # noqa: E731  (a view takes no parameters)
    channel = f"COALESCE(CAST({q(cols['channel'])} AS VARCHAR), '')" if "channel" in cols else "''"
    try:
        con.execute(
            "CREATE VIEW tx AS SELECT "
            f"CAST({q(cols['customer_id'])} AS VARCHAR) AS customer_id, "
            f"{q(cols['date'])} AS day, "
            f"CAST(ROUND({q(cols['amount'])} * 100) AS BIGINT) AS amount_cents, "
            f"{channel} AS channel "
            f"FROM read_csv({lit(source)}, header = true, delim = {lit(delimiter)}, "
            f"columns = {{{', '.join(f'{lit(k)}: {lit(v)}' for k, v in types.items())}}}, "
            "auto_detect = false)"
        )
        first, last, rows = con.execute("SELECT MIN(day), MAX(day), COUNT(*) FROM tx").fetchone()
    except duckdb.Error as exc:
        raise InputError(_duck_problem(exc, name)) from None
    if not rows:
        raise InputError(Problem("error", "no-data", "no transactions", "export some", name, row=2))
    periods = _periods(first, last, frequency)
    con.execute("CREATE TABLE periods (ordinal INTEGER, start_day DATE, end_day DATE)")
    con.executemany("INSERT INTO periods VALUES (?, ?, ?)",
                    [(p.ordinal, p.start, p.end) for p in periods])  # fmt: skip
    sql = SQL.read_text(encoding="utf-8").replace("{inactive}", str(int(inactive)))
    try:
        result = con.execute(sql).df()
    except duckdb.Error as exc:
        raise InputError(_duck_problem(exc, name)) from None
    labels = {p.ordinal: p.label for p in periods}
    ledger = result[result["part"] == "ledger"].copy()
    ledger["ordinal"] = ledger["ordinal"].astype(int)
    ledger = ledger.sort_values(["channel", "ordinal"])
    ledger["customers_start"] = ledger.groupby("channel")["customers_end"].shift(1)
    ledger = ledger[ledger["ordinal"] > periods[0].ordinal].copy()
    ledger["churned_customers"] = (ledger["customers_start"] + ledger["new_customers"]
                                   + ledger["reactivated_customers"] - ledger["customers_end"])  # fmt: skip
    ledger["revenue"] = ledger["revenue_cents"].astype("int64") / 100
    ledger["period"] = ledger["ordinal"].map(labels)
    warnings = []
    if last < periods[-1].end:
        warnings.append(
            f"the events end on {last.isoformat()}, before the end of {periods[-1].label}; "
            "that partial period is left out"
        )
        ledger = ledger[ledger["ordinal"] < periods[-1].ordinal]
    ledger = ledger.sort_values(["ordinal", "channel"])
    cohorts = result[result["part"] == "cohorts"].copy()
    cohorts["cohort_ordinal"] = cohorts["ordinal"].astype(int)
    cohorts["at"] = cohorts["channel"].astype(int)
    # every cohort at every age up to the last complete period, zero where nobody is left
    observed = {(int(c), int(a)): int(n) for c, a, n in
                zip(cohorts["cohort_ordinal"], cohorts["at"], cohorts["customers_end"])}  # fmt: skip
    last_full = periods[-1].ordinal - (1 if last < periods[-1].end else 0)
    rows = [
        (labels[c], a - c, observed.get((c, a), 0))
        for c in sorted({c for c, _ in observed})
        for a in range(c, last_full + 1)
    ]
    cohorts = pd.DataFrame(rows, columns=["cohort", "age", "active"])
    keep = ["period", "channel", "new_customers", "reactivated_customers", "customers_start",
            "churned_customers", "customers_end", "revenue"]  # fmt: skip
    frame = ledger[keep].reset_index(drop=True)
    for c in keep[2:-1]:
        frame[c] = frame[c].astype("int64")
    if "channel" not in cols:
        frame = frame.drop(columns="channel")
    return Derived(frame, cohorts.reset_index(drop=True), frequency, warnings)


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


def ledger_csv(derived: Derived) -> str:
    frame = derived.frame.copy()
    for c in ("revenue", "acquisition_spend", "retention_spend"):
        if c in frame:
            frame[c] = frame[c].map(lambda x: f"{x:.2f}" if math.isfinite(x) else "")
    return frame.to_csv(index=False, lineterminator="\n")

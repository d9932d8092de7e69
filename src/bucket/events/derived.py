"""What every engine's path ends in: the small steps table → ledger rows and cohort counts
(``from_steps``, through ledger.sql in DuckDB), the checks every engine runs on a subscriptions
table, and the derived tables as CSV text. Nothing here reads an event file."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bucket.errors import InputError, Problem
from bucket.events.sql import LEDGER_SQL, render_sql
from bucket.io.periods import Period, period_of
from bucket.io.text import spreadsheet_safe

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Derived:
    """The ledger and cohort counts derived from events (small: plain rows, no pandas)."""

    rows: list[dict]  # one per (period, channel), ledger columns
    cohorts_rows: list[dict]  # cohort[, channel], age, active
    frequency: str
    warnings: list[str] = field(default_factory=list)

    @property
    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows)

    @property
    def cohorts(self) -> pd.DataFrame:
        import pandas as pd

        columns = ["cohort", "channel", "age", "active"]
        if not (self.cohorts_rows and "channel" in self.cohorts_rows[0]):
            columns.remove("channel")
        return pd.DataFrame(self.cohorts_rows, columns=columns)


FIRST_YEAR, LAST_YEAR = 1900, 2200  # dates outside are typos or placeholders, not history


def plausible(day: object) -> bool:
    """A date an export of real events can hold (DuckDB hands back a year past 9999 or before
    year 1 as text)."""
    return isinstance(day, dt.date) and FIRST_YEAR <= day.year <= LAST_YEAR


def period_range(first: dt.date, last: dt.date, frequency: str, name: str = "") -> list[Period]:
    """The periods from ``first`` to ``last``, and the one before; a range no history has
    (a typo or a placeholder date) is an input error."""
    if not (plausible(first) and plausible(last)) or (last - first).days > 50 * 366:
        raise InputError(
            Problem(
                "error",
                "date-range",
                f"the dates run from {first} to {last}",
                f"look for placeholder or mistyped dates (1900-01-01, 9999-12-31, 12024-03-07; "
                f"a date must lie in {FIRST_YEAR}–{LAST_YEAR}) and fix or remove them",
                name,
            )
        )
    p, end = period_of(first, frequency), period_of(last, frequency)
    out = [p + -1]  # the period before the first: its end gives the first customers_start
    while p <= end:
        out.append(p)
        p = p + 1
    return out


def from_steps(
    con,
    frequency: str,
    name: str,
    has_channel: bool,
    what: str,
    row: int | None = None,
    *,
    locate: Callable[[int], int | None] | None = None,
) -> Derived:
    """The steps table in ``con`` → ledger and cohort rows: the period range from the steps,
    then ledger.sql. Every engine's path ends here. Events that could not be placed (no
    customer id, no date) are one warning each, naming the first one's row when ``locate``
    (reason → row) can find it."""
    first, last = con.execute("SELECT MIN(first_day), MAX(last_day) FROM steps").fetchone()
    left_out = unplaced_notes(con, locate)
    if first is None:
        found = f"no {what}" + (" with a customer id and a date" if left_out else "")
        raise InputError(Problem("error", "no-data", found, "export some", name, row=row))
    periods = period_range(first, last, frequency, name)
    derived = finish_steps(con, periods, last, has_channel, frequency, name)
    derived.warnings[:0] = left_out
    return derived


UNPLACED = {1: "no customer id", 2: "no date"}  # the reasons transactions.sql counts


def unplaced_notes(con, locate: Callable[[int], int | None] | None = None) -> list[str]:
    """One warning per reason an event was left out (the steps without an ordinal), with the
    count, the first row when ``locate`` finds it, and the money left out."""
    found = con.execute(
        "SELECT cohort, SUM(new_customers), SUM(revenue_cents) FROM steps "
        "WHERE ordinal IS NULL AND cohort IN (1, 2) GROUP BY cohort ORDER BY cohort"
    ).fetchall()
    notes = []
    for reason, count, cents in found:
        row = locate(int(reason)) if locate else None
        notes.append(
            f"{int(count):,} event(s) have {UNPLACED[int(reason)]}"
            + (f" (the first in row {row})" if row else "")
            + f" and are left out ({int(cents or 0) / 100:,.2f} of revenue): they cannot be "
            "attributed; fill them in to count them"
        )
    return notes


def finish_steps(
    con, periods: list[Period], last: dt.date, has_channel: bool, frequency: str, name: str
) -> Derived:
    """The steps table in ``con`` over ``periods`` (the first is the one before the ledger's)
    → ledger and cohort rows; ``last`` is the last day the events cover."""
    return _collect(_finish(con, periods, frequency), periods, last, has_channel, frequency, name)


def _finish(con, periods: list[Period], frequency: str) -> list[tuple]:
    """Run ledger.sql over the steps table and the periods (both small)."""
    con.execute("CREATE TEMP TABLE periods (ordinal INTEGER, start_day DATE, end_day DATE)")
    # literal VALUES: parameter binding would make the duckdb module import pandas (0.4 s)
    values = ", ".join(
        f"({p.ordinal}, DATE '{p.start.isoformat()}', DATE '{p.end.isoformat()}')" for p in periods
    )
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
            rows.append(
                {
                    "period": p.label,
                    "channel": channel,
                    "new_customers": new,
                    "reactivated_customers": react,
                    "customers_start": start,
                    "churned_customers": start + new + react - end,
                    "customers_end": end,
                    "revenue": cents / 100,
                }
            )
    rows.sort(key=lambda r: (r["period"], r["channel"]))
    if not rows:
        raise InputError(
            Problem(
                "error",
                "no-complete-period",
                f"the events cover no complete {frequency} (they end on {last.isoformat()})",
                f"export events through the end of at least one {frequency}",
                name,
            )
        )
    if not has_channel:
        for r in rows:
            del r["channel"]
    return Derived(rows, _cohorts(result, labels, last_full, has_channel), frequency, warnings)


def _cohorts(result, labels: dict[int, str], last_full: int, has_channel: bool) -> list[dict]:
    """Every cohort (per channel, with a channel column) at every age up to the last complete
    period, zero where nobody is left."""
    cohort = [
        (str(ch), int(c), int(a), int(n)) for part, c, ch, n, a, *_ in result if part == "cohorts"
    ]
    observed = {(ch, c, a): n for ch, c, a, n in cohort}
    rows = []
    for ch, c in sorted({(ch, c) for ch, c, _, _ in cohort if c <= last_full}):
        for a in range(c, last_full + 1):
            row = {"cohort": labels[c], "age": a - c, "active": observed.get((ch, c, a), 0)}
            rows.append({"cohort": row["cohort"], "channel": ch, **row} if has_channel else row)
    rows.sort(key=lambda r: (r["cohort"], r.get("channel", ""), r["age"]))
    return rows


def check_subscriptions(
    rows,
    bad,
    last_start,
    last_end,
    name: str,
    *,
    row: int | None = None,
    start: str = "start",
    left_out: int | None = 0,
    no_id: int | None = 0,
    customer: str = "customer_id",
) -> list[str]:
    """Refuse an empty table (or one without a single start date) or subscriptions that end
    before they start; return the warnings: subscriptions left out for want of a customer id
    or a start (``left_out``), ends far past the last start (scheduled or paid-through dates).
    ``row``: where a file's data would begin, and ``start`` the start column's name as the
    user wrote it, for the messages."""
    notes: list[str] = []
    if not rows:
        raise InputError(
            Problem("error", "no-data", "no subscriptions", "export some", name, row=row)
        )
    if no_id and rows and int(no_id) >= int(rows):
        raise InputError(
            Problem(
                "error",
                "no-data",
                "no subscription has a customer id",
                "fill in the customer ids",
                name,
                row=row,
                column=customer,
            )
        )
    if last_start is None:
        raise InputError(
            Problem(
                "error",
                "no-data",
                "no subscription has a start date",
                "fill in the start dates",
                name,
                row=row,
                column=start,
            )
        )
    if left_out:
        notes.append(
            f"{int(left_out):,} subscription(s) have no customer id or no start date and are "
            "left out (they cannot be followed); fill them in to count them"
        )
    if bad:
        raise InputError(
            Problem(
                "error",
                "end-before-start",
                f"{int(bad)} subscription(s) end before they start",
                "check the start and end columns",
                name,
            )
        )
    if last_end is not None and last_start is not None and (last_end - last_start).days > 366:
        notes.append(
            f"the latest end ({last_end.isoformat()}) is well after the latest start "
            f"({last_start.isoformat()}); if ends are scheduled or paid-through dates, the "
            "periods after the export are projections, not history"
        )
    return notes


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
        writer.writerow(
            {
                k: (
                    f"{v:.2f}"
                    if k in money and math.isfinite(v)
                    else spreadsheet_safe(v)
                    if isinstance(v, str)
                    else v
                )
                for k, v in r.items()
            }
        )
    return buf.getvalue()


def cohorts_csv(rows: list[dict]) -> str:
    """The cohort table as CSV: cohort[, channel], age, active."""
    if rows and "channel" in rows[0]:
        head = "cohort,channel,age,active"
        lines = [f"{r['cohort']},{_cell(r['channel'])},{r['age']},{r['active']}" for r in rows]
    else:
        head = "cohort,age,active"
        lines = [f"{r['cohort']},{r['age']},{r['active']}" for r in rows]
    return "\n".join([head, *lines]) + "\n"


def _cell(text: str) -> str:
    """A text cell of a CSV line, quoted when it must be, safe to open in a spreadsheet."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([spreadsheet_safe(text)])
    return buf.getvalue()

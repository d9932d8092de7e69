"""The checks ``inspect_ledger`` runs, each reporting to a ``Collector``.

Header and columns (title rows, ``--map``, duplicate and missing columns), totals rows, the
customer identities of one row, and the checks across rows: duplicate periods, gaps between
periods, and continuity (each period starts with the customers the previous one ended with).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bucket.errors import Problem
from bucket.io import columns as cols
from bucket.io.numbers import Number, NumberProblem, currency_code, parse_number
from bucket.io.periods import Period
from bucket.io.text import Records

# First cells that mark a totals row (compared case-folded, trailing ':' dropped).
TOTAL_WORDS = frozenset(
    {
        "total",
        "totals",
        "grand total",
        "sum",
        "all",
        "overall",
        "итого",
        "итог",
        "всего",
        "сумма",
        "всього",
        "разом",
        "підсумок",
        "合计",
        "总计",
        "合計",
        "總計",
        "小计",
        "summe",
        "gesamt",
        "insgesamt",
        "gesamtsumme",
        "total général",
        "totaux",
        "somme",
        "totales",
        "suma",
        "total general",
    }
)
# Optional counts whose empty cell means zero (DESIGN §2.1: "no (0)").
ZERO_IF_EMPTY = frozenset({"retention_spend", "reactivated_customers"})
_TOL = 1e-9


class Collector:
    """Every problem found in one file, in the order found."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, code: str, message: str, fix: str, row=None, column=None, value=None):
        self.problems.append(Problem("error", code, message, fix, self.file, row, column, value))

    def warn(self, code: str, message: str, fix: str, row=None, column=None, value=None):
        self.problems.append(Problem("warning", code, message, fix, self.file, row, column, value))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def fmt_count(x: float) -> str:
    """A count as a message shows it: whole numbers without decimals."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def match_columns(rec: Records, mapping: dict[str, str], out: Collector) -> cols.ColumnMatch:
    """Find each canonical column in the header (``--map`` first, then the aliases)."""
    header = rec.header
    index: dict[str, int] = {}
    by_norm = {cols.normalize(h): i for i, h in enumerate(header)} if mapping else {}
    taken: set[int] = set()
    for canon, theirs in mapping.items():
        i = by_norm.get(cols.normalize(theirs))
        if i is None:
            names = cols.name_list(header)
            out.error(
                "map-not-found",
                f"--map {canon}={theirs}: no column '{theirs}' (columns found: {names})",
                "use a column name from the header",
                row=rec.header_row,
            )
            continue
        index[canon] = i
        taken.add(i)
    unknown: list[str] = []
    for i, h in enumerate(header):
        if i in taken:
            continue
        found = cols.canonical_for(h)
        if found is None or found in mapping:
            if h.strip():
                unknown.append(h)
            continue
        canon = found
        if canon in index:
            first = cols.display(header[index[canon]])
            out.error(
                "duplicate-column",
                f"columns '{first}' and '{cols.display(h)}' both mean {canon}",
                f"remove one, or pass --map {canon}=<the one to use>",
                row=rec.header_row,
                column=cols.display(h),
            )
            continue
        index[canon] = i
    return cols.ColumnMatch(index, header, unknown)


def check_required(rec: Records, match: cols.ColumnMatch, need: tuple[str, ...], out: Collector):
    """Report each required column the header lacks."""
    found = cols.name_list(rec.header)
    for canon in need:
        if canon not in match.index:
            out.error(
                "missing-column",
                f"required column {canon} not found (columns found: {found})",
                cols.suggest(canon, match.unknown),
                row=rec.header_row,
                column=canon,
            )
    if not any(c in match.index for c in cols.BASE_OUT):
        hint = cols.suggest("churned_customers", match.unknown)
        out.error(
            "missing-column",
            f"need customers_end or churned_customers, found neither (columns found: {found})",
            hint,
            row=rec.header_row,
            column="churned_customers",
        )


def is_total_word(text: str) -> bool:
    """'Total', 'Итого:', 'Total 2025', 'Итого за год', 'Grand total (12 months)'..."""
    t = text.strip().rstrip(":").casefold()
    if t in TOTAL_WORDS:
        return True
    words = t.replace("(", " ").split()
    return (
        bool(words)
        and (words[0] in TOTAL_WORDS or " ".join(words[:2]) in TOTAL_WORDS)
        and (words[0] not in ("all",))
    )


def is_totals_row(cells: list[str], match: cols.ColumnMatch) -> bool:
    """Whether the first cell or the period cell names a total."""
    firsts = [cells[0]] if cells else []
    i = match.index.get("period")
    if i is not None and i < len(cells):
        firsts.append(cells[i])
    return any(is_total_word(c) for c in firsts)


def find_header(rec: Records, mapping: dict[str, str]) -> Records:
    """Skip title rows: the header is the first of the top rows naming two known columns."""
    from dataclasses import replace

    theirs = {cols.normalize(v) for v in mapping.values()}

    def known(cells: list[str]) -> int:  # 0, 1 or 2 (enough): a wide row stops at its second
        hits = (
            c for c in cells if cols.canonical_for(c) or (theirs and cols.normalize(c) in theirs)
        )
        return sum(1 for _ in itertools.islice(hits, 2))

    if known(rec.header) >= 2:
        return rec
    for i, (row, cells) in enumerate(rec.rows[:10]):
        if known(cells) >= 2:
            return replace(rec, header=cells, header_row=row, rows=rec.rows[i + 1 :])
    return rec


@dataclass
class CellReader:
    """Reads a file's numeric cells, reporting each bad one; counts the currencies on the way."""

    out: Collector
    match: cols.ColumnMatch
    numeric: list[str]  # the numeric columns of the file, in canonical order
    decimal: str
    require: tuple[str, ...] = ()
    first_currency: tuple[str, int, str] | None = None  # currency, row, column
    currencies: Counter[str] = field(default_factory=Counter)

    def row_values(self, cells: list[str], row_no: int) -> tuple[dict[str, float], bool]:
        """The values of a row's numeric cells, and whether any was bad (all are checked)."""
        values: dict[str, float] = {}
        bad = False
        for canon in self.numeric:
            value = self.read(canon, cells[self.match.index[canon]], row_no)
            if value is None:
                bad = True
            else:
                values[canon] = value
        return values, bad

    def read(self, canon: str, cell: str, row_no: int) -> float | None:
        """A cell's value (NaN for an optional empty cell), or None once it is reported bad."""
        try:
            num = parse_number(cell, self.decimal)
        except NumberProblem as exc:
            label = self.match.label(canon)
            self.out.error("bad-number", exc.message, exc.fix, row_no, label, cell)
            return None
        if num is None:
            return self._empty(canon, row_no)
        if not self._fits_column(num, canon, cell, row_no):
            return None
        if (
            num.currency
            and canon in cols.MONEY
            and not self._count_currency(num.currency, canon, cell, row_no)
        ):
            return None
        return float(round(num.value)) if canon in cols.COUNTS else num.value

    def _empty(self, canon: str, row_no: int) -> float | None:
        """An empty cell: 0 or NaN where the column allows it, else None (reported)."""
        if canon in ZERO_IF_EMPTY:
            return 0.0
        if canon in cols.REQUIRED or canon in self.require or canon == "acquisition_spend":
            self.out.error(
                "empty-cell",
                f"{canon} is empty",
                "fill it in (0 if there was none)",
                row_no,
                self.match.label(canon),
            )
            return None
        return math.nan

    def _fits_column(self, num: Number, canon: str, cell: str, row_no: int) -> bool:
        """False (reported) for a percentage, a negative number or a fraction of a customer."""
        out, label = self.out, self.match.label
        if num.percent:
            out.error(
                "percent",
                f"'{cell.strip()}' is a percentage, but {canon} is "
                + ("an amount of money" if canon in cols.MONEY else "a count of customers"),
                "write the amount itself",
                row_no,
                label(canon),
                cell,
            )
            return False
        if num.value < 0:
            out.error(
                "negative",
                f"{canon} is negative ({cell.strip()})",
                "counts and spend must be 0 or more; fix the sign",
                row_no,
                label(canon),
                cell,
            )
            return False
        if canon in cols.COUNTS and abs(num.value - round(num.value)) > _TOL:
            out.error(
                "fractional-count",
                f"{canon} is {cell.strip()}, but customers come in whole numbers",
                "round it, or check the decimal separator"
                + (" (this file reads ',' as the decimal mark)" if self.decimal == "," else ""),
                row_no,
                label(canon),
                cell,
            )
            return False
        return True

    def _count_currency(self, currency: str, canon: str, cell: str, row_no: int) -> bool:
        """Count a money cell's currency; False (reported) when it is not the file's first."""
        self.currencies[currency] += 1
        if self.first_currency is None:
            self.first_currency = (currency, row_no, self.match.label(canon))
        elif currency_code(currency) != currency_code(self.first_currency[0]):
            cur0, row0, col0 = self.first_currency
            self.out.error(
                "mixed-currency",
                f"'{cell.strip()}' is in {currency}, but row {row0} ({col0}) is in {cur0}",
                "convert every amount to one currency before planning",
                row_no,
                self.match.label(canon),
                cell,
            )
            return False
        return True


def check_identities(
    v: dict[str, float], match: cols.ColumnMatch, row_no: int, out: Collector
) -> bool:
    """Complete customers_end or churned_customers from the other; False (reported) when the
    row's customers do not add up."""
    return _settle_base(v, match, row_no, out) and _check_unpaid(v, match, row_no, out)


def _settle_base(v: dict[str, float], match: cols.ColumnMatch, row_no: int, out: Collector) -> bool:
    """customers_end = start + new + reactivated − churned: fill in the one left empty."""
    label = match.label
    start, new = v["customers_start"], v["new_customers"]
    react = v.get("reactivated_customers", 0.0)
    react = 0.0 if math.isnan(react) else react
    inflow = start + new + react
    end, churned = v.get("customers_end", math.nan), v.get("churned_customers", math.nan)

    def parts() -> str:  # only built for a message
        text = f"customers_start {fmt_count(start)} + new_customers {fmt_count(new)}"
        return text + (f" + reactivated {fmt_count(react)}" if react else "")

    if math.isnan(end) and math.isnan(churned):
        col = "customers_end" if "customers_end" in match.index else "churned_customers"
        out.error(
            "empty-cell",
            f"{col} is empty",
            "fill in customers_end or churned_customers",
            row_no,
            label(col),
        )
        return False
    if not math.isnan(end) and not math.isnan(churned):
        if abs(end - (inflow - churned)) > _TOL:
            out.error(
                "identity",
                f"customers_end {fmt_count(end)} ≠ {parts()} − churned {fmt_count(churned)} "
                f"= {fmt_count(inflow - churned)}",
                "correct one of these cells so the customer base adds up",
                row_no,
                label("customers_end"),
            )
            return False
    elif math.isnan(churned):
        churned = inflow - end
        if churned < 0:
            out.error(
                "identity",
                f"customers_end {fmt_count(end)} is more than {parts()} = {fmt_count(inflow)}, "
                "so churned would be negative",
                "check customers_end, or add the missing inflow (e.g. reactivated_customers)",
                row_no,
                label("customers_end"),
            )
            return False
    else:
        end = inflow - churned
        if end < 0:
            out.error(
                "identity",
                f"churned_customers {fmt_count(churned)} is more than {parts()} = {fmt_count(inflow)}",
                "no more customers can leave than there were; check the row",
                row_no,
                label("churned_customers"),
            )
            return False
    v["customers_end"], v["churned_customers"] = end, churned
    return True


def _check_unpaid(
    v: dict[str, float], match: cols.ColumnMatch, row_no: int, out: Collector
) -> bool:
    """Organic and referral customers are part of new_customers, so no more than it."""
    label = match.label
    new = v["new_customers"]
    org = v.get("organic_customers", math.nan)
    ref = v.get("referral_customers", math.nan)
    unpaid = (0.0 if math.isnan(org) else org) + (0.0 if math.isnan(ref) else ref)
    if unpaid > new + _TOL:
        col = "organic_customers" if not math.isnan(org) else "referral_customers"
        out.error(
            "identity",
            f"organic + referral customers ({fmt_count(unpaid)}) exceed new_customers ({fmt_count(new)})",
            "organic and referral customers are part of new_customers; check the row",
            row_no,
            label(col),
        )
        return False
    return True


def check_duplicates(
    records: list[dict], periods: list[Period], label: Callable[[str], str], out: Collector
) -> None:
    """Report a second row for the same period (and channel)."""
    seen: dict[tuple[int, str], int] = {}
    for r in records:
        key = (periods[r["_k"]].ordinal, r["channel"])
        if key in seen:
            what = f"period {periods[r['_k']].label}" + (f", channel {key[1]}" if key[1] else "")
            out.error(
                "duplicate-period",
                f"{what} already appears on row {seen[key]}",
                "keep one row per period"
                + (" and channel" if key[1] else "")
                + " (sum them if both are real)",
                r["row"],
                label("period"),
            )
        else:
            seen[key] = r["row"]

"""Period labels as teams write them, and the ledger's frequency.

Accepted labels: months (``2025-01``, ``2025/01``, ``01/2025``, ``Jan 2025``, ``January 2025``,
``Jan-25``, ``янв 2025``, ``März 2025``, ``2025年1月``), quarters (``2025-Q1``, ``Q1 2025``,
``2025 Q1``), ISO weeks (``2025-W01``, ``2025W01``, ``2025-W01-1``) and dates (``2025-01-31``,
``31.01.2025``, ``1/31/2025``, with or without a time). Month names come from ``months.csv``
(English, Russian, Ukrainian, German, French, Spanish).

A file's labels are first parsed one by one (``parse_label``); ``resolve`` then settles the
frequency (month, week or quarter) for the whole file: dates become the month, ISO week or
quarter they fall in, judged by how far apart the file's dates are.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

Kind = Literal["month", "quarter", "week", "date"]
Frequency = Literal["month", "week", "quarter"]
FIRST_YEAR, LAST_YEAR = 1900, 2200  # a period or date outside is a typo or a placeholder
PERIODS_PER_YEAR: dict[str, int] = {"month": 12, "week": 52, "quarter": 4}


class PeriodProblem(ValueError):
    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True, order=True)
class Period:
    """One period of a ledger: its frequency and an ordinal that counts periods.

    Months count from year 0 (year·12 + month − 1), quarters likewise (year·4 + q − 1), ISO weeks
    by the ordinal of their Monday // 7, so consecutive periods differ by exactly 1.
    """

    frequency: str
    ordinal: int

    @property
    def start(self) -> dt.date:
        if self.frequency == "month":
            return dt.date(self.ordinal // 12, self.ordinal % 12 + 1, 1)
        if self.frequency == "quarter":
            return dt.date(self.ordinal // 4, (self.ordinal % 4) * 3 + 1, 1)
        return dt.date.fromordinal(self.ordinal * 7 + 1)

    @property
    def end(self) -> dt.date:
        return Period(self.frequency, self.ordinal + 1).start - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.frequency == "month":
            return f"{self.ordinal // 12:04d}-{self.ordinal % 12 + 1:02d}"
        if self.frequency == "quarter":
            return f"{self.ordinal // 4:04d}-Q{self.ordinal % 4 + 1}"
        year, week, _ = self.start.isocalendar()
        return f"{year:04d}-W{week:02d}"

    def __add__(self, n: int) -> Period:
        return Period(self.frequency, self.ordinal + n)


def month(year: int, m: int) -> Period:
    return Period("month", year * 12 + m - 1)


def quarter(year: int, q: int) -> Period:
    return Period("quarter", year * 4 + q - 1)


def week_of(day: dt.date) -> Period:
    monday = day - dt.timedelta(days=day.weekday())
    # date.toordinal() of a Monday is ≡ 1 (mod 7): 0001-01-01 was a Monday.
    return Period("week", (monday.toordinal() - 1) // 7)


def period_of(day: dt.date, frequency: str) -> Period:
    if frequency == "month":
        return month(day.year, day.month)
    if frequency == "quarter":
        return quarter(day.year, (day.month - 1) // 3 + 1)
    return week_of(day)


@lru_cache(maxsize=1)
def _month_names() -> dict[str, int]:
    names: dict[str, int] = {}
    text = Path(__file__).with_name("months.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        for name in row["names"].split():
            names.setdefault(name.casefold(), int(row["month"]))
    return names


@dataclass(frozen=True)
class Label:
    """A label parsed on its own: a month, quarter or week period, or a date (kind 'date')."""

    kind: Kind
    period: Period | None = None
    date: dt.date | None = None
    # For d/d/yyyy dates: (first, second, year), so the file can settle day/month order.
    ambiguous: tuple[int, int, int] | None = None


_TIME = re.compile(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_YM = re.compile(r"(\d{4})[-/.](\d{1,2})")
_MY = re.compile(r"(\d{1,2})[-/.](\d{4})")
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DMY = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")
_YQ = re.compile(r"(\d{4})\s*[-/ ]?\s*Q(\d)", re.IGNORECASE)
_QY = re.compile(r"Q(\d)\s*[-/ ]?\s*(\d{4})", re.IGNORECASE)
_YW = re.compile(r"(\d{4})\s*-?\s*W(\d{1,2})(?:-?([1-7]))?", re.IGNORECASE)
_NAME_Y = re.compile(r"([^\W\d_]+)\.?[\s\-'’/]*(\d{4}|\d{2})", re.UNICODE)
_Y_NAME = re.compile(r"(\d{4})[\s\-/]+([^\W\d_]+)\.?", re.UNICODE)
_CJK = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?")
_CJK_Q = re.compile(r"(\d{4})\s*年?\s*第?\s*([1-4一二三四])\s*季度?")
_DMY2 = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})?")
_WEEK_WORD = re.compile(
    r"(?:w|wk|week|kw|cw|нед(?:еля)?\.?|тиждень|semaine|semana|woche)\s*(\d{1,2})[\s,/-]+(\d{4})",
    re.IGNORECASE,
)
_Q_TICK = re.compile(r"Q([1-4])\s*['’]\s*(\d{2})", re.IGNORECASE)
_Q_WORD = re.compile(r"([1-4])\.?\s*(?:quartal|quarter|trimestre|квартал)\s*(\d{4})", re.IGNORECASE)
_D_NAME_Y = re.compile(r"(\d{1,2})[\s\-.]+([^\W\d_]+)\.?[\s\-.,]+(\d{4}|\d{2})")
_NAME_D_Y = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})")
_FILLER = re.compile(r"\s*(?:\bde\b|\bг\.?|\bр\.?|,)\s*", re.IGNORECASE)
_CN_Q = {"一": 1, "二": 2, "三": 3, "四": 4}
_FIX = "write periods like 2025-01, Jan 2025, 2025-Q1, 2025-W05 or a date like 2025-01-31"


def _year(text: str) -> int:
    """Four digits as is; two digits 00-69 → 2000s, 70-99 → 1900s (as spreadsheets do)."""
    y = int(text)
    if len(text) == 2:
        y += 2000 if y < 70 else 1900
    return y


def _month_period(year: int, m: int, text: str) -> Label:
    if not 1 <= m <= 12:
        raise PeriodProblem(f"'{text}' has month {m}, which is not 1-12", _FIX)
    return Label("month", month(year, m))


def _date(year: int, m: int, d: int, text: str) -> Label:
    try:
        return Label("date", date=dt.date(year, m, d))
    except ValueError:
        raise PeriodProblem(f"'{text}' is not a real date", _FIX) from None


def parse_label(raw: str) -> Label:
    """Parse one period cell; raises ``PeriodProblem`` with the reason."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if text.startswith('="') and text.endswith('"'):  # Excel's ="2025-01" text trick
        text = text[2:-1].strip()
    text = text.lstrip("'")  # Excel's leading apostrophe
    if not text:
        raise PeriodProblem("the period is empty", "fill in the period of this row")
    core = _TIME.sub("", text).strip()
    core = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?\s*(AM|PM)$", "", core, flags=re.IGNORECASE)
    label = _number_label(core, text) or _month_name_label(core, text)
    if label is None:
        raise PeriodProblem(f"'{text}' is not a period bucket can read", _FIX)
    year = _label_year(label)
    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodProblem(
            f"'{text}' is in the year {year}, not a period of real history",
            f"fix the year (a ledger's periods lie in {FIRST_YEAR}–{LAST_YEAR})",
        )
    return label


def _label_year(label: Label) -> int | None:
    if label.date is not None:
        return label.date.year
    if label.period is not None:  # from the ordinal: year 0 has no date
        p = label.period
        if p.frequency == "month":
            return p.ordinal // 12
        if p.frequency == "quarter":
            return p.ordinal // 4
        return p.start.year
    return label.ambiguous[2] if label.ambiguous else None


def _number_label(core: str, text: str) -> Label | None:
    """Labels whose month, quarter or week is a number: 2025-01, Q1 2025, KW 5 2025, 2025年1月."""
    if m := _YMD.fullmatch(core):
        return _date(int(m[1]), int(m[2]), int(m[3]), text)
    if m := _DMY.fullmatch(core):
        a, b, year = int(m[1]), int(m[3]), int(m[4])
        if m[2] == "/":  # 1/31/2025 (US) or 31/1/2025: the file decides
            if a > 12 and b > 12:
                raise PeriodProblem(f"'{text}' is not a real date", _FIX)
            return Label("date", ambiguous=(a, b, year))
        return _date(year, b, a, text)  # 31.01.2025, 31-01-2025: day first
    if m := _DMY2.fullmatch(core):  # 31.01.25 (German short date)
        return _date(_year(m[3]), int(m[2]), int(m[1]), text)
    if m := _COMPACT.fullmatch(core):  # 202501, 20250131
        if m[3]:
            return _date(int(m[1]), int(m[2]), int(m[3]), text)
        return _month_period(int(m[1]), int(m[2]), text)
    if m := _YM.fullmatch(core):
        return _month_period(int(m[1]), int(m[2]), text)
    if m := _MY.fullmatch(core):
        return _month_period(int(m[2]), int(m[1]), text)
    if m := _YQ.fullmatch(core) or _QY.fullmatch(core):
        year, q = (int(m[1]), int(m[2])) if m.re is _YQ else (int(m[2]), int(m[1]))
        if not 1 <= q <= 4:
            raise PeriodProblem(f"'{text}' names quarter {q}; quarters are Q1-Q4", _FIX)
        return Label("quarter", quarter(year, q))
    if m := _YW.fullmatch(core):
        year, w = int(m[1]), int(m[2])
        try:
            monday = dt.date.fromisocalendar(year, w, 1)
        except ValueError:
            raise PeriodProblem(f"'{text}': {year} has no ISO week {w}", _FIX) from None
        return Label("week", week_of(monday))
    if m := _WEEK_WORD.fullmatch(core):  # W5 2025, KW 5 2025, Week 5, 2025
        return parse_label(f"{m[2]}-W{int(m[1]):02d}")
    if m := _Q_TICK.fullmatch(core):  # Q1'25
        return Label("quarter", quarter(_year(m[2]), int(m[1])))
    if m := _Q_WORD.fullmatch(core):  # 1. Quartal 2025
        return Label("quarter", quarter(int(m[2]), int(m[1])))
    if m := _CJK_Q.fullmatch(core):  # 2025年第1季度
        q = _CN_Q.get(m[2]) or int(m[2])
        return Label("quarter", quarter(int(m[1]), q))
    if m := _CJK.fullmatch(core):
        if m[3]:
            return _date(int(m[1]), int(m[2]), int(m[3]), text)
        return _month_period(int(m[1]), int(m[2]), text)
    if core.upper().startswith("FY") and (m := _YQ.fullmatch(core[2:].strip())):
        return Label("quarter", quarter(int(m[1]), int(m[2])))
    return None


def _month_name_label(core: str, text: str) -> Label | None:
    """Dates and months with the month's name: 01-Jan-2025, Jan 1, 2025, enero de 2025."""
    names = _month_names()
    if (m := _D_NAME_Y.fullmatch(core)) and m[2].casefold() in names:  # 01-Jan-2025
        return _date(_year(m[3]), names[m[2].casefold()], int(m[1]), text)
    if (m := _NAME_D_Y.fullmatch(core)) and m[1].casefold() in names:  # Jan 1, 2025
        return _date(int(m[3]), names[m[1].casefold()], int(m[2]), text)
    core = _FILLER.sub(" ", core).strip()  # enero de 2025, Январь 2025 г., January, 2025
    m = _NAME_Y.fullmatch(core)
    name, year_text = (m[1], m[2]) if m else (None, None)
    if m is None and (m2 := _Y_NAME.fullmatch(core)):
        name, year_text = m2[2], m2[1]
    if name is not None and year_text is not None:
        number = _month_names().get(name.casefold())
        if number is not None:
            year = _year(year_text)
            return Label("month", month(year, number))
    return None


@dataclass
class Resolved:
    frequency: Frequency
    periods: list[Period]
    notes: list[str]  # e.g. how ambiguous dates were read


def _slash_orders(labels: list[Label]) -> list[bool]:
    """Which day/month orders d/d/yyyy dates allow: [False] month first, [True] day first."""
    slashed = [lab.ambiguous for lab in labels if lab.ambiguous is not None]
    if not slashed:
        return [False]
    day_first = any(a > 12 for a, _, _ in slashed)
    month_first = any(b > 12 for _, b, _ in slashed)
    if day_first and month_first:
        raise PeriodProblem("dates mix day/month and month/day order", "export dates as YYYY-MM-DD")
    if day_first or month_first:
        return [day_first]
    return [False, True]  # ambiguous: US order first, then day first


def _read_slashes(labels: list[Label], day_first: bool) -> list[Label]:
    out = []
    for lab in labels:
        if lab.ambiguous is None:
            out.append(lab)
            continue
        a, b, year = lab.ambiguous
        m_, d_ = (b, a) if day_first else (a, b)
        out.append(_date(year, m_, d_, f"{a}/{b}/{year}"))
    return out


def settle_slashes(labels: list[Label]) -> tuple[list[Label], str | None]:
    """The labels with every d/d/yyyy date read in the one order the file's dates allow, for
    a file whose dates are not one per period (no frequency decides): month first (US order)
    when either order reads, with a note saying so. Raises ``PeriodProblem`` when the dates mix
    both orders or one is not a real date in the order chosen."""
    orders = _slash_orders(labels)
    note = None
    if len(orders) > 1:
        note = "dates like 01/02/2025 read as month/day/year (US order); use YYYY-MM-DD to be sure"
    return _read_slashes(labels, orders[0]), note


def resolve(labels: list[Label]) -> Resolved:
    """Settle one frequency for a file's labels and map each to its period.

    Dates like 01/02/2025 are read month first (US) unless some date only makes sense day first,
    or month first would make the file daily; the reading is then said in ``notes``.
    Raises ``PeriodProblem`` (with ``index`` set to the first offending label when there is
    one) when labels mix frequencies or dates are too close or too far apart to be a ledger.
    """
    orders = _slash_orders(labels)
    for n, day_first in enumerate(orders):
        try:
            res = _resolve(_read_slashes(labels, day_first))
        except PeriodProblem:
            if n + 1 < len(orders):
                continue
            raise
        if len(orders) > 1:
            order = "day/month/year" if day_first else "month/day/year (US order)"
            res.notes.append(f"dates like 01/02/2025 read as {order}; use YYYY-MM-DD to be sure")
        return res
    raise AssertionError("unreachable")


def _resolve(labels: list[Label]) -> Resolved:
    notes: list[str] = []
    kinds = {lab.kind for lab in labels}
    fixed = kinds - {"date"}
    if len(fixed) > 1:
        first = labels[0].kind
        for i, lab in enumerate(labels):
            if lab.kind not in (first, "date"):
                err = PeriodProblem(
                    f"a {lab.kind} among {first}s: one file holds one frequency",
                    "split the file by frequency or relabel the period",
                )
                err.index = i  # type: ignore[attr-defined]
                raise err
    if fixed:
        frequency: Frequency = next(iter(fixed))  # type: ignore[arg-type]
    else:
        frequency = _date_frequency(sorted({lab.date for lab in labels if lab.date}))
    periods = [
        lab.period if lab.kind != "date" or lab.date is None else period_of(lab.date, frequency)
        for lab in labels
    ]
    return Resolved(frequency, periods, notes)  # type: ignore[arg-type]


def _date_frequency(dates: list[dt.date]) -> Frequency:
    if len(dates) < 2:
        return "month"
    gaps = sorted((b - a).days for a, b in itertools.pairwise(dates))
    typical = gaps[(len(gaps) - 1) // 2]  # lower median: a gap in the file must not decide
    if 6 <= typical <= 8:
        return "week"
    if 27 <= typical <= 32:
        return "month"
    if 88 <= typical <= 93:
        return "quarter"
    raise PeriodProblem(
        f"dates are typically {typical} days apart; bucket reads weekly, monthly or "
        "quarterly ledgers",
        "aggregate the rows to weeks, months or quarters",
    )

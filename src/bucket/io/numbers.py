"""Numbers as spreadsheets export them.

Accepted: thousands separators (``,`` ``.`` space, no-break space, apostrophe), a decimal point
or comma (decided once per file by ``infer_decimal``), currency symbols and codes before or after
the number (``$1,200``, ``1 250 000,00 ₽``, ``EUR 900``), a trailing ``%`` (divided by 100),
negatives as ``-5``, ``−5`` or ``(5)``. Refused with a reason: spreadsheet error codes
(``#DIV/0!``), ``NaN``/``inf``, and anything else that is not a number.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_SPACES = "\u00a0\u202f\u2009\u2007 "
_GROUP_MARKS = "'\u2019" + _SPACES
# Currency words seen in exports besides the Unicode currency symbols (category Sc).
_CURRENCY_WORDS = [
    "USD",
    "EUR",
    "GBP",
    "RUB",
    "RUR",
    "UAH",
    "CNY",
    "RMB",
    "JPY",
    "CHF",
    "CAD",
    "AUD",
    "NZD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "INR",
    "BRL",
    "MXN",
    "ARS",
    "CLP",
    "COP",
    "KZT",
    "BYN",
    "TRY",
    "ILS",
    "ZAR",
    "SGD",
    "HKD",
    "KRW",
    "руб.",
    "руб",
    "р.",
    "грн.",
    "грн",
    "zł",
    "kr",
    "Kč",
    "Fr.",
    "lei",
    "元",
    "US$",
    "R$",
    "A$",
    "C$",
    "NZ$",
    "HK$",
    "S$",
    "CA$",
    "AU$",
]
_CURRENCY_WORDS.sort(key=len, reverse=True)  # "US$" before "$"-less prefixes
# One name per currency, so "$" and "USD" count as the same one.
CURRENCY_CODE = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "₽": "RUB",
    "РУБ": "RUB",
    "РУБ.": "RUB",
    "Р.": "RUB",
    "RUR": "RUB",
    "₴": "UAH",
    "ГРН": "UAH",
    "ГРН.": "UAH",
    "₹": "INR",
    "元": "CNY",
    "RMB": "CNY",
    "¥": "JPY/CNY",
    "R$": "BRL",
    "A$": "AUD",
    "AU$": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "ZŁ": "PLN",
    "₩": "KRW",
    "₺": "TRY",
}


def currency_code(symbol: str) -> str:
    return CURRENCY_CODE.get(symbol.upper(), symbol.upper())


_CURRENCY_RE = re.compile(
    r"^(?P<pre>(?:" + "|".join(re.escape(w) for w in _CURRENCY_WORDS) + r")\s*)?"
    r"(?P<core>.*?)"
    r"(?P<post>\s*(?:" + "|".join(re.escape(w) for w in _CURRENCY_WORDS) + r"))?$",
    re.IGNORECASE,
)
_SPREADSHEET_ERRORS = {
    "#div/0!",
    "#n/a",
    "#value!",
    "#ref!",
    "#name?",
    "#num!",
    "#null!",
    "#error!",
    "#spill!",
}
_NON_FINITE = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity", "∞", "-∞"}
_MISSING_WORDS = {"n/a", "na", "null", "none", "?"}
_DASHES = {"-", "−", "–", "—"}  # accounting formats show zero as a dash
_SCIENTIFIC = re.compile(r"^\d+(?:\.\d+)?[eE][+-]?\d+$")
_DIGITS = re.compile(r"\d+")
_SIMPLE_DECIMAL = re.compile(r"-?\d+([.,])(\d+)")
# Plain cells (most of them) take a fast path: digits, optionally one decimal mark.
_PLAIN = {".": re.compile(r"-?\d+(?:\.\d+)?"), ",": re.compile(r"-?\d+(?:,\d+)?")}


def _grouped(decimal: str) -> re.Pattern[str]:
    group = "," if decimal == "." else "."
    g, d = re.escape(group), re.escape(decimal)
    indian = rf"|\d{{1,2}}(?:{g}\d{{2}})+{g}\d{{3}}(?:{d}\d+)?"  # 1,23,456.78 (lakh grouping)
    return re.compile(rf"\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d+)?|\d+(?:{d}\d*)?|{d}\d+" + indian)


_GROUPED = {mark: _grouped(mark) for mark in ".,"}


MAX_VALUE = 1e15  # no ledger counts or spends more in one cell; beyond, sums lose cents


class NumberProblem(ValueError):
    """Why a cell is not a usable number (message) and what to do (fix)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Number:
    value: float
    currency: str | None = None
    percent: bool = False


def _strip_currency(text: str) -> tuple[str, str | None]:
    currency = None
    # Unicode currency symbols at either end ($, €, £, ¥, ₽, ₴, ₹, ...).
    while text and unicodedata.category(text[0]) == "Sc":
        currency, text = text[0], text[1:].lstrip(_SPACES)
    while text and unicodedata.category(text[-1]) == "Sc":
        currency, text = text[-1], text[:-1].rstrip(_SPACES)
    m = _CURRENCY_RE.match(text)
    if m and (m.group("pre") or m.group("post")):
        word = (m.group("pre") or m.group("post")).strip()
        currency = currency or word
        text = m.group("core").strip(_SPACES)
    return text, currency


def _core(text: str) -> tuple[str, bool, str | None, bool]:
    """Strip sign, currency and percent: (digits-and-separators, negative, currency, percent)."""
    text = text.strip(_SPACES)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip(_SPACES)
    if text[:1] and text[0] in "-−+":
        negative, text = text[0] != "+", text[1:].lstrip(_SPACES)
    text, currency = _strip_currency(text)
    if text[:1] and text[0] in "-−+" and not negative:  # $-5
        negative, text = text[0] != "+", text[1:].lstrip(_SPACES)
    percent = text.endswith("%")
    if percent:
        text = text[:-1].rstrip(_SPACES)
        if currency is None:
            text, currency = _strip_currency(text)
    if text.endswith("-") and not negative:  # SAP-style trailing minus
        negative, text = True, text[:-1]
    return text, negative, currency, percent


def infer_decimal(cells: Iterable[str], default: str) -> str:
    """The decimal mark a file uses ('.' or ','), voted by its numbers.

    Strong votes: ``1,234.5`` and ``12.5`` say '.', ``1.234,5`` and ``12,5`` say ','; several
    marks of one kind (``1.234.567``) are thousands separators; ``0,500`` can only be a decimal.
    Weak votes: a lone mark before exactly three digits (``1.500``, ``5,000``) is read as a
    thousands separator, since ledgers hold counts and money, which are not written to three
    decimals. With no votes, ``default`` (',' for ';'-delimited European exports, '.' otherwise).
    """
    return settle_decimal(cells, default)[0]


def settle_decimal(cells: Iterable[str], default: str) -> tuple[str, tuple[str, str] | None]:
    """(the decimal mark, as ``infer_decimal``; two cells that cannot both be read when nothing
    settles the mark: ``4.763`` and ``5,308`` each put a lone mark before three digits, so one
    of them is a decimal, and which one would be a guess), in one pass over the cells."""
    votes, weak_cells, strong_votes = decimal_votes(cells)
    mixed = (
        (weak_cells["."], weak_cells[","]) if len(weak_cells) == 2 and not strong_votes else None
    )
    if votes["."] == votes[","]:
        return default, mixed
    return ("." if votes["."] > votes[","] else ","), mixed


def mixed_marks(found: tuple[str, str], cells: Iterable[tuple[int, Any, str]]):
    """Where the two cells ``settle_decimal`` found mixed first stand, and what to say of them:
    ((row, column, text) of the later one, message, fix). ``cells`` yields (row, column, text)
    in reading order; the column is whatever the caller names columns by."""
    where: dict[str, tuple[int, Any]] = {}
    for row, column, text in cells:
        where.setdefault(text, (row, column))
        if found[0] in where and found[1] in where:
            break
    first, second = sorted((*where[t], t) for t in found)
    message = (
        f"'{second[2].strip()}' and '{first[2].strip()}' (row {first[0]}) put a different mark "
        "before three digits: one of them is a decimal, and which one would be a guess"
    )
    return (
        second,
        message,
        "write the numbers without thousands separators (4763, 5308 or 4.763, 5.308)",
    )


def decimal_votes(cells: Iterable[str]) -> tuple[dict[str, int], dict[str, str], int]:
    """(votes for each decimal mark, the first cell that cast a weak vote with each mark, how
    many strong votes there were): what ``settle_decimal`` weighs."""
    strong, weak = 3, 1
    strong_votes = 0
    votes = {".": 0, ",": 0}
    weak_cells: dict[str, str] = {}
    other_of = {".": ",", ",": "."}
    for cell in cells:
        if _DIGITS.fullmatch(cell):
            continue
        m = _SIMPLE_DECIMAL.fullmatch(cell)  # 2981.13, 42,5: the common case, fast
        if m:
            core, mark = cell.lstrip("-"), m[1]
        else:
            core = _core(cell)[0]
            for g in _GROUP_MARKS:
                core = core.replace(g, "")
            mark = "." if "." in core else "," if "," in core else ""
        if not mark:
            continue
        if mark == "." and _SCIENTIFIC.fullmatch(core):
            votes["."] += strong  # 2.0E1 is read with a decimal point only
        elif "." in core and "," in core:
            votes["." if core.rfind(".") > core.rfind(",") else ","] += strong
        elif core.count(mark) > 1:
            votes[other_of[mark]] += strong
        elif len(core) - core.index(mark) - 1 != 3 or core.startswith(("0", mark)):
            votes[mark] += strong
        else:
            votes[other_of[mark]] += weak
            weak_cells.setdefault(mark, cell)
            continue
        strong_votes += 1
    return votes, weak_cells, strong_votes


def parse_number(cell: str, decimal: str) -> Number | None:
    """Parse one cell. ``None`` for an empty cell; raises ``NumberProblem`` otherwise."""
    text = cell.strip(_SPACES + "\t")
    if not text:
        return None
    if _PLAIN[decimal].fullmatch(text):
        value = float(text.replace(",", "."))
        if value > MAX_VALUE or value < -MAX_VALUE:
            raise NumberProblem(
                f"'{text[:20]}{'...' if len(text) > 20 else ''}' is too large",
                "check the cell and its units",
            )
        return Number(value)
    low = text.casefold()
    if low in _SPREADSHEET_ERRORS:
        raise NumberProblem(
            f"'{text}' is a spreadsheet error, not a number",
            "fix the formula in the source sheet and export again",
        )
    if low in _NON_FINITE:
        raise NumberProblem(
            f"'{text}' is not a finite number",
            "enter the real value, or leave an optional cell empty",
        )
    if low in _MISSING_WORDS:
        raise NumberProblem(
            f"'{text}' is a placeholder, not a number",
            "enter the value, or leave the cell empty if the column is optional",
        )
    core, negative, currency, percent = _core(text)
    if core in _DASHES or (not core and negative):
        return Number(0.0, currency, percent)
    group = "," if decimal == "." else "."
    compact = core
    for mark in _GROUP_MARKS:
        compact = compact.replace(mark, group)
    if _GROUPED[decimal].fullmatch(compact):
        value = float(compact.replace(group, "").replace(decimal, "."))
    elif decimal == "." and _SCIENTIFIC.match(core):
        value = float(core)
    else:
        mark = "comma" if decimal == "," else "point"
        raise NumberProblem(
            f"'{text}' is not a number",
            f"write digits with an optional decimal {mark} (this file uses '{decimal}')",
        )
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise NumberProblem(
            f"'{text[:20]}{'...' if len(text) > 20 else ''}' is too large",
            "check the cell and its units",
        )
    if percent:
        value /= 100.0
    return Number(-value if negative else value, currency, percent)

"""Column names: the canonical ledger columns, their aliases, and header matching.

The aliases live in ``aliases.csv`` beside this module (canonical, language, alias), so a new
spelling is a data change, not a code change. Headers are compared after ``normalize``: case
folded, spaces, dashes, underscores and dots removed, and a trailing unit in brackets
(``Spend ($)``, ``Revenue [EUR]``) dropped when the bare name matches.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Canonical columns in the order outputs show them.
COLUMNS: tuple[str, ...] = (
    "period",
    "channel",
    "acquisition_spend",
    "retention_spend",
    "leads",
    "new_customers",
    "customers_start",
    "customers_end",
    "churned_customers",
    "revenue",
    "attributed_revenue",
    "reactivated_customers",
    "organic_customers",
    "referral_customers",
    "promoters",
    "passives",
    "detractors",
)
MONEY = frozenset({"acquisition_spend", "retention_spend", "revenue", "attributed_revenue"})
COUNTS = frozenset(
    {
        "leads",
        "new_customers",
        "customers_start",
        "customers_end",
        "churned_customers",
        "reactivated_customers",
        "organic_customers",
        "referral_customers",
        "promoters",
        "passives",
        "detractors",
    }
)
NUMERIC = MONEY | COUNTS
# Required by every ledger reader; one of customers_end / churned_customers is required too.
REQUIRED: tuple[str, ...] = ("period", "new_customers", "customers_start")
BASE_OUT = ("customers_end", "churned_customers")
# A message lists at most LISTED headers, each cut to NAME_CHARS; a missing column's nearest
# header is looked for among the first COMPARED unknown ones (each pair is a difflib ratio).
LISTED = 20
NAME_CHARS = 80
COMPARED = 200

_SEPARATORS = re.compile(r"[\s\-_.·#]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
# A unit after the name: "Spend (USD)", "Revenue [EUR]", "Выручка, руб.", "Spend $".
_UNIT_SUFFIXES = (
    re.compile(r"\s*[\(\[][^\)\]]{0,12}[\)\]]$"),
    re.compile(r"\s*,\s*[^\W\d_]{1,6}\.?$"),
    re.compile(r"\s*[$€£¥₽₴₹%]$"),
)
# The last character of a text the first or third suffix can match (the second needs a comma).
_UNIT_ENDS = frozenset(")]$€£¥₽₴₹%")


def normalize(name: str) -> str:
    """Compare-form of a header: NFKC, case folded, typographic quotes made plain, no
    invisible characters, spaces, dashes, underscores, dots or '#'."""
    if name.isascii():  # NFKC and the invisible characters leave ASCII as it is (and fast)
        text = name.replace("`", "'")
    else:
        text = unicodedata.normalize("NFKC", name).translate(_INVISIBLE).translate(_QUOTES)
    return _SEPARATORS.sub("", text.strip().strip("\"'").casefold())


@lru_cache(maxsize=1)
def _alias_rows() -> list[dict[str, str]]:
    text = Path(__file__).with_name("aliases.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def alias_table() -> dict[str, str]:
    """normalized alias → canonical column, from ``aliases.csv`` (canonical names included)."""
    table: dict[str, str] = {normalize(c): c for c in COLUMNS}
    for row in _alias_rows():
        table.setdefault(normalize(row["alias"]), row["canonical"])
    return table


@lru_cache(maxsize=1)
def aliases_by_column() -> dict[str, list[str]]:
    """canonical → aliases as written in the table (for help and suggestions)."""
    out: dict[str, list[str]] = {c: [c] for c in COLUMNS}
    seen = {normalize(c) for c in COLUMNS}
    for row in _alias_rows():
        if normalize(row["alias"]) not in seen:
            seen.add(normalize(row["alias"]))
            out[row["canonical"]].append(row["alias"])
    return out


def canonical_for(header: str) -> str | None:
    """The canonical column a header means, or None."""
    table = alias_table()
    key = normalize(header)
    if key in table:
        return table[key]
    if header.isascii():  # as in normalize: NFKC and the invisible ones leave ASCII alone
        text = header.strip()
    else:
        text = unicodedata.normalize("NFKC", header).translate(_INVISIBLE).strip()
    if "," not in text and text[-1:] not in _UNIT_ENDS:  # no suffix can match: skip the scans
        return None
    for suffix in _UNIT_SUFFIXES:
        bare = suffix.sub("", text).strip()
        if bare != text and normalize(bare) in table:
            return table[normalize(bare)]
    return None


@dataclass
class ColumnMatch:
    """Which file column (by index) holds each canonical column."""

    index: dict[str, int]  # canonical → position in the header
    header: list[str]  # the header as written
    unknown: list[str]  # headers that match nothing (kept, ignored)

    def label(self, canonical: str) -> str:
        """The user's own name for a canonical column (for messages)."""
        i = self.index.get(canonical)
        return canonical if i is None else display(self.header[i])


def display(header: str) -> str:
    """A header as messages show it (never empty)."""
    text = header.strip().strip("\ufeff")
    return text if text else "(unnamed)"


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``--map canonical=theirs`` values (repeatable, or comma separated) → {canonical: theirs}.

    Raises ValueError with a message fit for a usage error.
    """
    mapping: dict[str, str] = {}
    for raw in pairs:
        # "a=x,b=y" is two pairs, but "new_customers=Новые клиенты, чел." is one
        for item in re.split(r",(?=\s*[A-Za-z_][A-Za-z_ -]*=)", raw):
            if not item.strip():
                continue
            if "=" not in item:
                raise ValueError(f"'{item}' is not canonical=their_column (e.g. period=Monat)")
            key, _, theirs = item.partition("=")
            key = key.strip()
            canon = key if key in COLUMNS else alias_table().get(normalize(key))
            if canon is None or normalize(key) != normalize(canon):
                import difflib

                close = difflib.get_close_matches(key, COLUMNS, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ValueError(
                    f"'{key}' is not a bucket column{hint}; columns: {', '.join(COLUMNS)}"
                )
            if not theirs.strip():
                raise ValueError(f"'{item}' names no column after '='")
            mapping[canon] = theirs.strip()
    taken: dict[str, str] = {}
    for canon, theirs in mapping.items():
        if normalize(theirs) in taken:
            raise ValueError(
                f"'{theirs}' is mapped to both {taken[normalize(theirs)]} and {canon}; "
                "a column can mean one thing"
            )
        taken[normalize(theirs)] = canon
    return mapping


def name_list(headers: Sequence[str], quote: str = "") -> str:
    """Headers for a message: the first ``LISTED`` (each cut to ``NAME_CHARS``), then "… and K
    more", so a header of thousands of columns (or one huge cell) stays a readable line."""
    shown = []
    for h in headers[:LISTED]:
        name = display(h)
        name = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
        shown.append(f"{quote}{name}{quote}")
    more = len(headers) - LISTED
    return ", ".join(shown) + (f" … and {more:,} more" if more > 0 else "")


def suggest(missing: str, unknown_headers: list[str]) -> str:
    """A hint for a missing column: a header that looks like it, or its usual names.

    The nearest is the unknown header with the highest ``difflib`` ratio to one of the column's
    names (the first on a tie), if that is at least 0.6; only the first ``COMPARED`` unknown
    headers are looked at, so the search is bounded however wide the file."""
    names = aliases_by_column()[missing]
    compared = unknown_headers[:COMPARED]
    i = _nearest(_compare_forms(missing), [normalize(h) for h in compared])
    among = (
        f" (the first {COMPARED:,} of {len(unknown_headers):,} unknown columns were compared)"
        if len(unknown_headers) > COMPARED
        else ""
    )
    if i is not None:
        import shlex

        arg = shlex.quote(f"{missing}={compared[i]}")
        return f"nearest: '{display(compared[i])}'; if that is it, pass --map {arg}{among}"
    usual = ", ".join(names[:4])
    return f"usually called {usual}; add the column or pass --map {missing}=<your column>{among}"


@lru_cache(maxsize=32)
def _compare_forms(missing: str) -> tuple[str, ...]:
    return tuple(normalize(alias) for alias in aliases_by_column()[missing])


def _nearest(keys: tuple[str, ...], heads: list[str], floor: float = 0.6) -> int | None:
    """Index of the head with the highest ratio (≥ ``floor``) to any key; the first on a tie.

    Each key's analysis is built once (``set_seq2``), and a pair whose cheap upper bounds
    (``real_quick_ratio``, ``quick_ratio``) fall below the best so far is skipped: the bounds
    never undercut the ratio, so the answer is the one the full search gives."""
    import difflib

    matcher = difflib.SequenceMatcher(None)
    best, where = floor, None
    for key in keys:
        matcher.set_seq2(key)
        for i, head in enumerate(heads):
            matcher.set_seq1(head)
            if matcher.real_quick_ratio() < best or matcher.quick_ratio() < best:
                continue
            ratio = matcher.ratio()
            if ratio > best or (ratio == best and (where is None or i < where)):
                best, where = ratio, i
    return where

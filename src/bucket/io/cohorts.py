"""Read a cohort table: one row per (cohort, age) with the customers of the cohort still active.

Columns (aliases in ``cohort_aliases.csv``): ``cohort`` (a label, ordered as a period when it
reads as one), ``age`` (0 = the cohort's own period), ``active``, and optionally ``channel``
(one cohort per channel: the customers a channel won in the cohort's period; the table's
cohorts are then every channel's added up, and each channel's are kept apart for comparing). Every cohort needs age 0 and
consecutive ages; counts are whole and never negative. A count that rises with age means
customers came back (reactivations): that is a warning, and the sBG fit uses the running minimum.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from bucket.errors import InputError, Problem
from bucket.io.columns import display, name_list, normalize
from bucket.io.numbers import NumberProblem, infer_decimal, parse_number
from bucket.io.periods import PeriodProblem, parse_label
from bucket.io.text import Records, read_records


@dataclass
class CohortTable:
    file: str
    labels: list[str]
    counts: list[np.ndarray]  # survivors at ages 0..T per cohort
    warnings: list[Problem] = field(default_factory=list)
    # per channel (with a channel column): its cohorts' labels and survivors
    channels: dict[str, tuple[list[str], list[np.ndarray]]] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    text = Path(__file__).with_name("cohort_aliases.csv").read_text(encoding="utf-8")
    return {normalize(r["alias"]): r["canonical"] for r in csv.DictReader(text.splitlines())}


def read_cohorts(path: str) -> CohortTable:
    """Read and check a cohort table; the first problem is raised as ``InputError``."""
    rec = read_records(path)
    name = rec.file
    index = _column_index(rec)
    if not rec.rows:
        raise _fail(
            name,
            "the file has a header but no data rows",
            "add one row per cohort and age",
            rec.header_row + 1,
        )
    label = {c: display(rec.header[i]) for c, i in index.items()}
    table, order = _read_rows(rec, index, label)
    labels = _sorted(list(dict.fromkeys(c for c, _ in order)))
    keys = sorted(order, key=lambda k: (labels.index(k[0]), k[1]))
    counts, warnings = _survivors(table, keys, label, name)
    by_key = dict(zip(keys, counts))
    pooled = []
    for c in labels:  # every channel's cohort of the period added up, over the ages all have
        parts = [n for (cohort, _), n in by_key.items() if cohort == c]
        top = min(len(n) for n in parts)
        pooled.append(np.sum([n[:top] for n in parts], axis=0))
    channels: dict[str, tuple[list[str], list[np.ndarray]]] = {}
    if "channel" in index:
        for (cohort, ch), n in by_key.items():
            got = channels.setdefault(ch, ([], []))
            got[0].append(cohort)
            got[1].append(n)
    return CohortTable(name, labels, pooled, warnings, channels)


def _fail(name: str, message: str, fix: str, row=None, column=None) -> InputError:
    """The error ``read_cohorts`` raises: code ``cohorts``, naming the file ``name``."""
    return InputError(Problem("error", "cohorts", message, fix, name, row, column))


def _column_index(rec: Records) -> dict[str, int]:
    """Where the cohort, age and active columns are; a missing one is raised."""
    index: dict[str, int] = {}
    for i, h in enumerate(rec.header):
        canon = _aliases().get(normalize(h))
        if canon and canon not in index:
            index[canon] = i
    for canon in ("cohort", "age", "active"):
        if canon not in index:
            found = name_list(rec.header)
            raise _fail(
                rec.file,
                f"required column {canon} not found (columns found: {found})",
                "a cohort table has columns cohort, age, active",
                rec.header_row,
                canon,
            )
    return index


Key = tuple[str, str]  # (cohort, channel); the channel is "" without a channel column


def _read_rows(
    rec: Records, index: dict[str, int], label: dict[str, str]
) -> tuple[dict[Key, dict[int, tuple[float, int]]], list[Key]]:
    """Active customers (and row) by (cohort, channel) and age, and the keys in file order."""
    name = rec.file
    decimal = infer_decimal(
        (cells[index["active"]] for _, cells in rec.rows if len(cells) > index["active"]), ","
    )
    table: dict[Key, dict[int, tuple[float, int]]] = {}
    order: list[Key] = []
    for row, cells in rec.rows:
        if len(cells) <= max(index.values()):
            raise _fail(
                name,
                f"the row has {len(cells)} cells but the header has {len(rec.header)}",
                "make every row complete",
                row,
            )
        cohort = cells[index["cohort"]].strip()
        if not cohort:
            raise _fail(
                name, "the cohort is empty", "fill in the cohort label", row, label["cohort"]
            )
        values = {}
        for key in ("age", "active"):
            try:
                num = parse_number(cells[index[key]], decimal if key == "active" else ".")
            except NumberProblem as exc:
                raise _fail(name, exc.message, exc.fix, row, label[key]) from None
            if num is None or num.value < 0 or num.value != round(num.value):
                raise _fail(
                    name,
                    f"{key} must be a whole number of 0 or more",
                    "fix the cell",
                    row,
                    label[key],
                )
            values[key] = num.value
        age = int(values["age"])
        at = (cohort, cells[index["channel"]].strip() if "channel" in index else "")
        if at not in table:
            table[at] = {}
            order.append(at)
        if age in table[at]:
            first = table[at][age][1]
            where = f"cohort {cohort}" + (f" of channel {at[1]}" if at[1] else "")
            raise _fail(
                name,
                f"{where}, age {age} already appears on row {first}",
                "keep one row per cohort"
                + (", channel" if "channel" in index else "")
                + " and age",
                row,
                label["age"],
            )
        table[at][age] = (values["active"], row)
    return table, order


def _survivors(
    table: dict[Key, dict[int, tuple[float, int]]],
    keys: list[Key],
    label: dict[str, str],
    name: str,
) -> tuple[list[np.ndarray], list[Problem]]:
    """Each cohort's active customers at ages 0..T (every age present), and the warnings."""
    counts = []
    rising: list[tuple[str, np.ndarray, int, int]] = []  # (cohort, counts, age, row)
    for key in keys:
        ages = table[key]
        cohort = key[0] + (f" of channel {key[1]}" if key[1] else "")
        top = max(ages)
        missing = [a for a in range(top + 1) if a not in ages]
        if missing:
            raise _fail(
                name,
                f"cohort {cohort} has no row for age {missing[0]}",
                "give every age from 0 to the cohort's oldest",
                None,
                label["age"],
            )
        n = np.array([ages[a][0] for a in range(top + 1)])
        rises = np.nonzero(np.diff(n) > 0)[0]
        if len(rises):  # customers who came back: the sBG fit uses the running minimum
            a = int(rises[0]) + 1
            rising.append((cohort, n, a, ages[a][1]))
        counts.append(n)
    if not rising:
        return counts, []
    # one warning names the first cohort that rises; the others are counted
    cohort, n, a, row = rising[0]
    more = f"; and {len(rising) - 1} more cohort(s)" if len(rising) > 1 else ""
    warning = Problem(
        "warning",
        "cohort-rises",
        f"cohort {cohort}: active rises from {n[a - 1]:,.0f} to {n[a]:,.0f} at age {a} "
        f"(reactivations{more})",
        "the sBG fit counts a customer as gone once missing",
        name,
        row,
        label["active"],
    )
    return counts, [warning]


def _sorted(labels: list[str]) -> list[str]:
    """Chronological when every label reads as a period, else as given."""
    try:
        keys = [parse_label(x) for x in labels]
    except PeriodProblem:
        return labels
    if any(k.period is None and k.date is None for k in keys):
        return labels
    return [
        x
        for _, x in sorted(
            zip([(k.period.ordinal if k.period else k.date.toordinal()) for k in keys], labels)  # type: ignore[union-attr]
        )
    ]


def cohort_counts(
    rows: list[dict], channel: str | None = None
) -> tuple[list[str], list[np.ndarray]]:
    """(labels, survivors at ages 0..T) from cohort[, channel], age, active rows, in cohort
    order: one channel's cohorts, or (``channel`` None) every channel's added up."""
    by: dict[str, dict[int, float]] = {}
    for r in rows:
        if channel is not None and r.get("channel") != channel:
            continue
        ages = by.setdefault(r["cohort"], {})
        ages[int(r["age"])] = ages.get(int(r["age"]), 0.0) + float(r["active"])
    labels = list(by)
    return labels, [np.array([by[c][a] for a in sorted(by[c])], dtype=float) for c in labels]


def cohort_channels(rows: list[dict]) -> list[str]:
    """The channels of cohort rows that carry one, in order (none without a channel column)."""
    return sorted({str(r["channel"]) for r in rows if "channel" in r})

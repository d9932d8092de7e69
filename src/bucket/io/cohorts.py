"""Read a cohort table: one row per (cohort, age) with the customers of the cohort still active.

Columns (aliases in ``cohort_aliases.csv``): ``cohort`` (a label, ordered as a period when it
reads as one), ``age`` (0 = the cohort's own period), ``active``. Every cohort needs age 0 and
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
    labels = _sorted(order)
    counts, warnings = _survivors(table, labels, label, name)
    return CohortTable(name, labels, counts, warnings)


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


def _read_rows(
    rec: Records, index: dict[str, int], label: dict[str, str]
) -> tuple[dict[str, dict[int, tuple[float, int]]], list[str]]:
    """Active customers (and row) by cohort and age, and the cohorts in file order."""
    name = rec.file
    decimal = infer_decimal(
        (cells[index["active"]] for _, cells in rec.rows if len(cells) > index["active"]), ","
    )
    table: dict[str, dict[int, tuple[float, int]]] = {}
    order: list[str] = []
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
        if cohort not in table:
            table[cohort] = {}
            order.append(cohort)
        if age in table[cohort]:
            first = table[cohort][age][1]
            raise _fail(
                name,
                f"cohort {cohort}, age {age} already appears on row {first}",
                "keep one row per cohort and age",
                row,
                label["age"],
            )
        table[cohort][age] = (values["active"], row)
    return table, order


def _survivors(
    table: dict[str, dict[int, tuple[float, int]]],
    labels: list[str],
    label: dict[str, str],
    name: str,
) -> tuple[list[np.ndarray], list[Problem]]:
    """Each cohort's active customers at ages 0..T (every age present), and the warnings."""
    counts = []
    warnings: list[Problem] = []
    for cohort in labels:
        ages = table[cohort]
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
            warnings.append(
                Problem(
                    "warning",
                    "cohort-rises",
                    f"cohort {cohort}: active rises from {n[a - 1]:,.0f} to {n[a]:,.0f} at age {a} "
                    "(reactivations)",
                    "the sBG fit counts a customer as gone once missing",
                    name,
                    ages[a][1],
                    label["active"],
                )
            )
        counts.append(n)
    return counts, warnings


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


def cohort_counts(rows: list[dict]) -> tuple[list[str], list[np.ndarray]]:
    """(labels, survivors at ages 0..T) from cohort, age, active rows in cohort order."""
    by: dict[str, list[tuple[int, int]]] = {}
    for r in rows:
        by.setdefault(r["cohort"], []).append((int(r["age"]), int(r["active"])))
    labels = list(by)
    return labels, [np.array([n for _, n in sorted(by[c])], dtype=float) for c in labels]

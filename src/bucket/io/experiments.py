"""Read an experiments file (DESIGN §12): retention tests arm by arm, and acquisition lift tests.

One CSV (a path, or ``-`` for stdin), read with the ledger's habits: header names matched after
``columns.normalize`` against ``experiment_aliases.csv``, EU numbers (``1.234,5``; the mark is
settled once per file, and two cells that leave it a guess are an error), dates or period labels
as ``periods.parse_label`` reads them, and the first problem raised as a one-line ``InputError``
naming file, row and column.

Each row is one arm of a retention test (``test``, ``arm``, ``start``, ``end``, ``customers``,
``churned``, ``spend_per_customer``) or one acquisition lift test (``channel``, ``spend``,
``incremental_spend``, ``incremental_customers``, ``se`` or a 95 % interval ``ci_low``/``ci_high``
with se = (hi − lo)/3.92, ``scope`` (default 1), optional ``start``/``end``). ``kind`` says which;
without it a row with an ``arm`` or ``customers`` is a retention arm, one with ``channel`` and
``incremental_customers`` a lift test. A ``start`` or ``end`` that is a period (``2024-01``,
``2024-Q1``) stands for the period's first or last day, so records always hold dates. A retention
arm needs both dates; a lift test without dates gives its amounts per ledger period (T = 1). A lift
test without a ``test`` id is called ``<channel> (row <n>)``. A ``note`` column is for people.
Warnings (arms of a test that all spend alike, columns not read) come back as ``Problem`` data.

Other tools' exports read as they are:

- Robyn's calibration input (``channel``, ``liftStartDate``, ``liftEndDate``, ``liftAbs``,
  ``spend``, ``confidence``, ``metric``, ``calibration_scope``). ``liftAbs`` is the response to
  ``spend`` against a holdout, so a file that names its lift ``liftAbs`` and has no
  ``incremental_spend`` reads ``spend`` as the incremental spend over a base of 0. Robyn's
  ``confidence`` is a confidence level, not a standard error; its docs suggest 1 − p-value.
  Read as 1 − the two-sided p-value of lift/se: se = |liftAbs| / z, z = Φ⁻¹((1 + confidence)/2)
  (0.95 → z = 1.96; 0 or 1, or a lift of 0, is an error asking for se or an interval). An
  ``se`` or interval, when given, wins. ``calibration_scope`` is Robyn's ``immediate`` or
  ``total`` (carryover, which bucket has none of): either reads as scope 1; a number is the
  share tested. A ``metric`` naming revenue is an error: bucket calibrates new customers.
- PyMC-Marketing's lift-test frame (``channel``, ``x``, ``delta_x``, ``delta_y``, ``sigma``):
  the saturation curve moved from x to x + delta_x, per model period; delta_y its measured
  change and sigma that change's standard deviation. So x, delta_x, delta_y, sigma are spend,
  incremental_spend, incremental_customers, se, and a row without dates lasts one ledger period
  (T = 1: the PyMC model's period is taken to be the ledger's).

``duration`` gives a test's length T in ledger periods, exactly: each period it overlaps counts
the share of its own days the test covers (2024-01-01 to 2024-03-31 on a monthly ledger is 3).
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import lru_cache
from pathlib import Path

from bucket.errors import InputError, Problem
from bucket.io.columns import display, name_list, normalize
from bucket.io.experiment_records import (
    Date,
    Experiments,
    LiftTest,
    RetentionArm,
    RetentionTest,
    check_channels,
    check_groups,
    duration,
)
from bucket.io.experiment_rows import Sheet, read_arm, read_lift, row_kind
from bucket.io.numbers import mixed_marks, settle_decimal
from bucket.io.periods import Label, PeriodProblem, parse_label, settle_slashes
from bucket.io.text import Records, parse_records, read_records

__all__ = [
    "Experiments",
    "LiftTest",
    "RetentionArm",
    "RetentionTest",
    "alias_table",
    "check_channels",
    "duration",
    "read_experiments",
    "read_experiments_text",
    "read_records_as_experiments",
]

NUMERIC = (
    "customers",
    "churned",
    "spend_per_customer",
    "spend",
    "incremental_spend",
    "incremental_customers",
    "se",
    "ci_low",
    "ci_high",
    "scope",
    "confidence",
)


def read_experiments(path: str) -> Experiments:
    """Read and check an experiments file (``-``: stdin); the first problem is raised as
    ``InputError``, warnings are on ``Experiments.warnings``."""
    return read_records_as_experiments(read_records(path))


def read_experiments_text(text: str, name: str) -> Experiments:
    """``read_experiments`` on CSV text; ``name`` is what messages call it."""
    return read_records_as_experiments(parse_records(text, name))


def read_records_as_experiments(rec: Records) -> Experiments:
    """``read_experiments`` on records already read."""
    sheet = _sheet(rec)
    for row, cells in rec.rows:
        sheet.check_width(row, cells)
    dates = _dates(sheet, rec)
    arms: list[RetentionArm] = []
    lifts: list[LiftTest] = []
    for k, (row, cells) in enumerate(rec.rows):
        start, end = dates[k]
        if row_kind(sheet, row, cells) == "retention":
            arms.append(read_arm(sheet, row, cells, start, end))
        else:
            lifts.append(read_lift(sheet, row, cells, start, end))
    warnings = list(sheet.warnings)
    warnings += check_groups(rec.file, arms, lifts, label=sheet.label)
    return Experiments(rec.file, tuple(arms), tuple(lifts), tuple(warnings), sheet.label("channel"))


@lru_cache(maxsize=1)
def alias_table() -> dict[str, str]:
    """normalized alias → canonical column, from ``experiment_aliases.csv``."""
    text = Path(__file__).with_name("experiment_aliases.csv").read_text(encoding="utf-8")
    return {normalize(r["alias"]): r["canonical"] for r in csv.DictReader(text.splitlines())}


def _sheet(rec: Records) -> Sheet:
    """Match the header; settle the decimal mark; say which columns go unused."""
    index: dict[str, int] = {}
    unknown: list[str] = []
    for i, h in enumerate(rec.header):
        canon = alias_table().get(normalize(h))
        if canon is None:
            if h.strip():
                unknown.append(h)
            continue
        if canon in index:
            first = display(rec.header[index[canon]])
            raise InputError(
                Problem(
                    "error",
                    "duplicate-column",
                    f"columns '{first}' and '{display(h)}' both mean {canon}",
                    "remove one of them",
                    rec.file,
                    rec.header_row,
                    display(h),
                )
            )
        index[canon] = i
    sheet = Sheet(rec.file, rec.header, index)
    if not index:
        raise sheet.fail(
            "no-columns",
            f"no experiment column found (columns found: {name_list(rec.header)})",
            "name the columns test, kind, start, end, arm, customers, churned, "
            "spend_per_customer, channel, spend, incremental_spend, incremental_customers, se",
            rec.header_row,
        )
    if not rec.rows:
        raise sheet.fail(
            "no-data",
            "the file has a header but no data rows",
            "add one row per retention arm or lift test",
            rec.header_row + 1,
        )
    lift = index.get("incremental_customers")
    robyn = lift is not None and normalize(rec.header[lift]) == "liftabs"
    if robyn and "spend" in index and "incremental_spend" not in index:
        index["incremental_spend"] = index.pop("spend")  # liftAbs: the response to all of spend
        sheet.zero_base = True
    sheet.decimal = _decimal(sheet, rec)
    if unknown:
        sheet.warnings = (
            Problem(
                "warning",
                "unused-columns",
                f"column(s) not used: {name_list(unknown, quote=chr(39))}",
                "rename a column if it is one bucket reads",
                rec.file,
                rec.header_row,
            ),
        )
    return sheet


def _decimal(sheet: Sheet, rec: Records) -> str:
    """The file's decimal mark, voted by its numeric cells; a guess is an error."""
    numeric = [c for c in NUMERIC if c in sheet.index]

    def cells():
        for row, line in rec.rows:
            for c in numeric:
                if sheet.index[c] < len(line):
                    yield row, c, line[sheet.index[c]]

    default = "," if rec.delimiter == ";" else "."
    decimal, mixed = settle_decimal((text for _, _, text in cells()), default)
    if mixed is not None:
        (row, canon, text), message, fix = mixed_marks(mixed, cells())
        raise sheet.fail("mixed-marks", message, fix, row, canon, text)
    return decimal


def _dates(sheet: Sheet, rec: Records) -> list[tuple[Date, Date]]:
    """Each row's (start, end) as days: a period label stands for its first or last day. The
    d/d/yyyy dates of the file are read in one order."""
    parsed: list[Label] = []
    where: list[tuple[int, str]] = []  # (row index, canonical) of each label parsed
    for k, (row, cells) in enumerate(rec.rows):
        for canon in ("start", "end"):
            text = sheet.text(cells, canon)
            if text:
                try:
                    parsed.append(parse_label(text))
                except PeriodProblem as exc:
                    raise sheet.fail("bad-date", exc.message, exc.fix, row, canon, text) from None
                where.append((k, canon))
    try:
        labels, note = settle_slashes(parsed)
    except PeriodProblem as exc:
        raise sheet.fail("bad-date", exc.message, exc.fix, None, "start") from None
    if note:
        sheet.warnings += (Problem("warning", "ambiguous-dates", note, "", rec.file),)
    days: list[dict[str, dt.date]] = [{} for _ in rec.rows]
    for (k, canon), label in zip(where, labels):
        days[k][canon] = _day(label, first=canon == "start")
    out: list[tuple[Date, Date]] = []
    for k, (row, _) in enumerate(rec.rows):
        start, end = days[k].get("start"), days[k].get("end")
        if (start is None) != (end is None):
            missing = "end" if end is None else "start"
            raise sheet.fail(
                "empty-cell",
                f"{missing} is empty while the other date is given",
                "give both dates, or neither for amounts per ledger period",
                row,
                missing,
            )
        if start is not None and end is not None and end < start:
            raise sheet.fail(
                "end-before-start",
                f"the test ends ({end.isoformat()}) before it starts ({start.isoformat()})",
                "swap the dates or fix the typo",
                row,
                "end",
                sheet.text(rec.rows[k][1], "end"),
            )
        out.append((start, end))
    return out


def _day(label: Label, *, first: bool) -> dt.date:
    if label.date is not None:
        return label.date
    assert label.period is not None
    return label.period.start if first else label.period.end

"""Read a per-period ledger CSV into a checked ``Ledger``, collecting every problem on the way.

``inspect_ledger`` never raises for bad data: it returns the ledger (or None when it cannot be
built) and the list of problems, errors and warnings, each naming file, row and column. That
is what ``bucket validate`` prints. ``read_ledger`` is the strict form every other command
uses: it raises the first error as an ``InputError`` and hands the warnings back.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bucket.errors import InputError, Problem
from bucket.io import columns as cols
from bucket.io.ledger_checks import (
    CellReader,
    Collector,
    check_duplicates,
    check_identities,
    check_required,
    find_header,
    is_total_word,
    is_totals_row,
    match_columns,
)
from bucket.io.ledger_periods import check_channel_gaps, check_continuity, check_gaps
from bucket.io.numbers import mixed_marks, settle_decimal
from bucket.io.periods import Label, Period, PeriodProblem, parse_label, resolve
from bucket.io.text import Records, parse_records, read_records

if TYPE_CHECKING:
    import pandas as pd

Row = tuple[int, list[str]]  # (spreadsheet row, cells)


@dataclass
class Ledger:
    """A validated ledger.

    ``frame`` has one row per (period, channel) sorted by period then channel, with columns
    ``period`` (label), ``ordinal`` (consecutive periods differ by 1), ``channel`` (``""``
    when the file has none), ``row`` (spreadsheet row), and every numeric canonical column
    present in the file as float; ``customers_end`` and ``churned_customers`` are both always
    present (one derived from the other); optional columns hold NaN where a cell was empty.
    """

    file: str
    frame: pd.DataFrame
    frequency: str
    periods: list[Period]
    present: frozenset[str]
    labels: dict[str, str]
    has_channels: bool
    currency: str | None = None
    warnings: list[Problem] = field(default_factory=list)
    cohorts: list[dict] | None = None  # cohort, age, active rows, when derived from events

    @property
    def channels(self) -> list[str]:
        return sorted(set(self.frame["channel"])) if self.has_channels else []


@dataclass
class _Periods:
    """The rows whose period reads, and the frequency and periods the file settles on."""

    rows: list[Row]
    frequency: str
    periods: list[Period]


@dataclass
class _Found:
    """The rows that passed every check, as records, with what the ledger needs besides."""

    records: list[dict]  # row, channel, _k (index of the period), then the values
    has_channels: bool
    currencies: Counter[str]  # how many money cells name each currency


def inspect_ledger(
    path: str,
    mapping: dict[str, str] | None = None,
    require: tuple[str, ...] = (),
) -> tuple[Ledger | None, list[Problem]]:
    """Read and check a ledger; return it (None if it has errors) and every problem found.

    File-level failures (missing file, not text, broken quoting) are raised as ``InputError``:
    nothing else can be checked after them.
    """
    return inspect_records(read_records(path), mapping, require)


def inspect_records(
    records: Records,
    mapping: dict[str, str] | None = None,
    require: tuple[str, ...] = (),
    *,
    derived: bool = False,
) -> tuple[Ledger | None, list[Problem]]:
    """``inspect_ledger`` on records already read (``derived``: made by bucket from events, so
    no row is a spreadsheet's total)."""
    rec = find_header(records, mapping or {})
    out = Collector(rec.file)
    match = _check_header(rec, mapping or {}, require, out)
    if out.failed:
        return None, out.problems
    rows = _data_rows(rec, match, out)
    if not rows:
        return None, out.problems
    kept = _complete_rows(rec, match, rows, out)
    numeric = [c for c in cols.COLUMNS if c in cols.NUMERIC and c in match.index]
    default_decimal = "," if rec.delimiter == ";" else "."
    decimal, mixed = settle_decimal(
        (cells[match.index[c]] for _, cells in kept for c in numeric), default_decimal
    )
    if mixed is not None:
        _report_mixed_marks(mixed, kept, match, numeric, out)
    read = _read_periods(kept, match, out)
    reader = CellReader(out, match, numeric, decimal, require)
    found = _read_numbers(read.rows, match, reader, derived=derived)
    return _finish(rec.file, read, found, match=match, numeric=numeric, out=out)


def _report_mixed_marks(
    found: tuple[str, str],
    kept: list[Row],
    match: cols.ColumnMatch,
    numeric: list[str],
    out: Collector,
) -> None:
    """``4.763`` beside ``5,308`` with nothing else to settle the decimal mark: an error naming
    both cells, not a guess (one of them would be read as a decimal, the other as thousands)."""
    cells = ((row_no, c, cells[match.index[c]]) for row_no, cells in kept for c in numeric)
    second, message, fix = mixed_marks(found, cells)
    out.error(
        "mixed-marks",
        message,
        fix,
        second[0],
        match.label(second[1]),
        second[2],
    )


def _check_header(
    rec: Records, mapping: dict[str, str], require: tuple[str, ...], out: Collector
) -> cols.ColumnMatch:
    """Match the header to bucket's columns; report title rows, missing and unused columns."""
    if rec.header_row > 1:
        out.warn(
            "title-rows",
            f"the header is on row {rec.header_row}; the rows above it were skipped",
            "delete title rows from the export to silence this warning",
            row=rec.header_row,
        )
    match = match_columns(rec, mapping, out)
    check_required(rec, match, tuple(dict.fromkeys(cols.REQUIRED + require)), out)
    if match.unknown and not out.failed:  # a failed header ends the reading: no warning
        names = cols.name_list(match.unknown, quote="'")
        out.warn(
            "unused-columns",
            f"column(s) not used: {names}",
            "if one is a bucket column, name it with --map canonical=<column>",
            row=rec.header_row,
        )
    return match


def _data_rows(rec: Records, match: cols.ColumnMatch, out: Collector) -> list[Row]:
    """The data rows, a last totals row dropped; none (reported) when only the header is left."""
    rows = list(rec.rows)
    if rows and is_totals_row(rows[-1][1], match):
        row_no, cells = rows.pop()
        out.warn(
            "totals-row",
            f"'{cells[match.index['period']].strip() or cells[0].strip()}' row dropped "
            "as a totals row",
            "remove it from the export to silence this warning",
            row=row_no,
        )
    if not rows:
        out.error(
            "no-data",
            "the file has a header but no data rows",
            "export the ledger with one row per period",
            row=rec.header_row + 1,
        )
    return rows


def _complete_rows(
    rec: Records, match: cols.ColumnMatch, rows: list[Row], out: Collector
) -> list[Row]:
    """The rows as wide as the header (extra empty cells cut, missing unused cells added)."""
    width = len(rec.header)
    kept: list[tuple[int, list[str]]] = []
    for row_no, cells in rows:
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]
        if len(cells) < width and len(cells) > max(match.index.values()):
            cells = cells + [""] * (width - len(cells))  # only unused columns are missing
        if len(cells) != width:
            out.error(
                "ragged-row",
                f"the row has {len(cells)} cells but the header has {width}",
                f"make every row have {width} cells (check for an unquoted "
                f"'{rec.delimiter}' inside a value)",
                row=row_no,
            )
            continue
        kept.append((row_no, cells))
    return kept


def _read_periods(kept: list[Row], match: cols.ColumnMatch, out: Collector) -> _Periods:
    """Parse the period of each row, then settle the file's frequency and periods."""
    # Periods: parse each label, then settle one frequency for the file.
    label = match.label
    pi = match.index["period"]
    labels: list[Label] = []
    label_rows: list[tuple[int, list[str]]] = []
    for row_no, cells in kept:
        try:
            labels.append(parse_label(cells[pi]))
            label_rows.append((row_no, cells))
        except PeriodProblem as exc:
            if is_total_word(cells[pi]):
                out.error(
                    "totals-row",
                    f"'{cells[pi].strip()}' looks like a totals row, but it is not the last row",
                    "delete totals and subtotal rows from the export",
                    row=row_no,
                    column=label("period"),
                )
            else:
                out.error("bad-period", exc.message, exc.fix, row_no, label("period"), cells[pi])
    frequency = "month"
    periods: list[Period] = []
    if labels:
        try:
            res = resolve(labels)
            frequency, periods = res.frequency, res.periods
            for note in res.notes:
                out.warn("ambiguous-dates", note, "", column=label("period"))
        except PeriodProblem as exc:
            i = getattr(exc, "index", None)
            bad_row = label_rows[i][0] if i is not None else None
            out.error("bad-period", exc.message, exc.fix, bad_row, label("period"))
            periods = []
    return _Periods(label_rows, frequency, periods)


def _channel_column(label_rows: list[Row], match: cols.ColumnMatch) -> tuple[int | None, bool]:
    """Where the channels are (None when the file has none), and whether any is not a total."""
    ci = match.index.get("channel")
    if ci is not None and not any(cells[ci].strip() for _, cells in label_rows):
        ci = None  # a channel column left empty on every row: the file has no channels
    channel_names = (
        {cells[ci].strip().casefold() for _, cells in label_rows} if ci is not None else set()
    )
    has_detail = any(not is_total_word(name) for name in channel_names if name)
    return ci, has_detail


def _read_numbers(
    label_rows: list[Row], match: cols.ColumnMatch, reader: CellReader, *, derived: bool
) -> _Found:
    """Read each row's numbers and channel, and keep the rows whose customers add up. In a
    ledger ``derived`` from events a channel is a name, never a subtotal ("all", "Total")."""
    # Numbers, cell by cell.
    out, label = reader.out, match.label
    ci, has_detail = _channel_column(label_rows, match)
    has_detail = has_detail and not derived
    subtotals: list[int] = []
    records: list[dict] = []
    for k, (row_no, cells) in enumerate(label_rows):
        values, bad = reader.row_values(cells, row_no)
        channel = ""
        if ci is not None:
            # control characters (NUL, ...) are export debris, never part of a name
            channel = "".join(ch for ch in cells[ci] if ch.isprintable()).strip()
            if has_detail and is_total_word(channel):
                subtotals.append(row_no)  # a subtotal across channels: counted twice if kept
                continue
            if not channel:
                out.error(
                    "empty-cell",
                    "channel is empty while other rows name their channel",
                    "fill in the channel (or use one file per channel)",
                    row_no,
                    label("channel"),
                )
                bad = True
        if bad:
            continue
        if not check_identities(values, match, row_no, out):
            continue
        records.append({"row": row_no, "channel": channel, "_k": k, **values})

    if subtotals:
        shown = ", ".join(map(str, subtotals[:6])) + (" ..." if len(subtotals) > 6 else "")
        out.warn(
            "subtotal-rows",
            f"{len(subtotals)} subtotal row(s) across channels dropped (rows {shown})",
            "remove subtotal rows from the export to silence this warning",
            row=subtotals[0],
            column=label("channel"),
        )
    return _Found(records, ci is not None, reader.currencies)


def _finish(
    file: str,
    read: _Periods,
    found: _Found,
    *,
    match: cols.ColumnMatch,
    numeric: list[str],
    out: Collector,
) -> tuple[Ledger | None, list[Problem]]:
    """Check across rows, build the ledger, then check its totals, gaps and continuity."""
    label = match.label
    records, periods = found.records, read.periods
    if periods and records:
        check_duplicates(records, periods, label, out)
    if out.failed or not records or not periods:
        return None, out.problems

    ledger = _build(
        file,
        records,
        periods,
        frequency=read.frequency,
        match=match,
        numeric=numeric,
        has_channels=found.has_channels,
    )
    totals = ledger.frame[[c for c in numeric if c in ledger.frame]].sum()
    if not all(math.isfinite(x) for x in totals.tolist()):
        big = next(c for c in totals.index if not math.isfinite(totals[c]))
        out.error(
            "too-large",
            f"the numbers in {big} are too large to add up",
            "check the units of the column",
            column=label(big),
        )
        return None, out.problems
    currencies = found.currencies
    ledger.currency = currencies.most_common(1)[0][0] if currencies else None
    check_gaps(ledger.periods, ledger.labels, out)
    check_continuity(ledger.frame, ledger.labels, out)
    check_channel_gaps(ledger.frame, ledger.labels, out)
    ledger.warnings = [p for p in out.problems if p.severity == "warning"]
    return ledger, out.problems


def _build(
    file: str,
    records: list[dict],
    periods: list[Period],
    *,
    frequency: str,
    match: cols.ColumnMatch,
    numeric: list[str],
    has_channels: bool,
) -> Ledger:
    """The ``Ledger`` of the rows kept: its frame sorted by period, then channel."""
    import pandas as pd

    data: dict[str, list] = {
        "period": [periods[r["_k"]].label for r in records],
        "ordinal": [periods[r["_k"]].ordinal for r in records],
        "channel": [r["channel"] for r in records],
        "row": [r["row"] for r in records],
    }
    present = set(numeric) | set(cols.BASE_OUT)
    for canon in cols.COLUMNS:
        if canon in present:
            data[canon] = [r.get(canon, math.nan) for r in records]
    frame = pd.DataFrame(data)
    for canon in present:
        frame[canon] = frame[canon].astype("float64")
    frame = frame.sort_values(["ordinal", "channel"], kind="stable").reset_index(drop=True)
    distinct = sorted({periods[r["_k"]] for r in records})
    labels = {c: match.label(c) for c in match.index}
    return Ledger(
        file=file,
        frame=frame,
        frequency=frequency,
        periods=distinct,
        present=frozenset(present | ({"channel"} if has_channels else set())),
        labels=labels,
        has_channels=has_channels,
    )


def read_ledger(
    path: str,
    mapping: dict[str, str] | None = None,
    require: tuple[str, ...] = (),
) -> Ledger:
    """Read a ledger or raise the first error as ``InputError`` (warnings on ``ledger.warnings``)."""
    return _strict(inspect_ledger(path, mapping, require))


def read_ledger_text(text: str, name: str, require: tuple[str, ...] = ()) -> Ledger:
    """``read_ledger`` on CSV text made in process (a ledger derived from events, joined to
    spend); ``name`` is what messages call it."""
    return _strict(inspect_records(parse_records(text, name), None, require, derived=True))


def _strict(found: tuple[Ledger | None, list[Problem]]) -> Ledger:
    ledger, problems = found
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors[0], more=len(errors) - 1)
    assert ledger is not None
    return ledger

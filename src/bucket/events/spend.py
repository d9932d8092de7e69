"""Join a spend file (period[, channel], acquisition_spend[, retention_spend]) to a ledger
derived from events, or to a ledger file without spend, and read the result as any ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bucket.errors import InputError, Problem
from bucket.io import columns as cols
from bucket.io.numbers import NumberProblem, mixed_marks, parse_number, settle_decimal
from bucket.io.periods import PeriodProblem, parse_label, resolve
from bucket.io.text import Records, read_records

if TYPE_CHECKING:
    import pandas as pd

    from bucket.io.ledger import Ledger


def read_spend(path: str) -> pd.DataFrame:
    """A spend file as (period, channel, acquisition_spend, retention_spend) sums."""
    import pandas as pd

    rec = read_records(path)
    index = _spend_columns(rec)
    decimal = _decimal_mark(rec, index)
    labels, rows, numbers = [], [], []
    width = max(index.values()) + 1
    for row, cells in rec.rows:
        if len(cells) < width:
            raise InputError(
                Problem(
                    "error",
                    "ragged-row",
                    f"the row has {len(cells)} cells but the spend columns need {width}",
                    f"give every row a value in each column (check for an unquoted "
                    f"'{rec.delimiter}')",
                    rec.file,
                    row,
                )
            )
        numbers.append(row)
        try:
            labels.append(parse_label(cells[index["period"]]))
        except (PeriodProblem, IndexError) as exc:
            msg = exc.message if isinstance(exc, PeriodProblem) else "the row is short"
            raise InputError(
                Problem("error", "bad-period", msg, "fix the period", rec.file, row, "period")
            ) from None
        values = {
            key: _spend_amount(rec, row, cells[index[key]], key, index[key], decimal)
            if key in index
            else 0.0
            for key in ("acquisition_spend", "retention_spend")
        }
        channel = cells[index["channel"]].strip() if "channel" in index else ""
        rows.append({"channel": channel, **values})
    try:
        periods = resolve(labels).periods
    except PeriodProblem as exc:
        i = getattr(exc, "index", None)
        raise InputError(
            Problem(
                "error",
                "bad-period",
                exc.message,
                exc.fix,
                rec.file,
                numbers[i] if i is not None else None,
                rec.header[index["period"]],
            )
        ) from None
    frame = pd.DataFrame(rows)
    frame.insert(0, "period", [p.label for p in periods])
    frame.attrs["has_channel"] = "channel" in index
    return frame.groupby(["period", "channel"], as_index=False, sort=False).sum()


def _spend_columns(rec: Records) -> dict[str, int]:
    """Where period, channel and the spend columns are; period and acquisition_spend required."""
    index: dict[str, int] = {}
    for i, h in enumerate(rec.header):
        canon = cols.canonical_for(h)
        if canon in ("period", "channel", "acquisition_spend", "retention_spend"):
            index.setdefault(canon, i)
    for need in ("period", "acquisition_spend"):
        if need not in index:
            raise InputError(
                Problem(
                    "error",
                    "missing-column",
                    f"required column {need} not found",
                    "a spend file has period[, channel], acquisition_spend[, retention_spend]",
                    rec.file,
                    rec.header_row,
                    need,
                )
            )
    return index


def _decimal_mark(rec: Records, index: dict[str, int]) -> str:
    """The file's decimal mark, voted by both spend columns; ``4.763`` beside ``5,308`` with
    nothing else to settle it is an error naming both cells, as in a ledger."""
    amounts = [index[k] for k in ("acquisition_spend", "retention_spend") if k in index]
    cells = [(row, i, c[i]) for row, c in rec.rows for i in amounts if i < len(c)]
    decimal, mixed = settle_decimal((c for _, _, c in cells), "," if rec.delimiter == ";" else ".")
    if mixed is not None:
        second, message, fix = mixed_marks(mixed, cells)
        raise InputError(
            Problem(
                "error", "mixed-marks", message, fix, rec.file, second[0], rec.header[second[1]]
            )
        )
    return decimal


def _spend_amount(rec: Records, row: int, cell: str, key: str, column: int, decimal: str) -> float:
    """One spend cell as a number (empty is 0); a bad or negative amount is an input error."""
    try:
        num = parse_number(cell, decimal)
    except NumberProblem as exc:
        raise InputError(
            Problem("error", "bad-number", exc.message, exc.fix, rec.file, row, rec.header[column])
        ) from None
    if num is not None and num.value < 0:
        raise InputError(
            Problem(
                "error",
                "negative",
                f"{key} is negative",
                "fix the sign",
                rec.file,
                row,
                rec.header[column],
            )
        )
    return 0.0 if num is None else num.value


def with_spend(
    ledger: pd.DataFrame, spend: pd.DataFrame | None, name: str
) -> tuple[pd.DataFrame, list[str]]:
    """A ledger table (say, derived from events) with spend columns (0 where a period has
    customers but no spend)."""
    frame = ledger.copy()
    notes: list[str] = []
    if spend is None:
        return frame, notes
    if "channel" in frame and not spend.attrs.get("has_channel"):
        # spend per period only: plan on the total, one row per period
        frame = frame.drop(columns="channel").groupby("period", as_index=False, sort=False).sum()
        notes.append("the spend file has no channel column; channels were added up")
    keys = ["period", "channel"] if "channel" in frame else ["period"]
    if "channel" not in frame:
        spend = spend.drop(columns="channel").groupby("period", as_index=False, sort=False).sum()
    if "channel" in frame:  # channel names match without regard to case or spaces
        spend = spend.assign(channel=spend["channel"].str.strip())
        by_key = {c.casefold(): c for c in frame["channel"].unique()}
        spend["channel"] = spend["channel"].map(lambda c: by_key.get(c.casefold(), c))
    merged = frame.merge(spend, on=keys, how="left", indicator=False)
    unmatched = spend.merge(frame[keys].drop_duplicates(), on=keys, how="left", indicator=True)
    unmatched = unmatched[unmatched["_merge"] == "left_only"]
    if len(unmatched):
        total = float(unmatched["acquisition_spend"].sum() + unmatched["retention_spend"].sum())
        where = ", ".join(sorted({" ".join(str(v) for v in r) for r in unmatched[keys].values})[:6])
        notes.append(
            f"{len(unmatched)} spend row(s) match no period and channel of the events "
            f"({where}); {total:,.2f} of spend is left out"
        )
    missing = merged["acquisition_spend"].isna()
    if missing.any():
        shown = ", ".join(sorted(set(merged.loc[missing, "period"]))[:6])
        notes.append(
            f"no spend row for {int(missing.sum())} (period, channel) pair(s) with "
            f"customers ({shown}); counted as no spend"
        )
    merged[["acquisition_spend", "retention_spend"]] = merged[
        ["acquisition_spend", "retention_spend"]
    ].fillna(0.0)
    return merged, notes


def ledger_with_spend(file: str, spend: str, mapping=None, require=()) -> Ledger:
    """A ledger file without spend (say, the output of `ledger --print-sql` run in a warehouse)
    joined to a spend file, then read as any ledger is read."""
    from dataclasses import replace

    from bucket.io.ledger import read_ledger, read_ledger_text
    from bucket.io.text import display_name

    base = read_ledger(file, mapping)
    name = display_name(file)
    for col in ("acquisition_spend", "retention_spend"):
        if col in base.present:
            raise InputError(
                Problem(
                    "error",
                    "spend-twice",
                    f"the ledger already has {col}",
                    "drop --spend, or the spend columns from the ledger",
                    name,
                    column=col,
                )
            )
    keep = [
        "period",
        *(["channel"] if base.has_channels else []),
        *(c for c in base.frame.columns if c in base.present),
    ]
    frame = base.frame[list(dict.fromkeys(keep))]
    merged, notes = with_spend(frame, read_spend(spend), name)
    try:
        ledger = read_ledger_text(merged.to_csv(index=False, float_format="%.2f"), name, require)
    except InputError as exc:
        raise InputError(replace(exc.problem, file=name, row=None)) from None
    extra = [Problem("warning", "spend", n, "", name) for n in notes]
    return replace(
        ledger,
        file=name,
        currency=base.currency,
        warnings=[*extra, *(replace(w, file=name) for w in ledger.warnings)],
    )

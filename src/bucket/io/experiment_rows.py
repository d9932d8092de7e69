"""Reading one row of an experiments file: its cells as numbers and text, and the record it
makes (a retention arm or a lift test), each problem raised as a one-line ``InputError``.

``io.experiments`` matches the header and settles the decimal mark and the dates, then hands
each row here; its docstring says what every column means and how Robyn's and PyMC-Marketing's
columns are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

from bucket.errors import InputError, Problem
from bucket.io.columns import display, name_list
from bucket.io.experiment_records import Date, LiftTest, RetentionArm
from bucket.io.numbers import Number, NumberProblem, parse_number

KINDS = ("retention", "acquisition")
REQUIRED = {
    "retention": ("test", "arm", "start", "end", "customers", "churned", "spend_per_customer"),
    "acquisition": ("channel", "spend", "incremental_spend", "incremental_customers"),
}
CI_WIDTH = 3.92  # a 95 % interval is 2 × 1.96 standard errors wide
ROBYN_SCOPES = ("immediate", "total")  # Robyn's calibration_scope: with or without carryover


@dataclass
class Sheet:
    """The file's columns and decimal mark: how to read its cells and name them in messages."""

    file: str
    header: list[str]
    index: dict[str, int]
    decimal: str = "."
    zero_base: bool = False  # Robyn: `spend` is the increment, over a base of 0
    warnings: tuple[Problem, ...] = ()

    def label(self, canon: str) -> str:
        i = self.index.get(canon)
        return canon if i is None else display(self.header[i])

    def fail(self, code: str, message: str, fix: str, row=None, canon=None, value=None):
        column = None if canon is None else self.label(canon)
        return InputError(Problem("error", code, message, fix, self.file, row, column, value))

    def text(self, cells: list[str], canon: str) -> str:
        i = self.index.get(canon)
        return "" if i is None or i >= len(cells) else cells[i].strip()

    def check_width(self, row: int, cells: list[str]) -> None:
        width = len(self.header)
        if len(cells) <= max(self.index.values()) or any(c.strip() for c in cells[width:]):
            raise self.fail(
                "ragged-row",
                f"the row has {len(cells)} cells but the header has {width}",
                "make every row as wide as the header (check for an unquoted delimiter)",
                row,
            )

    def required(self, cells: list[str], row: int, canon: str, kind: str) -> str:
        """A cell the row's kind needs: its text, or the error naming what is missing."""
        if canon not in self.index:
            raise self.fail(
                "missing-column",
                f"{_article(kind)} {kind} row needs column {canon}, and the file has none "
                f"(columns found: {name_list(self.header)})",
                f"add {_article(canon)} {canon} column ({', '.join(REQUIRED[kind])} for {_article(kind)} {kind} row)",
                row,
                canon,
            )
        text = self.text(cells, canon)
        if not text:
            raise self.fail("empty-cell", f"{canon} is empty", f"fill in the {canon}", row, canon)
        return text

    def number(self, cells: list[str], row: int, canon: str, kind: str | None) -> Number | None:
        """The cell as a number; None when empty and ``kind`` is None (optional)."""
        cell = self.required(cells, row, canon, kind) if kind else self.text(cells, canon)
        try:
            num = parse_number(cell, self.decimal)
        except NumberProblem as exc:
            raise self.fail("bad-number", exc.message, exc.fix, row, canon, cell) from None
        if num is not None and num.percent and canon not in ("scope", "confidence"):
            raise self.fail(
                "percent", f"'{cell}' is a percentage", "write the amount itself", row, canon, cell
            )
        return num

    def amount(self, cells: list[str], row: int, canon: str, kind: str | None) -> float | None:
        """A number of 0 or more (None: empty and optional)."""
        num = self.number(cells, row, canon, kind)
        if num is not None and num.value < 0:
            cell = self.text(cells, canon)
            raise self.fail(
                "negative", f"{canon} is negative ({cell})", "fix the sign", row, canon, cell
            )
        return None if num is None else num.value

    def count(self, cells: list[str], row: int, canon: str, least: int) -> int:
        """A whole number of at least ``least`` customers."""
        value = self.amount(cells, row, canon, "retention")
        assert value is not None
        if value != round(value) or value < least:
            cell = self.text(cells, canon)
            raise self.fail(
                "bad-count",
                f"{canon} is {cell}, not a whole number of {least} or more",
                "write the number of customers"
                + (" (this file reads ',' as the decimal mark)" if self.decimal == "," else ""),
                row,
                canon,
                cell,
            )
        return int(value)


def row_kind(sheet: Sheet, row: int, cells: list[str]) -> str:
    """The row's kind as written, or as its filled cells say."""
    written = sheet.text(cells, "kind")
    if written:
        kind = written.casefold()
        if kind not in KINDS:
            raise sheet.fail(
                "bad-kind",
                f"kind '{written}' is neither retention nor acquisition",
                "write retention (an arm of a retention test) or acquisition (a lift test)",
                row,
                "kind",
                written,
            )
        return kind
    retention = any(sheet.text(cells, c) for c in ("arm", "customers"))
    acquisition = all(sheet.text(cells, c) for c in ("channel", "incremental_customers"))
    if retention != acquisition:
        return "retention" if retention else "acquisition"
    raise sheet.fail(
        "unknown-kind",
        "cannot tell whether the row is a retention arm or an acquisition lift test",
        "fill in kind (retention or acquisition)",
        row,
        "kind",
    )


def read_arm(sheet: Sheet, row: int, cells: list[str], start: Date, end: Date) -> RetentionArm:
    """One retention arm, its counts checked."""
    test = sheet.required(cells, row, "test", "retention")
    arm = sheet.required(cells, row, "arm", "retention")
    for canon in ("start", "end"):
        sheet.required(cells, row, canon, "retention")
    assert start is not None and end is not None
    customers = sheet.count(cells, row, "customers", 1)
    churned = sheet.count(cells, row, "churned", 0)
    if churned > customers:
        raise sheet.fail(
            "churned-above-customers",
            f"churned ({churned:,}) is more than customers ({customers:,})",
            "churned counts the arm's own customers lost by the end; check both cells",
            row,
            "churned",
            sheet.text(cells, "churned"),
        )
    spend = sheet.amount(cells, row, "spend_per_customer", "retention")
    assert spend is not None
    return RetentionArm(test, start, end, arm, customers, churned, spend, row)


def read_lift(sheet: Sheet, row: int, cells: list[str], start: Date, end: Date) -> LiftTest:
    """One lift test: its spends, lift, standard error and scope checked."""
    channel = sheet.required(cells, row, "channel", "acquisition")
    test = sheet.text(cells, "test") or f"{channel} (row {row})"
    spend: float | None = 0.0
    if sheet.zero_base:
        extra = sheet.amount(cells, row, "incremental_spend", "acquisition")
    else:
        spend = sheet.amount(cells, row, "spend", "acquisition")
        extra = _value(sheet.number(cells, row, "incremental_spend", "acquisition"))
    assert spend is not None and extra is not None
    if spend + extra < 0:
        raise sheet.fail(
            "spend-below-zero",
            f"incremental_spend ({extra:,.2f}) takes spend ({spend:,.2f}) below zero",
            "a go-dark test's increment is minus the spend it switched off, no more",
            row,
            "incremental_spend",
            sheet.text(cells, "incremental_spend"),
        )
    lift = _value(sheet.number(cells, row, "incremental_customers", "acquisition"))
    assert lift is not None
    _check_metric(sheet, row, cells)
    se = _se(sheet, row, cells, lift)
    scope = _scope(sheet, row, cells)
    return LiftTest(test, start, end, channel, spend, extra, lift, se, scope, row)


def _value(num: Number | None) -> float | None:
    return None if num is None else num.value


def _check_metric(sheet: Sheet, row: int, cells: list[str]) -> None:
    """Robyn's ``metric``: a lift in revenue is not a lift in customers."""
    metric = sheet.text(cells, "metric")
    if "revenue" in metric.casefold():
        raise sheet.fail(
            "revenue-lift",
            f"metric is {metric}: the lift is measured in money, and bucket needs it in new "
            "customers",
            "export the test's incremental conversions (metric conversion) and their se",
            row,
            "metric",
            metric,
        )


def _se(sheet: Sheet, row: int, cells: list[str], lift: float) -> float:
    """The lift's standard error: ``se``, else the 95 % interval, else Robyn's confidence."""
    se = _value(sheet.number(cells, row, "se", None))
    if se is not None:
        if se <= 0:
            raise sheet.fail(
                "bad-se",
                f"se is {sheet.text(cells, 'se')}, but a standard error is above 0",
                "enter the test's standard error, or its 95 % interval in ci_low and ci_high",
                row,
                "se",
                sheet.text(cells, "se"),
            )
        return se
    low = _value(sheet.number(cells, row, "ci_low", None))
    high = _value(sheet.number(cells, row, "ci_high", None))
    if low is not None and high is not None:
        if high <= low:
            raise sheet.fail(
                "bad-interval",
                f"ci_high ({sheet.text(cells, 'ci_high')}) is not above ci_low "
                f"({sheet.text(cells, 'ci_low')})",
                "give the 95 % interval's lower end in ci_low and its upper end in ci_high",
                row,
                "ci_high",
                sheet.text(cells, "ci_high"),
            )
        return (high - low) / CI_WIDTH
    if low is not None or high is not None:
        missing = "ci_high" if high is None else "ci_low"
        raise sheet.fail(
            "empty-cell", f"{missing} is empty", "give both ends of the interval", row, missing
        )
    confidence = _value(sheet.number(cells, row, "confidence", None))
    if confidence is None:
        raise sheet.fail(
            "no-se",
            "the lift has no standard error",
            "fill in se, or ci_low and ci_high (its 95 % interval), or Robyn's confidence",
            row,
            "se",
        )
    return _se_from_confidence(sheet, row, cells, lift, confidence)


def _se_from_confidence(
    sheet: Sheet, row: int, cells: list[str], lift: float, confidence: float
) -> float:
    """se = |lift| / z, z = Φ⁻¹((1 + confidence)/2), to 6 significant digits: confidence read as
    1 − the two-sided p-value of the lift (Robyn's docs suggest 1 − p-value)."""
    cell = sheet.text(cells, "confidence")
    if not 0 < confidence < 1:
        raise sheet.fail(
            "bad-confidence",
            f"confidence is {cell}, but it is a level between 0 and 1, both excluded (1 − the "
            "test's p-value)",
            "write it as 0.9 or 90 %, or give se or the 95 % interval instead",
            row,
            "confidence",
            cell,
        )
    if lift == 0:
        raise sheet.fail(
            "bad-se",
            "a lift of 0 with a confidence gives no standard error (se would be 0)",
            "give the test's se, or its 95 % interval in ci_low and ci_high",
            row,
            "confidence",
            cell,
        )
    se = abs(lift) / NormalDist().inv_cdf((1 + confidence) / 2)
    # a confidence level carries a few digits at most: 6 significant digits of se are all it
    # can tell, and keep the same test in Robyn's spelling and in se identical
    return float(f"{se:.6g}")


def _scope(sheet: Sheet, row: int, cells: list[str]) -> float:
    """The share of the channel's market tested: (0, 1], 1 when empty or Robyn's word."""
    cell = sheet.text(cells, "scope")
    if not cell or cell.casefold() in ROBYN_SCOPES:
        return 1.0
    scope = _value(sheet.number(cells, row, "scope", None))
    assert scope is not None
    if not 0 < scope <= 1:
        raise sheet.fail(
            "bad-scope",
            f"scope is {cell}, but it is the share of the channel's market tested: above 0 "
            "and at most 1",
            "write it as 0.5 or 50 % (1, or empty, for a test over the whole market)",
            row,
            "scope",
            cell,
        )
    return scope


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"

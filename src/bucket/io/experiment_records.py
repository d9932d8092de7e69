"""The records an experiments file reads into (DESIGN §12), and the checks across its rows.

``io.experiments`` reads the file (and re-exports these names); this module holds what the
model needs of it: the frozen records, a test's duration in ledger periods, the checks that
span rows (the arms of one retention test, test ids) and the check of channels against a
ledger. ``row`` is the spreadsheet row a record was read from, for messages.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass

from bucket.errors import InputError, Problem
from bucket.io.periods import PERIODS_PER_YEAR, period_of

Date = dt.date | None


@dataclass(frozen=True)
class RetentionArm:
    """One arm of a retention test: ``customers`` at ``start``, ``churned`` of them by ``end``,
    at ``spend_per_customer`` of retention money per customer per ledger period."""

    test: str
    start: dt.date
    end: dt.date
    arm: str
    customers: int
    churned: int
    spend_per_customer: float
    row: int

    def duration(self, frequency: str) -> float:
        return duration(self.start, self.end, frequency)


@dataclass(frozen=True)
class LiftTest:
    """One acquisition lift test: ``incremental_spend`` on top of ``spend`` (both over the test,
    in the tested ``scope``) bought ``incremental_customers``, with standard error ``se``.
    ``start``/``end`` are None when the amounts are per ledger period (T = 1)."""

    test: str
    start: Date
    end: Date
    channel: str
    spend: float
    incremental_spend: float
    incremental_customers: float
    se: float
    scope: float
    row: int

    def duration(self, frequency: str) -> float:
        return duration(self.start, self.end, frequency)


@dataclass(frozen=True)
class RetentionTest:
    """The arms of one retention test (two or more, over the same dates)."""

    test: str
    start: dt.date
    end: dt.date
    arms: tuple[RetentionArm, ...]

    def duration(self, frequency: str) -> float:
        return duration(self.start, self.end, frequency)


@dataclass(frozen=True)
class Experiments:
    """A checked experiments file: its arms and lift tests in file order, and the warnings."""

    file: str
    arms: tuple[RetentionArm, ...]
    lifts: tuple[LiftTest, ...]
    warnings: tuple[Problem, ...] = ()
    channel_column: str = "channel"  # the file's own name for it, for messages

    def retention_tests(self) -> list[RetentionTest]:
        """The arms grouped by test, tests in the order they first appear."""
        groups: dict[str, list[RetentionArm]] = {}
        for arm in self.arms:
            groups.setdefault(arm.test, []).append(arm)
        return [RetentionTest(t, a[0].start, a[0].end, tuple(a)) for t, a in groups.items()]


def duration(start: Date, end: Date, frequency: str) -> float:
    """Length of ``start``..``end`` (both days included) in ledger periods of ``frequency``
    (month, week or quarter): each period counts the share of its days the span covers, so
    whole periods count exactly 1 however long they are. No dates: 1 period (PyMC's frame)."""
    if frequency not in PERIODS_PER_YEAR:
        raise ValueError(f"unknown ledger frequency {frequency!r}")
    if start is None or end is None:
        return 1.0
    first, last = period_of(start, frequency), period_of(end, frequency)

    def days(a: dt.date, b: dt.date) -> int:
        return (b - a).days + 1

    if first == last:
        return days(start, end) / days(first.start, first.end)
    head = days(start, first.end) / days(first.start, first.end)
    tail = days(last.start, end) / days(last.start, last.end)
    return head + tail + (last.ordinal - first.ordinal - 1)


def check_channels(experiments: Experiments, channels: set[str]) -> None:
    """Raise the one-line ``InputError`` for the first lift test whose channel is not one of
    the ledger's ``channels``."""
    for lift in experiments.lifts:
        if lift.channel in channels:
            continue
        known = ", ".join(sorted(channels)) or "none"
        same = [c for c in channels if c.casefold() == lift.channel.casefold()]
        close = same or difflib.get_close_matches(lift.channel, sorted(channels), n=1)
        if not channels:
            fix = "the ledger has no channel column: add one, or leave the lift tests out"
        elif close:
            fix = f"did you mean '{close[0]}'? write the channel as the ledger does"
        elif "+" in lift.channel:
            fix = "bucket calibrates one channel per lift test: split the test by channel"
        else:
            fix = "write the channel as the ledger does, or leave the test out"
        message = f"channel '{lift.channel}' is not in the ledger (its channels: {known})"
        problem = Problem(
            "error",
            "unknown-channel",
            message,
            fix,
            experiments.file,
            lift.row,
            experiments.channel_column,
            lift.channel,
        )
        raise InputError(problem)


def check_groups(
    file: str,
    arms: list[RetentionArm],
    lifts: list[LiftTest],
    *,
    label: Callable[[str], str],
) -> list[Problem]:
    """Check the arms of each retention test and the test ids across kinds: the first error
    is raised as ``InputError``; the warnings (arms that all spend alike) are returned.
    ``label`` names a canonical column as the file does."""

    def fail(code: str, message: str, fix: str, row: int, canon: str, value=None):
        return InputError(Problem("error", code, message, fix, file, row, label(canon), value))

    groups: dict[str, list[RetentionArm]] = {}
    for arm in arms:
        groups.setdefault(arm.test, []).append(arm)
    warnings: list[Problem] = []
    for test, group in groups.items():
        _check_arms(test, group, fail)
        spends = {a.spend_per_customer for a in group}
        if len(spends) == 1:
            first = group[0]
            warnings.append(
                Problem(
                    "warning",
                    "equal-arms",
                    f"test {test}: every arm spends {first.spend_per_customer:,.2f} per "
                    "customer, so the test informs nothing",
                    "the arms must differ in retention spend per customer (a holdout spends 0)",
                    file,
                    first.row,
                    label("spend_per_customer"),
                )
            )
    seen: dict[str, int] = {a.test: a.row for a in arms}
    for lift in lifts:
        if lift.test in seen:
            raise fail(
                "duplicate-test",
                f"test id {lift.test} is already used on row {seen[lift.test]}",
                "give each lift test its own id (arms of one retention test share theirs)",
                lift.row,
                "test",
                lift.test,
            )
        seen[lift.test] = lift.row
    return warnings


def _check_arms(test: str, group: list[RetentionArm], fail: Callable[..., InputError]) -> None:
    """Raise the first problem of one retention test's arms: dates that differ, an arm name
    used twice, a single arm."""
    first = group[0]
    names: dict[str, int] = {}
    for arm in group:
        for canon, mine, theirs in (
            ("start", arm.start, first.start),
            ("end", arm.end, first.end),
        ):
            if mine != theirs:
                raise fail(
                    "arm-dates",
                    f"test {test}: arm {arm.arm} has {canon} {mine.isoformat()}, but arm "
                    f"{first.arm} (row {first.row}) has {theirs.isoformat()}",
                    "the arms of one test run over the same dates: fix the date, or give "
                    "the arm its own test id",
                    arm.row,
                    canon,
                )
        key = arm.arm.casefold()
        if key in names:
            raise fail(
                "duplicate-arm",
                f"test {test} already has an arm {arm.arm} (row {names[key]})",
                "give each arm of a test its own name",
                arm.row,
                "arm",
                arm.arm,
            )
        names[key] = arm.row
    if len(group) == 1:
        raise fail(
            "one-arm",
            f"retention test {test} has only one arm, and a test compares two or more",
            "add the other arms (a holdout at 0, today's spend, ...) under the same test id",
            first.row,
            "test",
            test,
        )

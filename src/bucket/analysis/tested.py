"""What the user's experiments say (DESIGN §12): the experiments file read and checked against
the ledger (its channels, its period length), as the model's records.

Retention arms inform the retention curve (μ, k); acquisition lift tests inform their channel's
curve (φ, ι). A lift test of a channel the ledger lacks is an error naming its row.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from bucket.errors import ConfigError

if TYPE_CHECKING:
    from bucket.io.experiments import Experiments
    from bucket.io.ledger import Ledger
    from bucket.model.experiments import LiftTest, RetentionArm
    from bucket.settings import PlanSettings


@dataclass(frozen=True)
class Tests:
    """The retention arms in the model's terms (durations in ledger periods), and what the user
    should hear about the file."""

    file: str
    arms: tuple[RetentionArm, ...]
    lifts: tuple[LiftTest, ...]
    warnings: tuple[str, ...]
    # the ledger period each arm and lift test ends in (None: a lift test without dates)
    arm_ends: tuple[int, ...] = ()
    lift_ends: tuple[int | None, ...] = ()

    def before(self, ordinal: int) -> tuple[Tests, int]:
        """The tests known to have ended before period ``ordinal`` (a backtest must not learn
        from its held-out periods, so undated lift tests are left out too), and how many tests
        were left out."""
        arms = tuple(a for a, e in zip(self.arms, self.arm_ends) if e < ordinal)
        lifts = tuple(
            t for t, e in zip(self.lifts, self.lift_ends) if e is not None and e < ordinal
        )
        dropped = {a.test for a in self.arms if a not in arms}
        dropped |= {t.test for t in self.lifts if t not in lifts}
        kept = Tests(self.file, arms, lifts, self.warnings)
        return kept, len(dropped)


def load_tests(ledger: Ledger, settings: PlanSettings) -> Tests | None:
    """The experiments named by ``settings.experiments``, or None when there are none."""
    if settings.experiments is None:
        return None
    if settings.experiments == "-" and ledger.file in ("-", "stdin", "<stdin>"):
        raise ConfigError(
            "the ledger and --experiments both read standard input",
            "give one of them as a file",
        )
    channels = frozenset(ledger.frame["channel"].astype(str)) if ledger.has_channels else None
    path = settings.experiments
    # one command builds several calibrations (the plan, its backtest): the file is read once,
    # and standard input can only be; a file changed since is read again
    if path == "-":
        version: object = id(sys.stdin)
    else:
        try:
            st = os.stat(path)
            version = (st.st_mtime_ns, st.st_size)
        except OSError:
            version = None  # the reader says what is wrong
    last = ledger.periods[-1].ordinal
    return _load(path, version, ledger.frequency, channels, (last - settings.window + 1, last))


@lru_cache(maxsize=8)
def _load(
    path: str,
    version: object,
    frequency: str,
    channels: frozenset[str] | None,
    window: tuple[int, int],
) -> Tests:
    from bucket.io.experiments import check_channels, read_experiments
    from bucket.io.periods import period_of
    from bucket.model.experiments import LiftTest, RetentionArm

    exp = read_experiments(path)
    if exp.lifts:
        check_channels(exp, set(channels) if channels is not None else set())
    arms = tuple(
        RetentionArm(
            test=a.test,
            arm=a.arm,
            customers=float(a.customers),
            churned=float(a.churned),
            spend_per_customer=float(a.spend_per_customer),
            periods=a.duration(frequency),
        )
        for a in exp.arms
    )
    lifts = tuple(
        LiftTest(
            test=t.test,
            channel=t.channel,
            spend=t.spend,
            incremental_spend=t.incremental_spend,
            incremental_customers=t.incremental_customers,
            se=t.se,
            periods=t.duration(frequency),
            scope=t.scope,
        )
        for t in exp.lifts
    )
    notes = [w.line() for w in exp.warnings]
    notes += _far_tests(exp, frequency, window)
    arm_ends = tuple(period_of(a.end, frequency).ordinal for a in exp.arms)
    lift_ends = tuple(period_of(t.end, frequency).ordinal if t.end else None for t in exp.lifts)
    return Tests(exp.file, arms, lifts, tuple(notes), arm_ends, lift_ends)


def _far_tests(exp: Experiments, frequency: str, window: tuple[int, int]) -> list[str]:
    """A warning per test run long before the calibration window (over a year of periods
    before it) or after the ledger ends: the business it measured may not be today's."""
    from bucket.io.periods import PERIODS_PER_YEAR, period_of

    year = PERIODS_PER_YEAR[frequency]
    dated = [(a.test, a.start, a.end) for a in exp.arms]
    dated += [(t.test, t.start, t.end) for t in exp.lifts if t.start and t.end]
    out = []
    for test in dict.fromkeys(t for t, _, _ in dated):
        start = min(s for t, s, _ in dated if t == test)
        end = max(e for t, _, e in dated if t == test)
        gap = window[0] - period_of(end, frequency).ordinal
        if gap > year:
            out.append(
                f"{exp.file}: test {test} ended {gap} {frequency}s before the calibration window; "
                "the business it measured may have changed since (run it again, or widen --window)"
            )
        elif period_of(start, frequency).ordinal > window[1]:
            out.append(
                f"{exp.file}: test {test} started after the ledger's last period; its customers "
                "and spend are not the ledger's (add the periods it ran in to the ledger)"
            )
    return out

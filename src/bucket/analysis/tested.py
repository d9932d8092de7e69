"""What the user's experiments say (DESIGN §12): the experiments file read and checked against
the ledger (its channels, its period length), as the model's records.

Retention arms inform the retention curve (μ, k). Acquisition lift tests are read and checked
(an unknown channel is an error) but do not inform the channels' curves yet: a warning says so.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from bucket.errors import ConfigError

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.model.experiments import RetentionArm
    from bucket.settings import PlanSettings


@dataclass(frozen=True)
class Tests:
    """The retention arms in the model's terms (durations in ledger periods), and what the user
    should hear about the file."""

    file: str
    arms: tuple[RetentionArm, ...]
    warnings: tuple[str, ...]


def load_tests(ledger: Ledger, settings: PlanSettings) -> Tests | None:
    """The experiments named by ``settings.experiments``, or None when there are none."""
    if settings.experiments is None:
        return None
    if settings.experiments == "-" and ledger.file in ("-", "<stdin>"):
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
    return _load(path, version, ledger.frequency, channels)


@lru_cache(maxsize=8)
def _load(path: str, version: object, frequency: str, channels: frozenset[str] | None) -> Tests:
    from bucket.io.experiments import check_channels, read_experiments
    from bucket.model.experiments import RetentionArm

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
    notes = [w.line() for w in exp.warnings]
    if exp.lifts:
        notes.append(
            f"{exp.file}: {len(exp.lifts)} acquisition lift test(s) read and checked, but this "
            "release calibrates only retention from experiments; the channels' curves still "
            "come from the ledger and φ"
        )
    return Tests(exp.file, arms, tuple(notes))

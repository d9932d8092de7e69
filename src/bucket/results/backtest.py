"""Results of ``bucket backtest`` and ``bucket check`` (see results.py for the conventions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bucket.io.periods import Frequency
from bucket.results.common import SCHEMA_VERSION

_PYDANTIC = {"use_attribute_docstrings": True, "extra": "forbid"}


@dataclass(frozen=True)
class Series:
    __pydantic_config__ = _PYDANTIC

    new_customers: float | None
    """new customers, reactivated ones included (the model's inflow)"""
    churned_customers: float | None
    customers: float | None
    """the customer base at the end of the period"""


@dataclass(frozen=True)
class BacktestPeriod:
    __pydantic_config__ = _PYDANTIC

    period: str
    predicted: Series
    actual: Series


@dataclass(frozen=True)
class BacktestResult:
    """`bucket backtest --json`: forecast of the last `holdout` periods against what happened."""

    __pydantic_config__ = _PYDANTIC

    file: str
    frequency: Frequency
    holdout: int
    calibrated_on: str
    mape: Series
    """mean absolute percentage error per series, as a fraction (0.05 = 5 %)"""
    periods: list[BacktestPeriod]
    verdict: str
    verdict_level: Literal["good", "fair", "poor"]
    warnings: list[str]
    spend_moved: SpendMoved | None = None
    """how far the holdout's spend moved from the calibration window's"""
    held_out: str = ""
    """the held-out periods in words: 'the last 3 months' or 'the 3 months 2025-03 to 2025-05'"""
    tests_response: bool = False
    """whether spend moved enough in the holdout (15 % or more on a side) for the forecast to
    test what the plan rests on, the response to spend, rather than only today's rates"""
    schema_version: str = SCHEMA_VERSION
    command: Literal["backtest"] = "backtest"


@dataclass(frozen=True)
class SpendMoved:
    __pydantic_config__ = _PYDANTIC

    acquisition: float
    """largest change of a held-out period's acquisition spend from the calibration window's
    mean: each channel's relative change from its own mean, weighted by its spend (0.2 = 20 %)"""
    retention: float | None
    """the same for retention spend per customer (null: no retention spend in the window)"""


@dataclass(frozen=True)
class CheckRow:
    __pydantic_config__ = _PYDANTIC

    check: str
    """e.g. 'churn_rate <= 0.06' or 'split gap <= 0.1'"""
    key: str
    value: float | None
    threshold: float
    status: Literal["ok", "breached", "undefined"]
    """undefined: the value could not be computed (e.g. no revenue for ltv_to_cac)"""


@dataclass(frozen=True)
class CheckResult:
    """`bucket check --json`: every threshold, its value and status."""

    __pydantic_config__ = _PYDANTIC

    file: str
    scope: str
    """the periods the metrics cover, e.g. '2025-12' or '2025-07 to 2025-12'"""
    breached: int
    checks: list[CheckRow]
    warnings: list[str]
    schema_version: str = SCHEMA_VERSION
    command: Literal["check"] = "check"

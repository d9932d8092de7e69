"""Result of ``bucket cohorts`` (conventions in results.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bucket.io.periods import Frequency
from bucket.results.common import SCHEMA_VERSION

_PYDANTIC = {"use_attribute_docstrings": True, "extra": "forbid"}


@dataclass(frozen=True)
class CohortRow:
    __pydantic_config__ = _PYDANTIC

    cohort: str
    size: float
    active: list[float]
    """customers still active at ages 0, 1, …"""
    survival: list[float]
    """active ÷ size at each age"""
    alpha: float | None = None
    """this cohort's own sBG fit (null when it shows no heterogeneity or is too young)"""
    beta: float | None = None


@dataclass(frozen=True)
class AgeRow:
    __pydantic_config__ = _PYDANTIC

    age: int
    observed_retention: float | None
    """Σ active at this age ÷ Σ active a period before, over cohorts observed this old"""
    fitted_retention: float | None
    """sBG: (β + t − 1)/(α + β + t − 1)"""
    constant_retention: float
    """1 − the constant churn fitted on the same data"""


@dataclass(frozen=True)
class SBGOut:
    __pydantic_config__ = _PYDANTIC

    alpha: float | None
    beta: float | None
    se_alpha: float | None
    se_beta: float | None
    loglik: float
    geometric_churn: float
    """constant churn per period, fitted on the same data"""
    geometric_loglik: float
    homogeneous: bool
    """true: no interior maximum, every customer churns alike; the constant churn is the fit"""
    better: Literal["sbg"] | None
    """'sbg' when a likelihood-ratio test (5 %) prefers it to a constant churn"""


@dataclass(frozen=True)
class ProjectionPoint:
    __pydantic_config__ = _PYDANTIC

    age: int
    survival_sbg: float | None
    survival_constant: float


@dataclass(frozen=True)
class Lifetime:
    __pydantic_config__ = _PYDANTIC

    discount_rate: float
    """per period"""
    periods_sbg: float | None
    """expected discounted lifetime of a new customer, in periods, under sBG"""
    periods_constant: float | None
    """the same under a constant churn"""
    cltv_sbg: float | None = None
    """u · m · periods_sbg (with --arpu)"""
    cltv_constant: float | None = None


@dataclass(frozen=True)
class ChannelSurvival:
    """One channel's cohorts pooled, age by age (DESIGN §13): compared with the others at the
    same ages, since a young channel's customers churn more for age alone."""

    __pydantic_config__ = _PYDANTIC

    channel: str
    customers: float
    """customers its cohorts started with"""
    survival: list[float]
    """share still active at ages 0, 1, … (the product of the age-by-age retention, over the
    cohorts old enough to show each age)"""
    churn: float | None
    """lost ÷ at risk over ages 1 … ``ChannelTest.ages``, the ages every channel shows"""
    lost: float
    """customers lost at those ages"""
    expected: float
    """customers it would have lost at those ages churning as all channels together"""


@dataclass(frozen=True)
class ChannelTest:
    """Log-rank test over channels at equal ages (Mantel 1966; Peto & Peto 1972): are the
    differences between channels' survival beyond chance?"""

    __pydantic_config__ = _PYDANTIC

    chi2: float
    df: int
    p_value: float
    ages: int
    """the ages compared: 1 … ages"""
    statement: str


@dataclass(frozen=True)
class CohortsResult:
    """`bucket cohorts --json`."""

    __pydantic_config__ = _PYDANTIC

    file: str
    frequency: Frequency
    cohorts: list[CohortRow]
    ages: list[AgeRow]
    fit: SBGOut
    projection: list[ProjectionPoint]
    lifetime: Lifetime
    warnings: list[str]
    channels: list[ChannelSurvival] | None = None
    """with a channel column (cohorts per channel): each channel's survival; null without"""
    channel_test: ChannelTest | None = None
    schema_version: str = SCHEMA_VERSION
    command: Literal["cohorts"] = "cohorts"

"""Results of the commands: the JSON contract, as dataclasses that pydantic validates and
describes.

The core builds results as plain frozen dataclasses (cheap: ``bucket metrics`` runs from cron,
and importing pydantic's model machinery would cost more than computing the metrics). pydantic
turns the same classes into the JSON Schema (``bucket schema``) and validates JSON read back
(``TypeAdapter(MetricsResult).validate_python``); attribute docstrings become descriptions.

Every result carries ``schema_version``; numbers are plain floats at full precision and
``None`` (JSON ``null``) where a value is undefined. ``check_finite`` refuses NaN and infinity
before anything is rendered, so a bug cannot leak one into the output.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from bucket.io.periods import Frequency

SCHEMA_VERSION = "1.0"
_PYDANTIC = {"use_attribute_docstrings": True, "extra": "forbid"}


def check_finite(obj: Any, path: str = "result") -> None:
    """Raise ValueError if any float inside ``obj`` (dataclasses, lists, dicts) is not finite."""
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"non-finite number at {path}")
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            check_finite(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, (list, tuple)):
        for i, x in enumerate(obj):
            check_finite(x, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, x in obj.items():
            check_finite(x, f"{path}.{k}")


def to_dict(result: Any) -> dict[str, Any]:
    return dataclasses.asdict(result)


KPI_KEYS: tuple[str, ...] = (
    "cac",
    "paid_cac",
    "conversion_rate",
    "roas",
    "churn_rate",
    "retention_rate",
    "arpu",
    "cltv",
    "ltv_to_cac",
    "payback_periods",
    "quick_ratio",
    "net_growth_rate",
    "nps",
    "retention_share",
)
TOTAL_KEYS: tuple[str, ...] = (
    "acquisition_spend",
    "retention_spend",
    "leads",
    "new_customers",
    "customers_start",
    "customers_end",
    "churned_customers",
    "reactivated_customers",
    "revenue",
    "attributed_revenue",
)


@dataclass(frozen=True)
class MetricsRow:
    """KPIs and the sums behind them over one set of ledger rows (DESIGN §3)."""

    __pydantic_config__ = _PYDANTIC

    scope: Literal["overall", "window", "period", "channel"]
    first_period: str
    last_period: str
    periods: int
    """number of distinct periods covered"""
    period: str | None = None
    """the period label, for scope 'period'"""
    channel: str | None = None
    """the channel, for scope 'channel'"""
    acquisition_spend: float | None = None
    retention_spend: float | None = None
    leads: float | None = None
    new_customers: float | None = None
    customers_start: float | None = None
    customers_end: float | None = None
    churned_customers: float | None = None
    reactivated_customers: float | None = None
    revenue: float | None = None
    attributed_revenue: float | None = None
    cac: float | None = None
    """acquisition_spend / new_customers (blended)"""
    paid_cac: float | None = None
    """acquisition_spend / (new − organic − referral), on rows that report them"""
    conversion_rate: float | None = None
    """new_customers / leads"""
    roas: float | None = None
    """attributed_revenue / acquisition_spend"""
    churn_rate: float | None = None
    """churned / customers_start, per period"""
    retention_rate: float | None = None
    """(customers_end − new − reactivated) / customers_start, per period"""
    arpu: float | None = None
    """revenue / average customers ((start + end) / 2), per period"""
    cltv: float | None = None
    """arpu · margin · (1 + d) / (d + churn_rate), d the discount rate per period"""
    ltv_to_cac: float | None = None
    """cltv / cac"""
    payback_periods: float | None = None
    """cac / (arpu · margin), in periods"""
    quick_ratio: float | None = None
    """new_customers / churned_customers"""
    net_growth_rate: float | None = None
    """(customers_end − customers_start) / customers_start, per period"""
    nps: float | None = None
    """100 · (promoters − detractors) / (promoters + passives + detractors)"""
    retention_share: float | None = None
    """retention_spend / (acquisition_spend + retention_spend): today's split"""


@dataclass(frozen=True)
class Assumptions:
    __pydantic_config__ = _PYDANTIC

    margin: float
    """gross margin applied to ARPU (0 < m ≤ 1)"""
    annual_discount_rate: float
    """discount rate per year, as a fraction"""
    discount_rate: float
    """discount rate per period: (1 + annual)^(1 / periods per year) − 1"""


@dataclass(frozen=True)
class MetricsResult:
    """`bucket metrics --json`: every KPI overall, per period and per channel."""

    __pydantic_config__ = _PYDANTIC

    file: str
    frequency: Frequency
    channels_present: bool
    assumptions: Assumptions
    overall: MetricsRow
    periods: list[MetricsRow]
    channels: list[MetricsRow]
    warnings: list[str]
    currency: str | None = None
    """currency symbol or code seen in the file's money columns"""
    window: MetricsRow | None = None
    """the last --window periods, when asked"""
    schema_version: str = SCHEMA_VERSION
    command: Literal["metrics"] = "metrics"


@dataclass(frozen=True)
class ProblemOut:
    __pydantic_config__ = _PYDANTIC

    severity: Literal["error", "warning"]
    code: str
    """a stable slug, e.g. bad-number, missing-column"""
    message: str
    fix: str
    line: str
    """the one-line form printed on stderr"""
    row: int | None = None
    """spreadsheet row (header = 1)"""
    column: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ValidationResult:
    """`bucket validate --json`: every problem found in a ledger."""

    __pydantic_config__ = _PYDANTIC

    file: str
    valid: bool
    errors: int
    warnings: int
    problems: list[ProblemOut]
    rows: int | None = None
    """data rows read (when the file could be read)"""
    frequency: Frequency | None = None
    periods: int | None = None
    channels: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION
    command: Literal["validate"] = "validate"

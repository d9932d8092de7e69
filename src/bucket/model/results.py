"""Results of the commands as pydantic models: the JSON contract and its JSON Schema.

Every result carries ``schema_version``; numbers are plain floats at full precision and
``None`` (JSON ``null``) where a value is undefined, never NaN or infinity (the ``Finite``
type refuses them, so a bug cannot leak one into the output).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


def _finite(x: float | None) -> float | None:
    if x is not None and not math.isfinite(x):
        raise ValueError("non-finite number in a result")
    return x


Finite = Annotated[float | None, AfterValidator(_finite)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class MetricsRow(_Model):
    """KPIs and the sums behind them over one set of ledger rows (DESIGN §3)."""

    scope: Literal["overall", "window", "period", "channel"]
    period: str | None = Field(None, description="the period label, for scope 'period'")
    channel: str | None = Field(None, description="the channel, for scope 'channel'")
    first_period: str
    last_period: str
    periods: int = Field(description="number of distinct periods covered")
    # sums
    acquisition_spend: Finite = None
    retention_spend: Finite = None
    leads: Finite = None
    new_customers: Finite = None
    customers_start: Finite = None
    customers_end: Finite = None
    churned_customers: Finite = None
    reactivated_customers: Finite = None
    revenue: Finite = None
    attributed_revenue: Finite = None
    # KPIs
    cac: Finite = Field(None, description="acquisition_spend / new_customers (blended)")
    paid_cac: Finite = Field(None, description="acquisition_spend / (new − organic − referral)")
    conversion_rate: Finite = Field(None, description="new_customers / leads")
    roas: Finite = Field(None, description="attributed_revenue / acquisition_spend")
    churn_rate: Finite = Field(None, description="churned / customers_start, per period")
    retention_rate: Finite = Field(
        None, description="(customers_end − new − reactivated) / customers_start, per period"
    )
    arpu: Finite = Field(None, description="revenue / average customers, per period")
    cltv: Finite = Field(None, description="arpu · margin · (1 + d) / (d + churn_rate)")
    ltv_to_cac: Finite = Field(None, description="cltv / cac")
    payback_periods: Finite = Field(None, description="cac / (arpu · margin), in periods")
    quick_ratio: Finite = Field(None, description="new_customers / churned_customers")
    net_growth_rate: Finite = Field(None, description="(end − start) / start, per period")
    nps: Finite = Field(None, description="100 · (promoters − detractors) / respondents")
    retention_share: Finite = Field(
        None, description="retention_spend / (acquisition_spend + retention_spend)"
    )


class Assumptions(_Model):
    margin: float = Field(description="gross margin applied to ARPU (0 < m ≤ 1)")
    annual_discount_rate: float
    discount_rate: float = Field(description="discount rate per period, from the annual rate")


class MetricsResult(_Model):
    schema_version: str = SCHEMA_VERSION
    command: Literal["metrics"] = "metrics"
    file: str
    frequency: Literal["month", "week", "quarter"]
    currency: str | None = Field(None, description="currency symbol or code seen in the file")
    channels_present: bool
    assumptions: Assumptions
    overall: MetricsRow
    window: MetricsRow | None = Field(None, description="the last --window periods, if asked")
    periods: list[MetricsRow]
    channels: list[MetricsRow]
    warnings: list[str]


class ProblemOut(_Model):
    severity: Literal["error", "warning"]
    code: str = Field(description="a stable slug, e.g. bad-number, missing-column")
    row: int | None = Field(None, description="spreadsheet row (header = 1)")
    column: str | None = None
    value: str | None = None
    message: str
    fix: str
    line: str = Field(description="the one-line form printed on stderr")


class ValidationResult(_Model):
    schema_version: str = SCHEMA_VERSION
    command: Literal["validate"] = "validate"
    file: str
    valid: bool
    errors: int
    warnings: int
    rows: int | None = Field(None, description="data rows read (when the file could be read)")
    frequency: Literal["month", "week", "quarter"] | None = None
    periods: int | None = None
    channels: list[str] = Field(default_factory=list)
    problems: list[ProblemOut]

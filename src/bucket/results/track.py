"""A saved plan (``plan --save DIR``) and ``bucket track``'s result (DESIGN §14); see
results/common.py for the conventions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bucket.io.periods import Frequency
from bucket.results.common import SCHEMA_VERSION
from bucket.results.plan import PlanResult

# a saved plan is read back: a NaN or infinity in one is refused like any other bad value
_PYDANTIC = {"use_attribute_docstrings": True, "extra": "forbid", "allow_inf_nan": False}
SERIES = ("customers", "new_customers", "churned_customers")
Series = Literal["customers", "new_customers", "churned_customers"]


@dataclass(frozen=True)
class SavedSpend:
    """Spend per period of one split: acquisition per modelled channel, retention."""

    __pydantic_config__ = _PYDANTIC

    acquisition: list[float]
    """per channel, in the order of ``SavedModel.channels``"""
    retention: float


@dataclass(frozen=True)
class SavedPools:
    __pydantic_config__ = _PYDANTIC

    names: list[str]
    hazard: list[float]
    arpu: list[float]
    mix: list[float]


@dataclass(frozen=True)
class SavedAges:
    """An sBG plan's customers by age (``--retention-model sbg``), the last age holding the
    older ones."""

    __pydantic_config__ = _PYDANTIC

    hazard: list[float]
    """each age's churn relative to the base's average today"""
    mix: list[float]
    """today's base by age (sums to 1)"""


@dataclass(frozen=True)
class SavedModel:
    """The calibrated model at the plan's point estimate: what a replay needs."""

    __pydantic_config__ = _PYDANTIC

    n0: float
    """customers at the end of the as-of period"""
    u: float
    m: float
    d: float
    o: float
    q: float
    c_min: float
    c_base: float
    k: float
    retention_per_customer: float
    """today's retention spend per customer per period (where drift reads the churn curve)"""
    channels: list[str]
    kappa: list[float]
    saturation: list[float]
    carryover: list[float]
    effective: list[float]
    """each channel's effective spend in the as-of period (after carry-over)"""
    current: SavedSpend
    recommended: SavedSpend
    capacity: float | None = None
    max_growth: float | None = None
    pools: SavedPools | None = None
    ages: SavedAges | None = None


@dataclass(frozen=True)
class SavedDraws:
    """The plan's parameter draws (DESIGN §7), one value per draw."""

    __pydantic_config__ = _PYDANTIC

    seed: int
    u: list[float]
    o: list[float]
    q: list[float]
    c_min: list[float]
    c_base: list[float]
    k: list[float]
    kappa: list[list[float]]
    """per draw, per channel"""
    saturation: list[list[float]]


@dataclass(frozen=True)
class Band:
    __pydantic_config__ = _PYDANTIC

    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class ForecastRow:
    """One period ahead of the plan: each series' 80 % prediction interval and median."""

    __pydantic_config__ = _PYDANTIC

    period: str
    horizon: int
    customers: Band
    """the base at the end of the period"""
    new_customers: Band
    churned_customers: Band


@dataclass(frozen=True)
class SavedForecast:
    """Prediction intervals from the parameter draws plus binomial churn and Poisson new
    customers, at constant spend."""

    __pydantic_config__ = _PYDANTIC

    current: list[ForecastRow]
    recommended: list[ForecastRow]


@dataclass(frozen=True)
class PeriodTotals:
    """What the ledger said of one period when the plan was saved (restatements are found by
    comparing these with a later ledger)."""

    __pydantic_config__ = _PYDANTIC

    period: str
    values: dict[str, float]


@dataclass(frozen=True)
class SavedPlan:
    """`bucket plan --save DIR`: the plan and what tracking it needs (DESIGN §14)."""

    __pydantic_config__ = _PYDANTIC

    key: str
    """sha256 of the parsed ledger, experiments, settings and version"""
    as_of: str
    """the ledger's last period when the plan was made"""
    as_of_ordinal: int
    frequency: Frequency
    bucket_version: str
    model: SavedModel
    forecast: SavedForecast
    history: list[PeriodTotals]
    plan: PlanResult
    draws: SavedDraws | None = None
    """null when the plan ran with --draws 0"""
    schema_version: str = SCHEMA_VERSION
    command: Literal["saved-plan"] = "saved-plan"


@dataclass(frozen=True)
class TrackedValue:
    __pydantic_config__ = _PYDANTIC

    actual: float
    replay: float
    """the plan's model on the spend actually made, run free from the plan's base"""
    low: float
    """P10 of the replay's prediction interval"""
    high: float
    """P90"""


@dataclass(frozen=True)
class TrackedPeriod:
    __pydantic_config__ = _PYDANTIC

    period: str
    horizon: int
    """periods after the plan's as-of period (1 = the first one it forecast)"""
    acquisition_spend: float
    retention_spend: float
    customers: TrackedValue
    new_customers: TrackedValue
    churned_customers: TrackedValue


@dataclass(frozen=True)
class SeriesError:
    __pydantic_config__ = _PYDANTIC

    series: Series
    mape: float | None
    """mean absolute percentage error of the replay (0.05 = 5 %); null without actuals > 0"""
    mape_h1: float | None
    """the same at horizon 1 only"""
    bias: float | None
    """mean signed error ÷ actual: above 0 the model forecast too much"""
    coverage: float
    """share of actuals inside the replay's 80 % interval (80 % when the intervals are honest)"""
    skill: float | None
    """1 − MAE(replay) ÷ MAE(naive: the as-of period's value carried forward); above 0 beats
    the naive forecast; null when the naive forecast was exact"""


@dataclass(frozen=True)
class Payoff:
    """Did the spend actually made do better than today's split would have, by the plan's own
    model and on the plan's own objective? Replays at both, on the same budget each period."""

    __pydantic_config__ = _PYDANTIC

    objective: Literal["value", "profit", "customers"]
    """what the plan maximised, and what the payoff is measured in (value: discounted profit
    over the tracked periods plus the equity of the base after them; profit: over the tracked
    periods; customers: at the last tracked period)"""
    gain: float
    """replay at the actual spend minus replay at today's split, on the objective"""
    low: float
    """P10 of that difference across the parameter draws (equal to gain without draws)"""
    high: float
    """P90"""
    replay_error: float
    """|actual − replay at the spend made|, on the objective: how wrong the model is here"""
    verdict: Literal["paid off", "cost", "cannot tell yet", "not followed"]
    statement: str


@dataclass(frozen=True)
class Restated:
    __pydantic_config__ = _PYDANTIC

    period: str
    columns: list[str]
    """the columns whose totals differ from what the plan saw"""


@dataclass(frozen=True)
class TrackedPlan:
    __pydantic_config__ = _PYDANTIC

    plan: str
    """the saved plan's file name"""
    as_of: str
    current_share: float
    recommended_share: float
    actual_share: float | None
    """acquisition share of the spend actually made over the tracked periods"""
    adherence: float | None
    """0 = today's split kept, 1 = the recommendation followed (per channel and on retention;
    below 0 moved away from it, above 1 past it); null when the plan kept today's split"""
    periods: list[TrackedPeriod]
    errors: list[SeriesError]
    payoff: Payoff | None
    restated: list[Restated]
    unmodelled: list[str]
    """channels that spent in the tracked periods without a response curve in the plan"""


@dataclass(frozen=True)
class Drift:
    """One quantity between two consecutive saved plans, both read where the later plan stands
    (its retention spend per customer, each channel's spend)."""

    __pydantic_config__ = _PYDANTIC

    parameter: str
    channel: str | None
    before_as_of: str
    after_as_of: str
    before: float
    """the earlier plan's model"""
    after: float
    """the later plan's model"""
    sd: float
    """SD of the difference: both plans' spread across their draws"""
    z: float
    """(after − before) ÷ sd"""
    flagged: bool
    """|z| > 2 and a move of 5 % or more"""


@dataclass(frozen=True)
class TrackSummary:
    """The keys `bucket check --plans DIR` reads; null when nothing can be compared yet."""

    __pydantic_config__ = _PYDANTIC

    forecast_mape_h1: float | None
    """worst series' MAPE at horizon 1, over every tracked plan"""
    forecast_bias: float | None
    """largest |bias| of a series over every tracked period of every plan"""
    forecast_coverage: float | None
    """share of actuals inside their 80 % interval, every series, period and plan"""
    plan_adherence: float | None
    """the latest tracked plan's adherence"""
    parameter_drift_max_z: float | None
    """largest |z| between the last two saved plans among quantities that moved by 5 % or
    more (0 when none did)"""


@dataclass(frozen=True)
class TrackResult:
    """`bucket track DIR LEDGER --json`."""

    __pydantic_config__ = _PYDANTIC

    directory: str
    file: str
    frequency: Frequency
    saved: int
    """saved plans found"""
    plans: list[TrackedPlan]
    """the saved plans with later periods in the ledger, oldest first"""
    drift: list[Drift]
    summary: TrackSummary
    verdict: str
    warnings: list[str]
    schema_version: str = SCHEMA_VERSION
    command: Literal["track"] = "track"

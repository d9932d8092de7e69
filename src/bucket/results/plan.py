"""Results of ``bucket plan`` and ``bucket simulate`` (the JSON contract; see results.py for why
these are dataclasses that pydantic describes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bucket.io.periods import Frequency
from bucket.results.backtest import BacktestResult
from bucket.results.common import SCHEMA_VERSION

_PYDANTIC = {"use_attribute_docstrings": True, "extra": "forbid"}
Source = Literal["fitted", "observed", "derived", "assumed", "set", "experiment"]


@dataclass(frozen=True)
class ChannelPlan:
    __pydantic_config__ = _PYDANTIC

    channel: str
    acquisition_spend: float
    """per period"""
    marginal_cac: float | None
    """cost of one more customer from this channel at this spend: κ·exp(A/(κM)); null when
    the spend is so far past saturation that it overflows"""
    paid_customers: float
    """paid new customers per period this spend buys, by the fitted or assumed curve"""
    value_per_customer: float | None = None
    """with channel pools: what one more paid customer of this channel adds to the objective
    (∂objective/∂paid_j over the horizon's discounted periods); spend equalises it per unit of
    money across funded channels"""
    cltv: float | None = None
    """with channel pools: one customer's discounted margin over their expected lifetime at
    this split's retention spend, u_j·m·(1 + d)/(d + churn_j)"""


@dataclass(frozen=True)
class Split:
    """A split of the budget and what it does over the horizon."""

    __pydantic_config__ = _PYDANTIC

    budget: float
    """total spend per period"""
    acquisition_share: float
    retention_share: float
    acquisition_spend: float
    retention_spend: float
    channels: list[ChannelPlan]
    objective: float
    """the score of the plan's objective"""
    customers_end: float
    """customers after the horizon"""
    value: float | None = None
    """customer equity: discounted profit over the horizon + terminal value (needs revenue)"""
    profit: float | None = None
    """Σ profit over the horizon, undiscounted (needs revenue)"""
    change: float | None = None
    """relative change of the objective against today's split"""
    discounted_profit: float | None = None
    """the part of ``value`` earned over the horizon: Σ profit_t / (1+d)^t"""
    terminal_value: float | None = None
    """the part of ``value`` the customers left at the horizon are worth after it, discounted;
    ``discounted_profit + terminal_value = value``"""


@dataclass(frozen=True)
class MarginalView:
    __pydantic_config__ = _PYDANTIC

    marginal_cac: float | None
    """blended cost of one more paid customer (all channels grown in proportion)"""
    cost_to_retain: float | None
    """cost of keeping one more customer for one period: k / (churn − c_min)"""
    cltv: float | None
    marginal_value_acquisition: float
    """∂objective/∂(acquisition spend per period), over the horizon with the terminal value"""
    marginal_value_retention: float
    """∂objective/∂(retention spend per period)"""
    channels: list[dict[str, float | str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Marginal:
    __pydantic_config__ = _PYDANTIC

    current: MarginalView
    recommended: MarginalView


@dataclass(frozen=True)
class ParameterOut:
    __pydantic_config__ = _PYDANTIC

    name: str
    symbol: str
    value: float | None
    source: Source
    note: str = ""
    channel: str | None = None


@dataclass(frozen=True)
class CurvePoint:
    __pydantic_config__ = _PYDANTIC

    value: float
    acquisition_share: float


@dataclass(frozen=True)
class Sensitivity:
    __pydantic_config__ = _PYDANTIC

    parameter: str
    symbol: str
    value: float
    """the value the plan uses"""
    low: float
    high: float
    share_at_low: float
    """recommended acquisition share with the parameter at the low end"""
    share_at_high: float
    impact: float
    """|share_at_high − share_at_low|; the table is sorted by it"""
    curve: list[CurvePoint]
    """recommended acquisition share across the parameter's plausible range"""


@dataclass(frozen=True)
class BreakEven:
    __pydantic_config__ = _PYDANTIC

    parameter: str
    symbol: str
    value: float
    range_low: float
    range_high: float
    roots: list[float]
    """every value in the range at which today's split is the optimum (empty: none)"""
    statement: str


@dataclass(frozen=True)
class LeverRow:
    __pydantic_config__ = _PYDANTIC

    lever: str
    change: float
    """change of the objective over the horizon"""
    relative_change: float | None


@dataclass(frozen=True)
class Leverage:
    __pydantic_config__ = _PYDANTIC

    objective: str
    rows: list[LeverRow]
    retention_vs_acquisition: float | None
    """(effect of 1 % less churn) ÷ (effect of 1 % more new customers)"""


@dataclass(frozen=True)
class ProjectionRow:
    __pydantic_config__ = _PYDANTIC

    period: str
    customers_start: float
    new_customers: float
    churned_customers: float
    churn_rate: float
    customers_end: float
    profit: float | None = None
    overflow: float = 0.0
    """customers turned away by --capacity or --max-growth"""


@dataclass(frozen=True)
class Projection:
    __pydantic_config__ = _PYDANTIC

    current: list[ProjectionRow]
    recommended: list[ProjectionRow]


@dataclass(frozen=True)
class Target:
    __pydantic_config__ = _PYDANTIC

    growth: float
    """growth of the customer base over the horizon that was asked for"""
    reachable: bool
    budget: float | None = None
    """least budget per period whose best split reaches the growth"""
    acquisition_share: float | None = None
    max_growth: float | None = None
    """largest growth reachable within 100x today's budget"""


@dataclass(frozen=True)
class Percentiles:
    __pydantic_config__ = _PYDANTIC

    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class Uncertainty:
    """The plan re-run on resampled, refitted and redrawn calibrations (DESIGN §7)."""

    __pydantic_config__ = _PYDANTIC

    draws: int
    seed: int
    split: Percentiles
    """best acquisition share across draws"""
    value_recommended: Percentiles
    """the objective at the recommended split, across draws"""
    value_current: Percentiles
    """the objective at today's split, across draws"""
    share_better: float
    """share of draws in which the recommended split beats today's"""
    refits_accepted: float
    """share of channel refits that passed the fit rules (the rest fell back to φ)"""
    gain: Percentiles | None = None
    """relative change of the objective at the recommended split against today's, across
    draws (the headline's figures: median and P10)"""
    rule: Literal["best", "partial", "keep"] = "best"
    """how the split was chosen over the scenarios: ``best`` the split with the best mean
    objective; ``partial`` only part of the way to it, as far as ``confidence`` of the scenarios
    still beat today's split; ``keep`` today's split, since no move does"""
    best_split: float | None = None
    """the split with the best mean objective across the scenarios"""
    confidence: float = 0.9
    """the share of the scenarios a move must beat today's split in: 0.9, or 0.8 when
    experiments inform the scenarios"""


@dataclass(frozen=True)
class Window:
    __pydantic_config__ = _PYDANTIC

    first_period: str
    last_period: str
    periods: int


@dataclass(frozen=True)
class ExperimentCheck:
    """One arm of a retention test, or one lift test, read with ``--experiments`` (DESIGN §12)."""

    __pydantic_config__ = _PYDANTIC

    test: str
    kind: Literal["retention", "acquisition"]
    arm: str | None
    """the retention arm; null for a lift test"""
    channel: str | None
    """the lift test's channel; null for a retention arm"""
    observed: float
    """retention: share of the arm's customers that churned over the test; acquisition: the
    incremental customers measured"""
    predicted: float
    """the same on the calibrated curves (the experiments' posterior medians)"""
    ledger: float
    """the same as the ledger alone predicts it (mean over the plausible ranges)"""
    se: float
    """standard error of observed − ledger (the test's sampling error and the ranges' spread)"""
    z: float
    """(observed − ledger) ÷ se: beyond ±3 the test disagrees with the ledger"""
    informs: list[str]
    """the parameters it informs: mu (an arm above today's spend), k (below), phi (a lift
    test raising spend), iota (a go-dark test)"""


@dataclass(frozen=True)
class TestArm:
    __pydantic_config__ = _PYDANTIC

    name: str
    """current (today's retention spend per customer) or the arm to compare it with"""
    spend_per_customer: float
    """retention spend per customer per period in the arm"""
    churn: float
    """share of the arm's customers the plan's model expects to churn over the test"""


@dataclass(frozen=True)
class ExperimentSuggested:
    """The retention test that would measure what the plan assumes (DESIGN §12)."""

    __pydantic_config__ = _PYDANTIC

    informs: Literal["mu", "k"]
    """mu: how much churn money can remove at all (an arm above today's spend); k: how fast
    churn rises without it (an arm below)"""
    arms: list[TestArm]
    periods: float
    customers_per_arm: int | None
    """for `power` at two-sided `significance`; null when the model predicts no difference"""
    share_of_base: float | None
    """customers per arm ÷ today's customer base"""
    power: float
    significance: float
    note: str


@dataclass(frozen=True)
class PoolOut:
    """One pool of customers (DESIGN §13): a modelled channel's, or ``other`` (organic,
    referred, channels without a response curve)."""

    __pydantic_config__ = _PYDANTIC

    pool: str
    customers: float
    """at the end of the ledger"""
    churn_observed: float | None
    """churned ÷ customers at the start of each period, over the window; null without customers"""
    churn_se: float | None
    """binomial standard error of churn_observed"""
    shrinkage: float | None
    """weight of the pooled churn in churn_used: 0 keeps the pool's own, 1 the pooled one"""
    churn_used: float
    """per period at today's retention spend per customer: h_j × the window's churn"""
    arpu: float | None
    """revenue per customer per period of this pool's rows"""
    cltv: float | None
    """at churn_used: u_j·m·(1 + d)/(d + churn_used)"""
    cac: float | None
    """the window's acquisition spend ÷ paid new customers (null for ``other``)"""
    ltv_to_cac: float | None


@dataclass(frozen=True)
class ChannelQuality:
    """Do the channels' customers churn differently? Cochran's Q over the pools' churn, and what
    the plan does with the answer."""

    __pydantic_config__ = _PYDANTIC

    q: float
    df: int
    p_value: float
    tau2: float
    """between-pool variance of churn beyond binomial noise (DerSimonian–Laird)"""
    pooled_churn: float
    """the random-effects mean churn the pools are shrunk towards"""
    moved: float
    """acquisition money per period the plan gives other channels than funding at equal
    marginal CAC would (half the sum of absolute differences)"""
    statement: str


@dataclass(frozen=True)
class PlanResult:
    """`bucket plan --json`."""

    __pydantic_config__ = _PYDANTIC

    file: str
    frequency: Frequency
    objective: Literal["value", "customers", "profit", "target"]
    horizon: int
    budget: float
    budget_source: Literal["window mean", "set"]
    window: Window
    headline: str
    current: Split
    recommendation: Split
    parameters: list[ParameterOut]
    marginal: Marginal
    sensitivity: list[Sensitivity]
    break_even: list[BreakEven]
    leverage: Leverage
    projection: Projection
    warnings: list[str]
    currency: str | None = None
    target: Target | None = None
    uncertainty: Uncertainty | None = None
    """null with --draws 0"""
    backtest: BacktestResult | None = None
    """with --backtest H"""
    experiments: list[ExperimentCheck] | None = None
    """each retention arm of --experiments against the ledger; null without experiments"""
    experiment_suggested: ExperimentSuggested | None = None
    """the retention test to run next; null when retention spend has no effect to test"""
    pools: list[PoolOut] | None = None
    """each channel's customers as their own pool; null with --channel-quality off, without
    a channel column, or when fewer than two pools have customers"""
    channel_quality: ChannelQuality | None = None
    schema_version: str = SCHEMA_VERSION
    command: Literal["plan"] = "plan"


@dataclass(frozen=True)
class SimulationResult:
    """`bucket simulate --json`: a split the user names, beside today's."""

    __pydantic_config__ = _PYDANTIC

    file: str
    frequency: Frequency
    objective: Literal["value", "customers", "profit"]
    horizon: int
    budget: float
    window: Window
    current: Split
    scenario: Split
    parameters: list[ParameterOut]
    projection: Projection
    """projection.recommended holds the named split"""
    warnings: list[str]
    currency: str | None = None
    schema_version: str = SCHEMA_VERSION
    command: Literal["simulate"] = "simulate"

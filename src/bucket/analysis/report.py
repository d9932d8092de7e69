"""The evidence behind a plan, as numbers for the report's charts (`bucket report`).

``make_report`` runs the plan once (the same ``PlanResult`` that ``plan --json`` prints for the
same input, settings and seed) and keeps what the plan computes on the way and then throws
away: the objective at every split (and its P10–P90 across the uncertainty draws), the marginal
cost of a customer on each side at every split, the customer base over the horizon under both
splits with fan bands, the backtest and, for event inputs, the cohort curves. Each chart gets a
one-line takeaway written from these numbers. Nothing here draws or prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bucket.analysis.wording import plural, takeaways
from bucket.errors import ConfigError, InputError
from bucket.model.optimize import GRID, finite_or_none, grid_scores

if TYPE_CHECKING:
    from pathlib import Path

    from bucket.io.cohorts import CohortTable
    from bucket.io.ledger import Ledger
    from bucket.model.context import PlanContext
    from bucket.results.backtest import BacktestResult
    from bucket.results.cohorts import CohortsResult
    from bucket.results.common import MetricsResult
    from bucket.results.plan import PlanResult
    from bucket.results.track import SavedPlan, TrackResult
    from bucket.settings import PlanSettings

MARGINAL_POINTS = 41
BACKTEST_HOLDOUT = 3


@dataclass(frozen=True)
class Band:
    p10: list[float]
    p50: list[float]
    p90: list[float]


@dataclass(frozen=True)
class Report:
    plan: PlanResult
    metrics: MetricsResult
    first_period: str  # the input's period range
    last_period: str
    run_date: str
    # 1. the objective against the acquisition share
    shares: list[float]
    objective: list[float]
    objective_band: Band | None
    # 2. the marginal cost of one more customer on each side against the split: what the next
    # unit of spend costs per customer's worth of objective it adds (W / gross ∂objective/∂spend,
    # W the worth of one more customer a period), so at an interior optimum, where both
    # derivatives are equal, the two curves meet; on acquisition it is the marginal CAC
    marginal_shares: list[float]
    marginal_acquisition: list[float | None]
    marginal_retention: list[float | None]
    crossing: float | None  # the share at which the two curves cross
    customer_worth: float | None  # W
    # 3. the customer base over the horizon
    periods: list[str]  # the last observed period, then the horizon
    base_current: list[float]
    base_recommended: list[float]
    band_current: Band | None
    band_recommended: Band | None
    # 5. the backtest, and the cohorts for event inputs
    backtest: BacktestResult | None
    backtest_note: str | None
    cohorts: CohortsResult | None
    takeaways: dict[str, str]
    warnings: list[str]  # the plan's, then the cohort analysis's
    # 8. saved plans against what happened (--plans DIR), and this plan to save (--save DIR)
    tracked: TrackResult | None = None
    saved: tuple[str, SavedPlan] | None = None


def _band(x: np.ndarray) -> Band:
    p10, p50, p90 = np.percentile(x, [10, 50, 90], axis=0)
    return Band([float(v) for v in p10], [float(v) for v in p50], [float(v) for v in p90])


def _crossing(shares: np.ndarray, a: list[float | None], r: list[float | None]) -> float | None:
    """Where the acquisition side's marginal cost (rising with its share) meets retention's."""
    diff = np.array([np.nan if x is None or y is None else x - y for x, y in zip(a, r)])
    for i in range(len(diff) - 1):
        d0, d1 = diff[i], diff[i + 1]
        if np.isfinite(d0) and np.isfinite(d1) and d0 * d1 <= 0 and d0 != d1:
            return float(shares[i] + (shares[i + 1] - shares[i]) * d0 / (d0 - d1))
    return None


def _customer_worth(ctx, share: float) -> tuple[float | None, float]:
    """(W, D) at the split: W the objective's gain from one more customer arriving in every
    period (∂objective/∂organic inflow), D the spend periods as the objective counts them
    (discounted for value). One more unit of spend a period on a side buys ∂objective/∂spend
    plus D (value and profit are net of spend); W over that is the money per customer, which
    on the acquisition side is the marginal CAC."""
    from dataclasses import replace

    from bucket.model.optimize import evaluate

    base = ctx.scenario(share).score
    more = evaluate(
        ctx.cal,
        replace(ctx.params, o=ctx.params.o + 1.0),
        share,
        ctx.budget,
        ctx.horizon,
        ctx.objective,
    ).score
    d = float(ctx.params.d) if ctx.objective == "value" else 0.0
    periods = float(sum((1.0 + d) ** -t for t in range(ctx.horizon)))
    worth = more - base
    return (float(worth) if np.isfinite(worth) and worth > 0 else None), periods


def _backtest(ledger: Ledger, settings: PlanSettings, sources: dict[str, str], plan: PlanResult):
    if plan.backtest is not None:
        return plan.backtest, None
    from bucket.analysis.backtest import backtest_response

    periods = len(ledger.periods)
    holdout = min(BACKTEST_HOLDOUT, periods - 3)
    if holdout < 1:
        return (
            None,
            f"the ledger has {plural(periods, 'period')}: too few to hold some out and backtest",
        )
    try:
        return backtest_response(ledger, settings, sources, holdout), None
    except (ConfigError, InputError) as exc:
        return None, f"no backtest: {exc}"


def _cohorts(
    ledger: Ledger, settings: PlanSettings, frequency: str, table: CohortTable | None
) -> tuple[CohortsResult | None, list[str]]:
    """The cohort analysis for chart 6 and its warnings: from a cohort file when one is given
    (its periods must be the ledger's), else from the cohorts event inputs bring along."""
    if table is None:
        if not ledger.cohorts:
            return None, []  # before the imports: the cohort analysis takes 0.1 s to import
        from bucket.io.cohorts import CohortTable, cohort_counts

        labels, counts = cohort_counts(ledger.cohorts)
        table = CohortTable(ledger.file, labels, counts)
    # else make_report checked its frequency
    from bucket.analysis.cohorts import analyse

    try:
        result = analyse(table, frequency, settings.annual_discount_rate, None, settings.margin)
    except InputError as exc:
        return None, [f"no cohort chart: {exc}"]
    return result, list(result.warnings)


def _same_frequency(table: CohortTable, frequency: str) -> None:
    from bucket.errors import Problem
    from bucket.io.periods import PeriodProblem, parse_label, resolve

    try:
        theirs = resolve([parse_label(x) for x in table.labels]).frequency
    except PeriodProblem:
        theirs = None
    if theirs != frequency:
        raise InputError(
            Problem(
                "error",
                "cohort-frequency",
                f"the cohorts are {theirs or 'not'} periods, the ledger's are {frequency}s",
                f"derive the cohorts at the ledger's frequency (--frequency {frequency})",
                table.file,
                column="cohort",
            )
        )


def _derivatives(ctx: PlanContext, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂objective/∂acquisition and ∂objective/∂retention spend at every share, channels funded
    at their best: the central differences of ``marginals`` (model/optimize.py), for all the
    shares in one batch (41 calls of it took 0.6 s). The channels' worth at each share starts
    the allocation of the four shifted amounts there, as in ``marginals``."""
    from bucket.model.optimize import channel_spend, channel_worth, score
    from bucket.model.simulate import inflow_for, run

    kappa, sat, params, horizon = ctx.cal.kappa, ctx.cal.saturation, ctx.params, ctx.horizon
    a, r = shares * ctx.budget, (1.0 - shares) * ctx.budget

    def spread(acq: np.ndarray, ret: np.ndarray, worth: np.ndarray | None) -> np.ndarray:
        return channel_spend(
            acq, ret, kappa, sat, params, horizon=horizon, objective=ctx.objective, worth=worth
        )

    start = None
    if params.pools is not None:
        start = channel_worth(
            spread(a, r, None), r, kappa, sat, params, horizon=horizon, objective=ctx.objective
        )
        start = np.broadcast_to(start, (4, *start.shape))
    h = np.maximum(1e-4 * (a + r), 1e-6)
    a_lo, r_lo = np.maximum(a - h, 0.0), np.maximum(r - h, 0.0)
    acq, ret = np.stack([a + h, a_lo, a, a]), np.stack([r, r, r + h, r_lo])
    paid = inflow_for(params, spread(acq, ret, start), kappa, sat)
    scores = score(run(params, acq, ret, paid, horizon), ctx.objective)
    return (scores[0] - scores[1]) / (a + h - a_lo), (scores[2] - scores[3]) / (r + h - r_lo)


def _marginal_costs(ctx: PlanContext, shares: np.ndarray, recommended: float):
    """(W, marginal cost of a customer by acquisition, by retention) at each share: chart 2."""
    worth, spend_periods = _customer_worth(ctx, recommended)
    # value and profit are net of spend: one more unit of spend a period costs the spend
    # periods themselves, so the gain it buys is the net derivative plus those (gross)
    spent = spend_periods if ctx.objective in ("value", "profit") else 0.0
    sides = []
    for d in _derivatives(ctx, shares):
        gain = d + spent
        sides.append(
            [finite_or_none(worth / g) if worth and g > 0 else None for g in gain.tolist()]
        )
    return worth, sides[0], sides[1]


def _with_cohorts(ledger: Ledger, cohorts: CohortTable) -> Ledger:
    """The ledger with a cohort table (read from a file) in place of its own."""
    from dataclasses import replace

    _same_frequency(cohorts, ledger.frequency)
    rows = [
        {"cohort": label, "age": age, "active": float(n)}
        for label, counts in zip(cohorts.labels, cohorts.counts)
        for age, n in enumerate(counts)
    ]
    return replace(ledger, cohorts=rows)


def _tracking(ledger: Ledger, sources, plan, ctx, draws, *, plans: Path | None, save: bool):
    """Chart 8's saved plans against the ledger, and this plan as --save writes it."""
    tracked = saved = None
    if plans is not None:
        from bucket.analysis.track import track

        tracked = track(plans, ledger)
    if save:
        from bucket.analysis.saved import to_save

        saved = to_save(ledger, sources, plan, ctx, draws)
    return tracked, saved


def make_report(
    ledger: Ledger,
    settings: PlanSettings,
    sources: dict[str, str],
    *,
    today: dt.date | None = None,
    cohorts: CohortTable | None = None,
    plans: Path | None = None,
    save: bool = False,
) -> Report:
    """The plan and its evidence. ``cohorts``: a cohort table (from a file) for the plan and
    chart 6, in place of the ledger's; ``plans``: saved plans to track (chart 8); ``save``:
    keep what ``plan --save`` would write (``Report.saved``)."""

    from bucket.analysis.metrics import compute_metrics
    from bucket.analysis.plan import plan_detail

    if cohorts is not None:  # checked before the plan runs, then used by all of it
        ledger = _with_cohorts(ledger, cohorts)
    plan, ctx, draws = plan_detail(ledger, settings, sources)
    metrics = compute_metrics(
        ledger, settings.margin, settings.annual_discount_rate, settings.window
    )
    objective = grid_scores(
        ctx.params, ctx.cal.kappa, ctx.cal.saturation, ctx.budget, ctx.horizon, ctx.objective
    )
    shares = np.linspace(0.0, 1.0, MARGINAL_POINTS)
    worth, m_cac, retain = _marginal_costs(ctx, shares, plan.recommendation.acquisition_share)
    proj_c, proj_r = plan.projection.current, plan.projection.recommended
    bt, note = _backtest(ledger, settings, sources, plan)
    cohort_result, cohort_warnings = _cohorts(ledger, settings, plan.frequency, cohorts)
    parts = dict(
        shares=[float(x) for x in GRID],
        objective=[float(x) for x in objective],
        objective_band=None if draws is None else _band(draws.grid),
        marginal_shares=[float(x) for x in shares],
        marginal_acquisition=m_cac,
        marginal_retention=retain,
        crossing=_crossing(shares, m_cac, retain),
        customer_worth=worth,
        periods=[plan.window.last_period, *(row.period for row in proj_c)],
        base_current=[proj_c[0].customers_start, *(row.customers_end for row in proj_c)],
        base_recommended=[proj_r[0].customers_start, *(row.customers_end for row in proj_r)],
        band_current=None if draws is None else _band(draws.customers_current),
        band_recommended=None if draws is None else _band(draws.customers_recommended),
        backtest=bt,
        backtest_note=note,
        cohorts=cohort_result,
    )
    tracked, saved = _tracking(ledger, sources, plan, ctx, draws, plans=plans, save=save)
    return Report(
        tracked=tracked,
        saved=saved,
        plan=plan,
        metrics=metrics,
        first_period=ledger.periods[0].label,
        last_period=ledger.periods[-1].label,
        run_date=(today or dt.date.today()).isoformat(),
        takeaways=takeaways(parts, plan),
        warnings=[
            *plan.warnings,
            *(w for w in cohort_warnings if w not in plan.warnings),
            *(w for w in (tracked.warnings if tracked else []) if w not in plan.warnings),
        ],
        **parts,
    )

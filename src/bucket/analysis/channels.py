"""Channel quality in a plan (DESIGN §13): each channel's customers as evidence (churn observed
and used, ARPU, CLTV, CAC), what the next paid customer of each channel is worth, and what the
plan does with it, in plain words."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bucket.analysis.wording import pct, possessive
from bucket.model.optimize import channel_worth, finite_or_none
from bucket.model.simulate import allocate, churn_at
from bucket.results import plan as out

if TYPE_CHECKING:
    from bucket.model.context import PlanContext
    from bucket.model.optimize import Scenario

SIGNIFICANCE = 0.05


def _cltv(ctx: PlanContext, churn: float, arpu_ratio: float) -> float | None:
    cal = ctx.cal
    if cal.u is None or cal.d + churn <= 0:
        return None
    return float(cal.u * arpu_ratio * cal.m * (1.0 + cal.d) / (cal.d + churn))


def _pool_churn(ctx: PlanContext, sc: Scenario) -> np.ndarray:
    """Each pool's churn in the first period of the scenario."""
    pools = ctx.cal.pools
    assert pools is not None
    r = sc.retention / ctx.obs.n0 if ctx.obs.n0 > 0 else 0.0
    return np.minimum(1.0, pools.hazard * float(churn_at(r, ctx.params)))


def worth_per_customer(ctx: PlanContext, sc: Scenario) -> np.ndarray:
    """What one more paid customer of each channel adds to the objective: ∂objective/∂paid_j
    per period of inflow, over the horizon's (discounted, for value) periods."""
    cal = ctx.cal
    w = channel_worth(
        np.asarray(sc.spend, dtype=float),
        np.asarray(sc.retention),
        cal.kappa,
        cal.saturation,
        ctx.params,
        horizon=ctx.horizon,
        objective=ctx.objective,
    )
    t = np.arange(ctx.horizon)
    periods = np.sum((1.0 + cal.d) ** -t) if ctx.objective == "value" else float(ctx.horizon)
    return np.asarray(w, dtype=float) / periods


def with_worth(ctx: PlanContext, split: out.Split, sc: Scenario) -> out.Split:
    """The split with each channel's value per paid customer and CLTV (with pools)."""
    pools = ctx.cal.pools
    if pools is None:
        return split
    worth = worth_per_customer(ctx, sc)
    churn = _pool_churn(ctx, sc)
    channels = []
    for j, ch in enumerate(split.channels):
        i = pools.names.index(ch.channel)
        cltv = _cltv(ctx, float(churn[i]), float(pools.arpu[i]))
        channels.append(replace(ch, value_per_customer=finite_or_none(float(worth[j])), cltv=cltv))
    return replace(split, channels=channels)


def pools_out(ctx: PlanContext) -> list[out.PoolOut] | None:
    """The pools as the plan reports them."""
    cal = ctx.cal
    if cal.pools is None:
        return None
    by_channel = {ch.name: ch for ch in ctx.obs.channels}
    rows = []
    for e, ratio in zip(cal.pool_evidence, cal.pools.arpu):
        ch = by_channel.get(e.name)
        cac = ch.spend / ch.paid if ch is not None and ch.paid > 0 else None
        cltv = _cltv(ctx, e.churn_used, float(ratio))
        rows.append(
            out.PoolOut(
                pool=e.name,
                customers=e.customers,
                churn_observed=e.churn_observed,
                churn_se=e.churn_se,
                shrinkage=e.shrinkage,
                churn_used=e.churn_used,
                arpu=e.arpu,
                cltv=cltv,
                cac=cac,
                ltv_to_cac=cltv / cac if cltv is not None and cac else None,
            )
        )
    return rows


def quality_out(ctx: PlanContext, rec: Scenario) -> out.ChannelQuality | None:
    """The test of whether the channels differ, and what the plan moves because of it."""
    cal, test = ctx.cal, ctx.cal.channel_quality
    if cal.pools is None or test is None:
        return None
    by_cac = allocate(np.array(rec.acquisition), cal.kappa, cal.saturation)
    diff = np.asarray(rec.spend) - by_cac
    moved = float(np.abs(diff).sum() / 2.0)
    return out.ChannelQuality(
        q=test.q,
        df=test.df,
        p_value=test.p_value,
        tau2=test.tau2,
        pooled_churn=test.pooled,
        moved=moved,
        statement=_statement(ctx, diff, moved),
    )


def _statement(ctx: PlanContext, diff: np.ndarray, moved: float) -> str:
    """In plain words: which channel's customers leak, and where the plan moves money."""
    cal, test = ctx.cal, ctx.cal.channel_quality
    assert test is not None
    per = ctx.obs.frequency
    churn = {e.name: e.churn_used for e in cal.pool_evidence if e.name in cal.channels}
    worst, best = max(churn, key=churn.__getitem__), min(churn, key=churn.__getitem__)
    p = "p < 0.001" if test.p_value < 0.001 else f"p = {test.p_value:.3f}"
    if test.p_value < SIGNIFICANCE and churn[best] > 0:
        said = (
            f"{possessive(worst)} customers churn {churn[worst] / churn[best]:.1f} times as fast as "
            f"{possessive(best)} ({pct(churn[worst], 1)} vs {pct(churn[best], 1)} a {per}; the "
            f"channels differ, {p})"
        )
    else:
        said = f"the channels' customers churn alike (the differences are within noise, {p})"
    if moved < 0.005 * max(ctx.budget, 1.0):
        return said + "; the plan funds the channels by cost alone"
    losers = [c for c, x in zip(cal.channels, diff) if x < -0.5]
    gainers = [c for c, x in zip(cal.channels, diff) if x > 0.5]
    return (
        f"{said}; against funding by cost alone, the plan moves {moved:,.0f} a {per} from "
        f"{', '.join(losers)} to {', '.join(gainers)}, whose customers are worth more per unit "
        "of spend"
    )

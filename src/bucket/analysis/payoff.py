"""Did the plan's spend pay off? (DESIGN §14) Adherence to the recommendation, and the payoff
of the spend actually made against today's split, by the plan's own model and objective."""

from __future__ import annotations

import numpy as np

from bucket.analysis.saved import draw_params, model_params
from bucket.model.replay import Schedule, replay
from bucket.results import track as tr

FOLLOWED = 0.25  # adherence below this: the recommendation was not followed


def _shares(acq: np.ndarray, rest: float, retention: float) -> np.ndarray:
    """Spend per modelled channel, unmodelled channels and retention, as shares of the budget."""
    v = np.array([*acq, rest, retention], dtype=float)
    total = v.sum()
    return v / total if total > 0 else v


def adherence(saved: tr.SavedPlan, acquisition, rest, retention) -> float | None:
    """How far the spend actually made moved from today's split towards the recommendation
    (projected on that move; per channel and on retention): 0 kept, 1 followed. None when the
    recommendation is within a point of today's split (nothing to follow)."""
    cur = _shares(np.array(saved.model.current.acquisition), 0.0, saved.model.current.retention)
    rec_s = saved.model.recommended
    rec = _shares(np.array(rec_s.acquisition), 0.0, rec_s.retention)
    act = _shares(acquisition.sum(axis=0), float(rest.sum()), float(retention.sum()))
    move = rec - cur
    size = float(move @ move)
    if size < 0.01**2:
        return None
    return float((act - cur) @ move / size)


def today_split(saved: tr.SavedPlan, budget: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Today's split on each period's actual budget: (acquisition (T, J), retention (T,))."""
    cur = saved.model.current
    acq = np.array(cur.acquisition, float)
    total = acq.sum() + cur.retention
    share = acq.sum() / total if total > 0 else 0.0
    mix = acq / acq.sum() if acq.sum() > 0 else np.zeros_like(acq)
    return np.outer(budget * share, mix), budget * (1.0 - share)


def _objective(saved: tr.SavedPlan) -> str:
    obj = saved.plan.objective
    return "customers" if obj == "target" or saved.model.u <= 0 else obj


def score_path(saved: tr.SavedPlan, customers, churned, plan: Schedule) -> np.ndarray:
    """The plan's objective over a path of the base N_0 … N_T (and churned customers) under
    the spend of ``plan``: customers at the end, profit Σ (u·m·N_t − spend_t), or value
    (profit discounted, plus the base's equity after the last period, as the planner counts
    it, DESIGN §4)."""
    objective = _objective(saved)
    n = np.asarray(customers, float)
    if objective == "customers":
        return n[..., -1]
    m = saved.model
    um, d = m.u * m.m, m.d
    spend = plan.acquisition.sum(axis=-1) + plan.retention
    profit = um * n[..., :-1] - spend
    if objective == "profit":
        return profit.sum(axis=-1)
    periods = spend.shape[-1]
    disc = (1.0 + d) ** -np.arange(periods)
    end = n[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        churn = np.where(
            n[..., -2] > 0, churned[..., -1] / np.where(n[..., -2] > 0, n[..., -2], 1), 0
        )
        r_end = np.where(end > 0, plan.retention[-1] / np.where(end > 0, end, 1.0), 0.0)
        equity = end * (um - r_end) * (1.0 + d) / (d + churn) / (1.0 + d) ** periods
    return (profit * disc).sum(axis=-1) + np.where(end > 0, equity, 0.0)


def payoff(saved, plan, today, actual, adhered: float | None) -> tr.Payoff:
    """The replay at the spend made minus the replay at today's split, on the plan's objective,
    against how wrong the replay is there (DESIGN §14): a gain the model's own error could
    explain is not a verdict. The draws' spread is reported beside it; it is the spread of the
    plan's assumptions, which the months since have not narrowed."""
    params, kappa, sat = draw_params(saved)
    point, k0, s0 = model_params(saved.model)

    def value(p, k, m, spend):
        path = replay(p, k, m, spend)
        return score_path(saved, path.customers, path.churned, spend)

    diff = value(params, kappa, sat, plan) - value(params, kappa, sat, today)
    made = float(value(point, k0, s0, plan))
    gain = made - float(value(point, k0, s0, today))
    low, high = (float(x) for x in np.percentile(diff, [10, 90]))
    happened = float(score_path(saved, actual[0], actual[1], plan))
    error = abs(happened - made)
    objective = _objective(saved)
    unit = {"customers": "customers", "profit": "profit", "value": "customer equity"}[objective]
    size = f"{gain:+,.0f} {unit} against today's split"
    if saved.draws is not None:
        size += f" (its assumptions allowed {low:+,.0f} to {high:+,.0f})"
    if adhered is not None and adhered < FOLLOWED:
        verdict = "not followed"
        statement = (
            f"The spend stayed near today's split (adherence {adhered + 0.0:.2f}), so the "
            "recommendation itself is untested; the retention test the plan suggested would "
            "measure what it rests on."
        )
    elif gain - error > 0:
        verdict = "paid off"
        statement = (
            f"By the plan's model the spend made paid off: {size}, more than the model's error "
            f"there ({error:,.0f})."
        )
    elif gain + error < 0:
        verdict = "cost"
        statement = (
            f"By the plan's model the spend made cost {unit}: {size}, more than the model's "
            f"error there ({error:,.0f})."
        )
    else:
        verdict = "cannot tell yet"
        statement = f"Cannot tell yet: {size}, within the model's error there ({error:,.0f})."
    return tr.Payoff(objective, gain, low, high, error, verdict, statement)  # type: ignore[arg-type]

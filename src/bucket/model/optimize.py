"""Search the split, the channel allocation and the budget (DESIGN §6).

* ``best_split``: the acquisition share s ∈ [0, 1] on the grid 0, 0.01, …, 1 in one vectorised
  pass, refined to 1e-4 with ``scipy.optimize.minimize_scalar`` (bounded) around the best point;
* ``best_splits``: the same for a batch of calibrations at once (sensitivity and break-even
  scans), refined by the vertex of the parabola through the best grid point and its neighbours;
* ``budget_for_growth``: the least budget whose best split reaches a growth target, found with
  ``scipy.optimize.brentq`` on [0, 100 × today's budget];
* marginal economics and leverage at a given scenario.

Objectives: ``value`` (customer equity: discounted profit + terminal value), ``customers``
(N_H), ``profit`` (Σ profit, undiscounted, no terminal). A non-finite objective is an error,
never a candidate that wins the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bucket.errors import ModelError
from bucket.model.simulate import (
    Params,
    Trajectory,
    allocate,
    churn_at,
    inflow_for,
    paid_inflow,
    run,
)

if TYPE_CHECKING:
    from bucket.model.calibrate import Calibration

GRID = np.linspace(0.0, 1.0, 101)


def params_of(cal: Calibration, capacity: float | None, max_growth: float | None) -> Params:
    works = cal.retention_works
    return Params(
        n0=cal.obs.n0,
        u=cal.u if cal.u is not None else 0.0,
        m=cal.m,
        d=cal.d,
        o=cal.o,
        q=cal.q,
        c_min=cal.c_min if works else cal.c_obs,
        c_base=cal.c_base if works else cal.c_obs,
        k=cal.k if works else 1.0,
        capacity=np.inf if capacity is None else capacity,
        max_growth=np.inf if max_growth is None else max_growth,
        hazard=cal.hazard,
        age_mix=cal.age_mix,
        pools=cal.pools,
    )


def stack(cals: list[Calibration], capacity, max_growth) -> tuple[Params, np.ndarray, np.ndarray]:
    """Params with a leading batch axis (P, 1) and channel arrays (P, 1, J) for P calibrations."""
    ps = [params_of(c, capacity, max_growth) for c in cals]

    def col(name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in ps], dtype=float)[:, None]

    params = Params(
        n0=col("n0"),
        u=col("u"),
        m=col("m"),
        d=col("d"),
        o=col("o"),
        q=col("q"),
        c_min=col("c_min"),
        c_base=col("c_base"),
        k=col("k"),
        capacity=ps[0].capacity,
        max_growth=ps[0].max_growth,
        hazard=ps[0].hazard,
        age_mix=ps[0].age_mix,
        pools=ps[0].pools,
    )
    kappa = np.stack([c.kappa for c in cals])[:, None, :]
    sat = np.stack([c.saturation for c in cals])[:, None, :]
    return params, kappa, sat


def score(traj: Trajectory, objective: str) -> np.ndarray:
    if objective == "value":
        out = traj.value
    elif objective == "profit":
        out = traj.profit_total
    else:
        out = traj.customers_end
    if not np.all(np.isfinite(out)):
        raise ModelError(
            "the objective is not finite (zero churn and a zero discount rate make customer "
            "equity infinite); set --discount-rate above 0 or use --objective customers"
        )
    return out


@dataclass(frozen=True)
class Scenario:
    """One split evaluated: spend per channel, its trajectory and score."""

    share: float
    acquisition: float
    retention: float
    spend: np.ndarray  # per channel
    traj: Trajectory
    score: float


def evaluate(
    cal: Calibration,
    params: Params,
    share: float,
    budget: float,
    horizon: int,
    objective: str,
    *,
    mix: np.ndarray | None = None,
    acquisition: float | None = None,
    retention: float | None = None,
    worth: np.ndarray | None = None,
) -> Scenario:
    """One scenario: acquisition share of the budget, channels allocated optimally (or in
    today's proportions ``mix`` scaled to the amount); ``worth``: the channels' worth at a
    nearby scenario, to start the allocation from."""
    a = share * budget if acquisition is None else acquisition
    r = (1.0 - share) * budget if retention is None else retention
    if mix is None:
        spend = channel_spend(
            np.array(a),
            np.array(r),
            cal.kappa,
            cal.saturation,
            params,
            horizon=horizon,
            objective=objective,
            worth=worth,
        )
    else:
        spend = a * mix
    paid = inflow_for(params, spend, cal.kappa, cal.saturation)
    traj = run(params, a, r, paid, horizon)
    return Scenario(
        share, float(a), float(r), np.asarray(spend), traj, float(score(traj, objective))
    )


def channel_worth(
    spend: np.ndarray, retention, kappa, sat, params: Params, *, horizon: int, objective: str
) -> np.ndarray:
    """w_j = ∂objective/∂paid_j (DESIGN §13): what one more paid customer per period of channel j
    adds to the objective, by forward differences of the whole run, shape (..., J)."""
    paid = inflow_for(params, spend, kappa, sat)
    channels = paid.shape[-1]
    step = 1e-3 * (paid.sum(axis=-1, keepdims=True) + 1.0)
    bumped = paid[None] + step[None] * np.eye(channels).reshape(
        (channels,) + (1,) * (paid.ndim - 1) + (channels,)
    )
    a = spend.sum(axis=-1)
    both = score(
        run(params, a, retention, np.concatenate([paid[None], bumped]), horizon), objective
    )
    return np.moveaxis((both[1:] - both[0]) / step[..., 0], 0, -1)


def channel_spend(
    amount: np.ndarray,
    retention,
    kappa,
    sat,
    params: Params,
    *,
    horizon: int,
    objective: str,
    iterations: int = 8,
    worth: np.ndarray | None = None,
) -> np.ndarray:
    """Each ``amount`` of acquisition spread across channels: at equal marginal CAC, or with
    pools at equal marginal worth per unit of spend w_j·f_j′(A_j) (DESIGN §13), the worth
    re-measured at each allocation until the spends settle (each pass shrinks the change
    about a hundredfold) or ``iterations`` passes are done; from ``worth`` when it is known
    at a nearby scenario, else from the allocation at equal marginal CAC."""
    if params.pools is None:
        return allocate(amount, kappa, sat)
    spend = allocate(amount, kappa, sat, None if worth is None else positive(worth))
    tol = 1e-6 * (np.max(np.abs(amount)) + 1.0)
    for _ in range(iterations):
        worth = channel_worth(
            spend, retention, kappa, sat, params, horizon=horizon, objective=objective
        )
        nxt = allocate(amount, kappa, sat, positive(worth))
        done = np.max(np.abs(nxt - spend)) <= tol
        spend = nxt
        if done:
            break
    return spend


def positive(worth: np.ndarray) -> np.ndarray:
    """Worth the allocation can take: a channel whose customers destroy value gets (as good as)
    nothing; when no channel's customers add value, spend goes by CAC alone."""
    top = worth.max(axis=-1, keepdims=True)
    return np.where(top > 0, np.maximum(worth, 1e-9 * np.abs(top)), 1.0)


COARSE = 10  # the grid's step (in grid points) at which the channels' worth is measured


def grid_spend(params: Params, kappa, sat, budget: float, horizon: int, objective: str):
    """Channel spends on GRID with pools: the worth measured (two passes) at every tenth grid
    point and interpolated between them. Worth varies smoothly with the split, and an
    allocation slightly off the optimum costs only second-order value, so the scores match
    a full solution at each point (a test holds them to 1e-6)."""
    coarse = GRID[::COARSE]
    a_c = coarse * budget
    spend_c = channel_spend(
        a_c, budget - a_c, kappa, sat, params, horizon=horizon, objective=objective, iterations=1
    )
    worth_c = channel_worth(
        spend_c, budget - a_c, kappa, sat, params, horizon=horizon, objective=objective
    )
    i = np.arange(len(GRID))
    lo = np.minimum(i // COARSE, len(coarse) - 2)
    frac = ((i - lo * COARSE) / COARSE)[:, None]
    worth = worth_c[..., lo, :] * (1.0 - frac) + worth_c[..., lo + 1, :] * frac
    return allocate(GRID * budget, kappa, sat, positive(worth))


_PAID_CACHE: dict[tuple, np.ndarray] = {}


def grid_paid(kappa: np.ndarray, sat: np.ndarray, budget: float) -> np.ndarray:
    """Paid inflow on GRID under the channel allocation at equal marginal CAC, shape (..., 101);
    cached, since what-if scans of ρ, μ or the margin leave the channels unchanged."""
    key = (kappa.tobytes(), sat.tobytes(), kappa.shape, float(budget))
    if key not in _PAID_CACHE:
        if len(_PAID_CACHE) > 64:
            _PAID_CACHE.clear()
        a = GRID * budget
        _PAID_CACHE[key] = paid_inflow(allocate(a, kappa, sat), kappa, sat)
    return _PAID_CACHE[key]


def grid_scores(params: Params, kappa, sat, budget: float, horizon: int, objective: str):
    """Scores on GRID for every calibration of the batch: shape (..., 101)."""
    a = GRID * budget
    if params.pools is not None:  # the allocation depends on what channels' customers are worth
        kappa, sat = np.asarray(kappa), np.asarray(sat)
        spend = grid_spend(params, kappa, sat, budget, horizon, objective)
        paid = inflow_for(params, spend, kappa, sat)
        return score(run(params, a, budget - a, paid, horizon), objective)
    if kappa.ndim > 1 and (kappa == kappa[:1]).all() and (sat == sat[:1]).all():
        kappa, sat = kappa.reshape(-1, kappa.shape[-1])[0], sat.reshape(-1, sat.shape[-1])[0]
    paid = grid_paid(np.asarray(kappa), np.asarray(sat), budget)
    return score(run(params, a, budget - a, paid, horizon), objective)


def refine_vertex(scores: np.ndarray) -> np.ndarray:
    """Sub-grid argmax of each row: the vertex of the parabola through the best grid point and
    its two neighbours (the grid point itself at the ends)."""
    i = np.argmax(scores, axis=-1)
    j = np.clip(i, 1, scores.shape[-1] - 2)
    take = np.take_along_axis
    y0, y1, y2 = (take(scores, (j + o)[..., None], -1)[..., 0] for o in (-1, 0, 1))
    den = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(den < 0, 0.5 * (y0 - y2) / den, 0.0)
    step = GRID[1] - GRID[0]
    s = np.where((i == j) & (den < 0), GRID[j] + np.clip(shift, -1, 1) * step, GRID[i])
    return np.clip(s, 0.0, 1.0)


def best_splits(cals: list[Calibration], settings, budget: float, horizon: int, objective: str):
    """Best acquisition share for each calibration of a batch (vectorised)."""
    params, kappa, sat = stack(cals, settings.capacity, settings.max_growth)
    return refine_vertex(grid_scores(params, kappa, sat, budget, horizon, objective))


def best_split(cal: Calibration, params: Params, budget: float, horizon: int, objective: str):
    """(share, score): grid then bounded refinement to 1e-4 (DESIGN §6)."""
    from scipy.optimize import minimize_scalar

    scores = grid_scores(params, cal.kappa, cal.saturation, budget, horizon, objective)
    i = int(np.argmax(scores))
    best_s, best_v = float(GRID[i]), float(scores[i])
    lo, hi = GRID[max(i - 1, 0)], GRID[min(i + 1, len(GRID) - 1)]
    start = None  # with pools, every allocation near the best grid point starts from its worth
    if params.pools is not None:
        a = np.asarray(best_s * budget)
        spend = channel_spend(
            a, budget - a, cal.kappa, cal.saturation, params, horizon=horizon, objective=objective
        )
        start = channel_worth(
            spend,
            budget - a,
            cal.kappa,
            cal.saturation,
            params,
            horizon=horizon,
            objective=objective,
        )

    def loss(s: float) -> float:
        return -evaluate(cal, params, s, budget, horizon, objective, worth=start).score

    res = minimize_scalar(loss, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    if res.success and -res.fun > best_v:
        best_s, best_v = float(res.x), float(-res.fun)
    return best_s, best_v


def budget_for_growth(cal, params, horizon: int, growth: float, budget0: float):
    """Least budget per period whose best split (by customers) reaches N_H ≥ N₀(1 + g).

    Returns (budget or None, share at that budget or None, largest reachable growth)."""
    from scipy.optimize import brentq

    if cal.obs.n0 <= 0:
        from bucket.errors import ConfigError

        raise ConfigError(
            "growth of an empty customer base is undefined",
            "use --objective customers to plan the first customers",
        )
    goal = cal.obs.n0 * (1.0 + growth)
    top = 100.0 * budget0

    def best_customers(b: float) -> float:
        return float(grid_scores(params, cal.kappa, cal.saturation, b, horizon, "customers").max())

    reach_top = best_customers(top)
    max_growth = reach_top / cal.obs.n0 - 1.0 if cal.obs.n0 > 0 else None
    if reach_top < goal:
        return None, None, max_growth
    if best_customers(0.0) >= goal:
        b = 0.0
    else:
        b = brentq(lambda x: best_customers(x) - goal, 0.0, top, xtol=1e-6 * top, rtol=1e-10)
    share, _ = best_split(cal, params, b, horizon, "customers")
    return float(b), share, max_growth


@dataclass(frozen=True)
class Marginals:
    channel_cac: np.ndarray  # marginal CAC per channel at its spend
    cac: float | None  # blended marginal CAC (all channels grown in proportion)
    cost_to_retain: float | None  # cost of keeping one more customer for one period
    cltv: float | None
    d_acquisition: float  # ∂objective/∂A per unit of money per period
    d_retention: float  # ∂objective/∂R


def marginals(cal, params, sc: Scenario, horizon: int, objective: str, optimal: bool) -> Marginals:
    kappa, sat = cal.kappa, cal.saturation
    with np.errstate(over="ignore"):
        channel_cac = kappa * np.exp(sc.spend / (kappa * sat))
    total = sc.spend.sum()
    cac = None
    if total > 0:
        rate = np.sum((sc.spend / total) / channel_cac)
        cac = float(1.0 / rate)
    n0 = cal.obs.n0
    r = sc.retention / n0 if n0 > 0 else 0.0
    churn = float(churn_at(r, params))
    retain = None
    if cal.retention_works and churn - params.c_min > 0:
        retain = float(params.k / (churn - params.c_min))
    cltv = None
    if cal.u is not None and params.d + churn > 0:
        cltv = float(cal.u * cal.m * (1 + params.d) / (params.d + churn))
    h = max(1e-4 * (sc.acquisition + sc.retention), 1e-6)
    mix = None if optimal or total <= 0 else sc.spend / total

    start = None  # with pools, each nearby allocation starts from the scenario's worth
    if params.pools is not None and mix is None:
        start = channel_worth(
            sc.spend,
            np.asarray(sc.retention),
            kappa,
            sat,
            params,
            horizon=horizon,
            objective=objective,
        )

    def obj(a: float, rr: float) -> float:
        return evaluate(
            cal,
            params,
            0.0,
            0.0,
            horizon,
            objective,
            mix=mix,
            acquisition=a,
            retention=rr,
            worth=start,
        ).score

    d_a = obj(sc.acquisition + h, sc.retention) - obj(max(sc.acquisition - h, 0.0), sc.retention)
    d_a /= sc.acquisition + h - max(sc.acquisition - h, 0.0)
    d_r = obj(sc.acquisition, sc.retention + h) - obj(sc.acquisition, max(sc.retention - h, 0.0))
    d_r /= sc.retention + h - max(sc.retention - h, 0.0)
    return Marginals(channel_cac, cac, retain, cltv, float(d_a), float(d_r))


def leverage(cal, params: Params, sc: Scenario, horizon: int, objective: str) -> dict[str, float]:
    """Change in the objective at the scenario (not re-optimised) from paid inflow × 1.01,
    churn (c_min and c_base) × 0.99, and ARPU × 1.01 (DESIGN §6)."""
    base = sc.score
    paid = inflow_for(params, sc.spend, cal.kappa, cal.saturation)

    def with_params(p: Params, paid_x: np.ndarray) -> float:
        return float(score(run(p, sc.acquisition, sc.retention, paid_x, horizon), objective))

    from dataclasses import replace

    out = {
        "new_customers": with_params(params, paid * 1.01) - base,
        "churn": with_params(
            replace(params, c_min=params.c_min * 0.99, c_base=params.c_base * 0.99), paid
        )
        - base,
    }
    if cal.u is not None:
        out["arpu"] = with_params(replace(params, u=params.u * 1.01), paid) - base
    return out


def finite_or_none(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)

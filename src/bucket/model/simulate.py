"""The leaky-bucket model of DESIGN §4, vectorised over scenarios.

Scenario arrays (acquisition A, retention R, paid inflow) broadcast together with parameter
arrays, so one call evaluates a grid of splits, or (draws × splits): only the periods are a
Python loop, because the recursion is sequential. Per period t = 0 … H−1::

    churn_t  = c_min + (c_base − c_min) · exp(−(R / N_t) / k)
    inflow_t = paid + o + q · N_t,  paid = Σ_j M_j (1 − exp(−A_j / (κ_j M_j)))
    N'_{t+1} = N_t (1 − churn_t) + inflow_t
    N_{t+1}  = min(N'_{t+1}, K, N_t (1 + g_max)),  overflow_t = N'_{t+1} − N_{t+1}
    profit_t = u · m · N_t − A − R
    value    = Σ_t profit_t / (1+d)^t + N_H (u·m − r_H)(1+d) / (d + churn_H) / (1+d)^H

N_t = 0 gives R/N_t = 0 (no customers, no retention effect), never 0/0. The channel split of an
acquisition amount equalises marginal new customers per unit spend (§6):
A_j = κ_j M_j ln(1/(κ_j λ)) for λ < 1/κ_j, else 0, λ solved exactly (the condition is piecewise
linear in ln λ), element-wise over every amount at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bucket.model.pools import Pools


@dataclass(frozen=True)
class Params:
    """Model parameters; each a float or an array broadcastable against the scenarios."""

    n0: float | np.ndarray
    u: float | np.ndarray  # revenue per customer per period (0 when unknown: value unusable)
    m: float | np.ndarray
    d: float | np.ndarray
    o: float | np.ndarray
    q: float | np.ndarray
    c_min: float | np.ndarray
    c_base: float | np.ndarray
    k: float | np.ndarray
    capacity: float = np.inf
    max_growth: float = np.inf
    # Optional age structure (plan --retention-model sbg): churn by age relative to the base's
    # average today (hazard, mean 1 under age_mix), and today's age mix (sums to 1).
    hazard: np.ndarray | None = None
    age_mix: np.ndarray | None = None
    # Optional pools by acquisition channel (DESIGN §13): paid inflow then comes per channel
    # (last axis J) into pools 1 … J, organic and referred customers into pool 0
    pools: Pools | None = None


@dataclass(frozen=True)
class Trajectory:
    """Per-period paths (last axis = period) and totals of a batch of scenarios."""

    customers: np.ndarray  # N_0 … N_H  (H + 1 values)
    churn: np.ndarray  # churn_t
    new: np.ndarray  # inflow_t (paid + organic + referral)
    lost: np.ndarray  # N_t · churn_t
    profit: np.ndarray  # profit_t
    overflow: np.ndarray  # customers turned away by capacity or max growth
    value: np.ndarray  # discounted profit + terminal customer equity
    terminal: np.ndarray  # the terminal customer equity alone (discounted)

    @property
    def customers_end(self) -> np.ndarray:
        return self.customers[..., -1]

    @property
    def profit_total(self) -> np.ndarray:
        return self.profit.sum(axis=-1)


def churn_at(r: np.ndarray | float, p: Params) -> np.ndarray:
    """Churn per period at retention spend per customer r."""
    k = np.asarray(p.k, dtype=float)
    return p.c_min + (np.asarray(p.c_base) - p.c_min) * np.exp(-np.asarray(r) / k)


def allocate(
    amount: np.ndarray,
    kappa: np.ndarray,
    saturation: np.ndarray,
    worth: np.ndarray | None = None,
) -> np.ndarray:
    """Split each acquisition ``amount`` across channels so that marginal new customers per unit
    of spend are equal on every funded channel (DESIGN §6), or, given each channel's ``worth``
    (what one more of its customers adds to the objective, shape (..., J), DESIGN §13), the
    marginal worth per unit of spend w_j·f_j′(A_j): the same solution with κ_j read as κ_j/w_j.

    ``amount`` has any shape (...); ``kappa`` and ``saturation`` have shape (J,) or (..., J)
    broadcastable; the result has shape (..., J) and sums to ``amount`` on the last axis.
    Solved for x = ln λ:  Σ_j W_j · max(0, c_j − x) = amount, W_j = κ_j M_j, c_j = −ln κ_j (plus
    ln w_j). The left side is piecewise linear and decreasing in x, so the solution is exact
    (water-filling, no root finder): with the channels sorted by c_j, funding the top k gives
    x_k = (Σ_{j≤k} W_j c_j − amount)/Σ_{j≤k} W_j, and the first k with x_k ≥ c_{k+1} is the one
    (fewer channels would have to go below the next channel's level). A root finder took 7 ms a
    call here, and the planner calls this hundreds of times.
    """
    amount = np.asarray(amount, dtype=float)
    w = np.asarray(kappa) * np.asarray(saturation)
    c = -np.log(np.asarray(kappa, dtype=float))
    if worth is not None:
        c = c + np.log(np.asarray(worth, dtype=float))
    shape = np.broadcast_shapes(amount.shape, w.shape[:-1], c.shape[:-1])
    amount_b = np.broadcast_to(amount, shape)
    w_b = np.broadcast_to(w, shape + w.shape[-1:])
    c_b = np.broadcast_to(c, shape + c.shape[-1:])
    order = np.argsort(-c_b, axis=-1, kind="stable")
    c_s = np.take_along_axis(c_b, order, -1)
    w_s = np.take_along_axis(w_b, order, -1)
    level = (np.cumsum(w_s * c_s, axis=-1) - amount_b[..., None]) / np.cumsum(w_s, axis=-1)
    below = np.concatenate([c_s[..., 1:], np.full((*shape, 1), -np.inf)], axis=-1)
    k = np.argmax(level >= below, axis=-1)  # the last k always qualifies
    x = np.take_along_axis(level, k[..., None], -1)
    spend = w_b * np.maximum(0.0, c_b - x)
    # rescale away the last rounding so Σ_j A_j equals the amount exactly
    total = spend.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        spend = np.where(total > 0, spend * (amount_b[..., None] / total), 0.0)
    return spend


def paid_inflow(spend: np.ndarray, kappa: np.ndarray, saturation: np.ndarray) -> np.ndarray:
    """Σ_j M_j (1 − exp(−A_j / (κ_j M_j))) over the last axis."""
    return (saturation * -np.expm1(-spend / (kappa * saturation))).sum(axis=-1)


def inflow_for(p: Params, spend: np.ndarray, kappa: np.ndarray, saturation: np.ndarray):
    """The paid inflow ``run`` takes under ``p``: per channel (last axis) with pools, else the
    total."""
    if p.pools is None:
        return paid_inflow(spend, kappa, saturation)
    return saturation * -np.expm1(-spend / (kappa * saturation))


def _age_one_period(
    ages: np.ndarray, hazard: np.ndarray, level: np.ndarray, n: np.ndarray, inflow: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One period of the age structure: (ages after churn and ageing, lost, the base's churn).

    The newcomers enter the first age; the last age absorbs the older ones."""
    lost_by_age = ages * np.minimum(level[..., None] * hazard, 1.0)
    lost = lost_by_age.sum(axis=-1)
    kept = ages - lost_by_age
    ages = np.concatenate([np.broadcast_to(inflow, n.shape)[..., None], kept[..., :-1]], axis=-1)
    ages[..., -1] += kept[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        churn = np.where(n > 0, lost / np.where(n > 0, n, 1.0), level)
    return ages, lost, churn


def _terminal_equity(
    p: Params,
    n: np.ndarray,
    retention: np.ndarray,
    horizon: int,
    aged: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """The terminal customer equity of the base N_H, discounted (0 for an empty base);
    ``aged`` is (ages, hazard) at the horizon under the age structure."""
    margin_per_customer = np.asarray(p.u) * p.m
    growth = 1.0 + np.asarray(p.d, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_end = np.where(n > 0, retention / np.where(n > 0, n, 1.0), 0.0)
        churn_end = churn_at(r_end, p)
        if aged is not None:  # the churn of the base as aged at the horizon
            ages, hazard = aged
            mix_end = ages / np.where(n > 0, n, 1.0)[..., None]
            churn_end = np.where(n > 0, churn_end * (mix_end * hazard).sum(axis=-1), churn_end)
        terminal = (
            n * (margin_per_customer - r_end) * (1.0 + p.d) / (p.d + churn_end) / growth**horizon
        )
        return np.where(n > 0, terminal, 0.0)


def run(p: Params, acquisition, retention, paid, horizon: int) -> Trajectory:
    """Simulate ``horizon`` periods for every scenario at once (arrays broadcast)."""
    if p.pools is not None:
        return run_pools(p, acquisition, retention, paid, horizon)
    acquisition = np.asarray(acquisition, dtype=float)
    retention = np.asarray(retention, dtype=float)
    paid = np.asarray(paid, dtype=float)
    shape = np.broadcast_shapes(
        acquisition.shape,
        retention.shape,
        paid.shape,
        *(np.shape(x) for x in (p.n0, p.u, p.m, p.d, p.o, p.q, p.c_min, p.c_base, p.k)),
    )
    n = np.broadcast_to(np.asarray(p.n0, dtype=float), shape).copy()
    margin_per_customer = np.asarray(p.u) * p.m
    aged = p.hazard is not None and p.age_mix is not None
    if aged:  # customers by age, the last age absorbing the older ones
        ages = n[..., None] * np.asarray(p.age_mix, dtype=float)
        hazard = np.asarray(p.hazard, dtype=float)
    customers = [n]
    churn_l, new_l, lost_l, profit_l, over_l = [], [], [], [], []
    for _ in range(horizon):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(n > 0, retention / np.where(n > 0, n, 1.0), 0.0)
        level = churn_at(r, p)  # the base's churn at today's age mix
        inflow = paid + p.o + p.q * n
        if aged:
            ages, lost, churn = _age_one_period(ages, hazard, level, n, inflow)
        else:
            churn = level
            lost = n * churn
        raw = n - lost + inflow
        nxt = np.minimum(raw, p.capacity)
        if np.isfinite(p.max_growth):  # an empty base can start; growth caps apply after
            nxt = np.where(n > 0, np.minimum(nxt, n * (1.0 + p.max_growth)), nxt)
        if aged:  # customers turned away leave every age in proportion
            with np.errstate(divide="ignore", invalid="ignore"):
                ages = ages * np.where(raw > 0, nxt / np.where(raw > 0, raw, 1.0), 0.0)[..., None]
        profit_l.append(margin_per_customer * n - acquisition - retention)
        churn_l.append(churn)
        new_l.append(np.broadcast_to(inflow, shape))
        lost_l.append(lost)
        over_l.append(raw - nxt)
        n = nxt
        customers.append(n)
    terminal = _terminal_equity(p, n, retention, horizon, (ages, hazard) if aged else None)
    return _trajectory(
        p,
        terminal,
        customers=customers,
        churn=churn_l,
        new=new_l,
        lost=lost_l,
        profit=profit_l,
        overflow=over_l,
    )


def _trajectory(p: Params, terminal: np.ndarray, **paths: list[np.ndarray]) -> Trajectory:
    """The per-period ``paths`` stacked (last axis = period), and the value: the discounted
    profit plus the ``terminal`` equity."""
    stacked = {name: np.stack(path, axis=-1) for name, path in paths.items()}
    growth = 1.0 + np.asarray(p.d, dtype=float)
    disc = growth[..., None] ** -np.arange(stacked["profit"].shape[-1])
    value = (stacked["profit"] * disc).sum(axis=-1) + terminal
    return Trajectory(value=value, terminal=terminal, **stacked)


def _pools_terminal(
    p: Params, pools: np.ndarray, n: np.ndarray, retention: np.ndarray, horizon: int
) -> np.ndarray:
    """Σ_j N_{j,H}(u_j m − r_H)(1 + d)/(d + churn_{j,H}), discounted; 0 for an empty base.
    ``pools`` has the pool axis first."""
    assert p.pools is not None
    lead = (slice(None),) + (None,) * n.ndim  # a pool vector against the scenarios' shape
    growth = 1.0 + np.asarray(p.d, dtype=float)
    margin = np.asarray(p.u) * p.m * p.pools.arpu[lead]
    with np.errstate(divide="ignore", invalid="ignore"):
        r_end = np.where(n > 0, retention / np.where(n > 0, n, 1.0), 0.0)
        churn_end = np.minimum(1.0, churn_at(r_end, p) * p.pools.hazard[lead])
        each = pools * (margin - r_end) * growth / (p.d + churn_end)
        return np.where(n > 0, each.sum(axis=0) / growth**horizon, 0.0)


def _pools_start(p: Params, paid: np.ndarray, shape: tuple[int, ...]):
    """Today's pools, shape (J + 1, ...), and the paid inflow with its channel axis first,
    (J, ...), both against the scenarios' ``shape``."""
    assert p.pools is not None
    lead = (slice(None),) + (None,) * len(shape)
    pools = np.empty((len(p.pools.hazard), *shape))
    pools[...] = np.asarray(p.n0, dtype=float) * p.pools.mix[lead]
    full = paid.reshape((1,) * (len(shape) + 1 - paid.ndim) + paid.shape)
    return pools, np.ascontiguousarray(np.moveaxis(full, -1, 0))


def run_pools(p: Params, acquisition, retention, paid, horizon: int) -> Trajectory:
    """``run`` with one pool per channel (DESIGN §13): pool j churns at min(1, h_j·c(R/N)) and
    pays u·a_j, paid inflow j enters pool j + 1, organic and referred customers pool 0;
    capacity and growth caps turn newcomers away from every pool in proportion. The paths
    report the whole base (N = Σ_j N_j); the terminal equity is summed over the pools.

    The pools are held with their axis first, (J + 1, ...): each pool is one contiguous block
    and every step a few long array operations (with the pool axis last, numpy's inner loops
    ran over J + 1 numbers at a time)."""
    assert p.pools is not None
    hazard, ratio = p.pools.hazard, p.pools.arpu
    acquisition = np.asarray(acquisition, dtype=float)
    retention = np.asarray(retention, dtype=float)
    paid = np.asarray(paid, dtype=float)
    shape = np.broadcast_shapes(
        acquisition.shape,
        retention.shape,
        paid.shape[:-1],
        *(np.shape(x) for x in (p.n0, p.u, p.m, p.d, p.o, p.q, p.c_min, p.c_base, p.k)),
    )
    pools, paid_first = _pools_start(p, paid, shape)
    h = hazard[(slice(None),) + (None,) * len(shape)]
    um = np.asarray(p.u) * p.m  # revenue per customer of pool j: u·m·a_j
    spent = acquisition + retention
    paid_n = paid.sum(axis=-1)  # the paid inflow is fixed; pool 0's (organic, referral) is not
    worst = float(np.max(hazard))
    capped = bool(np.isfinite(p.capacity) or np.isfinite(p.max_growth))
    customers = [pools.sum(axis=0)]
    churn_l, new_l, lost_l, profit_l, over_l = [], [], [], [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(horizon):
            n = customers[-1]
            live = n > 0
            safe = np.where(live, n, 1.0)
            level = churn_at(np.where(live, retention / safe, 0.0), p)
            rate = level * h
            if float(np.max(level)) * worst > 1.0:  # a pool cannot lose more than it has
                rate = np.minimum(1.0, rate)
            lost = pools * rate
            organic = p.o + p.q * n
            lost_n, new_n = lost.sum(axis=0), organic + paid_n
            profit_l.append(um * (ratio @ pools.reshape(len(ratio), -1)).reshape(shape) - spent)
            churn_l.append(np.where(live, lost_n / safe, level))
            new_l.append(new_n)
            lost_l.append(lost_n)
            pools -= lost
            pools[0] += organic
            pools[1:] += paid_first
            raw_n = n - lost_n + new_n
            nxt = raw_n
            if capped:
                nxt = np.minimum(raw_n, p.capacity)
                if np.isfinite(p.max_growth):
                    nxt = np.where(live, np.minimum(nxt, n * (1.0 + p.max_growth)), nxt)
                pools *= np.where(raw_n > 0, nxt / np.where(raw_n > 0, raw_n, 1.0), 0.0)
            over_l.append(raw_n - nxt)
            customers.append(nxt)
    terminal = _pools_terminal(p, pools, customers[-1], retention, horizon)
    return _trajectory(
        p,
        terminal,
        customers=customers,
        churn=churn_l,
        new=new_l,
        lost=lost_l,
        profit=profit_l,
        overflow=over_l,
    )

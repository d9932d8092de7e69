"""Channel quality (DESIGN §13): one pool of customers per acquisition channel.

Channel rows count the customers acquired through the channel, so each channel's rows show its
own churn and revenue. Each pool churns at h_j·c(r) (proportional hazards: the retention curve
and the spend per customer are shared) and pays u_j; pool 0 holds everyone else (organic and
referred newcomers, channels without a response curve).

A pool's churn over the window is C_j/S_j (customers churned over customer-periods at risk),
with a binomial variance. Small pools would swing on noise, so each estimate is shrunk towards
the pooled churn by random effects (DerSimonian & Laird 1986, *Controlled Clinical Trials* 7:
177–188): Cochran's Q tests whether the pools differ at all, τ² is the between-pool variance
that Q leaves beyond the binomial noise, and pool j keeps the share τ²/(τ² + v_j) of its
distance from the random-effects mean. h_j is the shrunk churn over the base-weighted mean
(the window's customer-periods as weights), so the base's churn stays the observed one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OTHER = "other"  # the pool of customers no modelled channel paid for


@dataclass(frozen=True)
class PoolCount:
    """What the window shows of one pool."""

    name: str
    start: float  # customers at the start of each period, summed over the window
    churned: float
    revenue: float | None  # revenue of the rows that report it (None: none does)
    avg_customers: float  # average customers of those rows, summed over the window
    end: float  # customers at the end of the ledger


@dataclass(frozen=True)
class Pools:
    """The model's pools, ``other`` first then the modelled channels in calibration order."""

    names: tuple[str, ...]
    hazard: np.ndarray  # churn relative to the pooled curve c(r)
    arpu: np.ndarray  # revenue per customer relative to the pooled u
    mix: np.ndarray  # share of today's base


@dataclass(frozen=True)
class PoolEvidence:
    """One pool as the plan reports it."""

    name: str
    customers: float  # at the end of the ledger
    churn_observed: float | None  # C/S over the window (None: no customers at risk)
    churn_se: float | None
    shrinkage: float | None  # weight of the pooled mean in the churn used (0 = own, 1 = pooled)
    churn_used: float  # h_j · today's churn
    arpu: float | None


@dataclass(frozen=True)
class Heterogeneity:
    """Whether the pools' churn differs beyond binomial noise (Cochran's Q)."""

    q: float
    df: int
    p_value: float
    tau2: float
    pooled: float  # the random-effects mean churn


@dataclass(frozen=True)
class Shrunk:
    churn: np.ndarray
    se: np.ndarray
    shrinkage: np.ndarray
    test: Heterogeneity


def random_effects(churned: np.ndarray, start: np.ndarray) -> Shrunk:
    """Each pool's churn shrunk towards the random-effects mean (DerSimonian–Laird)."""
    from scipy.special import chdtrc

    churned = np.asarray(churned, dtype=float)
    start = np.asarray(start, dtype=float)
    rate = churned / start
    # the binomial variance, with half a churn added so a pool that lost nobody is not certain
    smooth = (churned + 0.5) / (start + 1.0)
    v = smooth * (1.0 - smooth) / start
    w = 1.0 / v
    fixed = float(np.sum(w * rate) / w.sum())
    q = float(np.sum(w * (rate - fixed) ** 2))
    df = len(rate) - 1
    tau2 = max(0.0, (q - df) / float(w.sum() - np.sum(w**2) / w.sum())) if df > 0 else 0.0
    w_re = 1.0 / (v + tau2)
    mean = float(np.sum(w_re * rate) / w_re.sum())
    shrinkage = v / (v + tau2) if tau2 > 0 else np.ones_like(v)
    churn = mean + (1.0 - shrinkage) * (rate - mean)
    p_value = float(chdtrc(df, q)) if df > 0 else 1.0
    return Shrunk(churn, np.sqrt(v), shrinkage, Heterogeneity(q, df, p_value, tau2, mean))


def estimate(
    counts: tuple[PoolCount, ...], u: float | None, c_obs: float
) -> tuple[Pools, tuple[PoolEvidence, ...], Heterogeneity] | None:
    """The pools of ``counts`` (``other`` first), or None when fewer than two pools have
    customers at risk in the window (nothing to compare)."""
    seen = np.array([c.start > 0 for c in counts])
    if seen.sum() < 2 or c_obs <= 0:
        return None
    start = np.array([c.start for c in counts], dtype=float)
    churned = np.array([c.churned for c in counts], dtype=float)
    fit = random_effects(churned[seen], start[seen])
    hazard = np.ones(len(counts))
    if fit.test.tau2 > 0:  # alike pools keep h = 1 exactly: the plan is the pooled one
        mean = float(np.sum(start[seen] * fit.churn) / start[seen].sum())
        hazard[seen] = fit.churn / mean
    arpu = np.ones(len(counts))
    for i, c in enumerate(counts):
        if u and c.revenue is not None and c.avg_customers > 0 and c.revenue > 0:
            arpu[i] = c.revenue / c.avg_customers / u
    end = np.array([max(c.end, 0.0) for c in counts], dtype=float)
    mix = end / end.sum() if end.sum() > 0 else np.eye(len(counts))[0]
    rate = churned / np.where(seen, start, 1.0)
    se_all = np.zeros(len(counts))
    shrink_all = np.ones(len(counts))
    se_all[seen], shrink_all[seen] = fit.se, fit.shrinkage
    evidence = tuple(
        PoolEvidence(
            c.name,
            float(end[i]),
            float(rate[i]) if seen[i] else None,
            float(se_all[i]) if seen[i] else None,
            float(shrink_all[i]) if seen[i] else None,
            float(min(1.0, hazard[i] * c_obs)),
            float(arpu[i] * u) if u else None,
        )
        for i, c in enumerate(counts)
    )
    names = tuple(c.name for c in counts)
    return Pools(names, hazard, arpu, mix), evidence, fit.test

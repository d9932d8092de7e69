"""Replay a calibrated model on spend that changes period by period (DESIGN §14).

The planner's ``simulate.run`` holds spend constant over the horizon; tracking a saved plan
needs the spend actually made, period by period and channel by channel, run free from the
plan's customer base (never reset to the actuals, so errors accumulate as in a plan). Per
period t, as in ``simulate.run`` (DESIGN §4)::

    effective_j,t = (1 − θ_j)·A_j,t + θ_j·effective_j,t−1     (carry-over; θ = 0 without)
    paid_j,t      = M_j (1 − exp(−effective_j,t / (κ_j M_j)))
    churn_t       = c(R_t / N_t),  lost_t = N_t · churn_t  (per pool: min(1, h_j · churn_t))
    N_t+1         = min(N_t − lost_t + paid_t + o + q·N_t, K, N_t (1 + g_max))

With a ``numpy.random.Generator`` the counts are drawn instead of expected: churned customers
binomial in the customers at risk, new customers Poisson around the inflow, so a batch of
parameter draws × noise gives a prediction interval for a ledger's integer counts. An sBG
plan (``--retention-model sbg``) is replayed with its ages as the planner ran it: each age
churns at its hazard times c(R/N), everyone grows one age older each period and newcomers
enter the first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bucket.model.simulate import Params, churn_at


@dataclass(frozen=True)
class Schedule:
    """The spend to replay: acquisition per modelled channel (T, J), retention (T,), and each
    channel's carry-over θ (J,) with its effective spend before the first period (J,)."""

    acquisition: np.ndarray
    retention: np.ndarray
    carryover: np.ndarray
    effective: np.ndarray


@dataclass(frozen=True)
class Paths:
    """A replay's paths, last axis the period: the base N_0 … N_T, new and churned."""

    customers: np.ndarray
    new: np.ndarray  # admitted: a capacity or growth cap turns the rest away
    churned: np.ndarray  # N_t+1 = N_t + new_t − churned_t, in every period


def _paid(schedule: Schedule, kappa: np.ndarray, sat: np.ndarray) -> list[np.ndarray]:
    """Paid new customers per period and channel, (..., J) each, after the carry-over."""
    theta = schedule.carryover
    effective = schedule.effective
    out = []
    for spend in schedule.acquisition:
        effective = (1.0 - theta) * spend + theta * effective
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            paid = sat * -np.expm1(-effective / (kappa * sat))
        out.append(np.where(sat > 0, paid, 0.0))
    return out


def _capped(p: Params, n: np.ndarray, raw: np.ndarray) -> np.ndarray:
    nxt = np.minimum(raw, p.capacity)
    if np.isfinite(p.max_growth):  # an empty base can start; growth caps apply after
        nxt = np.where(n > 0, np.minimum(nxt, n * (1.0 + p.max_growth)), nxt)
    return nxt


def _draw_lost(rng, at_risk: np.ndarray, rate: np.ndarray) -> np.ndarray:
    whole = np.maximum(np.rint(at_risk), 0).astype(np.int64)
    return rng.binomial(whole, np.clip(rate, 0.0, 1.0)).astype(float)


def _start(p: Params, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Today's customers by pool (channel quality), by age (an sBG plan) or as one group, with
    each group's churn relative to the base's."""
    n0 = np.asarray(p.n0, float)[..., None]
    if p.pools is not None:
        mix, hazard = p.pools.mix, p.pools.hazard
    elif p.hazard is not None and p.age_mix is not None:
        mix, hazard = np.asarray(p.age_mix, float), np.asarray(p.hazard, float)
    else:
        mix, hazard = np.ones(1), np.ones(1)
    return np.broadcast_to(n0 * mix, (*shape, len(mix))).copy(), hazard


def _older(ages: np.ndarray) -> np.ndarray:
    """Everyone one age older: the first age empties (newcomers fill it), the last age keeps
    the older ones (as ``simulate.run`` ages the base)."""
    out = np.zeros_like(ages)
    out[..., 1:] = ages[..., :-1]
    out[..., -1] += ages[..., -1]
    return out


def replay(
    p: Params,
    kappa: np.ndarray,
    sat: np.ndarray,
    schedule: Schedule,
    rng: np.random.Generator | None = None,
) -> Paths:
    """The model ``p`` (parameters scalar or arrays over a batch of draws, channel arrays
    (..., J)) replayed on ``schedule``; expected counts, or drawn ones given ``rng``."""
    paid = _paid(schedule, np.asarray(kappa, float), np.asarray(sat, float))
    shape = np.broadcast_shapes(
        *(np.shape(x) for x in (p.n0, p.o, p.q, p.c_min, p.c_base, p.k)),
        np.shape(kappa)[:-1],
    )
    pools = p.pools
    aged = pools is None and p.hazard is not None and p.age_mix is not None
    state, hazard = _start(p, shape)
    customers = [state.sum(axis=-1)]
    new_l, lost_l = [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for t, paid_t in enumerate(paid):
            n = customers[-1]
            r = np.where(n > 0, schedule.retention[t] / np.where(n > 0, n, 1.0), 0.0)
            rate = np.minimum(1.0, churn_at(r, p)[..., None] * hazard)
            lost = state * rate if rng is None else _draw_lost(rng, state, rate)
            inflow = np.zeros_like(state)
            organic = np.broadcast_to(p.o + p.q * n, shape)
            if pools is None:  # everyone new enters the first (or only) age
                inflow[..., 0] = organic + paid_t.sum(axis=-1)
            else:
                inflow[..., 0] = organic
                inflow[..., 1:] = paid_t
            if rng is not None:
                inflow = rng.poisson(np.maximum(inflow, 0.0)).astype(float)
            state = (_older(state - lost) if aged else state - lost) + inflow
            raw = state.sum(axis=-1)
            nxt = _capped(p, n, raw)
            if rng is not None:  # drawn counts stay whole: a cap admits whole customers
                nxt = np.where(nxt < raw, np.floor(nxt + 1e-9), nxt)
            state = state * np.where(raw > 0, nxt / np.where(raw > 0, raw, 1.0), 0.0)[..., None]
            # a cap turns newcomers away first; one below the base (a --capacity under today's
            # customers) also sends customers away, which a ledger counts as churn
            came, left = inflow.sum(axis=-1), lost.sum(axis=-1)
            away = raw - nxt
            new_l.append(came - np.minimum(away, came))
            lost_l.append(left + np.maximum(away - came, 0.0))
            customers.append(nxt)
    return Paths(
        np.stack(customers, axis=-1),
        np.stack(new_l, axis=-1) if new_l else np.zeros((*shape, 0)),
        np.stack(lost_l, axis=-1) if lost_l else np.zeros((*shape, 0)),
    )

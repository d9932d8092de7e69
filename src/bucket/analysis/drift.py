"""Drift of a model between consecutive saved plans (DESIGN §14)."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from bucket.analysis.saved import draw_params, model_params
from bucket.model.simulate import churn_at
from bucket.results import track as tr

DRIFT_Z = 2.0
MATERIAL = 0.05  # drift is flagged only when the quantity also moved by 5 % or more
MIN_DRAWS = 30  # drift needs plans saved with at least this many draws


def _measures(
    saved: tr.SavedPlan, at: tr.SavedPlan, draws: bool
) -> dict[tuple[str, str | None], np.ndarray]:
    """The quantities drift compares, read off ``saved``'s model (its draws with ``draws``)
    where ``at`` (the later plan) stands, so both plans speak of the same spend: churn at its
    retention spend per customer, ARPU, organic and referral inflow, and each channel's paid
    customers at its acquisition spend."""
    params, kappa, sat = draw_params(saved) if draws else model_params(saved.model)
    out: dict[tuple[str, str | None], np.ndarray] = {
        ("churn at today's retention spend", None): churn_at(
            at.model.retention_per_customer, params
        ),
        ("revenue per customer (u)", None): np.asarray(params.u, float),
        ("organic new customers (o)", None): np.asarray(params.o, float),
        ("referral rate (q)", None): np.asarray(params.q, float),
    }
    index = {c: j for j, c in enumerate(saved.model.channels)}
    for j, name in enumerate(at.model.channels):
        if name not in index:
            continue
        a = at.model.current.acquisition[j]
        k, m = kappa[..., index[name]], sat[..., index[name]]
        with np.errstate(all="ignore"):
            out[("paid customers at today's spend", name)] = m * -np.expm1(-a / (k * m))
    return out


def _spread(sample: np.ndarray) -> float:
    live = np.isfinite(sample)
    return float(np.std(sample[live])) if live.sum() > 1 else 0.0


def drift(plans: list[tuple[str, tr.SavedPlan]]) -> list[tr.Drift]:
    """Each quantity between consecutive saved plans (different as-of periods): the later
    plan's against the earlier plan's at the later plan's spend, in SDs of their difference
    (both plans' draws); flagged beyond DRIFT_Z when it also moved by MATERIAL or more."""
    rows = []
    for (_, before), (_, after) in pairwise(plans):
        if (
            after.as_of_ordinal == before.as_of_ordinal
            or len(before.draws.u if before.draws else []) < MIN_DRAWS
        ):
            continue  # a spread read off a handful of draws would flag noise
        was, now = _measures(before, after, False), _measures(after, after, False)
        spread_b = _measures(before, after, True)
        enough = after.draws is not None and len(after.draws.u) >= MIN_DRAWS
        spread_a = _measures(after, after, True) if enough else {}
        for key, sample in spread_b.items():
            if key not in now:
                continue
            sd = math.hypot(_spread(sample), _spread(spread_a[key]) if key in spread_a else 0.0)
            b, a = float(was[key]), float(now[key])
            if not (sd > 1e-12 and math.isfinite(a) and math.isfinite(b)):
                continue
            z = (a - b) / sd
            moved = abs(a - b) >= MATERIAL * abs(b)
            flagged = abs(z) > DRIFT_Z and moved
            rows.append(tr.Drift(key[0], key[1], before.as_of, after.as_of, b, a, sd, z, flagged))
    return rows

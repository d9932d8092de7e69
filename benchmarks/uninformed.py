"""How well could *any* planner do without an experiment? A bound for ``decisions.py``'s targets.

    python benchmarks/uninformed.py                  # the decision benchmark's 56 worlds
    python benchmarks/uninformed.py --seed 777 --scenarios 400

A ledger shows churn at (about) one level of retention spend, so two things stay unknown
without a test: μ, the share of today's churn that money can remove at all, and ρ, how much
dearer the next customer won is than the next customer kept at today's spend. This script
gives a planner *everything else* as the truth of each world (``worlds.py``) has it — the
acquisition curves, ARPU, today's churn per pool, the state at the end of the history, the
carry-over and the season — and asks what the best split is when only μ and ρ are uncertain.
Each scenario is the world with its retention curve replaced by churn_p(r) =
c0_p·(1 − μ + μ·exp(−(r − r0)/k)) through today's point (r0, c0_p), k set by ρ (k = mCAC·μ·c̄0/ρ,
as the worlds define ρ). Three priors over (μ, ρ):

* ``bucket``: bucket's declared ranges, μ ~ U(0.05, 0.95), ρ ~ log-U(2, 30), independent;
* ``matched``: the (μ, ρ) pairs of the benchmark's own worlds (the prior a planner could only
  have by knowing how this benchmark draws its worlds);
* ``truth``: the world's own μ and ρ (an oracle; what is left is the error of the exp curve
  form in the ``tail`` and ``tenure`` worlds).

For each prior and a decision rule — the split with the highest mean value, or that among the
splits better than today in at least q of the scenarios — it prints regret against the true
optimum (channels held in today's proportions, as this planner does not reallocate them; the
regret is against the full optimum over all channel spends, so it includes that loss), the
worlds where the choice is worse than today beyond 0.5 %, and the claimed vs realised gain.
If even the ``matched`` prior cannot reach a target, no calibration of a ledger-only plan can.
Imports nothing from bucket.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from decisions import DEFAULT_SEED, gain_ratio, optimum
from worlds import (
    D_MONTH,
    FAMILIES,
    HORIZON,
    TERMINAL_MONTHS,
    World,
    experiments,
    make_world,
)

SHARES = np.linspace(0.0, 1.0, 101)


def today_point(w: World) -> tuple[float, np.ndarray, float]:
    """(r0, c0 per pool, mCAC) at today's spend, from the truth."""
    n = w.n_end.sum()
    r0 = w.ret_today / n
    x = r0 / w.k
    shape = math.exp(-x) if w.ret_kind == "exp" else (1.0 + x) ** -w.a
    c0 = w.c_min + (w.c_base - w.c_min) * shape
    a = w.acq_today
    eps = 1e-4 * max(a.sum(), 1.0)
    slope = (w.paid(a + eps, w.t_end) - w.paid(a, w.t_end)) / eps
    mcac = 1.0 / float(np.sum(a / a.sum() * slope))
    return r0, c0, mcac


def values(w: World, acq: np.ndarray, ret: np.ndarray, mu: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Customer equity (as ``World.values``) of policies ``acq`` (K, J), ``ret`` (K,) in the
    scenario worlds ``mu``, ``k`` (K,): the world with churn_p(r) = c0_p(1 − μ + μ e^{−(r−r0)/k})."""
    r0, c0, _ = today_point(w)

    def churn(r):  # (K, P, S)
        e = np.exp(np.minimum(-(r - r0) / k, 50.0))
        curve = c0[None, :] * (1.0 - mu + mu * e)[:, None]
        return np.minimum(1.0, curve[:, :, None] * w.seg_mult[None, None, :])

    K = acq.shape[0]
    n = np.broadcast_to(w.n_end, (K, *w.n_end.shape)).copy()
    prev = np.broadcast_to(w.a_last, acq.shape)
    spend = acq.sum(axis=1) + ret
    value, disc = np.zeros(K), 1.0
    for t in range(HORIZON):
        tot = n.sum(axis=(1, 2))
        value += (w.u * tot - spend) * disc
        c = churn(ret / np.maximum(tot, 1e-9))
        paid = w.paid((1.0 - w.lag) * acq + w.lag * prev, w.t_end + t)
        inflow = np.zeros((K, n.shape[1]))
        inflow[:, : paid.shape[1]] = paid
        inflow += w.organic[None, :] + w.q[None, :] * n.sum(axis=2)
        n = n * (1.0 - c) + inflow[:, :, None] * w.seg_new[None, None, :]
        prev = acq
        disc /= 1.0 + D_MONTH
    tot = n.sum(axis=(1, 2))
    r_h = ret / np.maximum(tot, 1e-9)
    x = (1.0 - churn(r_h)) / (1.0 + D_MONTH)
    geo = np.where(x < 1.0, (1.0 - x**TERMINAL_MONTHS) / np.maximum(1.0 - x, 1e-300), 240.0)
    return value + (n * geo).sum(axis=(1, 2)) * (w.u - r_h) * disc


def choose(w: World, budget: float, mix: np.ndarray, mu: np.ndarray, rho: np.ndarray, q: float):
    """The share a planner picks over the scenarios (μ_i, ρ_i), and the gain it claims."""
    _, c0, mcac = today_point(w)
    cbar = float(np.sum(c0 * w.n_end.sum(axis=1)) / w.n_end.sum())
    k = mcac * mu * cbar / rho
    S, G = len(mu), len(SHARES)
    s0 = float(w.acq_today.sum() / budget)
    grid = np.append(SHARES, s0)
    acq = (grid[:, None] * budget * mix[None, :]).repeat(S, axis=0)  # (G+1)*S rows
    v = values(w, acq, budget - acq.sum(axis=1), np.tile(mu, G + 1), np.tile(k, G + 1))
    v = v.reshape(G + 1, S)
    today = v[-1]
    better = (v[:-1] > today[None, :]).mean(axis=1)
    mean = v[:-1].mean(axis=1)
    ok = better >= q
    i = int(np.argmax(np.where(ok, mean, -np.inf))) if ok.any() else None
    if i is None or mean[i] <= today.mean():
        return s0, 0.0
    return float(SHARES[i]), float(np.median(v[i] / today - 1.0))


def oracle_spend(w: World, budget: float, mu: float, rho: float) -> np.ndarray:
    """The optimum over all channel spends of the world with μ and ρ in the exp form."""
    import copy

    _, c0, mcac = today_point(w)
    cbar = float(np.sum(c0 * w.n_end.sum(axis=1)) / w.n_end.sum())
    k = mcac * mu * cbar / rho
    r0 = today_point(w)[0]
    scen = copy.copy(w)

    def churn(r):
        e = np.exp(np.minimum(-(np.asarray(r) - r0) / k, 50.0))
        curve = c0[None, :] * (1.0 - mu + mu * e)[:, None]
        return np.minimum(1.0, curve[:, :, None] * w.seg_mult[None, None, :])

    scen.churn = churn  # type: ignore[method-assign]
    return optimum(scen, budget, [w.acq_today])[1]


def tested(w: World, seed: int, scenarios: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(μ, ρ) drawn from the posterior given the world's retention test (the one decisions.py
    --experiments gives bucket: holdout, current and stretch arms, 5 % of the base each, three
    months), starting from bucket's ranges; importance-resampled from 20,000 prior draws."""
    text = experiments(w, np.random.default_rng(seed + 7))
    arms = [ln.split(",") for ln in text.splitlines()[1:] if ln.split(",")[1] == "retention"]
    N = 20_000
    mu = rng.uniform(0.05, 0.95, N)
    rho = np.exp(rng.uniform(math.log(2.0), math.log(30.0), N))
    r0, c0, mcac = today_point(w)
    cbar = float(np.sum(c0 * w.n_end.sum(axis=1)) / w.n_end.sum())
    k = mcac * mu * cbar / rho
    size = np.round(0.05 * w.n_end)  # (P, S), as worlds.experiments draws the arms
    loglik = np.zeros(N)
    for arm in arms:
        n, churned, r = int(arm[5]), int(arm[6]), float(arm[7])
        e = np.exp(np.minimum(-(r - r0) / k, 50.0))
        c = np.minimum(1.0, c0[None, :, None] * (1.0 - mu + mu * e)[:, None, None] * w.seg_mult)
        p = ((1.0 - (1.0 - c) ** 3) * size).sum(axis=(1, 2)) / size.sum()
        p = np.clip(p, 1e-12, 1 - 1e-12)
        loglik += churned * np.log(p) + (n - churned) * np.log1p(-p)
    wt = np.exp(loglik - loglik.max())
    pick = rng.choice(N, size=scenarios, p=wt / wt.sum())
    return mu[pick], rho[pick]


def world_rows(seed: int, per_family: int, scenarios: int, rng_seed: int):
    worlds = []
    for fam in FAMILIES:
        for i in range(per_family):
            wseed = seed + 1000 * FAMILIES.index(fam) + i
            w, _ = make_world(fam, wseed, f"{fam}-{i:02d}")
            w.info["seed"] = wseed
            worlds.append(w)
    rng = np.random.default_rng(rng_seed)
    truth = np.array([[w.info["mu_obs"], w.info["rho"]] for w in worlds])
    priors = {
        "bucket": (
            rng.uniform(0.05, 0.95, scenarios),
            np.exp(rng.uniform(math.log(2.0), math.log(30.0), scenarios)),
        ),
        "matched": tuple(truth[rng.integers(0, len(truth), scenarios)].T),
    }
    return worlds, priors


def _ratios(rs) -> list[float]:
    """Claimed over realised gain per world, as decisions.py counts it."""
    out = [gain_ratio(r[2], r[3]) for r in rs if not math.isnan(r[2])]
    return [x for x in out if x is not None]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--worlds-per-family", type=int, default=8)
    ap.add_argument("--scenarios", type=int, default=300)
    ap.add_argument(
        "--experiments",
        action="store_true",
        help="also the prior updated by the world's retention test (decisions.py --experiments)",
    )
    args = ap.parse_args(argv)
    worlds, priors = world_rows(args.seed, args.worlds_per_family, args.scenarios, args.seed + 1)
    rng = np.random.default_rng(args.seed + 2)
    rules = [("mean", 0.0), ("80 % better", 0.8), ("90 % better", 0.9)]
    results: dict[tuple[str, str], list[tuple[float, bool, float, float]]] = {}
    for w in worlds:
        s0 = float(w.acq_today.sum() / (w.acq_today.sum() + w.ret_today))
        budget = float(w.acq_today.sum() + w.ret_today)
        mix = w.acq_today / w.acq_today.sum()
        v_today = float(w.values(w.acq_today[None, :], [w.ret_today])[0])
        v_star, _ = optimum(w, budget, [w.acq_today])
        cases = dict(priors)
        cases["truth"] = (np.array([w.info["mu_obs"]]), np.array([w.info["rho"]]))
        if args.experiments:
            cases["tested"] = tested(w, w.info["seed"], args.scenarios, rng)
        for prior, (mu, rho) in cases.items():
            for rule, q in rules:
                if prior == "truth" and q > 0:
                    continue
                s, claimed = choose(w, budget, mix, np.asarray(mu), np.asarray(rho), q)
                a = s * budget * mix if s != s0 else w.acq_today
                v = float(w.values(a[None, :], [budget - a.sum()])[0])
                results.setdefault((prior, rule), []).append(
                    ((v_star - v) / abs(v_star), v < v_today * 0.995, claimed, v / v_today - 1.0)
                )
        # the oracle that also reallocates the channels: the optimum of the truth-μ,ρ scenario
        a = oracle_spend(w, budget, w.info["mu_obs"], w.info["rho"])
        v = float(w.values(a[None, :], [budget - a.sum()])[0])
        results.setdefault(("truth", "+ channels"), []).append(
            ((v_star - v) / abs(v_star), v < v_today * 0.995, math.nan, v / v_today - 1.0)
        )
        if args.experiments:  # the channels of the posterior median's optimum, share by Bayes
            mu, rho = cases["tested"]
            a = oracle_spend(w, budget, float(np.median(mu)), float(np.median(rho)))
            mix2 = a / a.sum() if a.sum() > 0 else mix
            s, claimed = choose(w, budget, mix2, mu, rho, 0.0)
            a = s * budget * mix2
            v = float(w.values(a[None, :], [budget - a.sum()])[0])
            results.setdefault(("tested", "+ channels"), []).append(
                ((v_star - v) / abs(v_star), v < v_today * 0.995, claimed, v / v_today - 1.0)
            )
    print(
        f"the best a planner could do without a test: {len(worlds)} worlds, seed {args.seed}, "
        f"{args.scenarios} scenarios\n(everything but μ and ρ known; regret against the true "
        "optimum; worse = below today's value by more than 0.5 %)\n"
    )
    print(
        f"{'prior':9} {'rule':13} {'med reg%':>9} {'P90 reg%':>9} {'max reg%':>9} "
        f"{'worse':>6} {'med claim%':>11} {'med real%':>10} {'med ratio':>10}"
    )
    for (prior, rule), rs in results.items():
        reg = np.array([r[0] for r in rs])
        print(
            f"{prior:9} {rule:13} {100 * np.median(reg):9.2f} {100 * np.quantile(reg, 0.9):9.2f} "
            f"{100 * reg.max():9.2f} {sum(r[1] for r in rs):3d}/{len(rs):<2d} "
            f"{100 * np.median([r[2] for r in rs]):11.1f} {100 * np.median([r[3] for r in rs]):10.1f}"
            f" {np.median(ratios) if (ratios := _ratios(rs)) else math.nan:10.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

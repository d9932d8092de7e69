"""Channel pools (DESIGN §13): the reduction to one pool, the optimum against an independent
optimiser, the random-effects estimate against simulated truth and textbook formulas."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import EXAMPLES

from bucket.io.ledger import read_ledger
from bucket.model.calibrate import derive
from bucket.model.observe import observe
from bucket.model.optimize import (
    best_split,
    channel_spend,
    evaluate,
    grid_scores,
    grid_spend,
    params_of,
)
from bucket.model.pools import Pools, random_effects
from bucket.model.simulate import allocate, inflow_for, run
from bucket.settings import load_settings

EXAMPLE = str(EXAMPLES / "saas_monthly.csv")
H = 12


def calibrated(**kw):
    s, src, _ = load_settings(None, kw)
    return derive(observe(read_ledger(EXAMPLE), s), s, src)


def test_the_example_has_pools_and_they_differ():
    cal = calibrated()
    assert cal.pools is not None and cal.channel_quality is not None
    assert cal.pools.names == ("other", "partners", "search", "social")
    used = {e.name: e.churn_used for e in cal.pool_evidence}
    assert used["social"] > used["search"] > used["partners"]  # as sample.TRUTH has them
    assert cal.channel_quality.p_value < 0.001
    # the base's churn stays the observed one: the pools' hazards average to 1 over the window
    start = np.array([c.start for c in cal.obs.pools])
    assert np.sum(start * cal.pools.hazard) / start.sum() == pytest.approx(1.0, abs=1e-12)
    assert calibrated(channel_quality="off").pools is None


def test_alike_pools_reduce_exactly_to_one_pool():
    """h_j = 1 and u_j = u: the pools' run, allocation, split and value are the pooled ones."""
    cal_off = calibrated(channel_quality="off")
    n = len(cal_off.channels) + 1
    mix = np.array([0.1, 0.2, 0.3, 0.4])[:n]
    alike = Pools(("other", *cal_off.channels), np.ones(n), np.ones(n), mix / mix.sum())
    cal_on = replace(cal_off, pools=alike)
    p_off, p_on = params_of(cal_off, None, None), params_of(cal_on, None, None)
    budget = 30000.0
    a = np.linspace(0, budget, 7)
    spend_off = allocate(a, cal_off.kappa, cal_off.saturation)
    spend_on = channel_spend(
        a, budget - a, cal_on.kappa, cal_on.saturation, p_on, horizon=H, objective="value"
    )
    np.testing.assert_allclose(spend_on, spend_off, rtol=1e-9, atol=1e-9)
    t_off = run(
        p_off, a, budget - a, inflow_for(p_off, spend_off, cal_off.kappa, cal_off.saturation), H
    )
    t_on = run(p_on, a, budget - a, inflow_for(p_on, spend_on, cal_on.kappa, cal_on.saturation), H)
    for field in ("customers", "churn", "new", "lost", "profit", "value", "terminal"):
        np.testing.assert_allclose(getattr(t_on, field), getattr(t_off, field), rtol=1e-9)
    # with the caps binding: newcomers turned away from every pool in proportion
    capped_off = replace(p_off, capacity=4700.0, max_growth=0.004)
    capped_on = replace(p_on, capacity=4700.0, max_growth=0.004)
    paid_off = inflow_for(capped_off, spend_off, cal_off.kappa, cal_off.saturation)
    paid_on = inflow_for(capped_on, spend_off, cal_on.kappa, cal_on.saturation)
    c_off = run(capped_off, a, budget - a, paid_off, H)
    c_on = run(capped_on, a, budget - a, paid_on, H)
    assert c_off.overflow.sum() > 0
    for field in ("customers", "overflow", "value"):
        np.testing.assert_allclose(getattr(c_on, field), getattr(c_off, field), rtol=1e-9)
    s_off, v_off = best_split(cal_off, p_off, budget, H, "value")
    s_on, v_on = best_split(cal_on, p_on, budget, H, "value")
    assert s_on == pytest.approx(s_off, abs=1e-9)
    assert v_on == pytest.approx(v_off, rel=1e-9)


def test_value_allocation_matches_an_independent_optimiser():
    """SLSQP over every channel's spend (retention takes the rest) finds the split and channel
    spends the planner finds, to 1e-4 of the budget."""
    from scipy.optimize import minimize

    cal = calibrated()
    params = params_of(cal, None, None)
    budget = float(cal.obs.acquisition + cal.obs.retention)
    share, best = best_split(cal, params, budget, H, "value")
    planned = evaluate(cal, params, share, budget, H, "value").spend

    def loss(x: np.ndarray) -> float:
        spend = x * budget
        paid = inflow_for(params, spend, cal.kappa, cal.saturation)
        return -float(run(params, spend.sum(), budget - spend.sum(), paid, H).value) / best

    j = len(cal.channels)
    res = minimize(
        loss,
        np.full(j, 0.5 / j),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * j,
        constraints=[{"type": "ineq", "fun": lambda x: 1.0 - x.sum()}],
        options={"ftol": 1e-15, "maxiter": 500},
    )
    assert res.success
    assert share == pytest.approx(res.x.sum(), abs=1e-4)
    np.testing.assert_allclose(planned / budget, res.x, atol=1e-4)
    assert best == pytest.approx(-res.fun * best, rel=1e-9)


def test_grid_scores_with_interpolated_worth_match_the_full_solution():
    cal = calibrated()
    params = params_of(cal, None, None)
    budget = 30000.0
    coarse = grid_scores(params, cal.kappa, cal.saturation, budget, H, "value")
    a = np.linspace(0.0, budget, 101)
    spend = channel_spend(
        a, budget - a, cal.kappa, cal.saturation, params, horizon=H, objective="value"
    )
    paid = inflow_for(params, spend, cal.kappa, cal.saturation)
    full = run(params, a, budget - a, paid, H).value
    np.testing.assert_allclose(coarse, full, rtol=1e-6)
    assert grid_spend(params, cal.kappa, cal.saturation, budget, H, "value").shape == (101, 3)


def test_a_channel_whose_customers_leak_gets_less():
    cal = calibrated()
    params = params_of(cal, None, None)
    budget, a = 30000.0, np.array(15000.0)
    base = channel_spend(
        a, budget - a, cal.kappa, cal.saturation, params, horizon=H, objective="value"
    )
    leaky = cal.pools.hazard.copy()
    leaky[cal.pools.names.index("search")] *= 2.0
    worse = replace(params, pools=replace(cal.pools, hazard=leaky))
    moved = channel_spend(
        a, budget - a, cal.kappa, cal.saturation, worse, horizon=H, objective="value"
    )
    i = list(cal.channels).index("search")
    assert moved[i] < base[i]
    assert moved.sum() == pytest.approx(15000.0, rel=1e-12)


# --- the estimate ---------------------------------------------------------------------------


def test_random_effects_by_hand():
    """Two pools: Q, τ² and the shrinkage from the DerSimonian–Laird formulas written out."""
    churned, start = np.array([30.0, 60.0]), np.array([1000.0, 1000.0])
    fit = random_effects(churned, start)
    p = (churned + 0.5) / (start + 1.0)
    v = p * (1 - p) / start
    w = 1 / v
    rate = churned / start
    fixed = (w * rate).sum() / w.sum()
    q = (w * (rate - fixed) ** 2).sum()
    tau2 = (q - 1) / (w.sum() - (w**2).sum() / w.sum())
    assert fit.test.q == pytest.approx(q, rel=1e-12)
    assert fit.test.tau2 == pytest.approx(tau2, rel=1e-12)
    np.testing.assert_allclose(fit.shrinkage, v / (v + tau2), rtol=1e-12)
    from scipy.stats import chi2  # an independent implementation of the p-value

    assert fit.test.p_value == pytest.approx(chi2.sf(q, 1), rel=1e-9)


def test_identical_pools_are_not_told_apart():
    fit = random_effects(np.array([50.0, 50.0, 50.0]), np.array([1000.0, 1000.0, 1000.0]))
    assert fit.test.q == pytest.approx(0.0, abs=1e-20)
    assert fit.test.tau2 == 0.0 and fit.test.p_value == 1.0
    np.testing.assert_allclose(fit.churn, 0.05, rtol=1e-12)


def three_channel_ledger(seed: int, months: int = 12) -> str:
    """Three channels of 2,000 customers each whose customers churn at 8, 5 and 3 % a month
    (binomial), each refilled by its own paid customers."""
    rng = np.random.default_rng(seed)
    truth = {"alpha": 0.08, "beta": 0.05, "gamma": 0.03}
    lines = [
        "period,channel,acquisition_spend,retention_spend,new_customers,customers_start,"
        "churned_customers,revenue"
    ]
    base = dict.fromkeys(truth, 2000)
    for i in range(months):
        for ch, c in truth.items():
            spend = float(rng.uniform(6000, 12000))
            new = int(rng.poisson(spend / 60))
            churned = int(rng.binomial(base[ch], c))
            lines.append(
                f"2025-{i % 12 + 1:02d}" if months <= 12 else f"{2024 + i // 12}-{i % 12 + 1:02d}"
            )
            lines[-1] += f",{ch},{spend:.0f},{base[ch]},{new},{base[ch]},{churned},{base[ch] * 50}"
            base[ch] += new - churned
    return "\n".join(lines) + "\n"


def test_three_channels_recovered_within_three_standard_errors(write):
    path = write(three_channel_ledger(7))
    s, src, _ = load_settings(None, {"window": 12})
    cal = derive(observe(read_ledger(path), s), s, src)
    by = {e.name: e for e in cal.pool_evidence}
    for name, truth in (("alpha", 0.08), ("beta", 0.05), ("gamma", 0.03)):
        e = by[name]
        assert abs(e.churn_observed - truth) < 3 * e.churn_se, (name, e)
        assert abs(e.churn_used - truth) < 3 * e.churn_se, (name, e)
    assert cal.channel_quality.p_value < 0.001

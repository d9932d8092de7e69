"""The grid posteriors of calibration from experiments (DESIGN §12; issue 16, item 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from bucket.model.experiments import (
    FAR,
    ChannelAnchor,
    LiftTest,
    RetentionAnchor,
    RetentionArm,
    arm_loglik,
    churn_probability,
    experiment_suggested,
    fit_channel,
    fit_channels,
    fit_retention,
    k_prior,
    lift_response,
    predicted_lift,
    retention_curve,
)
from bucket.model.ranges import RANGES
from bucket.model.simulate import paid_inflow

ANCHOR = RetentionAnchor(c_obs=0.05, r_obs=2.0, mcac=200.0)


def expected_arm(test, arm, r, customers, *, mu, k, anchor=ANCHOR, periods=3.0):
    """An arm whose churned count is the expected one under (μ, k), rounded to a count."""
    c = anchor.c_obs * ((1 - mu) + mu * math.exp((anchor.r_obs - r) / k))  # §5, by hand
    p = 1 - (1 - c) ** periods
    return RetentionArm(test, arm, customers, round(customers * p), r, periods)


def test_likelihood_by_hand():
    """One arm, n = 1,000, T = 3, c = 0.05: p = 1 − 0.95³ = 0.142625; its log-likelihood is the
    binomial's log-pmf, by math.comb and by SciPy."""
    p = float(churn_probability(0.05, 3))
    assert p == pytest.approx(0.142625, abs=1e-15)
    for churned in (0, 131, 143, 1000):
        by_hand = (
            math.log(math.comb(1000, churned))
            + churned * math.log(0.142625)
            + (1000 - churned) * math.log(0.857375)
        )
        got = arm_loglik(1000, churned, 0.05, 3)
        assert got == pytest.approx(by_hand, rel=1e-12, abs=1e-9)
        assert got == pytest.approx(binom.logpmf(churned, 1000, 0.142625), rel=1e-12)


def test_the_curve_is_the_ledgers():
    """c(r_obs) = c_obs whatever μ and k; c(r → ∞) = (1 − μ)·c_obs."""
    for mu, k in ((0.1, 0.5), (0.9, 7.0)):
        assert retention_curve(2.0, c_obs=0.05, r_obs=2.0, mu=mu, k=k) == pytest.approx(0.05)
        assert retention_curve(1e4, c_obs=0.05, r_obs=2.0, mu=mu, k=k) == pytest.approx(
            (1 - mu) * 0.05
        )


def test_recovery_of_mu_and_k():
    """Arms at 0, today's and 4× today's spend per customer, 10⁶ customers each, churning the
    expected counts: μ and k come back within 1 %, identified."""
    for mu, k in ((0.6, 1.3), (0.25, 3.0), (0.85, 0.9)):
        arms = [
            expected_arm("t", name, r, 1_000_000, mu=mu, k=k)
            for name, r in (("holdout", 0.0), ("current", 2.0), ("stretch", 8.0))
        ]
        post = fit_retention(arms, ANCHOR)
        assert post.mu.median == pytest.approx(mu, rel=0.01)
        assert post.k.median == pytest.approx(k, rel=0.01)
        assert post.mu.p10 < mu < post.mu.p90 and post.k.p10 < k < post.k.p90
        assert post.mu.identified and post.k.identified
        assert not post.findings and not post.warnings


def test_the_null_changes_nothing():
    """An arm at today's spend churning exactly today's rate, alone: posterior = prior."""
    churned = round(1000 * 0.142625)
    post = fit_retention([RetentionArm("n", "current", 1000, churned, 2.0, 3.0)], ANCHOR)
    prior = fit_retention([], ANCHOR)
    for got, want in ((post.mu, prior.mu), (post.k, prior.k)):
        assert got.median == pytest.approx(want.median, rel=1e-6)
        assert got.median == pytest.approx(got.prior_median, rel=1e-6)
        assert (got.p10, got.p90) == pytest.approx((got.prior_p10, got.prior_p90), rel=1e-6)
        assert not got.identified
    # the flat prior on μ's range, cut where churn at zero spend would pass 100 %
    lo, hi = RANGES["mu"]
    assert lo < prior.mu.prior_p10 < prior.mu.prior_median < prior.mu.prior_p90 < hi
    assert post.checks[0].informs == () and abs(post.checks[0].z) < 0.1


def test_the_k_prior_spans_rho_and_the_cap():
    """ln k's range covers every k that ρ ∈ RANGES implies for μ in its range at today's mCAC."""
    lo, hi = k_prior(ANCHOR)
    for mu in RANGES["mu"]:
        for rho in RANGES["rho"]:
            assert lo < math.log(mu * 0.05 * 200.0 / rho) < hi
    # a business spending a lot per customer: the cap's k (churn 100 % at zero spend) is inside
    rich = RetentionAnchor(c_obs=0.05, r_obs=500.0, mcac=200.0)
    cap = 500.0 / math.log((1 - 0.05 * 0.05) / (0.95 * 0.05))
    assert k_prior(rich)[1] > math.log(cap)
    post = fit_retention([], rich)
    mu, k = post.draws(np.random.default_rng(1), 500)
    assert np.all(0.05 * ((1 - mu) + mu * np.exp(500.0 / k)) <= 1.0 + 1e-9)


def test_draws_follow_the_posterior():
    arms = [
        expected_arm("t", name, r, 20_000, mu=0.5, k=1.5)
        for name, r in (("holdout", 0.0), ("stretch", 8.0))
    ]
    post = fit_retention(arms, ANCHOR)
    mu, k = post.draws(np.random.default_rng(7), 20_000)
    assert np.median(mu) == pytest.approx(post.mu.median, abs=0.01)
    assert np.median(k) == pytest.approx(post.k.median, rel=0.02)
    assert np.mean(mu < post.mu.p10) == pytest.approx(0.1, abs=0.01)
    assert np.mean(k > post.k.p90) == pytest.approx(0.1, abs=0.01)
    again = post.draws(np.random.default_rng(7), 20_000)
    assert np.array_equal(mu, again[0]) and np.array_equal(k, again[1])


def test_a_treated_arm_churning_more_is_a_finding():
    """The stretch arm churns more than the holdout: reported as data, μ pushed to its low end."""
    arms = [
        RetentionArm("t9", "holdout", 5000, 700, 0.0, 3.0),
        RetentionArm("t9", "stretch", 5000, 760, 8.0, 3.0),
    ]
    post = fit_retention(arms, ANCHOR)
    assert len(post.findings) == 1 and "t9" in post.findings[0] and "stretch" in post.findings[0]
    assert post.mu.median < post.mu.prior_median
    assert post.mu.p10 < 0.15


def test_a_test_far_from_the_ledger_is_a_warning():
    """A current arm churning twice today's rate (many customers): |z| > 3, a warning naming
    the test; a holdout that agrees is no warning."""
    far = RetentionArm("far-1", "current", 50_000, round(50_000 * (1 - 0.9**3)), 2.0, 3.0)
    post = fit_retention([far], ANCHOR)
    assert abs(post.checks[0].z) > FAR
    assert len(post.warnings) == 1 and "far-1" in post.warnings[0]
    # the ledger's own churn is uncertain: with its standard error the same arm is not far
    unsure = RetentionAnchor(c_obs=0.05, r_obs=2.0, mcac=200.0, c_obs_se=0.02)
    assert abs(fit_retention([far], unsure).checks[0].z) < FAR
    ok = expected_arm("ok", "holdout", 0.0, 50_000, mu=0.5, k=1.5)
    assert fit_retention([ok], ANCHOR).warnings == ()
    same = [RetentionArm("eq", a, 1000, 140, 2.0, 3.0) for a in ("a", "b")]
    assert "eq" in fit_retention(same, ANCHOR).warnings[0]


CH = ChannelAnchor(spend=1000.0, paid=50.0)


def test_the_lift_response_is_section_5s_anchoring():
    """f(A) = M(1 − e^{−A/(κM)}) with M = ι·n̄/φ, κ = Ā/(M·−ln(1 − φ)); f(Ā) = ι·n̄."""
    for phi, iota in ((0.3, 1.0), (0.7, 0.4)):
        m = iota * 50.0 / phi
        kappa = 1000.0 / (m * -math.log(1 - phi))
        for a in (0.0, 400.0, 1000.0, 2500.0):
            want = paid_inflow(np.array([a]), np.array([kappa]), np.array([m]))
            assert lift_response(a, anchor=CH, phi=phi, iota=iota) == pytest.approx(want)
        assert lift_response(1000.0, anchor=CH, phi=phi, iota=iota) == pytest.approx(iota * 50)


def lift(test, spend, extra, *, phi, iota, se, scope=1.0, periods=3.0):
    t = LiftTest(test, "search", spend, extra, 0.0, se, periods, scope)
    y = float(predicted_lift(t, CH, phi=phi, iota=iota))
    return LiftTest(test, "search", spend, extra, y, se, periods, scope)


@pytest.mark.parametrize(("phi", "iota"), [(0.35, 0.7), (0.65, 0.25), (0.5, 1.0)])
def test_recovery_of_phi_and_iota(phi, iota):
    """A go-dark and an increment test with se → 0 recover φ and ι."""
    tests = [
        lift("dark", 1500.0, -1500.0, phi=phi, iota=iota, se=1e-4, scope=0.5),
        lift("more", 3000.0, 1500.0, phi=phi, iota=iota, se=1e-4),
    ]
    post = fit_channels(tests, {"search": CH, "tv": CH})["search"]
    assert post.phi.median == pytest.approx(phi, rel=0.01)
    assert post.iota.median == pytest.approx(iota, rel=0.01)
    assert post.phi.identified and post.iota.identified
    assert [c.informs for c in post.checks] == [("iota",), ("phi",)]
    assert tests[0].incremental_customers == pytest.approx(-3 * 0.5 * iota * 50)  # −scope·T·ι·n̄


def test_lift_tests_alone():
    """A go-dark test alone identifies ι, not φ; no test gives the prior; an unknown channel
    is refused."""
    post = fit_channel([lift("dark", 3000.0, -3000.0, phi=0.4, iota=0.6, se=1.0)], CH)
    assert post.iota.identified and not post.phi.identified
    assert post.iota.median == pytest.approx(0.6, abs=0.02)
    prior = fit_channel([], CH)
    assert prior.phi.median == pytest.approx(0.5, abs=1e-9)
    assert prior.iota.median == pytest.approx(0.5, abs=1e-9)
    phi, iota = prior.draws(np.random.default_rng(3), 1000)
    assert phi.min() >= 0.2 and phi.max() <= 0.8 and iota.min() >= 0 and iota.max() <= 1
    with pytest.raises(ValueError, match="not in the ledger"):
        fit_channels([lift("x", 3000.0, 300.0, phi=0.4, iota=0.6, se=1.0)], {"tv": CH})
    far = LiftTest("wild", "search", 3000.0, 300.0, 500.0, 1.0, 3.0)
    assert "wild" in fit_channel([far], CH).warnings[0]


def coverage(worlds: int, seed: int) -> float:
    """Share of simulated holdout + stretch tests whose μ 80 % interval covers the truth. Each
    world: μ uniform and ρ log-uniform on their ranges (k = μ·c_obs·mCAC/ρ, redrawn where
    churn at zero spend would pass 100 %), 5 % of a 20,000-customer base per arm for 3 periods,
    binomial churn."""
    rng = np.random.default_rng(seed)
    covered = done = 0
    while done < worlds:
        c_obs, r_obs = rng.uniform(0.02, 0.10), rng.uniform(1.0, 5.0)
        anchor = RetentionAnchor(c_obs=c_obs, r_obs=r_obs, mcac=rng.uniform(50.0, 400.0))
        mu = rng.uniform(*RANGES["mu"])
        k = mu * c_obs * anchor.mcac / math.exp(rng.uniform(*np.log(RANGES["rho"])))
        if math.log(mu * c_obs) + r_obs / k > math.log1p(-(1 - mu) * c_obs):  # churn > 100 %
            continue
        arms = []
        for name, r in (("holdout", 0.0), ("current", r_obs), ("stretch", 4 * r_obs)):
            c = c_obs * ((1 - mu) + mu * math.exp((r_obs - r) / k))
            arms.append(RetentionArm("c", name, 1000, rng.binomial(1000, 1 - (1 - c) ** 3), r, 3))
        post = fit_retention(arms, anchor)
        covered += post.mu.p10 <= mu <= post.mu.p90
        done += 1
    return covered / worlds


@pytest.mark.slow  # about 4 s: 200 grid posteriors
def test_coverage_of_mu():
    """Over 200 simulated holdout + stretch tests, μ's 80 % interval covers the truth 73–87 %."""
    assert 0.73 <= coverage(200, seed=2024) <= 0.87


def test_experiment_suggested_by_hand():
    """n = (z₀.₉₇₅ + z₀.₈)²(p₁q₁ + p₂q₂)/(p₁ − p₂)², rounded up."""
    s = experiment_suggested(0.05, 2.0, 5.0, 0.5, 1.0, 3.0)
    c1, c2 = 0.05, 0.05 * (0.5 + 0.5 * math.exp(-3.0))
    p1, p2 = 1 - (1 - c1) ** 3, 1 - (1 - c2) ** 3
    n = (1.959964 + 0.841621) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2
    assert 0.01 < n % 1 < 0.99  # not on the edge of rounding
    assert s.customers_per_arm == math.ceil(n)
    assert [a.spend_per_customer for a in s.arms] == [2.0, 5.0]
    assert [a.churn for a in s.arms] == pytest.approx([p1, p2])
    assert s.periods == 3.0 and s.power == 0.8 and s.significance == 0.05


def test_experiment_suggested_when_no_test_can_tell():
    for s in (
        experiment_suggested(0.05, 2.0, 2.0, 0.5, 1.0),  # the recommended spend is today's
        experiment_suggested(0.05, 2.0, 6.0, 0.5, 1e9),  # churn does not respond to spend
    ):
        assert s.customers_per_arm is None and "no test" in s.note

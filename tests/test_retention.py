"""The sBG model against Fader & Hardie (2007) and against data simulated from known α, β."""

from __future__ import annotations

import numpy as np
import pytest

from bucket.model.sbg import (
    discounted_lifetime,
    discounted_lifetime_constant,
    fit_sbg,
    retention_by_age,
    survival,
)

# Fader, P. S. & Hardie, B. G. S. (2007), "How to project customer retention", Journal of
# Interactive Marketing 21(1), 76-90: survivors of 1,000 customers per segment, years 0-7
# (Table 1), and the maximum-likelihood estimates fitted on them (section "Estimating the
# model"): Regular α = 0.704, β = 1.182; High End α = 0.668, β = 3.806.
HIGH_END = np.array([1000, 869, 743, 653, 593, 551, 517, 491])
REGULAR = np.array([1000, 631, 468, 382, 326, 289, 262, 241])


@pytest.mark.parametrize("data, alpha, beta", [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_published_estimates(data, alpha, beta):
    fit = fit_sbg([data])
    assert fit.alpha == pytest.approx(alpha, abs=5e-4)
    assert fit.beta == pytest.approx(beta, abs=5e-4)
    assert fit.better == "sbg"  # retention rises with tenure in both segments


def test_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    alpha, beta = 1.2, 4.0
    cohorts = []
    for size, age in [(20000, 12), (20000, 9), (20000, 6)]:  # cohorts of different ages
        theta = rng.beta(alpha, beta, size)
        lifetimes = rng.geometric(theta)  # periods survived until churn, ≥ 1
        cohorts.append(np.array([(lifetimes > t).sum() for t in range(age + 1)]))
    fit = fit_sbg(cohorts)
    assert fit.alpha == pytest.approx(alpha, rel=0.1)
    assert fit.beta == pytest.approx(beta, rel=0.1)
    assert abs(fit.alpha - alpha) < 3 * fit.se_alpha and abs(fit.beta - beta) < 3 * fit.se_beta


def test_homogeneous_churn_has_no_interior_maximum():
    # every customer churns at 20 % a period: expected counts, no heterogeneity at all
    n = np.array([10000 * 0.8**t for t in range(10)]).round()
    fit = fit_sbg([n])
    assert fit.homogeneous and fit.alpha is None
    assert fit.geometric_churn == pytest.approx(0.2, abs=1e-3)


def test_curve_identities():
    a, b = 0.704, 1.182
    ages = np.arange(0, 30)
    s = survival(a, b, ages)
    assert s[0] == 1.0
    # S(t) = Π r_1..r_t
    assert s[1:] == pytest.approx(np.cumprod(retention_by_age(a, b, ages[1:])))
    # the closed form of the discounted lifetime equals the sum
    d = 0.1
    brute = float(np.sum(survival(a, b, np.arange(0, 5000)) / (1 + d) ** np.arange(0, 5000)))
    assert discounted_lifetime(a, b, d) == pytest.approx(brute, rel=1e-8)
    assert discounted_lifetime(2.0, 3.0, 0.0) == pytest.approx((2 + 3 - 1) / (2 - 1))
    assert discounted_lifetime(0.5, 3.0, 0.0) is None  # α ≤ 1: infinite undiscounted lifetime
    assert discounted_lifetime_constant(0.2, 0.0) == pytest.approx(5.0)


def test_structural_delay_is_detected_and_skipped():
    from bucket.model.sbg import structural_delay

    delayed = [
        np.concatenate([[1000, 1000, 1000], REGULAR[1:] * 1.0]),
        np.array([500.0, 500.0, 500.0, 315.0]),
    ]
    assert structural_delay(delayed) == 2
    # a 90-day window in months: a customer whose window ends on a month's last days shows up
    # at age 2, a few against the many at age 3; both ages are the window's, not churn
    window = [np.array([1000.0, 1000.0, 992.0, 590.0, 470.0, 400.0])]
    assert structural_delay(window) == 2
    assert structural_delay([REGULAR * 1.0]) == 0  # sBG's hazard falls with age: no delay
    # fitted from the delay on, the published estimates come back
    fit = fit_sbg([delayed[0][2:]])
    assert fit.alpha == pytest.approx(0.704, abs=5e-4)


@pytest.mark.parametrize(
    "point", [(0.0, 0.0), (np.log(0.704), np.log(1.182)), (-2.0, 3.0), (2.0, 8.0), (-5.0, -5.0)]
)
def test_the_analytic_gradient_matches_finite_differences(point):
    from scipy.optimize import check_grad

    from bucket.model.sbg import loglik, loglik_gradient

    data = [REGULAR * 1.0, HIGH_END * 1.0, HIGH_END[:4] * 1.0]
    x = np.array(point)
    value, grad = loglik_gradient(*point, data)
    assert value == loglik(*point, data)  # the same sum, to the last bit
    h = 1e-4  # central differences: truncation ~h², rounding ~|L|·1e-16/h
    central = [
        (loglik(*(x + h * e), data) - loglik(*(x - h * e), data)) / (2 * h) for e in np.eye(2)
    ]
    assert grad == pytest.approx(central, rel=1e-6)

    def f(th):
        return loglik(th[0], th[1], data)

    def g(th):
        return loglik_gradient(th[0], th[1], data)[1]

    assert check_grad(f, g, x, epsilon=1e-6) < 2e-5 * np.linalg.norm(grad)


def test_the_fit_is_the_one_numeric_gradients_found():
    """The search with finite-difference gradients (as the fit first ran) lands on the same
    (α, β) to 1e-4, on the published segments and on cohorts of different ages."""
    from scipy.optimize import minimize

    from bucket.model.sbg import loglik

    short = np.array([1000, 800, 690, 620])
    for data in ([REGULAR * 1.0], [HIGH_END * 1.0], [REGULAR * 1.0, HIGH_END[:5] * 1.0, short]):
        best = min(
            (
                minimize(
                    lambda th, data=data: -loglik(th[0], th[1], data),
                    np.array(x0),
                    method="L-BFGS-B",
                    bounds=[(-10.0, np.log(1e4) + 2.0)] * 2,
                    options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 1000},
                )
                for x0 in [(0.0, 0.0), (0.0, 1.0), (1.0, 2.0), (-1.0, 0.5)]
            ),
            key=lambda r: r.fun,
        )
        fit = fit_sbg(data)
        assert fit.alpha == pytest.approx(np.exp(best.x[0]), rel=1e-4)
        assert fit.beta == pytest.approx(np.exp(best.x[1]), rel=1e-4)
        assert fit.loglik >= -best.fun - 1e-9

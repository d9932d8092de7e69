"""The least-squares fits of calibration (DESIGN §5): each channel's response to spend (M, κ)
and the retention response (c_base, k), both with ``scipy.optimize.curve_fit`` on
log-parameters (so M, κ, k stay positive), accepted only under the rules of §5.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np

# Today's spend may sit at most at 90 % of a fitted saturation (x = A/(κM) ≤ ln 10), where the
# marginal CAC is 3.9x the average; past it the fit is called flat and φ is assumed instead.
FLAT_X = math.log(10.0)


def fit_channel(
    spend: np.ndarray, paid: np.ndarray
) -> tuple[tuple[float, float, float] | None, str]:
    """Least-squares fit of paid = M·(1 − exp(−A/(κM))); (M, κ, SE(M)/M) or None and why."""
    from scipy.optimize import OptimizeWarning, curve_fit

    n_bar, a_bar = float(paid.mean()), float(spend.mean())
    m0 = n_bar / 0.5
    k0 = a_bar / (m0 * math.log(2.0))

    def f(a, log_m, log_k):
        m, k = np.exp(log_m), np.exp(log_k)
        return m * -np.expm1(-a / (k * m))

    def jac(a, log_m, log_k):
        m, k = np.exp(log_m), np.exp(log_k)
        x = a / (k * m)
        e = np.exp(-x)
        # d/dlogM of M(1 − e^{−x}) = M(1 − e^{−x}) − x·M·e^{−x};  d/dlogκ = −x·M·e^{−x}
        return np.column_stack([m * (1 - e) - x * m * e, -x * m * e])

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, pcov = curve_fit(
                f, spend, paid, p0=(math.log(m0), math.log(k0)), jac=jac, maxfev=2000
            )
    except (RuntimeError, ValueError):
        return None, "the least-squares fit did not converge"
    if not np.all(np.isfinite(popt)) or popt[0] > 50 or popt[1] > 50:
        return None, "the least-squares fit ran away (no saturation in sight)"
    se_log_m = math.sqrt(pcov[0, 0]) if np.isfinite(pcov[0, 0]) and pcov[0, 0] >= 0 else math.inf
    m, kappa = math.exp(popt[0]), math.exp(popt[1])
    rel_se = se_log_m  # SE(M)/M by the delta method on log M
    if m > 10 * n_bar:
        return None, f"the fitted saturation ({m:,.0f}) is over 10x the mean ({n_bar:,.1f})"
    if not rel_se < 0.5:
        return None, "the data cannot tell saturation (SE(M)/M ≥ 0.5)"
    se_log_k = math.sqrt(pcov[1, 1]) if np.isfinite(pcov[1, 1]) and pcov[1, 1] >= 0 else math.inf
    if not se_log_k < 0.5:
        return None, "the data cannot tell the cost of a customer at low spend (SE(κ)/κ ≥ 0.5)"
    # DESIGN §11: a curve that puts today's spend at or past saturation is flat where the data
    # are; a lag or noise reads that way, and believing it sends the budget elsewhere
    x = a_bar / (kappa * m)
    if x > FLAT_X:
        ratio = math.expm1(x) / x  # marginal CAC ÷ average CAC at today's spend
        return None, (
            f"the fit puts today's spend at {-math.expm1(-x):.0%} of saturation, where the next "
            f"customer would cost {ratio:,.1f}x the average (a flat curve, not believed)"
        )
    return (m, kappa, rel_se), ""


@lru_cache(maxsize=512)
def fit_retention(
    series: tuple[tuple[float, float, float], ...], c_min: float
) -> tuple[float, float] | None:
    """Fit churn_t = c_min + (c_base − c_min)·exp(−r_t/k) for (c_base, k), weights ∝ S_t."""
    from scipy.optimize import OptimizeWarning, curve_fit

    r = np.array([x[0] for x in series])
    c = np.array([x[1] for x in series])
    s = np.array([x[2] for x in series])

    def f(rr, log_gap, log_k):
        return c_min + np.exp(log_gap - rr / np.exp(log_k))

    def jac(rr, log_gap, log_k):
        e = np.exp(log_gap - rr / np.exp(log_k))
        return np.column_stack([e, e * rr / np.exp(log_k)])

    gap0 = max(float(c.mean()) - c_min, 1e-6)
    k0 = max(float(r.mean()), 1e-6)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, pcov = curve_fit(
                f,
                r,
                c,
                p0=(math.log(gap0 * 2), math.log(k0)),
                sigma=1 / np.sqrt(s),
                jac=jac,
                maxfev=2000,
            )
    except (RuntimeError, ValueError):
        return None
    if not np.all(np.isfinite(popt)):
        return None
    if not np.all(np.isfinite(pcov)) or pcov[1, 1] < 0 or math.sqrt(pcov[1, 1]) >= 0.5:
        return None  # SE(k)/k ≥ 0.5: the data cannot tell the curve
    c_base = c_min + math.exp(popt[0])
    k = math.exp(popt[1])
    if not (c_min < c_base <= 1.0) or not math.isfinite(k):
        return None
    return c_base, k

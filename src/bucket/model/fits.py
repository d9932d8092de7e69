"""The least-squares fits of calibration (DESIGN §5): each channel's response to spend (M, κ),
with a geometric carry-over of spend when it fits clearly better (DESIGN §11), and the retention
response (c_base, k), both with ``scipy.optimize.curve_fit`` on log-parameters (so M, κ, k stay
positive), accepted only under the rules of §5.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np

# Today's spend may sit at most at 90 % of a fitted saturation (x = A/(κM) ≤ ln 10), where the
# marginal CAC is 3.9x the average; past it the fit is called flat and φ is assumed instead.
FLAT_X = math.log(10.0)

# The carry-overs tried (the share of a period's effective spend carried into the next), and the
# F-test level a carry-over must pass against none: strict, as the best of eight is kept
CARRYOVERS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
CARRYOVER_LEVEL = 0.01


def carry_over(spend: np.ndarray, theta: float) -> np.ndarray:
    """Effective spend with a geometric carry-over (adstock, normalised so a steady spend stays
    itself): e_t = (1 − θ)·A_t + θ·e_{t−1}, starting from e_0 = A_0 (steady before the data)."""
    if theta <= 0:
        return spend
    # a first-order recursion over a few dozen periods (scipy.signal.lfilter would cost 150 ms
    # of import for it)
    out = np.empty(len(spend))
    prev = float(spend[0])
    for t, a in enumerate(spend):
        prev = (1.0 - theta) * float(a) + theta * prev
        out[t] = prev
    return out


def _curve(a: np.ndarray, log_m: float, log_k: float) -> np.ndarray:
    m, k = np.exp(log_m), np.exp(log_k)
    return m * -np.expm1(-a / (k * m))


def _curve_jac(a: np.ndarray, log_m: float, log_k: float) -> np.ndarray:
    m, k = np.exp(log_m), np.exp(log_k)
    x = a / (k * m)
    e = np.exp(-x)
    # d/dlogM of M(1 − e^{−x}) = M(1 − e^{−x}) − x·M·e^{−x};  d/dlogκ = −x·M·e^{−x}
    return np.column_stack([m * (1 - e) - x * m * e, -x * m * e])


def _least_squares(spend: np.ndarray, paid: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(popt, pcov) of paid = M·(1 − exp(−A/(κM))) on (log M, log κ), or None."""
    from scipy.optimize import OptimizeWarning, curve_fit

    m0 = float(paid.mean()) / 0.5
    k0 = float(spend.mean()) / (m0 * math.log(2.0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, pcov = curve_fit(
                _curve, spend, paid, p0=(math.log(m0), math.log(k0)), jac=_curve_jac, maxfev=2000
            )
    except (RuntimeError, ValueError):
        return None
    return popt, pcov


def _sse(spend: np.ndarray, paid: np.ndarray) -> float:
    """Residual sum of squares of the curve's fit, or of the mean when the curve fails."""
    flat = float(((paid - paid.mean()) ** 2).sum())
    fit = _least_squares(spend, paid)
    if fit is None or not np.all(np.isfinite(fit[0])):
        return flat
    sse = float(((paid - _curve(spend, *fit[0])) ** 2).sum())
    return min(sse, flat) if math.isfinite(sse) else flat


def choose_carry_over(spend: np.ndarray, paid: np.ndarray) -> float:
    """The carry-over θ that fits paid customers best, kept only when it beats none by an F-test
    at CARRYOVER_LEVEL (one more parameter); 0 otherwise (DESIGN §11)."""
    from scipy.special import fdtrc  # the F distribution's survival function (scipy.stats
    # would cost 0.3 s of import on every plan and validate)

    n = len(spend)
    if n < 6:
        return 0.0
    none = _sse(spend, paid)
    sse, theta = min((_sse(carry_over(spend, t), paid), t) for t in CARRYOVERS)
    if sse <= 0 or none <= sse:
        return 0.0
    stat = (none - sse) / (sse / (n - 3))
    return theta if fdtrc(1, n - 3, stat) < CARRYOVER_LEVEL else 0.0


def fit_channel(
    spend: np.ndarray, paid: np.ndarray
) -> tuple[tuple[float, float, float] | None, str]:
    """Least-squares fit of paid = M·(1 − exp(−A/(κM))); (M, κ, SE(M)/M) or None and why."""
    n_bar, a_bar = float(paid.mean()), float(spend.mean())
    fitted = _least_squares(spend, paid)
    if fitted is None:
        return None, "the least-squares fit did not converge"
    popt, pcov = fitted
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

"""Cohort retention and the shifted-beta-geometric (sBG) model (Fader & Hardie 2007; DESIGN §8).

Each customer churns at the end of any period with a probability θ that stays fixed for that
customer; θ varies across customers as Beta(α, β). Cohorts therefore lose their most
churn-prone customers first, and retention *rises with tenure*, which a constant churn rate
cannot show. For a cohort (eq. numbers from Fader & Hardie 2007, "How to project customer
retention", J. Interactive Marketing 21(1)):

    P(T = t) = B(α + 1, β + t − 1) / B(α, β)        (eq. 7)
    S(t)     = B(α, β + t) / B(α, β)                (eq. 8)
    r_t      = (β + t − 1) / (α + β + t − 1)        (retention rate at age t)

Fit by maximum likelihood with right-censoring (eq. B1): a cohort observed to age T contributes
Σ_{t=1..T} (n_{t−1} − n_t) ln P(T = t) + n_T ln S(T); several cohorts add their
log-likelihoods. Work is in ln α, ln β with ``scipy.special.betaln``. The expected discounted
lifetime of a new customer, Σ_{t≥0} S(t)/(1 + d)^t, is ₂F₁(1, β; α + β; 1/(1 + d))
(Fader & Hardie 2010, "Customer-base valuation in a contractual setting", eq. 3 with n = 0),
computed with ``scipy.special.hyp2f1``; CLTV_sBG = u·m times it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Beyond this, α and β have run off to infinity at a fixed ratio: churn is the same for
# everyone, the likelihood has no interior maximum, and the geometric model is the answer.
RUNAWAY = math.log(1e4)


@dataclass(frozen=True)
class SBGFit:
    alpha: float | None
    beta: float | None
    se_alpha: float | None
    se_beta: float | None
    loglik: float
    geometric_churn: float  # MLE of a constant churn rate on the same data
    geometric_loglik: float
    homogeneous: bool  # no interior maximum: every customer churns alike
    customers: int

    @property
    def better(self) -> str | None:
        """'sbg' or 'geometric' when a likelihood-ratio test (1 df, 5 %) tells them apart."""
        if self.homogeneous:
            return None
        stat = 2.0 * (self.loglik - self.geometric_loglik)
        return "sbg" if stat > 3.841 else None


# a leading age whose pooled churn is under this share of the next age's is structural
STRUCTURAL = 0.1


def structural_delay(cohorts: list[np.ndarray]) -> int:
    """Leading ages at which cohorts cannot really churn yet: with transactions nobody churns
    before the inactivity window runs out (90 days: ages 1 and 2 in months), and a customer
    whose window ends on the last days of a month shows up a period early, so such an age
    loses a few where the next loses many. An age belongs to the delay when no cohort loses
    anyone there, or when its pooled churn is under STRUCTURAL of the next age's (a window or a
    trial, not the sBG's smooth decline, whose hazard falls with age). The curve is fitted
    from the end of the delay."""
    k = 0
    while True:
        t = k + 1
        seen = [n for n in cohorts if len(n) > t]
        if not seen:
            return k
        if any(n[t] != n[t - 1] for n in seen):
            hazard = [_pooled_churn(cohorts, a) for a in (t, t + 1)]
            if hazard[0] is None or hazard[1] is None or hazard[0] >= STRUCTURAL * hazard[1]:
                return k
        k = t


def _pooled_churn(cohorts: list[np.ndarray], age: int) -> float | None:
    """Lost at ``age`` over at risk before it, over the cohorts that show that age."""
    seen = [n for n in cohorts if len(n) > age]
    risk = sum(float(n[age - 1]) for n in seen)
    if risk <= 0:
        return None
    return sum(max(float(n[age - 1] - n[age]), 0.0) for n in seen) / risk


def _counts(cohorts: list[np.ndarray]) -> list[np.ndarray]:
    out = []
    for c in cohorts:
        c = np.asarray(c, dtype=float)
        if c.ndim != 1 or len(c) < 2 or c[0] <= 0:
            continue
        out.append(c)
    return out


def loglik(log_alpha: float, log_beta: float, cohorts: list[np.ndarray]) -> float:
    """Σ over cohorts of the right-censored sBG log-likelihood (Fader & Hardie 2007, eq. B1)."""
    from scipy.special import betaln

    a, b = math.exp(log_alpha), math.exp(log_beta)
    base = betaln(a, b)
    total = 0.0
    for n in cohorts:
        t_max = len(n) - 1
        t = np.arange(1, t_max + 1)
        log_p = betaln(a + 1, b + t - 1) - base
        log_s = betaln(a, b + t_max) - base
        total += float(np.sum((n[:-1] - n[1:]) * log_p) + n[-1] * log_s)
    return total


def loglik_gradient(
    log_alpha: float, log_beta: float, cohorts: list[np.ndarray]
) -> tuple[float, np.ndarray]:
    """``loglik`` (the same value, summed the same way) and its gradient in (ln α, ln β).

    With ψ the digamma function, ∂ ln B(x, y)/∂x = ψ(x) − ψ(x + y), so for a cohort's terms

        ∂ ln P(T = t)/∂α = ψ(α + 1) − ψ(α) − ψ(α + β + t) + ψ(α + β)
                         = 1/α − ψ(α + β + t) + ψ(α + β)
        ∂ ln P(T = t)/∂β = ψ(β + t − 1) − ψ(β) − ψ(α + β + t) + ψ(α + β)
        ∂ ln S(T)/∂α     = ψ(α + β) − ψ(α + β + T)
        ∂ ln S(T)/∂β     = ψ(β + T) − ψ(β) − ψ(α + β + T) + ψ(α + β)

    and ∂/∂ln α = α ∂/∂α, ∂/∂ln β = β ∂/∂β. The optimizer gets this in place of a
    finite-difference gradient (two more likelihoods per step, and less accurate)."""
    from scipy.special import betaln, digamma

    a, b = math.exp(log_alpha), math.exp(log_beta)
    base = betaln(a, b)
    psi_b, psi_ab = digamma(b), digamma(a + b)
    total = d_alpha = d_beta = 0.0
    for n in cohorts:
        t_max = len(n) - 1
        t = np.arange(1, t_max + 1)
        lost = n[:-1] - n[1:]
        log_p = betaln(a + 1, b + t - 1) - base
        log_s = betaln(a, b + t_max) - base
        total += float(np.sum(lost * log_p) + n[-1] * log_s)
        psi_abt = digamma(a + b + t)  # ψ(α + β + t), t = 1 … T
        psi_end = psi_abt[-1]
        d_alpha += float(np.sum(lost * (1.0 / a - psi_abt + psi_ab)))
        d_alpha += float(n[-1] * (psi_ab - psi_end))
        d_beta += float(np.sum(lost * (digamma(b + t - 1) - psi_b - psi_abt + psi_ab)))
        d_beta += float(n[-1] * (digamma(b + t_max) - psi_b - psi_end + psi_ab))
    return total, np.array([a * d_alpha, b * d_beta])


def _geometric(cohorts: list[np.ndarray]) -> tuple[float, float]:
    """MLE of a constant churn p: churn events ÷ customer-periods at risk, and its log-lik."""
    lost = sum(float(np.sum(n[:-1] - n[1:])) for n in cohorts)
    at_risk = sum(float(np.sum(n[:-1])) for n in cohorts)
    p = lost / at_risk if at_risk > 0 else 0.0
    ll = 0.0
    for n in cohorts:
        d = n[:-1] - n[1:]
        kept = n[1:]
        if p > 0:
            ll += float(np.sum(d) * math.log(p))
        if p < 1:
            ll += float(np.sum(kept) * math.log(1 - p))
    return p, ll


def fit_sbg(cohorts: list[np.ndarray]) -> SBGFit:
    """Maximum-likelihood (α, β) over one or several cohorts' survivor counts n_0 … n_T."""
    from scipy.optimize import minimize

    data = _counts(cohorts)
    if not data:
        raise ValueError("no cohort with customers at age 0 and at least one later age")
    p, geo_ll = _geometric(data)
    customers = int(sum(n[0] for n in data))

    def neg(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = loglik_gradient(float(theta[0]), float(theta[1]), data)
        return -value, -grad

    # quasi-Newton in (ln α, ln β), boxed a little beyond the runaway bound: a homogeneous
    # population has no interior maximum (β → ∞) and the search stops at the box instead of
    # wandering (Nelder–Mead took thousands of evaluations there)
    box = [(-10.0, RUNAWAY + 2.0)] * 2
    starts = [(0.0, 0.0), (0.0, 1.0), (1.0, 2.0), (-1.0, 0.5)]
    best = None
    for x0 in starts:
        res = minimize(
            neg,
            np.array(x0),
            method="L-BFGS-B",
            jac=True,
            bounds=box,
            options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 1000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    la, lb = (float(v) for v in best.x)
    # no interior maximum: the fit runs off towards β → ∞, or stops on the ridge short of the
    # geometric limit it tends to (which the data like at least as well)
    ridge = -float(best.fun) <= geo_ll + 1e-9 * abs(geo_ll)
    if max(la, lb) > RUNAWAY or ridge or not (p > 0):
        return SBGFit(None, None, None, None, geo_ll, p, geo_ll, True, customers)
    se_a, se_b = _standard_errors(la, lb, data)
    a, b = math.exp(la), math.exp(lb)
    return SBGFit(
        a,
        b,
        None if se_a is None else a * se_a,
        None if se_b is None else b * se_b,
        -float(best.fun),
        p,
        geo_ll,
        False,
        customers,
    )


def _standard_errors(la: float, lb: float, data) -> tuple[float | None, float | None]:
    """SE of ln α, ln β from the inverse of the observed information (numerical Hessian)."""
    h = 1e-4
    f = lambda x, y: loglik(x, y, data)  # noqa: E731
    f0 = f(la, lb)
    faa = (f(la + h, lb) - 2 * f0 + f(la - h, lb)) / h**2
    fbb = (f(la, lb + h) - 2 * f0 + f(la, lb - h)) / h**2
    fab = (f(la + h, lb + h) - f(la + h, lb - h) - f(la - h, lb + h) + f(la - h, lb - h)) / (
        4 * h**2
    )
    info = -np.array([[faa, fab], [fab, fbb]])
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None, None
    if cov[0, 0] <= 0 or cov[1, 1] <= 0:
        return None, None
    return math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])


def survival(alpha: float, beta: float, ages: np.ndarray) -> np.ndarray:
    """S(t) = B(α, β + t)/B(α, β) (eq. 8)."""
    from scipy.special import betaln

    t = np.asarray(ages, dtype=float)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def retention_by_age(alpha: float, beta: float, ages: np.ndarray) -> np.ndarray:
    """r_t = (β + t − 1)/(α + β + t − 1), t ≥ 1."""
    t = np.asarray(ages, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def discounted_lifetime(alpha: float, beta: float, d: float) -> float | None:
    """Σ_{t≥0} S(t)/(1 + d)^t = ₂F₁(1, β; α + β; 1/(1 + d)); None when infinite (d = 0, α ≤ 1)."""
    from scipy.special import hyp2f1

    if d <= 0:
        return (alpha + beta - 1) / (alpha - 1) if alpha > 1 else None
    value = float(hyp2f1(1.0, beta, alpha + beta, 1.0 / (1.0 + d)))
    return value if math.isfinite(value) and value > 0 else None


def discounted_lifetime_constant(churn: float, d: float) -> float | None:
    """Σ_{t≥0} (1 − c)^t/(1 + d)^t = (1 + d)/(d + c)."""
    return (1 + d) / (d + churn) if d + churn > 0 else None

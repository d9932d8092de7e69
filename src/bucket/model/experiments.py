"""Calibration from experiments: grid posteriors of the retention curve and of each channel's
response (DESIGN §12).

The ledger pins the retention curve at one point, c(r_obs) = c_obs, and each channel's
response at (Ā_j, n̄_j); experiments measure the rest.

* Retention: c(r) = c_min + (c_obs − c_min)·exp((r_obs − r)/k), c_min = (1 − μ)·c_obs (§5's
  curve); an arm of ``customers`` at ``spend_per_customer`` r for T periods loses
  churned ~ Binomial(customers, p), p = 1 − (1 − c(r))^T. Posterior over a grid of (μ, ln k).
* Acquisition: f_j(A) = M_j(1 − e^{−A/(κ_j M_j)}), M_j = ι_j·n̄_j/φ_j and κ_j anchored so that
  f_j(Ā_j) = ι_j·n̄_j (§5's φ-assumption, which reads f_j(A) = ι_j n̄_j/φ_j·(1 − (1 − φ_j)^{A/Ā_j}));
  a lift test measures incremental_customers ~ Normal(scope·T·[f_j(a + Δa) − f_j(a)], se²) with
  a = spend/(scope·T), Δa = incremental_spend/(scope·T). Posterior over a grid of (φ_j, ι_j).

Priors are flat on the plausible ranges (``uncertainty.RANGES``; ι ∈ (0, 1]). For ln k the range
is the one ρ ∈ [2, 30] implies at today's marginal CAC over every μ in its range, k = μ·c_obs·mCAC/ρ,
widened K_WIDEN-fold at each end: today's mCAC rests on φ (0.8–1.7× its φ = 0.5 value across
φ's range), a world's μ can sit below 0.05, and §5 itself sets k above the ρ range when ρ would
put churn at zero spend above 100 %. Curves whose churn at zero spend exceeds 100 % are outside
the prior (the box is cut there), so every draw is a curve §5 could use.

Grids (``model.posterior``): GRID_SHAPE cells over the prior box, zoomed onto a sharp posterior.
A parameter is *identified* when its posterior 80 % interval is less than half its prior 80 %
interval (k measured in ln k, where its prior is flat). Checks: each arm or lift test against
the ledger-only prediction, the prior's mean, with a standard error that adds the prior's spread
to the sampling error, so |z| > FAR means no plausible parameter explains it (a warning naming
the test); a treated arm churning more than its holdout is a finding (μ towards 0), not an error.
Inputs are validated by the reader; a value out of domain here is a ValueError (a caller's bug).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy.special import gammaln

from bucket.model.posterior import GridPosterior, Marginal, grid_posterior, marginal
from bucket.model.ranges import RANGES

GRID_SHAPE = (181, 121)  # cells per axis: (μ, ln k) and (φ, ι)
K_WIDEN = 4.0  # the ln k prior reaches this factor beyond the ρ range at each end
IOTA_RANGE = (0.0, 1.0)
FAR = 3.0  # |z| above which a test disagrees with the ledger


@dataclass(frozen=True)
class RetentionArm:
    """One arm of a retention test: ``customers`` at the start, ``churned`` of them by the end
    (``periods`` ledger periods later), ``spend_per_customer`` per ledger period."""

    test: str
    arm: str
    customers: float
    churned: float
    spend_per_customer: float
    periods: float


@dataclass(frozen=True)
class LiftTest:
    """An acquisition lift test on ``channel`` over ``periods`` ledger periods (DESIGN §12)."""

    test: str
    channel: str
    spend: float  # the channel's spend in the tested scope over the test, without the increment
    incremental_spend: float  # negative for a go-dark test
    incremental_customers: float
    se: float
    periods: float
    scope: float = 1.0


@dataclass(frozen=True)
class RetentionAnchor:
    """What the ledger says of retention: churn per period c_obs at spend per customer r_obs,
    and today's marginal CAC (the ρ anchor of k). ``c_obs_se``: its standard error, if known."""

    c_obs: float
    r_obs: float
    mcac: float
    c_obs_se: float = 0.0


@dataclass(frozen=True)
class ChannelAnchor:
    """What the ledger says of a channel: mean spend Ā and paid new customers n̄ per period."""

    spend: float
    paid: float


@dataclass(frozen=True)
class Check:
    """One arm or lift test against the ledger: ``observed`` (churn share over the test, or
    incremental customers), ``predicted`` at the posterior medians, ``ledger`` the ledger-only
    prediction (the mean over the prior), ``se`` of observed − ledger (sampling and prior
    spread), ``z`` = (observed − ledger)/se, and the parameters it ``informs``."""

    test: str
    kind: str  # "retention" | "acquisition"
    name: str  # the arm, or the channel
    observed: float
    predicted: float
    ledger: float
    se: float
    z: float
    informs: tuple[str, ...]


# --- retention ------------------------------------------------------------------------------


def retention_curve(r, *, c_obs: float, r_obs: float, mu, k):
    """§5's churn per period at spend per customer ``r``: c_min + (c_obs − c_min)·e^{(r_obs − r)/k}."""
    return c_obs * ((1.0 - mu) + mu * np.exp((r_obs - r) / k))


def churn_probability(c, periods):
    """The share of customers lost over ``periods`` at churn ``c`` per period: 1 − (1 − c)^T."""
    with np.errstate(divide="ignore"):
        return -np.expm1(periods * np.log1p(-np.minimum(c, 1.0)))


def arm_loglik(customers, churned, c, periods):
    """ln Binomial(churned; customers, p), p = 1 − (1 − c)^T: ln C(n, y) (SciPy's gammaln)
    + y·ln p + (n − y)·T·ln(1 − c)."""
    n, y = np.asarray(customers, float), np.asarray(churned, float)
    log_comb = gammaln(n + 1.0) - gammaln(y + 1.0) - gammaln(n - y + 1.0)
    log_kept = periods * np.log1p(-np.minimum(c, 1.0 - 1e-16))  # ln(1 − p)
    p = np.maximum(-np.expm1(log_kept), 1e-300)  # 0·ln p = 0 when p = 0 and nothing churned
    return log_comb + y * np.log(p) + (n - y) * log_kept


def k_prior(anchor: RetentionAnchor) -> tuple[float, float]:
    """The prior range of ln k (module docstring): ρ ∈ RANGES at today's marginal CAC over every
    μ in its range, K_WIDEN-fold wider at each end, and reaching K_WIDEN × the k at which §5's
    cap (churn at zero spend = 100 %) binds for the largest μ."""
    c, (mu_lo, mu_hi), (rho_lo, rho_hi) = anchor.c_obs, RANGES["mu"], RANGES["rho"]
    lo = mu_lo * c * anchor.mcac / (rho_hi * K_WIDEN)
    hi = mu_hi * c * anchor.mcac * K_WIDEN / rho_lo
    cap = math.log((1.0 - (1.0 - mu_hi) * c) / (mu_hi * c))
    hi = max(hi, K_WIDEN * anchor.r_obs / cap)
    return math.log(lo), math.log(hi)


@dataclass(frozen=True)
class RetentionPosterior:
    """The retention curve's posterior: μ and k (medians, intervals, identified), the grid over
    (μ, ln k), each arm's check, and what to tell the user (findings: data about the business;
    warnings: tests that disagree with the ledger or cannot inform the curve)."""

    mu: Marginal
    k: Marginal
    grid: GridPosterior
    anchor: RetentionAnchor
    checks: tuple[Check, ...]
    findings: tuple[str, ...]
    warnings: tuple[str, ...]

    def draws(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` draws of (μ, k) from the posterior, each a curve with churn ≤ 100 % at r = 0."""
        mu, ln_k = self.grid.sample(rng, n)
        c, r0 = self.anchor.c_obs, self.anchor.r_obs
        k_min = r0 / np.log((1.0 - (1.0 - mu) * c) / (mu * c))
        return mu, np.maximum(np.exp(ln_k), k_min)


def _check_anchor(anchor: RetentionAnchor) -> None:
    if not (0.0 < anchor.c_obs < 1.0 and anchor.r_obs >= 0.0 and anchor.mcac > 0.0):
        raise ValueError(
            "the ledger's churn must lie in (0, 1), its retention spend per customer at or above "
            "0 and its marginal CAC above 0 for experiments to inform the retention curve"
        )
    if anchor.c_obs_se < 0:
        raise ValueError("c_obs_se must not be negative")


def _retention_arrays(arms: Sequence[RetentionArm]) -> tuple[np.ndarray, ...]:
    for a in arms:
        if not (0 <= a.churned <= a.customers and a.customers > 0):
            raise ValueError(f"test {a.test}, arm {a.arm}: churned must lie in [0, customers]")
        if a.spend_per_customer < 0 or a.periods <= 0:
            raise ValueError(f"test {a.test}, arm {a.arm}: spend ≥ 0 and periods > 0 needed")
    cols = ("customers", "churned", "spend_per_customer", "periods")
    return tuple(np.array([float(getattr(a, c)) for a in arms]) for c in cols)


def fit_retention(
    arms: Iterable[RetentionArm],
    anchor: RetentionAnchor,
    *,
    shape: tuple[int, int] = GRID_SHAPE,
) -> RetentionPosterior:
    """The posterior of (μ, k) given the retention arms (of any number of tests) and the
    ledger's anchor; no arms give the prior."""
    arms = list(arms)
    _check_anchor(anchor)
    n, y, r, t = _retention_arrays(arms)
    c, r0 = anchor.c_obs, anchor.r_obs

    def curve(mu: np.ndarray, ln_k: np.ndarray) -> np.ndarray:
        k = np.exp(ln_k)[..., None]
        with np.errstate(over="ignore"):  # beyond the cap: churn 100 %, outside the prior
            return retention_curve(r, c_obs=c, r_obs=r0, mu=mu[..., None], k=k)

    def loglik(mu: np.ndarray, ln_k: np.ndarray) -> np.ndarray:
        return arm_loglik(n, y, curve(mu, ln_k), t).sum(axis=-1)

    def feasible(mu: np.ndarray, ln_k: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # churn at r = 0 at most 100 %
            return np.log(mu * c) + r0 / np.exp(ln_k) <= np.log1p(-(1.0 - mu) * c)

    post, prior = grid_posterior(loglik, feasible, (RANGES["mu"], k_prior(anchor)), shape)
    mu_m = marginal(post, prior, 0)
    k_m = marginal(post, prior, 1, transform=math.exp)
    fitted = churn_probability(
        retention_curve(r, c_obs=c, r_obs=r0, mu=mu_m.median, k=k_m.median), t
    )
    p_prior = np.broadcast_to(
        churn_probability(curve(prior.x[:, None], prior.y[None, :]), t), (*shape, len(arms))
    )
    mean = prior.mean(p_prior)
    spread = np.maximum(prior.mean(p_prior**2) - mean**2, 0.0)
    # c(r) is proportional to c_obs, so its standard error moves p by dp/dc·c/c_obs·se
    c_mean = -np.expm1(np.log1p(-mean) / t)
    dp = t * (1.0 - c_mean) ** (t - 1.0) * c_mean / c * anchor.c_obs_se
    var = mean * (1.0 - mean) / n + spread + dp**2
    checks = _retention_checks(arms, anchor, y / n, fitted, mean, np.sqrt(var))
    return RetentionPosterior(
        mu_m, k_m, post, anchor, checks, _retention_findings(arms), _warnings(arms, checks)
    )


def _arm_informs(r: float, r_obs: float) -> tuple[str, ...]:
    """A holdout (below today's spend) informs k; a stretch (above it) μ; today's spend checks
    the ledger and informs neither (DESIGN §12)."""
    if math.isclose(r, r_obs, rel_tol=1e-9, abs_tol=1e-12):
        return ()
    return ("k",) if r < r_obs else ("mu",)


def _retention_checks(arms, anchor, observed, fitted, ledger, se) -> tuple[Check, ...]:
    return tuple(
        Check(
            a.test,
            "retention",
            a.arm,
            float(observed[i]),
            float(fitted[i]),
            float(ledger[i]),
            float(se[i]),
            float((observed[i] - ledger[i]) / se[i]) if se[i] > 0 else 0.0,
            _arm_informs(a.spend_per_customer, anchor.r_obs),
        )
        for i, a in enumerate(arms)
    )


def _by_test(arms: Sequence[RetentionArm]) -> dict[str, list[RetentionArm]]:
    tests: dict[str, list[RetentionArm]] = {}
    for a in arms:
        tests.setdefault(a.test, []).append(a)
    return tests


def _retention_findings(arms: Sequence[RetentionArm]) -> tuple[str, ...]:
    """A treated arm churning more than its test's holdout (the arm spending least): retention
    spend showed no effect there, which pushes μ towards its lower end. Data, not an error."""
    out = []
    for test, group in _by_test(arms).items():
        hold = min(group, key=lambda a: a.spend_per_customer)
        base = hold.churned / hold.customers
        for a in group:
            rate = a.churned / a.customers
            if a.spend_per_customer > hold.spend_per_customer and rate > base:
                out.append(
                    f"test {test}: the {a.arm} arm ({a.spend_per_customer:,.2f} per customer) "
                    f"churned more ({rate:.1%}) than the {hold.arm} arm "
                    f"({hold.spend_per_customer:,.2f}: {base:.1%}); retention spend showed no "
                    "effect there, which points to little removable churn (μ near its low end)"
                )
    return tuple(out)


def _far(checks: Sequence[Check], what: str) -> list[str]:
    """One warning per test whose worst |z| against the ledger exceeds FAR."""
    out, seen = [], set()
    for ch in sorted(checks, key=lambda ch: -abs(ch.z)):
        if abs(ch.z) > FAR and ch.test not in seen:
            seen.add(ch.test)
            out.append(
                f"experiment {ch.test} disagrees with the ledger: {what} {ch.name} measured "
                f"{ch.observed:,.4g} where the ledger predicts {ch.ledger:,.4g} ± {ch.se:,.2g} "
                f"(z = {ch.z:+.1f}); check that the test ran on customers and periods like the "
                "ledger's"
            )
    return out


def _warnings(arms: Sequence[RetentionArm], checks: Sequence[Check]) -> tuple[str, ...]:
    out = [
        f"test {test}: every arm spends {group[0].spend_per_customer:,.2f} per customer, so it "
        "cannot inform how churn responds to retention spend"
        for test, group in _by_test(arms).items()
        if len(group) > 1 and len({a.spend_per_customer for a in group}) == 1
    ]
    return tuple(out + _far(checks, "arm"))


# --- acquisition ----------------------------------------------------------------------------


def lift_response(spend, *, anchor: ChannelAnchor, phi, iota):
    """A channel's paid new customers per period at ``spend`` per period: f(A) = M(1 − e^{−A/(κM)})
    with M = ι·n̄/φ and κ = Ā/(M·−ln(1 − φ)) (§5's anchoring on ι·n̄), i.e.
    ι·n̄/φ·(1 − (1 − φ)^{A/Ā})."""
    return iota * anchor.paid / phi * -np.expm1(spend / anchor.spend * np.log1p(-phi))


def goes_dark(test: LiftTest) -> bool:
    """The test compares the channel with no spend at all (a go-dark test, or Robyn's lift from
    zero): it measures f(A) − f(0) = ι·n̄-scaled, so it tells ι."""
    return test.spend <= 0 or test.spend + test.incremental_spend <= 0


def predicted_lift(test: LiftTest, anchor: ChannelAnchor, *, phi, iota):
    """scope·T·[f(a + Δa) − f(a)], a = spend/(scope·T), Δa = incremental_spend/(scope·T)."""
    per = test.scope * test.periods
    a = test.spend / per
    after = max(a + test.incremental_spend / per, 0.0)
    f = lift_response
    return per * (
        f(after, anchor=anchor, phi=phi, iota=iota) - f(a, anchor=anchor, phi=phi, iota=iota)
    )


@dataclass(frozen=True)
class ChannelPosterior:
    """One channel's posterior: φ and ι (medians, intervals, identified), the grid over (φ, ι),
    each lift test's check, and warnings (tests far from the ledger)."""

    channel: str
    phi: Marginal
    iota: Marginal
    grid: GridPosterior
    checks: tuple[Check, ...]
    warnings: tuple[str, ...]

    def draws(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` draws of (φ, ι) from the posterior."""
        return self.grid.sample(rng, n)


def _check_lift(test: LiftTest, anchor: ChannelAnchor) -> None:
    if not (anchor.spend > 0 and anchor.paid > 0):
        raise ValueError(f"channel {test.channel}: the ledger shows no spend or no paid customers")
    if not (test.se > 0 and 0 < test.scope <= 1 and test.periods > 0 and test.spend >= 0):
        raise ValueError(f"test {test.test}: se > 0, scope in (0, 1], periods > 0 and spend ≥ 0")


def fit_channel(
    tests: Iterable[LiftTest],
    anchor: ChannelAnchor,
    *,
    shape: tuple[int, int] = GRID_SHAPE,
    iota_range: tuple[float, float] = IOTA_RANGE,
) -> ChannelPosterior:
    """The posterior of (φ, ι) of one channel given its lift tests; no tests give the prior.
    ``iota_range``: ι's prior (narrow it to hold ι where no go-dark test can tell it)."""
    tests = list(tests)
    names = {t.channel for t in tests}
    if len(names) > 1:
        raise ValueError(f"lift tests of several channels given as one: {sorted(names)}")
    for t in tests:
        _check_lift(t, anchor)
    obs = np.array([t.incremental_customers for t in tests], dtype=float)
    se = np.array([t.se for t in tests], dtype=float)

    def lifts(phi: np.ndarray, iota: np.ndarray) -> np.ndarray:
        out = [predicted_lift(t, anchor, phi=phi, iota=iota) for t in tests]
        return np.stack(out, axis=-1) if out else np.zeros((*np.shape(phi), 0))

    def loglik(phi: np.ndarray, iota: np.ndarray) -> np.ndarray:
        return (-0.5 * ((obs - lifts(phi, iota)) / se) ** 2).sum(axis=-1)

    def feasible(phi: np.ndarray, iota: np.ndarray) -> np.ndarray:
        return np.ones(phi.shape, dtype=bool)

    post, prior = grid_posterior(loglik, feasible, (RANGES["phi"], iota_range), shape)
    phi_m, iota_m = marginal(post, prior, 0), marginal(post, prior, 1)
    fitted = lifts(np.array(phi_m.median), np.array(iota_m.median))
    pred = np.broadcast_to(lifts(prior.x[:, None], prior.y[None, :]), (*shape, len(tests)))
    mean = prior.mean(pred)
    sd = np.sqrt(se**2 + np.maximum(prior.mean(pred**2) - mean**2, 0.0))
    checks = tuple(
        Check(
            t.test,
            "acquisition",
            t.channel,
            float(obs[i]),
            float(fitted[i]),
            float(mean[i]),
            float(sd[i]),
            float((obs[i] - mean[i]) / sd[i]),
            ("iota",) if goes_dark(t) else ("phi",),
        )
        for i, t in enumerate(tests)
    )
    channel = next(iter(names), "")
    return ChannelPosterior(channel, phi_m, iota_m, post, checks, tuple(_far(checks, "channel")))


def fit_channels(
    tests: Iterable[LiftTest], anchors: Mapping[str, ChannelAnchor]
) -> dict[str, ChannelPosterior]:
    """Each tested channel's posterior; a test of a channel the ledger lacks is a ValueError."""
    by: dict[str, list[LiftTest]] = {}
    for t in tests:
        if t.channel not in anchors:
            raise ValueError(f"test {t.test}: channel {t.channel} is not in the ledger")
        by.setdefault(t.channel, []).append(t)
    return {ch: fit_channel(ts, anchors[ch]) for ch, ts in by.items()}


# --- the next test --------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestedArm:
    name: str
    spend_per_customer: float
    churn: float  # the share expected to churn over the test


@dataclass(frozen=True)
class Suggestion:
    """The retention test to run next: two arms, ``periods`` long, ``customers_per_arm`` for
    ``power`` at two-sided ``significance`` (None when the model predicts no difference)."""

    arms: tuple[SuggestedArm, ...]
    periods: float
    customers_per_arm: int | None
    power: float
    significance: float
    note: str


def experiment_suggested(
    c_obs: float,
    r_obs: float,
    r_recommended: float,
    mu: float,
    k: float,
    periods: float = 3.0,
    *,
    power: float = 0.8,
    significance: float = 0.05,
) -> Suggestion:
    """Arms at today's and the recommended spend per customer for ``periods`` periods, and the
    customers each needs: n = (z_{1−α/2} + z_power)²·(p₁q₁ + p₂q₂)/(p₁ − p₂)², rounded up,
    p = 1 − (1 − c(r))^T on §5's curve."""
    z_of = NormalDist().inv_cdf  # the standard library's: scipy.stats costs 0.3 s of import

    def churn(r: float) -> float:
        c = retention_curve(r, c_obs=c_obs, r_obs=r_obs, mu=mu, k=k)
        return float(churn_probability(c, periods))

    p1, p2 = churn(r_obs), churn(r_recommended)
    arms = (SuggestedArm("current", r_obs, p1), SuggestedArm("recommended", r_recommended, p2))
    z = z_of(1.0 - significance / 2.0) + z_of(power)
    diff = abs(p1 - p2)
    n = z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / diff**2 if diff > 0 else math.inf
    if not math.isfinite(n) or n > 1e12:
        note = (
            "the model predicts the same churn at both spends, so no test of them can tell them "
            "apart; test a spend further from today's"
        )
        return Suggestion(arms, periods, None, power, significance, note)
    need = math.ceil(n - 1e-9 * n)
    note = (
        f"{need:,} customers per arm for {periods:g} periods tell {p1:.2%} from {p2:.2%} churned "
        f"with {power:.0%} power at {significance:.0%} significance (two-sided)"
    )
    return Suggestion(arms, periods, need, power, significance, note)

"""Calibrate the leaky bucket on a ledger: every parameter fitted, observed, assumed or set.

DESIGN §5. Two steps, so what-if analyses (sensitivity, break-even, and later uncertainty)
do not refit what does not change:

* ``observe(ledger, settings)`` (``model/observe.py``) reads the calibration window once: today's spend, churn,
  inflows, and the least-squares fits of each channel's response (M, κ) and of the retention
  response (c_base, k) where the data allow them;
* ``derive(obs, phi=, mu=, rho=, margin=)`` turns that into model parameters for given
  assumptions (cheap; refits the retention curve only when it was fitted, since c_min moves
  with μ).

The fits (``bucket.model.fits``) use ``scipy.optimize.curve_fit`` on log-parameters (so M, κ,
k stay positive) and are accepted only under the rules of §5; otherwise the parameter is assumed
and a warning says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bucket.errors import ConfigError, InputError, Problem
from bucket.model.fits import fit_retention
from bucket.model.money import period_discount_rate
from bucket.model.observe import MIN_CV, MIN_FIT_PERIODS, ChannelObs, Observed
from bucket.model.pools import Heterogeneity, PoolEvidence, Pools, estimate
from bucket.results.plan import ParameterOut as Parameter  # one parameter as the plan reports it
from bucket.results.plan import Source

if TYPE_CHECKING:
    from bucket.model.experiments import ChannelPosterior, RetentionPosterior
    from bucket.settings import PlanSettings


@dataclass(frozen=True)
class Calibration:
    """Model parameters for one set of assumptions (scalars; arrays of channels)."""

    obs: Observed
    u: float | None
    m: float
    d: float
    o: float
    q: float
    channels: tuple[str, ...]
    kappa: np.ndarray
    saturation: np.ndarray  # M
    mix: np.ndarray  # today's share of acquisition spend per modelled channel
    c_obs: float
    c_min: float
    c_base: float
    k: float
    mcac: float  # today's marginal CAC
    parameters: tuple[Parameter, ...]
    warnings: tuple[str, ...] = field(default=())
    assumptions: dict[str, float] = field(default_factory=dict)
    hazard: np.ndarray | None = None  # churn by age relative to today's base (sBG)
    age_mix: np.ndarray | None = None
    # one pool per channel (DESIGN §13): None when off, or nothing to compare
    pools: Pools | None = None
    pool_evidence: tuple[PoolEvidence, ...] = ()
    channel_quality: Heterogeneity | None = None

    @property
    def retention_works(self) -> bool:
        return self.c_obs > 0 and self.c_base > self.c_min


def marginal_cac(spend: np.ndarray, kappa: np.ndarray, saturation: np.ndarray) -> float:
    """Cost of one more paid customer when every channel's spend grows in proportion (§5)."""
    total = spend.sum()
    rate = np.sum((spend / total) * np.exp(-spend / (kappa * saturation)) / kappa)
    return float(1.0 / rate)


@dataclass(frozen=True)
class _Assumptions:
    """φ, μ, ρ and the margin of one derivation, and where each came from."""

    phi: float
    mu: float
    rho: float
    margin: float
    sources: dict[str, str]
    override: dict[str, float]

    def source(self, key: str) -> Source:
        return "set" if self.sources.get(key) == "set" or key in self.override else "assumed"


def _assumptions(
    settings: PlanSettings, sources: dict[str, str], override: dict[str, float]
) -> _Assumptions:
    """The settings' assumptions, or the ``override``s of a what-if analysis, checked."""
    phi = float(override.get("phi", settings.phi))
    mu = float(override.get("mu", settings.mu))
    rho = float(override.get("rho", settings.rho))
    m = float(override.get("margin", settings.margin))
    if not (0 < phi < 1 and 0 < mu < 1 and rho > 0 and 0 < m <= 1):
        raise ConfigError(
            "phi and mu must lie in (0, 1), rho above 0, margin in (0, 1]", "check the settings"
        )
    return _Assumptions(phi, mu, rho, m, sources, override)


@dataclass(frozen=True)
class _Response:
    """Every channel's response to spend (κ, M) at today's spend, and today's marginal CAC."""

    kappa: np.ndarray
    saturation: np.ndarray
    spend: np.ndarray
    mcac: float
    assumed: tuple[str, ...]  # the channels whose response comes from φ, not from a fit
    organic: float = 0.0  # paid customers that lift tests found not incremental: (1 − ι)·n̄


def _lifted(
    ch: ChannelObs, post: ChannelPosterior, phi: float, phi_set: bool
) -> tuple[float, float, float, str]:
    """(M, κ, ι) of a channel from its lift tests' posterior (DESIGN §12): φ and ι its medians
    where the tests pin them, else the assumed φ and ι = 1; and the note."""
    phi_j = post.phi.median if post.phi.identified and not phi_set else phi
    iota = post.iota.median if post.iota.identified else 1.0
    m_j = iota * ch.paid / phi_j
    k_j = ch.spend / (m_j * -math.log1p(-phi_j))
    note = "lift tests: " + ", ".join(
        f"{sym} = {m.median:.2f} (80 % interval {m.p10:.2f}–{m.p90:.2f})"
        if m.identified and not (sym == "φ" and phi_set)
        else f"{sym} = {value:g} ({'assumed' if sym == 'φ' else 'all attributed customers'})"
        for sym, m, value in (("φ", post.phi, phi), ("ι", post.iota, 1.0))
    )
    return m_j, k_j, iota, note


def _channel_response(
    obs: Observed,
    a: _Assumptions,
    params: list[Parameter],
    notes: list[str],
    lifted: dict[str, ChannelPosterior],
) -> _Response:
    """M and κ of each channel, from lift tests, fitted or assumed from φ; appends their
    parameters and notes."""
    phi, src = a.phi, a.source
    kappa, sat, spend = [], [], []
    assumed_channels = []
    organic = 0.0
    for ch in obs.channels:
        post = lifted.get(ch.name)
        if post is not None and (post.phi.identified or post.iota.identified):
            m_j, k_j, iota, note = _lifted(ch, post, phi, a.source("phi") == "set")
            source: Source = "experiment"
            organic += (1.0 - iota) * ch.paid
        elif ch.fit is not None:
            m_j, k_j, rel = ch.fit
            source = "fitted"
            note = f"least squares on {obs.periods} periods, SE(M)/M = {rel:.2f}"
            if ch.carryover > 0:
                note += f", on spend carried over at {ch.carryover:.0%} a period"
                params.append(
                    Parameter(
                        "carryover",
                        "θ",
                        ch.carryover,
                        "fitted",
                        "share of a period's effective spend carried into the next (adstock); "
                        "chosen on the channel's whole history, where it fitted the paid customers clearly "
                        "better than none (F-test, 1 %)",
                        ch.name,
                    )
                )
        else:
            m_j = ch.paid / phi
            k_j = ch.spend / (m_j * -math.log1p(-phi))
            source = src("phi")
            note = f"from φ = {phi:g}: {ch.why_not}"
            assumed_channels.append(ch.name)
        kappa.append(k_j)
        sat.append(m_j)
        spend.append(ch.spend)
        params.append(Parameter("saturation", "M", m_j, source, note, ch.name))
        params.append(Parameter("cac_at_zero_spend", "κ", k_j, source, note, ch.name))
    kappa_a, sat_a, spend_a = np.array(kappa), np.array(sat), np.array(spend)
    mcac = marginal_cac(spend_a, kappa_a, sat_a)
    if assumed_channels:
        notes.append(
            f"the spend response of {', '.join(assumed_channels)} is assumed from φ = {phi:g} "
            "(today's spend reaches that share of saturation); the data could not fit it"
        )
    return _Response(kappa_a, sat_a, spend_a, mcac, tuple(assumed_channels), organic)


def _retention_response(
    obs: Observed,
    a: _Assumptions,
    c_min: float,
    mcac: float,
    params: list[Parameter],
    notes: list[str],
) -> tuple[float, float]:
    """(c_base, k) of the retention curve, fitted or anchored on ρ at today's marginal CAC;
    appends their parameters and notes."""
    rho, mu, src = a.rho, a.mu, a.source
    c_obs, r_obs = obs.churn, obs.retention_per_customer
    if c_obs <= 0:
        notes.append(
            "no churn in the window: retention spend has no effect in the model, "
            "so the plan favours acquisition"
        )
        c_base, k = 0.0, 1.0
        params.append(Parameter("churn_base", "c_base", 0.0, "observed", "no churn observed"))
        params.append(Parameter("retention_scale", "k", None, "observed", "no churn to remove"))
    else:
        fitted = None
        if len(obs.churn_series) >= MIN_FIT_PERIODS and obs.retention_cv >= MIN_CV:
            fitted = fit_retention(obs.churn_series, c_min)
        if fitted is not None:
            c_base, k = fitted
            note = (
                f"least squares on {len(obs.churn_series)} periods of churn vs spend per customer"
            )
            params.append(Parameter("churn_base", "c_base", c_base, "fitted", note))
            params.append(Parameter("retention_scale", "k", k, "fitted", note))
        else:
            gap = c_obs - c_min
            k = gap * mcac / rho
            cap = math.log((1.0 - c_min) / gap)  # exp(r/k) may not push c_base above 1
            if r_obs / k > cap:
                c_base = 1.0
                k = r_obs / cap
                notes.append(
                    f"at ρ = {rho:g} today's retention spend would imply churn above 100 % without "
                    "it; k was set so the curve passes through today's churn, and ρ is not honoured"
                )
            else:
                c_base = c_min + gap * math.exp(r_obs / k)
            why = (
                "retention spend was zero in the window"
                if obs.retention <= 0
                else "retention spend per customer never varied enough"
                if obs.retention_cv < MIN_CV
                else f"retention spend covers only {len(obs.churn_series)} periods"
                if len(obs.churn_series) < MIN_FIT_PERIODS
                else "the fit of churn against retention spend was not conclusive"
            )
            notes.append(
                f"{why}, so the effect of retention spend is assumed from ρ = {rho:g} "
                f"and μ = {mu:g}"
            )
            note = f"from ρ = {rho:g} at today's marginal CAC {mcac:,.2f}"
            params.append(Parameter("churn_base", "c_base", c_base, src("rho"), note))
            params.append(Parameter("retention_scale", "k", k, src("rho"), note))
    return c_base, k


def _inflow_parameters(
    obs: Observed, settings: PlanSettings, a: _Assumptions, *, u: float | None, d: float
) -> list[Parameter]:
    """Revenue per customer, margin, discount rate, organic inflow and referrals, as reported."""
    per, m, src = obs.frequency, a.margin, a.source
    u_src: Source = "set" if settings.arpu is not None else "observed"
    return [
        Parameter(
            "arpu",
            "u",
            u,
            u_src,
            f"revenue per customer per {per}"
            + ("" if u is not None else "; no revenue column (give --arpu)"),
        ),
        Parameter("margin", "m", m, src("margin"), "gross margin"),
        Parameter(
            "discount_rate",
            "d",
            d,
            src("annual_discount_rate"),
            f"per {per}, from {settings.annual_discount_rate:.0%} a year",
        ),
        Parameter(
            "organic_inflow",
            "o",
            obs.organic,
            "observed",
            f"organic + reactivated customers per {per}",
        ),
        Parameter(
            "referral_rate",
            "q",
            obs.referral_rate,
            "observed",
            f"referred new customers per existing customer per {per}",
        ),
    ]


def _window_churn(obs: Observed) -> float:
    """The window's churn, refused at 100 % or more (no customer could have stayed)."""
    c_obs = obs.churn
    if c_obs >= 1.0:
        raise InputError(
            Problem(
                "error",
                "calibration",
                f"more customers churned in the calibration window ({obs.first} to {obs.last}) "
                f"than were there at the start of its periods ({100 * c_obs:.0f} %): customers "
                "won in a period also left within it, which churn on the starting base cannot "
                "describe",
                "aggregate the ledger to longer periods (quarters), or check that "
                "churned_customers counts customers and not cancellations",
                obs.file,
            )
        )
    return c_obs


def derive(
    obs: Observed,
    settings: PlanSettings,
    sources: dict[str, str] | None = None,
    measured: RetentionPosterior | None = None,
    lifted: dict[str, ChannelPosterior] | None = None,
    **override: float,
) -> Calibration:
    """Model parameters from the observations under the settings' assumptions (or
    ``override``s of phi, mu, rho, margin for what-if analyses), the retention curve from
    experiments where their posterior pins μ or k (``measured``, DESIGN §12)."""
    sources = sources or {}
    a = _assumptions(settings, sources, override)
    phi, mu, rho, m = a.phi, a.mu, a.rho, a.margin
    mu_from_test = measured is not None and measured.mu.identified and a.source("mu") == "assumed"
    if mu_from_test and measured is not None:
        mu = measured.mu.median
    notes = list(obs.warnings)
    params: list[Parameter] = []
    d = period_discount_rate(settings.annual_discount_rate, obs.frequency)
    per = obs.frequency
    u = settings.arpu if settings.arpu is not None else obs.revenue_per_customer
    params += _inflow_parameters(obs, settings, a, u=u, d=d)
    resp = _channel_response(obs, a, params, notes, lifted or {})
    if resp.organic > 0:
        _add_organic(params, obs, resp.organic)
    c_obs = _window_churn(obs)
    c_min = (1.0 - mu) * c_obs
    params.append(Parameter("churn_observed", "c_obs", c_obs, "observed", f"churn per {per}"))
    params.append(_floor(c_min, mu, a, measured if mu_from_test else None))
    if measured is not None and measured.k.identified and c_obs > c_min:
        c_base, k = _measured_response(obs, c_min, measured, params)
    else:
        c_base, k = _retention_response(obs, a, c_min, resp.mcac, params, notes)
    params.append(
        Parameter(
            "marginal_cac",
            "mCAC",
            resp.mcac,
            "derived",
            "today's cost of one more paid customer, from the response curves"
            + (f" (φ = {phi:g} assumed for some)" if resp.assumed else ""),
        )
    )
    pools = estimate(obs.pools, u, c_obs) if settings.channel_quality == "auto" else None
    return Calibration(
        obs=obs,
        u=u,
        m=m,
        d=d,
        o=obs.organic + resp.organic,
        q=obs.referral_rate,
        channels=tuple(ch.name for ch in obs.channels),
        kappa=resp.kappa,
        saturation=resp.saturation,
        mix=resp.spend / resp.spend.sum(),
        c_obs=c_obs,
        c_min=c_min,
        c_base=c_base,
        k=k,
        mcac=resp.mcac,
        parameters=tuple(params),
        warnings=tuple(notes),
        assumptions={"phi": phi, "mu": mu, "rho": rho, "margin": m},
        pools=pools[0] if pools else None,
        pool_evidence=pools[1] if pools else (),
        channel_quality=pools[2] if pools else None,
    )


def _add_organic(params: list[Parameter], obs: Observed, extra: float) -> None:
    """The organic inflow with the paid customers lift tests found would have come anyway."""
    i = next(i for i, p in enumerate(params) if p.name == "organic_inflow")
    params[i] = Parameter(
        "organic_inflow",
        "o",
        obs.organic + extra,
        "experiment",
        f"organic + reactivated customers per {obs.frequency}, and {extra:,.1f} attributed paid "
        "customers the lift tests found not incremental ((1 − ι)·n̄)",
    )


def _floor(
    c_min: float, mu: float, a: _Assumptions, measured: RetentionPosterior | None
) -> Parameter:
    """The churn floor's parameter, from μ assumed or set, or measured by the experiments."""
    if measured is None:
        return Parameter(
            "churn_floor", "c_min", c_min, a.source("mu"), f"(1 − μ)·c_obs with μ = {mu:g}"
        )
    return Parameter(
        "churn_floor",
        "c_min",
        c_min,
        "experiment",
        f"(1 − μ)·c_obs with μ = {mu:.3g}, the experiments' posterior median (80 % interval "
        f"{measured.mu.p10:.2f}–{measured.mu.p90:.2f}; was assumed {a.mu:g})",
    )


def _measured_response(
    obs: Observed, c_min: float, measured: RetentionPosterior, params: list[Parameter]
) -> tuple[float, float]:
    """(c_base, k) with k the experiments' posterior median: the curve through today's churn at
    today's spend per customer, churn at zero spend capped at 100 %."""
    c_obs, r_obs = obs.churn, obs.retention_per_customer
    gap = c_obs - c_min
    k = measured.k.median
    cap = math.log((1.0 - c_min) / gap)
    k = max(k, r_obs / cap) if cap > 0 else k
    c_base = min(1.0, c_min + gap * math.exp(r_obs / k))
    note = (
        f"the experiments' posterior median (80 % interval {measured.k.p10:.3g}–"
        f"{measured.k.p90:.3g}), through today's churn at today's spend per customer"
    )
    params.append(Parameter("churn_base", "c_base", c_base, "experiment", note))
    params.append(Parameter("retention_scale", "k", k, "experiment", note))
    return c_base, k

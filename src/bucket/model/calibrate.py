"""Calibrate the leaky bucket on a ledger: every parameter fitted, observed, assumed or set.

DESIGN §5. Two steps, so what-if analyses (sensitivity, break-even, and later uncertainty)
do not refit what does not change:

* ``observe(ledger, settings)`` reads the calibration window once: today's spend, churn,
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
from typing import TYPE_CHECKING, Literal

import numpy as np

from bucket.results.plan import ParameterOut as Parameter  # one parameter as the plan reports it
from bucket.results.plan import Source
from bucket.errors import ConfigError, InputError, Problem
from bucket.model.fits import fit_channel, fit_retention
from bucket.model.money import period_discount_rate
from bucket.model.window import (
    CalibrationWindow,
    calibration_error,
    calibration_window,
    window_revenue,
)

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.settings import PlanSettings

MIN_FIT_PERIODS = 6
MIN_CV = 0.15


@dataclass(frozen=True)
class ChannelObs:
    name: str
    spend: float  # mean acquisition spend per period in the window
    paid: float  # mean paid new customers per period
    spend_cv: float
    fit: tuple[float, float, float] | None  # (M, κ, SE(M)/M) when accepted
    why_not: str | None  # why no fit was accepted


@dataclass(frozen=True)
class Observed:
    """What the calibration window shows, before any assumption."""

    file: str
    frequency: str
    first: str
    last: str
    periods: int
    last_ordinal: int
    n0: float
    revenue_per_customer: float | None  # u; None when the ledger has no revenue
    organic: float  # o: organic + reactivated (+ paid customers of unfunded channels)
    referral_rate: float  # q
    channels: tuple[ChannelObs, ...]
    acquisition: float  # mean acquisition spend per period (all channels, dropped ones too)
    retention: float  # mean retention spend per period
    churn: float  # c_obs
    retention_per_customer: float  # r_obs
    churn_series: tuple[tuple[float, float, float], ...]  # per period (r_t, c_t, S_t)
    retention_cv: float
    warnings: tuple[str, ...]
    # per-period arrays of the window (for resampling): start, churned, retention, organic,
    # referral, revenue, avg_customers of shape (W,); spend and paid of shape (J, W)
    series: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)


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

    @property
    def retention_works(self) -> bool:
        return self.c_obs > 0 and self.c_base > self.c_min


def _cv(x: np.ndarray) -> float:
    mean = float(np.mean(x))
    return float(np.std(x, ddof=0) / mean) if mean > 0 else 0.0


def _observe_channel(
    shown: str, spend: np.ndarray, paid: np.ndarray, notes: list[str]
) -> ChannelObs:
    """One channel that spent and won paid customers, fitted when its data allow (§5)."""
    # a channel launched inside the window is judged from its launch on: the months before
    # it existed are not evidence about its response to spend
    launch = int(np.argmax(spend > 0))
    live_spend, live_paid = spend[launch:], paid[launch:]
    if launch > 0:
        notes.append(f"channel {shown} started spending in the window; it is calibrated on "
                     f"its last {len(live_spend)} period(s)")  # fmt: skip
    cv = _cv(live_spend)
    levels = len(np.unique(np.round(live_spend[live_spend > 0], 2)))
    fit, why = None, ""
    if len(live_spend) < MIN_FIT_PERIODS:
        why = f"only {len(live_spend)} periods (a fit needs {MIN_FIT_PERIODS})"
    elif cv < MIN_CV:
        why = f"spend barely varied (coefficient of variation {cv:.2f} < {MIN_CV})"
    elif levels < 3:
        why = f"spend took only {levels} distinct values (a curve needs 3 or more)"
    else:
        fit, why = fit_channel(live_spend, live_paid)
    return ChannelObs(shown, float(live_spend.mean()), float(live_paid.mean()), cv, fit,
                      why or None)  # fmt: skip


@dataclass(frozen=True)
class _Channels:
    """The channels of the window that get a response curve, and the organic inflow once the
    customers of channels without spend are added to it."""

    channels: tuple[ChannelObs, ...]
    spend: list[np.ndarray]  # per period, one array per channel kept
    paid: list[np.ndarray]
    organic: float
    organic_p: np.ndarray


def _observe_channels(
    ledger: Ledger, w: CalibrationWindow, organic: float, organic_p: np.ndarray, notes: list[str]
) -> _Channels:
    """Every channel of the window: kept with its response, dropped, or counted as organic."""
    win, period_idx, n_periods = w.rows, w.period_idx, w.periods
    names = sorted(set(win["channel"].tolist())) if ledger.has_channels else [""]
    channels: list[ChannelObs] = []
    spend_rows: list[np.ndarray] = []
    paid_rows: list[np.ndarray] = []
    for name in names:
        rows = (win["channel"] == name).to_numpy() if ledger.has_channels else np.ones(len(win), bool)
        idx = period_idx[rows]
        spend = np.bincount(idx, weights=w.col["acquisition_spend"][rows], minlength=n_periods)
        paid = np.bincount(idx, weights=w.paid[rows], minlength=n_periods)
        shown = name or "all"
        if spend.sum() <= 0:
            organic += float(paid.mean())
            organic_p = organic_p + paid
            if paid.sum() > 0:
                notes.append(
                    f"channel {shown} had no spend in the window; its customers count as organic"
                )
            continue
        if paid.sum() <= 0:
            notes.append(f"channel {shown} had spend but no paid new customers; it gets no budget")
            continue
        channels.append(_observe_channel(shown, spend, paid, notes))
        spend_rows.append(spend)
        paid_rows.append(paid)
    return _Channels(tuple(channels), spend_rows, paid_rows, organic, organic_p)


def _churn_series(
    start_p: np.ndarray, churn_p: np.ndarray, retention_p: np.ndarray
) -> tuple[tuple[tuple[float, float, float], ...], float]:
    """(r_t, c_t, S_t) of every period that starts with customers, and the coefficient of
    variation of r_t over those periods."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r_t = np.where(start_p > 0, retention_p / start_p, 0.0)
        c_t = np.where(start_p > 0, churn_p / start_p, 0.0)
    series = tuple((float(r), float(c), float(s)) for r, c, s in zip(r_t, c_t, start_p) if s > 0)
    return series, _cv(r_t[start_p > 0]) if (start_p > 0).any() else 0.0


def observe(ledger: Ledger, settings: PlanSettings) -> Observed:
    """Aggregate the calibration window and fit what the data allow."""
    w = calibration_window(ledger, settings)
    notes: list[str] = []
    start_p = w.per_period(w.col["customers_start"])
    churn_p = w.per_period(w.col["churned_customers"])
    retention_p = w.per_period(w.col.get("retention_spend", np.zeros(len(w.rows))))
    spend_total = float(w.col["acquisition_spend"].sum())
    if spend_total <= 0:
        raise calibration_error(
            ledger,
            f"no acquisition spend in the calibration window ({w.first} to {w.last})",
            "include periods with spend: raise --window or check the spend column",
        )
    if float(w.paid.sum()) <= 0:
        raise calibration_error(
            ledger,
            f"no paid new customers in the calibration window ({w.first} to {w.last})",
            "include periods where spend brought customers: raise --window",
        )
    last_rows = ledger.frame[ledger.frame["ordinal"] == w.last_ordinal]
    n0 = float(last_rows["customers_end"].sum())
    if n0 <= 0:
        notes.append("the customer base is empty at the end of the ledger; the plan starts from zero")
    revenue_per_customer, revenue_p, avg_p = window_revenue(ledger, w)
    organic_p = w.per_period(w.organic + w.reactivated)
    s_total = float(start_p.sum())
    referral_rate = float(w.referral.sum() / s_total) if s_total > 0 else 0.0
    ch = _observe_channels(ledger, w, float(organic_p.mean()), organic_p, notes)
    if not ch.channels:
        raise calibration_error(
            ledger,
            f"no channel both spent and won paid customers in the window ({w.first} to {w.last})",
            "raise --window to include such periods",
        )
    series, retention_cv = _churn_series(start_p, churn_p, retention_p)
    return Observed(
        file=ledger.file,
        frequency=ledger.frequency,
        first=w.first,
        last=w.last,
        periods=w.periods,
        last_ordinal=w.last_ordinal,
        n0=n0,
        revenue_per_customer=revenue_per_customer,
        organic=ch.organic,
        referral_rate=referral_rate,
        channels=ch.channels,
        acquisition=spend_total / w.periods,
        retention=float(retention_p.sum()) / w.periods,
        churn=float(churn_p.sum() / s_total) if s_total > 0 else 0.0,
        retention_per_customer=float(retention_p.sum() / s_total) if s_total > 0 else 0.0,
        churn_series=series,
        retention_cv=retention_cv,
        warnings=tuple(notes),
        series={
            "start": start_p, "churned": churn_p, "retention": retention_p,
            "organic": ch.organic_p, "referral": w.per_period(w.referral),
            "revenue": revenue_p, "avg_customers": avg_p,
            "spend": np.array(ch.spend), "paid": np.array(ch.paid),
        },  # fmt: skip
    )


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


def _channel_response(
    obs: Observed, a: _Assumptions, params: list[Parameter], notes: list[str]
) -> _Response:
    """M and κ of each channel, fitted or assumed from φ; appends their parameters and notes."""
    phi, src = a.phi, a.source
    kappa, sat, spend = [], [], []
    assumed_channels = []
    for ch in obs.channels:
        if ch.fit is not None:
            m_j, k_j, rel = ch.fit
            source: Source = "fitted"
            note = f"least squares on {obs.periods} periods, SE(M)/M = {rel:.2f}"
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
    return _Response(kappa_a, sat_a, spend_a, mcac, tuple(assumed_channels))


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
        notes.append("no churn in the window: retention spend has no effect in the model, "
                     "so the plan favours acquisition")  # fmt: skip
        c_base, k = 0.0, 1.0
        params.append(Parameter("churn_base", "c_base", 0.0, "observed", "no churn observed"))
        params.append(Parameter("retention_scale", "k", None, "observed", "no churn to remove"))
    else:
        fitted = None
        if len(obs.churn_series) >= MIN_FIT_PERIODS and obs.retention_cv >= MIN_CV:
            fitted = fit_retention(obs.churn_series, c_min)
        if fitted is not None:
            c_base, k = fitted
            note = f"least squares on {len(obs.churn_series)} periods of churn vs spend per customer"
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
            notes.append(f"{why}, so the effect of retention spend is assumed from ρ = {rho:g} "
                         f"and μ = {mu:g}")  # fmt: skip
            note = f"from ρ = {rho:g} at today's marginal CAC {mcac:,.2f}"
            params.append(Parameter("churn_base", "c_base", c_base, src("rho"), note))
            params.append(Parameter("retention_scale", "k", k, src("rho"), note))
    return c_base, k


def derive(
    obs: Observed,
    settings: PlanSettings,
    sources: dict[str, str] | None = None,
    **override: float,
) -> Calibration:
    """Model parameters from the observations under the settings' assumptions (or
    ``override``s of phi, mu, rho, margin for what-if analyses)."""
    sources = sources or {}
    a = _assumptions(settings, sources, override)
    phi, mu, rho, m, src = a.phi, a.mu, a.rho, a.margin, a.source
    notes = list(obs.warnings)
    params: list[Parameter] = []
    d = period_discount_rate(settings.annual_discount_rate, obs.frequency)
    per = obs.frequency
    u = settings.arpu if settings.arpu is not None else obs.revenue_per_customer
    u_src: Source = "set" if settings.arpu is not None else "observed"
    params += [
        Parameter("arpu", "u", u, u_src, f"revenue per customer per {per}"
                  + ("" if u is not None else "; no revenue column (give --arpu)")),
        Parameter("margin", "m", m, src("margin"), "gross margin"),
        Parameter("discount_rate", "d", d, src("annual_discount_rate"),
                  f"per {per}, from {settings.annual_discount_rate:.0%} a year"),
        Parameter("organic_inflow", "o", obs.organic, "observed",
                  f"organic + reactivated customers per {per}"),
        Parameter("referral_rate", "q", obs.referral_rate, "observed",
                  f"referred new customers per existing customer per {per}"),
    ]  # fmt: skip
    resp = _channel_response(obs, a, params, notes)
    c_obs = obs.churn
    if c_obs >= 1.0:
        raise InputError(Problem(
            "error", "calibration",
            f"churn in the calibration window ({obs.first} to {obs.last}) is {100 * c_obs:.0f} % "
            "of the customers at the start of each period", "check customers_start and churned "
            "(churn can only reach 100 % when every customer leaves)", obs.file,
        ))  # fmt: skip
    c_min = (1.0 - mu) * c_obs
    params.append(Parameter("churn_observed", "c_obs", c_obs, "observed", f"churn per {per}"))
    params.append(Parameter("churn_floor", "c_min", c_min, src("mu"),
                            f"(1 − μ)·c_obs with μ = {mu:g}"))  # fmt: skip
    c_base, k = _retention_response(obs, a, c_min, resp.mcac, params, notes)
    params.append(Parameter("marginal_cac", "mCAC", resp.mcac, "observed" if not resp.assumed
                            else src("phi"), "today's cost of one more paid customer"))  # fmt: skip
    return Calibration(
        obs=obs,
        u=u,
        m=m,
        d=d,
        o=obs.organic,
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
    )

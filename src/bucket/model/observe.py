"""What the calibration window shows (DESIGN §5): today's spend, churn and inflows, and the
least-squares fits of each channel's response (M, κ) and of the retention response (c_base, k)
where the data allow them. ``observe`` reads the window once; ``calibrate.derive`` turns the
observations into model parameters for given assumptions without refitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bucket.model.fits import carry_over, choose_carry_over, fit_channel
from bucket.model.pools import OTHER, PoolCount
from bucket.model.window import (
    CalibrationWindow,
    calibration_error,
    calibration_window,
    window_revenue,
)

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.settings import PlanSettings

MAX_CHANNELS = 200
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
    # θ of the geometric carry-over the fit uses (0: none); the fit's spend is then the
    # effective spend e_t = (1 − θ)·A_t + θ·e_{t−1}, which a steady spend equals
    carryover: float = 0.0


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
    # each modelled channel's customers (and the others') as a pool, ``other`` first; empty
    # without a channel column (DESIGN §13)
    pools: tuple[PoolCount, ...] = ()
    # per-period arrays of the window (for resampling): start, churned, retention, organic,
    # referral, revenue, avg_customers of shape (W,); spend and paid of shape (J, W)
    series: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)


def _cv(x: np.ndarray) -> float:
    mean = float(np.mean(x))
    return float(np.std(x, ddof=0) / mean) if mean > 0 else 0.0


def _carried(history: tuple[np.ndarray, np.ndarray], periods: int) -> tuple[float, np.ndarray]:
    """The carry-over of one channel, chosen on its whole history since it first spent (a
    structural trait: a calibration window of a few periods cannot tell it), and its effective
    spend over the last ``periods`` periods."""
    spend, paid = history
    launch = int(np.argmax(spend > 0))
    theta = choose_carry_over(spend[launch:], paid[launch:])
    return theta, carry_over(spend[launch:], theta)[-periods:]


def _observe_channel(
    shown: str,
    spend: np.ndarray,
    paid: np.ndarray,
    history: tuple[np.ndarray, np.ndarray],
    notes: list[str],
) -> tuple[ChannelObs, np.ndarray]:
    """One channel that spent and won paid customers, fitted when its data allow (§5), and the
    spend its fit saw (effective spend when a carry-over was kept)."""
    # a channel launched inside the window is judged from its launch on: the months before
    # it existed are not evidence about its response to spend
    launch = int(np.argmax(spend > 0))
    live_spend, live_paid = spend[launch:], paid[launch:]
    if launch > 0:
        notes.append(
            f"channel {shown} started spending in the window; it is calibrated on "
            f"its last {len(live_spend)} period(s)"
        )
    cv = _cv(live_spend)
    levels = len(np.unique(np.round(live_spend[live_spend > 0], 2)))
    fit, why, theta = None, "", 0.0
    if len(live_spend) < MIN_FIT_PERIODS:
        why = f"only {len(live_spend)} periods (a fit needs {MIN_FIT_PERIODS})"
    elif cv < MIN_CV:
        why = f"spend barely varied (coefficient of variation {cv:.2f} < {MIN_CV})"
    elif levels < 3:
        why = f"spend took only {levels} distinct values (a curve needs 3 or more)"
    else:
        theta, effective = _carried(history, len(live_spend))
        fit, why = fit_channel(effective, live_paid)
        if fit is None or theta == 0:
            theta, effective = 0.0, live_spend
        else:
            spend = np.concatenate([spend[:launch], effective])
    obs = ChannelObs(
        shown, float(live_spend.mean()), float(live_paid.mean()), cv, fit, why or None, theta
    )
    return obs, spend


@dataclass(frozen=True)
class _Channels:
    """The channels of the window that get a response curve, and the organic inflow once the
    customers of channels without spend are added to it."""

    channels: tuple[ChannelObs, ...]
    spend: list[np.ndarray]  # per period, one array per channel kept
    paid: list[np.ndarray]
    organic: float
    organic_p: np.ndarray


def _sums(w: CalibrationWindow, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Acquisition spend and paid new customers per period of ``rows`` (all when None)."""
    rows = np.ones(len(w.rows), bool) if rows is None else rows
    idx = w.period_idx[rows]
    spend = np.bincount(idx, weights=w.col["acquisition_spend"][rows], minlength=w.periods)
    return spend, np.bincount(idx, weights=w.paid[rows], minlength=w.periods)


def _observe_channels(
    ledger: Ledger,
    w: CalibrationWindow,
    history: CalibrationWindow,
    organic: float,
    organic_p: np.ndarray,
    notes: list[str],
) -> _Channels:
    """Every channel of the window: kept with its response, dropped, or counted as organic."""
    win = w.rows
    names = sorted(set(win["channel"].tolist())) if ledger.has_channels else [""]
    if len(names) > MAX_CHANNELS:  # each channel is a curve in every scenario: memory and time
        raise calibration_error(
            ledger,
            f"the calibration window has {len(names):,} channels; a plan weighs at most "
            f"{MAX_CHANNELS}",
            "group the small channels into one (say, 'other') before planning",
        )
    channels: list[ChannelObs] = []
    spend_rows: list[np.ndarray] = []
    paid_rows: list[np.ndarray] = []
    for name in names:
        spend, paid = _sums(w, (win["channel"] == name).to_numpy() if ledger.has_channels else None)
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
        launch = int(np.argmax(spend > 0))
        if paid[launch:].sum() <= 0:  # its customers all came before it spent: organic
            organic += float(paid.mean())
            organic_p = organic_p + paid
            notes.append(
                f"channel {shown} won no paid new customers since it started spending; its "
                "earlier customers count as organic and it gets no budget"
            )
            continue
        hist = (history.rows["channel"] == name).to_numpy() if ledger.has_channels else None
        ch, spend = _observe_channel(shown, spend, paid, _sums(history, hist), notes)
        channels.append(ch)
        spend_rows.append(spend)  # the draws refit on the spend the fit saw
        paid_rows.append(paid)
    return _Channels(tuple(channels), spend_rows, paid_rows, organic, organic_p)


def _pool_counts(
    ledger: Ledger, w: CalibrationWindow, channels: tuple[ChannelObs, ...]
) -> tuple[PoolCount, ...]:
    """The window's customers at risk, churned, revenue and the ledger's last customers of each
    modelled channel's rows, and of all other rows as the pool ``other``."""
    if not ledger.has_channels:
        return ()
    names = w.rows["channel"].to_numpy()
    start, churned = w.col["customers_start"], w.col["churned_customers"]
    end_col = w.rows["customers_end"].to_numpy(float)
    avg = (start + end_col) / 2
    revenue = w.rows["revenue"].to_numpy(float) if "revenue" in ledger.present else None
    last = w.rows["ordinal"].to_numpy() == w.last_ordinal
    modelled = [ch.name for ch in channels]
    out = []
    for name in [OTHER, *modelled]:
        rows = ~np.isin(names, modelled) if name == OTHER else names == name
        have = rows & ~np.isnan(revenue) if revenue is not None else rows & False
        out.append(
            PoolCount(
                name,
                float(start[rows].sum()),
                float(churned[rows].sum()),
                float(revenue[have].sum()) if revenue is not None and have.any() else None,
                float(avg[have].sum()),
                float(np.nan_to_num(end_col[rows & last]).sum()),
            )
        )
    return tuple(out)


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


def _window_spend(ledger: Ledger, w: CalibrationWindow) -> float:
    """The window's acquisition spend; a window without spend or without paid customers cannot
    tell what spend buys."""
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
    return spend_total


def observe(ledger: Ledger, settings: PlanSettings) -> Observed:
    """Aggregate the calibration window and fit what the data allow."""
    w = calibration_window(ledger, settings)
    notes: list[str] = []
    start_p = w.per_period(w.col["customers_start"])
    churn_p = w.per_period(w.col["churned_customers"])
    retention_p = w.per_period(w.col.get("retention_spend", np.zeros(len(w.rows))))
    spend_total = _window_spend(ledger, w)
    last_rows = ledger.frame[ledger.frame["ordinal"] == w.last_ordinal]
    n0 = float(last_rows["customers_end"].sum())
    if n0 <= 0:
        notes.append(
            "the customer base is empty at the end of the ledger; the plan starts from zero"
        )
    revenue_per_customer, revenue_p, avg_p = window_revenue(ledger, w)
    organic_p = w.per_period(w.organic + w.reactivated)
    s_total = float(start_p.sum())
    referral_rate = float(w.referral.sum() / s_total) if s_total > 0 else 0.0
    history = calibration_window(ledger, settings.model_copy(update={"window": 1 << 30}))
    ch = _observe_channels(ledger, w, history, float(organic_p.mean()), organic_p, notes)
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
        pools=_pool_counts(ledger, w, ch.channels),
        series={
            "start": start_p,
            "churned": churn_p,
            "retention": retention_p,
            "organic": ch.organic_p,
            "referral": w.per_period(w.referral),
            "revenue": revenue_p,
            "avg_customers": avg_p,
            "spend": np.array(ch.spend),
            "paid": np.array(ch.paid),
        },
    )

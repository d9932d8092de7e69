"""Backtest: could the model have forecast the user's own recent past? (DESIGN §7)

Calibrate on every period but the last ``holdout``, then replay the spend actually made in those
periods (per channel and on retention) through the model, starting from the customer base at the
end of the calibration, and compare the forecast with what happened: new customers (with
reactivated ones, as the model's inflow counts them), churned customers, and the customer base.
The forecast is never reset to the actuals, so errors accumulate as they would in a plan.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bucket.errors import BucketError, ConfigError
from bucket.model.context import calibrate_with_tests
from bucket.model.observe import observe
from bucket.model.optimize import params_of
from bucket.model.simulate import churn_at
from bucket.model.window import MIN_WINDOW, calibration_error
from bucket.results.backtest import BacktestPeriod, BacktestResult, Series, SpendMoved

if TYPE_CHECKING:
    import pandas as pd

    from bucket.io.ledger import Ledger
    from bucket.model.calibrate import Calibration
    from bucket.model.experiments import LiftTest, RetentionArm
    from bucket.settings import PlanSettings

# Verdict bounds on the mean absolute percentage error: flows (new, churned) are noisy counts,
# the customer base is a stock that moves slowly, so its bounds are tighter.
GOOD = {"new_customers": 0.15, "churned_customers": 0.20, "customers": 0.03}
FAIR = {"new_customers": 0.30, "churned_customers": 0.40, "customers": 0.08}
# DESIGN §11: a holdout whose spend stayed within 15 % of the window's on both sides tests
# today's rates, which any model anchored on them forecasts, not the response to spend
MOVED = 0.15


def _mape(pred: list[float], act: list[float]) -> float | None:
    pairs = [(p, a) for p, a in zip(pred, act) if a > 0]
    if not pairs:
        return None
    return float(np.mean([abs(p - a) / a for p, a in pairs]))


def _calibration_part(
    ledger: Ledger, holdout: int, option: str, ending: int | None = None
) -> tuple[Ledger, int]:
    """The ledger before its held-out block (the last ``holdout`` periods, or those ending at
    ordinal ``ending``), and the block's first ordinal."""
    ords = sorted(set(ledger.frame["ordinal"].tolist()))
    if ending is not None:
        ords = [o for o in ords if o <= ending]
    if len(ords) <= MIN_WINDOW:
        n, unit = len(ords), ledger.frequency
        raise calibration_error(
            ledger,
            f"the ledger holds {n} {unit}{'s' if n != 1 else ''}; a backtest needs at least "
            f"{MIN_WINDOW} to calibrate on and 1 more to compare with",
            f"export at least {MIN_WINDOW + 1} {unit}s of history",
        )
    if holdout < 1 or len(ords) - holdout < MIN_WINDOW:
        left = max(len(ords) - holdout, 0)
        raise ConfigError(
            f"{option} {holdout} leaves {left} period{'s' if left != 1 else ''} to calibrate on "
            f"(the ledger has {len(ords)}; a calibration needs at least {MIN_WINDOW})",
            f"give a holdout between 1 and {len(ords) - MIN_WINDOW}",
        )
    cut = ords[-holdout]
    frame = ledger.frame
    train = replace(
        ledger,
        frame=frame[frame["ordinal"] < cut].reset_index(drop=True),
        periods=[p for p in ledger.periods if p.ordinal < cut],
        warnings=[],
    )
    return train, cut


def _channel_spend(
    part: pd.DataFrame, cal: Calibration, has_channels: bool, unmodelled: set[str]
) -> np.ndarray:
    """Acquisition spend of one held-out period per calibrated channel; the channels without a
    calibrated response that spent go into ``unmodelled``."""
    index = {name: j for j, name in enumerate(cal.channels)}
    spend = np.zeros(len(cal.channels))
    for name, a in zip(part["channel"].tolist(), part["acquisition_spend"].tolist()):
        key = name if has_channels else "all"
        if key in index:
            spend[index[key]] += 0.0 if math.isnan(a) else a
        elif a > 0:
            unmodelled.add(key)
    return spend


def _actual(part: pd.DataFrame) -> Series:
    """What happened in one held-out period: new (with reactivated), churned, the base."""
    react = (
        part["reactivated_customers"].fillna(0).sum() if "reactivated_customers" in part else 0.0
    )
    actual_new = float(part["new_customers"].sum() + react)
    return Series(
        actual_new, float(part["churned_customers"].sum()), float(part["customers_end"].sum())
    )


def backtest(
    ledger: Ledger,
    settings: PlanSettings,
    sources: dict[str, str],
    holdout: int,
    *,
    option: str = "--holdout",
    ending: int | None = None,
) -> BacktestResult:
    """``option``: what the user wrote the holdout with, for the message when it is too long;
    ``ending``: the last ordinal of the held-out block (default: the ledger's last period)."""
    train, cut = _calibration_part(ledger, holdout, option, ending)
    frame = ledger.frame
    obs = observe(train, settings)
    tested = _tests_before(ledger, settings, cut)
    told: list[str] = []  # DESIGN §12: the calibration the plan would use
    cal, _, _ = calibrate_with_tests(obs, settings, sources, *tested[:2], told)
    notes = [*cal.warnings, *tested[2], *told]
    params = params_of(cal, None, None)
    test = frame[
        (frame["ordinal"] >= cut) & (frame["ordinal"] <= (ending or frame["ordinal"].max()))
    ]
    rows, moved, unmodelled = _forecast(ledger, test, obs, cal, params)
    if unmodelled:
        notes.append(
            f"spend on {', '.join(sorted(unmodelled))} in the holdout has no calibrated response "
            "(the channel was not active in the calibration window); it was counted as buying none"
        )
    mape = {
        key: _mape(
            [getattr(r.predicted, key) for r in rows], [getattr(r.actual, key) for r in rows]
        )
        for key in ("new_customers", "churned_customers", "customers")
    }
    last = ending is None or ending == frame["ordinal"].max()
    span = _span(rows, holdout, obs.frequency, last)
    level, verdict = _verdict(mape, span)
    spend_moved = SpendMoved(moved["acquisition"], moved["retention"] if obs.retention else None)
    tests_response = max(spend_moved.acquisition, spend_moved.retention or 0.0) >= MOVED
    if not tests_response:
        verdict += _untested(spend_moved)
    return BacktestResult(
        file=ledger.file,
        frequency=ledger.frequency,  # type: ignore[arg-type]
        holdout=holdout,
        calibrated_on=f"{obs.first} to {obs.last}",
        mape=Series(**mape),
        periods=rows,
        verdict=verdict,
        verdict_level=level,  # type: ignore[arg-type]
        warnings=[*(w.line() for w in ledger.warnings), *notes],
        spend_moved=spend_moved,
        held_out=span,
        tests_response=tests_response,
    )


def _forecast(ledger: Ledger, test: pd.DataFrame, obs, cal, params):
    """Replay the held-out spend through the model from the calibration's last base, never
    reset to the actuals: (rows, how far spend moved, channels without a response)."""
    labels = dict(zip(ledger.frame["ordinal"].tolist(), ledger.frame["period"].tolist()))
    unmodelled: set[str] = set()
    n = obs.n0
    rows: list[BacktestPeriod] = []
    moved = {"acquisition": 0.0, "retention": 0.0}
    # a channel fitted with a carry-over responds to its effective spend, carried on from the
    # calibration's last period (the spend series of such a channel is already effective)
    theta = np.array([ch.carryover for ch in obs.channels])
    effective = obs.series["spend"][:, -1] if len(theta) else np.zeros(0)
    for o in sorted(set(test["ordinal"].tolist())):
        part = test[test["ordinal"] == o]
        spend = _channel_spend(part, cal, ledger.has_channels, unmodelled)
        retention = _retention_spend(part)
        _track_movement(moved, obs, spend, retention / n if n > 0 else 0.0)
        effective = (1 - theta) * spend + theta * effective
        paid = float((cal.saturation * -np.expm1(-effective / (cal.kappa * cal.saturation))).sum())
        churn = float(churn_at(retention / n if n > 0 else 0.0, params))
        lost = n * churn
        inflow = paid + cal.o + cal.q * n
        n_next = n - lost + inflow
        rows.append(BacktestPeriod(labels[o], Series(inflow, lost, n_next), _actual(part)))
        n = n_next
    return rows, moved, unmodelled


def _tests_before(
    ledger: Ledger, settings: PlanSettings, cut: int
) -> tuple[tuple[RetentionArm, ...], tuple[LiftTest, ...], list[str]]:
    """The experiments' retention arms and lift tests known to have ended before the held-out
    periods (a backtest must not learn from them), and what it says of those it left out."""
    if settings.experiments is None:
        return (), (), []
    from bucket.analysis.tested import load_tests

    tests = load_tests(ledger, settings)
    if tests is None:
        return (), (), []
    kept, dropped = tests.before(cut)
    said = (
        [
            f"the backtest leaves out {dropped} experiment(s) run in or after the periods it "
            "holds out, or undated: they could tell it what happened"
        ]
        if dropped
        else []
    )
    return kept.arms, kept.lifts, said


def backtest_response(
    ledger: Ledger,
    settings: PlanSettings,
    sources: dict[str, str],
    holdout: int,
    *,
    option: str = "--holdout",
) -> BacktestResult:
    """The backtest on the most recent ``holdout`` periods in which spend moved, which test the
    response to spend (DESIGN §11); on the last ones when spend never moved that much or the
    periods before the moved block cannot be calibrated on (a gap, a late start)."""
    moved = moved_block(ledger, holdout, settings.window)
    if moved is not None and moved != ledger.frame["ordinal"].max():
        try:
            return backtest(ledger, settings, sources, holdout, option=option, ending=moved)
        except BucketError:
            pass
    return backtest(ledger, settings, sources, holdout, option=option)


def moved_block(ledger: Ledger, holdout: int, window: int) -> int | None:
    """DESIGN §11: the last ordinal of the most recent block of ``holdout`` periods in which
    spend moved by MOVED or more from the ``window`` periods before it (each channel from its
    own mean, weighted by spend; retention per customer), with at least MIN_WINDOW periods to
    calibrate on before it; None when spend never moved that much."""
    frame = ledger.frame
    ords = sorted(set(frame["ordinal"].tolist()))
    spend = (
        frame.pivot_table(
            index="ordinal", columns="channel", values="acquisition_spend", aggfunc="sum"
        )
        .reindex(ords)
        .fillna(0.0)
    )
    per_customer = None
    if "retention_spend" in frame:
        totals = frame.groupby("ordinal")[["retention_spend", "customers_start"]].sum()
        per_customer = (
            (
                totals["retention_spend"]
                / totals["customers_start"].where(totals["customers_start"] > 0)
            )
            .reindex(ords)
            .fillna(0.0)
            .to_numpy()
        )
    a = spend.to_numpy()
    for end in range(len(ords) - 1, MIN_WINDOW + holdout - 2, -1):
        start = end - holdout + 1
        before = slice(max(0, start - window), start)
        if _acquisition_move(a[start : end + 1], _live_means(a[before])).max() >= MOVED:
            return ords[end]
        if per_customer is not None and per_customer[before].mean() > 0:
            ratio = per_customer[start : end + 1] / per_customer[before].mean()
            if np.abs(ratio - 1.0).max() >= MOVED:
                return ords[end]
    return None


def _live_means(window: np.ndarray) -> np.ndarray:
    """Each channel's mean spend over the window from its first spend on (as the calibration
    judges a channel launched inside the window), 0 for a channel that never spent."""
    started = np.maximum.accumulate(window > 0, axis=0)
    counts = started.sum(axis=0)
    totals = np.where(started, window, 0.0).sum(axis=0)
    return np.divide(totals, counts, out=np.zeros_like(totals), where=counts > 0)


def _acquisition_move(spend: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Each period's move of acquisition spend (..., J) from the channels' means (J,): every
    channel's relative change, weighted by its mean spend; 0 where no channel spent."""
    live = means > 0
    if not live.any():
        return np.zeros(spend.shape[:-1])
    change = np.abs(spend[..., live] / means[live] - 1.0)
    return change @ means[live] / means[live].sum()


def _retention_spend(part: pd.DataFrame) -> float:
    return float(part["retention_spend"].fillna(0).sum()) if "retention_spend" in part else 0.0


def _track_movement(moved: dict[str, float], obs, spend: np.ndarray, per_customer: float) -> None:
    """The largest relative move of a held-out period's spend from the window's mean: on
    acquisition, each channel's move from its own mean, weighted by its spend (channels that
    trade places test their curves even when the total stays put)."""
    means = np.array([ch.spend for ch in obs.channels])
    if means.size == spend.size:
        moved["acquisition"] = max(moved["acquisition"], float(_acquisition_move(spend, means)))
    if obs.retention_per_customer > 0:
        change = abs(per_customer / obs.retention_per_customer - 1)
        moved["retention"] = max(moved["retention"], change)


def _untested(m: SpendMoved) -> str:
    moved = f"{100 * max(m.acquisition, m.retention or 0.0):.0f} %"
    return (
        f" Spend in the holdout stayed within {moved} of the calibration window's, so this "
        "tests today's rates, not what moving the budget would do: it cannot vouch for the plan."
    )


def _span(rows: list[BacktestPeriod], holdout: int, per: str, last: bool) -> str:
    """How the verdict names the held-out periods."""
    count = f"{holdout} {per}{'s' if holdout != 1 else ''}"
    if last or not rows:
        return f"the last {count}"
    return f"the {count} {rows[0].period} to {rows[-1].period}"


def _verdict(mape: dict[str, float | None], span: str) -> tuple[str, str]:
    graded = {k: v for k, v in mape.items() if v is not None}
    if not graded:
        return "poor", "Nothing to compare: the holdout has no customers to forecast."

    def grade(k: str, v: float) -> int:
        return 0 if v <= GOOD[k] else 1 if v <= FAIR[k] else 2

    worst = max(grade(k, v) for k, v in graded.items())
    names = {"new_customers": "new", "churned_customers": "churned", "customers": "customer base"}
    errors = ", ".join(f"{names[k]} {100 * v:.1f} %" for k, v in graded.items())
    if worst == 0:
        return "good", (
            f"The model forecast {span} well (mean absolute errors: {errors}); "
            "its plan rests on a model that fits this business."
        )
    if worst == 1:
        return "fair", (
            f"The model forecast {span} only roughly (mean absolute errors: {errors}); "
            "treat the plan's figures as indicative and its direction as the message."
        )
    return "poor", (
        f"The model does not forecast this business well: over {span} its mean absolute errors "
        f"were {errors}. Do not trust the plan's numbers; look for a change in the business "
        "(pricing, product, a new channel) and calibrate on the periods after it (--window)."
    )

"""Plan against actual (DESIGN §14): ``bucket track DIR LEDGER``.

For each plan saved in DIR whose as-of period the ledger has moved past: replay the plan's model
on the spend actually made (per channel and on retention, free-running from the plan's base),
compare with what happened (customers, new, churned) per period ahead, say how far the spend
followed the recommendation and whether that paid off by the model's own account, list periods
the ledger restated since, and measure how the calibrated parameters drifted between plans.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bucket.analysis.drift import DRIFT_Z, MATERIAL, MIN_DRAWS, drift
from bucket.analysis.payoff import adherence, payoff, today_split
from bucket.analysis.saved import model_params, noisy, saved_plans, schedule
from bucket.errors import ConfigError
from bucket.model.replay import Schedule, replay
from bucket.results import track as tr

if TYPE_CHECKING:
    import pandas as pd

    from bucket.io.ledger import Ledger

SAME = 1e-6  # relative tolerance when comparing a restated total


def _later(ledger: Ledger, saved: tr.SavedPlan) -> pd.DataFrame:
    """The ledger's rows after the plan's as-of period, up to the first gap."""
    frame = ledger.frame
    later = frame[frame["ordinal"] > saved.as_of_ordinal]
    ords = sorted(set(later["ordinal"].tolist()))
    run = [o for i, o in enumerate(ords) if o == saved.as_of_ordinal + 1 + i]
    return later[later["ordinal"].isin(run)]


def _spends(
    frame: pd.DataFrame, channels: list[str], has_channels: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Per period: acquisition per modelled channel (T, J), on unmodelled channels (T,),
    retention (T,); and the unmodelled channels that spent."""
    ords = sorted(set(frame["ordinal"].tolist()))
    key = frame["channel"] if has_channels else frame["channel"].map(lambda _: "all")
    a = frame["acquisition_spend"].fillna(0.0)
    by = a.groupby([frame["ordinal"], key]).sum().unstack(fill_value=0.0).reindex(ords)
    by = by.fillna(0.0)
    modelled = by.reindex(columns=channels, fill_value=0.0).to_numpy()
    others = [c for c in by.columns if c not in channels and by[c].sum() > 0]
    rest = by[others].sum(axis=1).to_numpy() if others else np.zeros(len(ords))
    if "retention_spend" in frame:
        ret = frame["retention_spend"].fillna(0.0).groupby(frame["ordinal"]).sum()
        retention = ret.reindex(ords).fillna(0.0).to_numpy()
    else:
        retention = np.zeros(len(ords))
    return modelled, rest, retention, sorted(others)


def _actuals(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    g = frame.groupby("ordinal")
    new = g["new_customers"].sum()
    if "reactivated_customers" in frame:
        new = new + g["reactivated_customers"].sum(min_count=1).fillna(0.0)
    return {
        "customers": g["customers_end"].sum().to_numpy(),
        "new_customers": new.to_numpy(),
        "churned_customers": g["churned_customers"].sum().to_numpy(),
    }


def _happened(saved: tr.SavedPlan, actual: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The base as it happened, N_0 (the as-of period's end) … N_T, and churned customers."""
    start = saved.history[-1].values.get("customers_end", saved.model.n0)
    return np.array([start, *actual["customers"]]), actual["churned_customers"]


def _naive(saved: tr.SavedPlan) -> dict[str, float]:
    """The as-of period's values, the naive forecast of every later period."""
    last = saved.history[-1].values
    return {
        "customers": last.get("customers_end", saved.model.n0),
        "new_customers": last.get("new_customers", 0.0) + last.get("reactivated_customers", 0.0),
        "churned_customers": last.get("churned_customers", 0.0),
    }


def _errors(
    actual: dict[str, np.ndarray],
    point: dict[str, np.ndarray],
    low: dict[str, np.ndarray],
    high: dict[str, np.ndarray],
    naive: dict[str, float],
) -> list[tr.SeriesError]:
    out = []
    for s in tr.SERIES:
        a, f = actual[s], point[s]
        live = a > 0
        ape = np.abs(f - a)[live] / a[live]
        signed = (f - a)[live] / a[live]
        inside = (actual[s] >= low[s]) & (actual[s] <= high[s])
        mae_naive = float(np.mean(np.abs(naive[s] - a)))
        skill = None if mae_naive == 0 else 1.0 - float(np.mean(np.abs(f - a))) / mae_naive
        out.append(
            tr.SeriesError(
                series=s,  # type: ignore[arg-type]
                mape=float(ape.mean()) if ape.size else None,
                mape_h1=float(abs(f[0] - a[0]) / a[0]) if a[0] > 0 else None,
                bias=float(signed.mean()) if signed.size else None,
                coverage=float(inside.mean()),
                skill=skill,
            )
        )
    return out


def restated(ledger: Ledger, saved: tr.SavedPlan) -> list[tr.Restated]:
    """Periods whose totals differ from what the plan saw (or that the ledger lost)."""
    from bucket.analysis.saved import history

    now = {h.period: h.values for h in history(ledger)}
    first = ledger.frame["ordinal"].min()
    span = saved.as_of_ordinal - len(saved.history) + 1
    out = []
    for i, h in enumerate(saved.history):
        values = now.get(h.period)
        if values is None:
            if span + i >= first:
                out.append(tr.Restated(h.period, ["(period missing)"]))
            continue
        changed = [
            c
            for c in sorted(set(h.values) | set(values))
            if c not in h.values
            or c not in values
            or abs(h.values[c] - values[c]) > SAME * max(1.0, abs(h.values[c]))
        ]
        if changed:
            out.append(tr.Restated(h.period, changed))
    return out


def interval(
    saved: tr.SavedPlan, plan: Schedule, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """P10 and P90 per period of each series (customers at the end of the period, new,
    churned) on ``plan``, from the parameter draws plus binomial churn and Poisson new
    customers."""
    sample = noisy(saved, plan, rng)
    paths = {
        "customers": sample.customers[..., 1:],
        "new_customers": sample.new,
        "churned_customers": sample.churned,
    }
    low, high = {}, {}
    for s, x in paths.items():
        low[s], high[s] = np.percentile(x, [10, 90], axis=0)
    return low, high


def track_plan(ledger: Ledger, name: str, saved: tr.SavedPlan) -> tr.TrackedPlan | None:
    """One saved plan against the periods after it; None when the ledger has none yet."""
    later = _later(ledger, saved)
    if later.empty:
        return None
    model = saved.model
    acq, rest, retention, unmodelled = _spends(later, model.channels, ledger.has_channels)
    plan = schedule(model, acq, retention)
    point, kappa, sat = model_params(model)
    expected = replay(point, kappa, sat, plan)
    point_s = {
        "customers": expected.customers[1:],
        "new_customers": expected.new,
        "churned_customers": expected.churned,
    }
    low, high = interval(saved, plan, np.random.default_rng(int(saved.key[:8], 16) + 1))
    actual = _actuals(later)
    labels = sorted(set(zip(later["ordinal"], later["period"])))
    rows = [
        tr.TrackedPeriod(
            period=str(label),
            horizon=t + 1,
            acquisition_spend=float(acq[t].sum() + rest[t]),
            retention_spend=float(retention[t]),
            **{
                s: tr.TrackedValue(
                    float(actual[s][t]), float(point_s[s][t]), float(low[s][t]), float(high[s][t])
                )
                for s in tr.SERIES
            },
        )
        for t, (_, label) in enumerate(labels)
    ]
    spent = float(acq.sum() + rest.sum())
    total = spent + float(retention.sum())
    # the split of spend that (nearly) stopped, or that went mostly to channels the plan has no
    # curve for, says nothing about following the plan: adherence and payoff are left out
    planned = (model.current.retention + sum(model.current.acquisition)) * len(rows)
    judged = total > 0.01 * planned and float(rest.sum()) <= 0.5 * spent
    adhered = adherence(saved, acq, rest, retention) if judged else None
    today = schedule(model, *today_split(saved, acq.sum(axis=1) + rest + retention))
    return tr.TrackedPlan(
        plan=name,
        as_of=saved.as_of,
        current_share=saved.plan.current.acquisition_share,
        recommended_share=saved.plan.recommendation.acquisition_share,
        actual_share=spent / total if total > 0 else None,
        adherence=adhered,
        periods=rows,
        errors=_errors(actual, point_s, low, high, _naive(saved)),
        payoff=payoff(saved, plan, today, _happened(saved, actual), adhered) if judged else None,
        restated=restated(ledger, saved),
        unmodelled=unmodelled,
    )


def summary(plans: list[tr.TrackedPlan], drifts: list[tr.Drift]) -> tr.TrackSummary:
    """The check keys (DESIGN §14); null where nothing can be compared yet."""
    h1: dict[str, list[float]] = {s: [] for s in tr.SERIES}
    signed: dict[str, list[float]] = {s: [] for s in tr.SERIES}
    inside: list[bool] = []
    for p in plans:
        for s in tr.SERIES:
            v = getattr(p.periods[0], s)
            if v.actual > 0:
                h1[s].append(abs(v.replay - v.actual) / v.actual)
            for row in p.periods:
                v = getattr(row, s)
                inside.append(v.low <= v.actual <= v.high)
                if v.actual > 0:
                    signed[s].append((v.replay - v.actual) / v.actual)
    worst_h1 = [float(np.mean(x)) for x in h1.values() if x]
    bias = [abs(float(np.mean(x))) for x in signed.values() if x]
    latest = drifts[-1].after_as_of if drifts else None
    # a quantity that moved less than MATERIAL is no drift however sure the draws are of it
    zs = [
        abs(d.z) if abs(d.after - d.before) >= MATERIAL * abs(d.before) else 0.0
        for d in drifts
        if d.after_as_of == latest
    ]
    return tr.TrackSummary(
        forecast_mape_h1=max(worst_h1) if worst_h1 else None,
        forecast_bias=max(bias) if bias else None,
        forecast_coverage=float(np.mean(inside)) if inside else None,
        plan_adherence=plans[-1].adherence if plans else None,
        parameter_drift_max_z=max(zs) if zs else None,
    )


def _verdict(saved: int, plans: list[tr.TrackedPlan], s: tr.TrackSummary, drifts) -> str:
    if not plans:
        return (
            f"{saved} saved plan(s), none with later periods in the ledger yet: nothing to "
            "compare. Run track again when the next period is in."
        )
    parts = [f"{len(plans)} of {saved} saved plan(s) have later periods."]
    if s.forecast_mape_h1 is not None and s.forecast_coverage is not None:
        parts.append(
            f"One period ahead the forecasts were off by {100 * s.forecast_mape_h1:.1f} % "
            f"(worst series, mean over plans); {100 * s.forecast_coverage:.0f} % of actuals fell inside their "
            "80 % intervals."
        )
    last = plans[-1]
    if last.payoff is not None:
        parts.append(f"The latest plan ({last.as_of}): {last.payoff.statement}")
    flagged = [d for d in drifts if d.flagged and d.after_as_of == drifts[-1].after_as_of]
    if flagged:
        names = ", ".join(d.parameter + (f" ({d.channel})" if d.channel else "") for d in flagged)
        parts.append(
            f"The model drifted: {names} moved by more than {DRIFT_Z:g} SDs and 5 % between "
            "the last two plans; look for a change in the business before trusting old plans."
        )
    restated_n = sum(len(p.restated) for p in plans)
    if restated_n:
        parts.append(f"{restated_n} period(s) were restated since a plan was saved (listed).")
    return " ".join(parts)


def _notes(ledger: Ledger, usable: list[tuple[str, tr.SavedPlan]]) -> list[str]:
    """What the user should hear about plans that track reads only in part: a gap in the
    ledger after a plan's as-of period, a plan saved without draws, too few draws for drift."""
    from bucket.io.periods import Period

    notes = []
    ords = set(ledger.frame["ordinal"].tolist())
    for name, saved in usable:
        nxt = saved.as_of_ordinal + 1
        later = sorted(o for o in ords if o > saved.as_of_ordinal)
        missing = (
            next((o for o in range(nxt, later[-1] + 1) if o not in ords), None) if later else None
        )
        if missing is not None:
            label = Period(ledger.frequency, missing).label
            notes.append(
                f"{name}: the ledger has no {label}, so the plan is tracked only up to it; "
                "export the missing period to track the rest"
            )
        draws = len(saved.draws.u) if saved.draws else 0
        if draws == 0:
            notes.append(
                f"{name} was saved without draws (--draws 0): its intervals hold the counts' "
                "noise alone and cover less than 80 % of actuals"
            )
        elif draws < MIN_DRAWS and len(usable) > 1:
            notes.append(
                f"{name} was saved with {draws} draws: drift needs {MIN_DRAWS} or more, so its "
                "parameters are not compared"
            )
    return notes


def track(directory: Path, ledger: Ledger) -> tr.TrackResult:
    """Every saved plan in ``directory`` against ``ledger`` (DESIGN §14)."""
    found = saved_plans(directory)
    warnings = [w.line() for w in ledger.warnings]
    usable = [(name, saved) for name, saved in found if saved.frequency == ledger.frequency]
    if found and not usable:
        raise ConfigError(
            f"{directory}: none of its {len(found)} saved plan(s) is of the ledger's frequency "
            f"({ledger.frequency})",
            "track a ledger with the periods the plans were made on",
        )
    for name, saved in found:
        if saved.frequency != ledger.frequency:
            warnings.append(
                f"{name} was made on {saved.frequency} periods, the ledger has "
                f"{ledger.frequency} ones: left out"
            )
    warnings += _notes(ledger, usable)
    plans = [p for p in (track_plan(ledger, n, s) for n, s in usable) if p is not None]
    for p in plans:
        if p.unmodelled:
            warnings.append(
                f"{p.plan}: spend on {', '.join(p.unmodelled)} has no response curve in the "
                "plan; it was counted as buying none"
                + ("" if p.adherence is not None else ", and adherence and payoff are left out")
            )
    drifts = drift(usable)
    s = summary(plans, drifts)
    return tr.TrackResult(
        directory=str(directory),
        file=ledger.file,
        frequency=ledger.frequency,  # type: ignore[arg-type]
        saved=len(found),
        plans=plans,
        drift=drifts,
        summary=s,
        verdict=_verdict(len(found), plans, s, drifts),
        warnings=warnings,
    )

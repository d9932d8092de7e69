"""Plan against actual (DESIGN §14): ``bucket track DIR LEDGER``.

For each plan saved in DIR whose as-of period the ledger has moved past: replay the plan's model
on the spend actually made (per channel and on retention, free-running from the plan's base),
compare with what happened (customers, new, churned) per period ahead, say how far the spend
followed the recommendation and whether that paid off by the model's own account, list periods
the ledger restated since, and measure how the calibrated parameters drifted between plans.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bucket.analysis.saved import draw_params, model_params, noisy, schedule
from bucket.errors import ConfigError, InputError, Problem
from bucket.model.replay import Schedule, replay
from bucket.model.simulate import churn_at
from bucket.results import track as tr
from bucket.results.common import SCHEMA_VERSION

if TYPE_CHECKING:
    import pandas as pd

    from bucket.io.ledger import Ledger

NAME = re.compile(r"^.+_[0-9a-f]{12}\.json$")
DRIFT_Z = 2.0
MATERIAL = 0.05  # drift is flagged only when the quantity also moved by 5 % or more
FOLLOWED = 0.25  # adherence below this: the recommendation was not followed
SAME = 1e-6  # relative tolerance when comparing a restated total


def _bad(path: Path, what: str) -> InputError:
    return InputError(
        Problem(
            "error",
            "bad-saved-plan",
            f"not a saved plan of this version ({what})",
            "delete it (or move it out of the folder) and save the plan again with "
            "`bucket plan LEDGER --save DIR`",
            str(path),
        )
    )


def _inconsistent(saved: tr.SavedPlan) -> str | None:
    """What does not hang together in a saved plan that passed its types, or None."""
    m, j = saved.model, len(saved.model.channels)
    if len(saved.key) != 64 or any(c not in "0123456789abcdef" for c in saved.key):
        return "key: not a sha256"
    if saved.schema_version != SCHEMA_VERSION:
        return f"schema_version {saved.schema_version}: this bucket reads {SCHEMA_VERSION}"
    if not saved.history:
        return "history: empty"
    lists = {"kappa": m.kappa, "saturation": m.saturation, "carryover": m.carryover}
    lists |= {"effective": m.effective, "current.acquisition": m.current.acquisition}
    lists |= {"recommended.acquisition": m.recommended.acquisition}
    for name, values in lists.items():
        if len(values) != j:
            return f"model.{name}: {len(values)} values for {j} channels"
    if m.n0 < 0 or min(m.kappa + m.saturation, default=1.0) <= 0:
        return "model: a negative base or a response curve without cost or size"
    if m.pools is not None and not (
        len(m.pools.names) == len(m.pools.hazard) == len(m.pools.arpu) == len(m.pools.mix) == j + 1
    ):
        return f"model.pools: not one pool per channel plus other ({j + 1})"
    d = saved.draws
    if d is not None:
        size = len(d.u)
        if any(len(x) != size for x in (d.o, d.q, d.c_min, d.c_base, d.k, d.kappa, d.saturation)):
            return "draws: lists of different lengths"
        if any(len(row) != j for row in (*d.kappa, *d.saturation)):
            return f"draws: not {j} channels in every draw"
    return None


def load_saved(path: Path) -> tr.SavedPlan:
    """A saved plan read back and validated; InputError naming the file when it is not one
    (unreadable, not JSON, the wrong shape, or parts that do not hang together)."""
    from pydantic import TypeAdapter, ValidationError

    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM an editor added is no error
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            Problem(
                "error",
                "unreadable",
                f"cannot read the saved plan ({reason})",
                "check its permissions, or move it out of the folder",
                str(path),
            )
        ) from None
    try:
        saved = TypeAdapter(tr.SavedPlan).validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "the file"
        raise _bad(path, f"{where}: {first['msg']}") from None
    wrong = _inconsistent(saved)
    if wrong is not None:
        raise _bad(path, wrong)
    return saved


def saved_plans(directory: Path) -> list[tuple[str, tr.SavedPlan]]:
    """Every saved plan in ``directory`` (files named like ``plan --save`` names them), oldest
    as-of period first."""
    if not directory.is_dir():
        raise ConfigError(
            f"{directory}: not a folder of saved plans",
            "give the folder `bucket plan LEDGER --save DIR` writes to",
        )
    try:
        names = sorted(directory.iterdir())
    except OSError as exc:
        raise ConfigError(
            f"{directory}: cannot list the folder ({exc.strerror})", "check its permissions"
        ) from None
    # named as plan --save names them, regular files only (a FIFO would block the read), not
    # the hidden ._ files some systems add; one plan per key, however many copies
    found: dict[str, tuple[str, tr.SavedPlan]] = {}
    for p in names:
        if NAME.match(p.name) and not p.name.startswith(".") and p.is_file():
            saved = load_saved(p)
            found.setdefault(saved.key, (p.name, saved))
    return sorted(found.values(), key=lambda item: (item[1].as_of_ordinal, item[0]))


def saved_files(directory: Path | None) -> list[Path]:
    """The files of ``directory`` named like saved plans (inputs a command must not write)."""
    if directory is None or not directory.is_dir():
        return []
    try:
        return [p for p in directory.iterdir() if NAME.match(p.name)]
    except OSError:
        return []


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


def _shares(acq: np.ndarray, rest: float, retention: float) -> np.ndarray:
    """Spend per modelled channel, unmodelled channels and retention, as shares of the budget."""
    v = np.array([*acq, rest, retention], dtype=float)
    total = v.sum()
    return v / total if total > 0 else v


def adherence(saved: tr.SavedPlan, acquisition, rest, retention) -> float | None:
    """How far the spend actually made moved from today's split towards the recommendation
    (projected on that move; per channel and on retention): 0 kept, 1 followed. None when the
    recommendation is within a point of today's split (nothing to follow)."""
    cur = _shares(np.array(saved.model.current.acquisition), 0.0, saved.model.current.retention)
    rec_s = saved.model.recommended
    rec = _shares(np.array(rec_s.acquisition), 0.0, rec_s.retention)
    act = _shares(acquisition.sum(axis=0), float(rest.sum()), float(retention.sum()))
    move = rec - cur
    size = float(move @ move)
    if size < 0.01**2:
        return None
    return float((act - cur) @ move / size)


def _today(saved: tr.SavedPlan, budget: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Today's split on each period's actual budget: (acquisition (T, J), retention (T,))."""
    cur = saved.model.current
    acq = np.array(cur.acquisition, float)
    total = acq.sum() + cur.retention
    share = acq.sum() / total if total > 0 else 0.0
    mix = acq / acq.sum() if acq.sum() > 0 else np.zeros_like(acq)
    return np.outer(budget * share, mix), budget * (1.0 - share)


def _objective(saved: tr.SavedPlan) -> str:
    obj = saved.plan.objective
    return "customers" if obj == "target" or saved.model.u <= 0 else obj


def score_path(saved: tr.SavedPlan, customers, churned, plan: Schedule) -> np.ndarray:
    """The plan's objective over a path of the base N_0 … N_T (and churned customers) under
    the spend of ``plan``: customers at the end, profit Σ (u·m·N_t − spend_t), or value
    (profit discounted, plus the base's equity after the last period, as the planner counts
    it, DESIGN §4)."""
    objective = _objective(saved)
    n = np.asarray(customers, float)
    if objective == "customers":
        return n[..., -1]
    m = saved.model
    um, d = m.u * m.m, m.d
    spend = plan.acquisition.sum(axis=-1) + plan.retention
    profit = um * n[..., :-1] - spend
    if objective == "profit":
        return profit.sum(axis=-1)
    periods = spend.shape[-1]
    disc = (1.0 + d) ** -np.arange(periods)
    end = n[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        churn = np.where(
            n[..., -2] > 0, churned[..., -1] / np.where(n[..., -2] > 0, n[..., -2], 1), 0
        )
        r_end = np.where(end > 0, plan.retention[-1] / np.where(end > 0, end, 1.0), 0.0)
        equity = end * (um - r_end) * (1.0 + d) / (d + churn) / (1.0 + d) ** periods
    return (profit * disc).sum(axis=-1) + np.where(end > 0, equity, 0.0)


def _payoff(saved, plan, today, actual, adhered: float | None) -> tr.Payoff:
    """The replay at the spend made minus the replay at today's split, on the plan's objective,
    against how wrong the replay is there (DESIGN §14): a gain the model's own error could
    explain is not a verdict. The draws' spread is reported beside it; it is the spread of the
    plan's assumptions, which the months since have not narrowed."""
    params, kappa, sat = draw_params(saved)
    point, k0, s0 = model_params(saved.model)

    def value(p, k, m, spend):
        path = replay(p, k, m, spend)
        return score_path(saved, path.customers, path.churned, spend)

    diff = value(params, kappa, sat, plan) - value(params, kappa, sat, today)
    made = float(value(point, k0, s0, plan))
    gain = made - float(value(point, k0, s0, today))
    low, high = (float(x) for x in np.percentile(diff, [10, 90]))
    happened = float(score_path(saved, actual[0], actual[1], plan))
    error = abs(happened - made)
    objective = _objective(saved)
    unit = {"customers": "customers", "profit": "profit", "value": "customer equity"}[objective]
    size = f"{gain:+,.0f} {unit} against today's split"
    if saved.draws is not None:
        size += f" (its assumptions allowed {low:+,.0f} to {high:+,.0f})"
    if adhered is not None and adhered < FOLLOWED:
        verdict = "not followed"
        statement = (
            f"The spend stayed near today's split (adherence {adhered:.2f}), so the "
            "recommendation itself is untested; the retention test the plan suggested would "
            "measure what it rests on."
        )
    elif gain - error > 0:
        verdict = "paid off"
        statement = (
            f"By the plan's model the spend made paid off: {size}, more than the model's error "
            f"there ({error:,.0f})."
        )
    elif gain + error < 0:
        verdict = "cost"
        statement = (
            f"By the plan's model the spend made cost {unit}: {size}, more than the model's "
            f"error there ({error:,.0f})."
        )
    else:
        verdict = "cannot tell yet"
        statement = f"Cannot tell yet: {size}, within the model's error there ({error:,.0f})."
    return tr.Payoff(objective, gain, low, high, error, verdict, statement)  # type: ignore[arg-type]


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
    adhered = adherence(saved, acq, rest, retention)
    today = schedule(model, *_today(saved, acq.sum(axis=1) + rest + retention))
    spent = float(acq.sum() + rest.sum())
    total = spent + float(retention.sum())
    return tr.TrackedPlan(
        plan=name,
        as_of=saved.as_of,
        current_share=saved.plan.current.acquisition_share,
        recommended_share=saved.plan.recommendation.acquisition_share,
        actual_share=spent / total if total > 0 else None,
        adherence=adhered,
        periods=rows,
        errors=_errors(actual, point_s, low, high, _naive(saved)),
        payoff=_payoff(saved, plan, today, _happened(saved, actual), adhered),
        restated=restated(ledger, saved),
        unmodelled=unmodelled,
    )


def _measures(
    saved: tr.SavedPlan, at: tr.SavedPlan, draws: bool
) -> dict[tuple[str, str | None], np.ndarray]:
    """The quantities drift compares, read off ``saved``'s model (its draws with ``draws``)
    where ``at`` (the later plan) stands, so both plans speak of the same spend: churn at its
    retention spend per customer, ARPU, organic and referral inflow, and each channel's paid
    customers at its acquisition spend."""
    params, kappa, sat = draw_params(saved) if draws else model_params(saved.model)
    out: dict[tuple[str, str | None], np.ndarray] = {
        ("churn at today's retention spend", None): churn_at(
            at.model.retention_per_customer, params
        ),
        ("revenue per customer (u)", None): np.asarray(params.u, float),
        ("organic new customers (o)", None): np.asarray(params.o, float),
        ("referral rate (q)", None): np.asarray(params.q, float),
    }
    index = {c: j for j, c in enumerate(saved.model.channels)}
    for j, name in enumerate(at.model.channels):
        if name not in index:
            continue
        a = at.model.current.acquisition[j]
        k, m = kappa[..., index[name]], sat[..., index[name]]
        with np.errstate(all="ignore"):
            out[("paid customers at today's spend", name)] = m * -np.expm1(-a / (k * m))
    return out


def _spread(sample: np.ndarray) -> float:
    live = np.isfinite(sample)
    return float(np.std(sample[live])) if live.sum() > 1 else 0.0


def drift(plans: list[tuple[str, tr.SavedPlan]]) -> list[tr.Drift]:
    """Each quantity between consecutive saved plans (different as-of periods): the later
    plan's against the earlier plan's at the later plan's spend, in SDs of their difference
    (both plans' draws); flagged beyond DRIFT_Z when it also moved by MATERIAL or more."""
    rows = []
    for (_, before), (_, after) in pairwise(plans):
        if before.draws is None or after.as_of_ordinal == before.as_of_ordinal:
            continue
        was, now = _measures(before, after, False), _measures(after, after, False)
        spread_b = _measures(before, after, True)
        spread_a = _measures(after, after, True) if after.draws is not None else {}
        for key, sample in spread_b.items():
            if key not in now:
                continue
            sd = math.hypot(_spread(sample), _spread(spread_a[key]) if key in spread_a else 0.0)
            b, a = float(was[key]), float(now[key])
            if not (sd > 1e-12 and math.isfinite(a) and math.isfinite(b)):
                continue
            z = (a - b) / sd
            moved = abs(a - b) >= MATERIAL * abs(b)
            flagged = abs(z) > DRIFT_Z and moved
            rows.append(tr.Drift(key[0], key[1], before.as_of, after.as_of, b, a, sd, z, flagged))
    return rows


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
            f"One period ahead the forecasts were off by up to {100 * s.forecast_mape_h1:.1f} % "
            f"(worst series); {100 * s.forecast_coverage:.0f} % of actuals fell inside their "
            "80 % intervals."
        )
    last = plans[-1]
    if last.payoff is not None:
        parts.append(f"The latest plan ({last.as_of}): {last.payoff.statement}")
    flagged = [d for d in drifts if d.flagged and d.after_as_of == drifts[-1].after_as_of]
    if flagged:
        names = ", ".join(d.parameter + (f" ({d.channel})" if d.channel else "") for d in flagged)
        parts.append(
            f"The model drifted: {names} moved by more than {DRIFT_Z:g} of their own SDs between "
            "the last two plans; look for a change in the business before trusting old plans."
        )
    restated_n = sum(len(p.restated) for p in plans)
    if restated_n:
        parts.append(f"{restated_n} period(s) were restated since a plan was saved (listed).")
    return " ".join(parts)


def track(directory: Path, ledger: Ledger) -> tr.TrackResult:
    """Every saved plan in ``directory`` against ``ledger`` (DESIGN §14)."""
    found = saved_plans(directory)
    warnings = [w.line() for w in ledger.warnings]
    usable = []
    for name, saved in found:
        if saved.frequency != ledger.frequency:
            warnings.append(
                f"{name} was made on {saved.frequency} periods, the ledger has "
                f"{ledger.frequency} ones: left out"
            )
            continue
        usable.append((name, saved))
    plans = [p for p in (track_plan(ledger, n, s) for n, s in usable) if p is not None]
    for p in plans:
        if p.unmodelled:
            warnings.append(
                f"{p.plan}: spend on {', '.join(p.unmodelled)} has no response curve in the "
                "plan; it was counted as buying none"
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

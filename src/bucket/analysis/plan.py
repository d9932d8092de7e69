"""Assemble a plan: calibrate, optimise, and explain (DESIGN §4–§6, the result of §9).

``make_plan(ledger, settings, sources)`` returns a ``PlanResult``: today's split and the
recommendation with spend per channel, every parameter with its source, the marginal economics
at both, the projection, the sensitivity of the recommendation to each assumed parameter, the
break-even value of each (where today's split would be optimal), and the leverage of 1 % better
acquisition, retention and ARPU. ``simulate_split`` is the what-if for a named split.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from bucket.model.calibrate import Calibration, Observed, derive, observe
from bucket.errors import ConfigError
from bucket.io.periods import PERIODS_PER_YEAR, Period
from bucket.results import plan as out
from bucket.model.optimize import (
    Scenario,
    best_split,
    best_splits,
    budget_for_growth,
    evaluate,
    finite_or_none,
    leverage,
    marginals,
    params_of,
)

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.settings import PlanSettings

# Plausible ranges: break-even is searched over BREAK_EVEN, sensitivity reports the ends of
# SENSITIVITY (DESIGN §6 and §7: ρ published 5–25 widened to 3; μ, φ 0.3–0.7).
BREAK_EVEN = {"rho": (1.0, 25.0), "mu": (0.05, 0.95), "phi": (0.05, 0.95), "margin": (0.05, 1.0)}
SENSITIVITY = {"rho": (3.0, 25.0), "mu": (0.3, 0.7), "phi": (0.3, 0.7), "margin": (0.3, 1.0)}
SYMBOL = {"rho": "ρ", "mu": "μ", "phi": "φ", "margin": "m"}
CURVE_POINTS = 17
WORDS = {
    "rho": "acquiring a customer costs {v} times as much as keeping one, at the margin",
    "mu": "retention spend can remove at most {p} of today's churn",
    "phi": "today's spend reaches {p} of each assumed channel's saturation",
    "margin": "the gross margin is {p}",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _pct(x: float, digits: int = 0, sign: bool = False) -> str:
    """12 %, +4.1 % (a space before %, as in the tables)."""
    return f"{100 * x:{'+' if sign else ''}.{digits}f} %"


class _Context:
    """What every step needs: observations, settings, today's scenario."""

    def __init__(self, ledger: Ledger, settings: PlanSettings, sources: dict[str, str]) -> None:
        self.ledger = ledger
        self.settings = settings
        self.sources = sources
        self.obs: Observed = observe(ledger, settings)
        self.cal: Calibration = derive(self.obs, settings, sources)
        self.warnings: list[str] = list(self.cal.warnings)
        self.age_structure = None
        if settings.retention_model == "sbg":
            self.age_structure = age_structure(ledger, self.warnings)
        self.horizon = settings.horizon or PERIODS_PER_YEAR[self.obs.frequency]
        self.budget0 = self.obs.acquisition + self.obs.retention
        self.budget = self.budget0 if settings.budget is None else settings.budget
        self.share0 = self.obs.acquisition / self.budget0
        objective = settings.objective
        if objective in ("value", "profit") and self.cal.u is None:
            self.warnings.append(
                f"no revenue column, so the plan maximises customers after {self.horizon} "
                f"{self.obs.frequency}s instead of {objective}; give --arpu to plan on {objective}"
            )
            objective = "customers"
        if objective == "target" and settings.target_growth is None:
            raise ConfigError(
                "--objective target needs a growth to reach",
                "give --target-growth, e.g. 0.2 for +20 % customers over the horizon",
            )
        self.objective = "customers" if objective == "target" else objective
        self.target_mode = objective == "target"
        if self.age_structure is not None:
            from dataclasses import replace as _replace

            self.cal = _replace(self.cal, hazard=self.age_structure[0],
                                age_mix=self.age_structure[1])  # fmt: skip
        self.params = params_of(self.cal, settings.capacity, settings.max_growth)
        # today's channels in today's proportions; spend of dropped channels buys nothing
        modelled = sum(ch.spend for ch in self.obs.channels)
        self.mix = self.cal.mix * (modelled / self.obs.acquisition)

    def scenario(self, share: float, budget: float | None = None, optimal: bool = True) -> Scenario:
        b = self.budget if budget is None else budget
        return evaluate(self.cal, self.params, share, b, self.horizon, self.objective,
                        None if optimal else self.mix)  # fmt: skip

    def period_label(self, t: int) -> str:
        return Period(self.obs.frequency, self.obs.last_ordinal + 1 + t).label


AGES = 240  # age buckets of the sBG base (the last one holds everyone older)


def age_structure(ledger: Ledger, warnings: list[str]):
    """(relative hazard by age, today's age mix) from the ledger's cohorts and an sBG fit, or
    None (with a warning) when the cohorts show no heterogeneity: then the constant churn is
    the sBG answer too."""
    from bucket.errors import ConfigError
    from bucket.io.cohorts import cohort_counts
    from bucket.model.sbg import fit_sbg

    if not ledger.cohorts:
        raise ConfigError(
            "--retention-model sbg needs cohorts",
            "derive the ledger from events (--transactions or --subscriptions)",
        )
    from bucket.model.sbg import structural_delay

    labels, counts = cohort_counts(ledger.cohorts)
    survivors = [np.minimum.accumulate(n) for n in counts if n[0] > 0]
    delay = structural_delay(survivors)
    fit = fit_sbg([n[delay:] for n in survivors if len(n) > delay + 1] or survivors)
    if fit.homogeneous or fit.alpha is None or fit.beta is None:
        warnings.append("the cohorts show no heterogeneity: the sBG curve is flat, so the plan "
                        "uses a constant churn (the same answer)")  # fmt: skip
        return None
    if min(fit.alpha, fit.beta) < 1e-3 or fit.customers < 100:
        warnings.append(f"the cohorts ({fit.customers} customers) are too few to fit the sBG "
                        "curve; the plan uses a constant churn")  # fmt: skip
        return None
    ages = np.arange(AGES)
    # customers at age a churn at the end of the period with probability α/(α + β + a),
    # counted from the end of the delay in which nobody can churn
    hazard = np.where(ages < delay, 0.0, fit.alpha / (fit.alpha + fit.beta + np.maximum(ages - delay, 0)))
    mix = np.zeros(AGES)
    for n in counts:  # today's base: each cohort at its current age
        mix[min(len(n) - 1, AGES - 1)] += n[-1]
    if mix.sum() <= 0:
        return None
    mix /= mix.sum()
    relative = hazard / float((mix * hazard).sum())
    warnings.append(
        f"retention model sBG (α = {fit.alpha:.3f}, β = {fit.beta:.3f}): the base ages, and "
        "churn falls as it does; retention spend scales every age's churn alike"
    )
    return relative, mix


def _split(ctx: _Context, sc: Scenario, base: Scenario | None) -> out.Split:
    cal = ctx.cal
    with np.errstate(over="ignore"):  # far past saturation the next customer costs "infinity"
        channel_cac = cal.kappa * np.exp(sc.spend / (cal.kappa * cal.saturation))
    paid = cal.saturation * -np.expm1(-sc.spend / (cal.kappa * cal.saturation))
    budget = sc.acquisition + sc.retention
    has_money = cal.u is not None
    change = None
    if base is not None and base.score != 0:
        change = (sc.score - base.score) / abs(base.score)
    return out.Split(
        budget=budget,
        acquisition_share=sc.acquisition / budget if budget > 0 else 0.0,
        retention_share=sc.retention / budget if budget > 0 else 0.0,
        acquisition_spend=sc.acquisition,
        retention_spend=sc.retention,
        channels=[
            out.ChannelPlan(name, float(a), finite_or_none(float(c)), float(n))
            for name, a, c, n in zip(cal.channels, sc.spend, channel_cac, paid)
        ],
        objective=sc.score,
        customers_end=float(sc.traj.customers_end),
        value=finite_or_none(float(sc.traj.value)) if has_money else None,
        profit=finite_or_none(float(sc.traj.profit_total)) if has_money else None,
        change=change,
    )


def _projection(ctx: _Context, sc: Scenario) -> list[out.ProjectionRow]:
    tr = sc.traj
    money = ctx.cal.u is not None
    return [
        out.ProjectionRow(
            period=ctx.period_label(t),
            customers_start=float(tr.customers[t]),
            new_customers=float(tr.new[t]),
            churned_customers=float(tr.lost[t]),
            churn_rate=float(tr.churn[t]),
            customers_end=float(tr.customers[t + 1]),
            profit=float(tr.profit[t]) if money else None,
            overflow=float(tr.overflow[t]),
        )
        for t in range(ctx.horizon)
    ]


def _marginal_view(ctx: _Context, sc: Scenario, optimal: bool) -> out.MarginalView:
    mg = marginals(ctx.cal, ctx.params, sc, ctx.horizon, ctx.objective, optimal)
    return out.MarginalView(
        marginal_cac=mg.cac,
        cost_to_retain=mg.cost_to_retain,
        cltv=mg.cltv,
        marginal_value_acquisition=mg.d_acquisition,
        marginal_value_retention=mg.d_retention,
        channels=[
            {"channel": name, "marginal_cac": finite_or_none(float(c))}
            for name, c in zip(ctx.cal.channels, mg.channel_cac)
        ],
    )


def _used_assumptions(ctx: _Context) -> list[str]:
    """Assumed parameters the recommendation actually depends on."""
    cal, used = ctx.cal, []
    by_name = {(p.name, p.channel): p for p in cal.parameters}
    retention_from_rho = by_name[("churn_base", None)].source in ("assumed", "set") and (
        by_name[("retention_scale", None)].value is not None
    )
    if retention_from_rho and ctx.sources.get("rho") != "set":
        used.append("rho")
    if cal.c_obs > 0 and ctx.sources.get("mu") != "set":
        used.append("mu")
    if any(ch.fit is None for ch in ctx.obs.channels) and ctx.sources.get("phi") != "set":
        used.append("phi")
    if ctx.objective in ("value", "profit") and ctx.sources.get("margin") != "set":
        used.append("margin")
    return used


def _shares(ctx: _Context, name: str, values) -> np.ndarray:
    from dataclasses import replace as _replace

    cals = [
        _replace(derive(ctx.obs, ctx.settings, ctx.sources, **{name: float(v)}),
                 hazard=ctx.cal.hazard, age_mix=ctx.cal.age_mix)  # fmt: skip
        for v in values
    ]
    return best_splits(cals, ctx.settings, ctx.budget, ctx.horizon, ctx.objective)


def _grid(name: str, lo: float, hi: float, n: int) -> np.ndarray:
    return np.geomspace(lo, hi, n) if name == "rho" else np.linspace(lo, hi, n)


def _scans(ctx: _Context, names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each parameter: values across its break-even range and the best share at each (one
    vectorised evaluation per parameter, shared by the sensitivity and break-even tables)."""
    out_: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in names:
        lo, hi = BREAK_EVEN[name]
        values = _grid(name, lo, hi, CURVE_POINTS)
        out_[name] = (values, _shares(ctx, name, values))
    return out_


def _sensitivity(ctx: _Context, scans) -> list[out.Sensitivity]:
    rows = []
    for name, (values, curve) in scans.items():
        lo, hi = SENSITIVITY[name]
        ends = _shares(ctx, name, [lo, hi])
        rows.append(
            out.Sensitivity(
                parameter=name,
                symbol=SYMBOL[name],
                value=ctx.cal.assumptions[name],
                low=lo,
                high=hi,
                share_at_low=float(ends[0]),
                share_at_high=float(ends[1]),
                impact=float(abs(ends[1] - ends[0])),
                curve=[out.CurvePoint(float(v), float(s)) for v, s in zip(values, curve)],
            )
        )
    return sorted(rows, key=lambda r: -r.impact)


def _break_even(ctx: _Context, scans) -> list[out.BreakEven]:
    from scipy.optimize import brentq

    rows = []
    for name, (values, curve) in scans.items():
        lo, hi = BREAK_EVEN[name]
        gap = curve - ctx.share0
        current = ctx.cal.assumptions[name]
        flat = bool(np.all(np.abs(gap) < 1e-3))
        roots: list[float] = []
        jumps: list[float] = []
        for i in range(len(values) - 1):
            if flat:
                break
            if gap[i] * gap[i + 1] < 0:
                f = lambda v: float(_shares(ctx, name, [v])[0] - ctx.share0)  # noqa: E731
                root = float(brentq(f, values[i], values[i + 1], xtol=1e-4 * values[i]))
                # where the optimum jumps past today's split (two peaks), there is no root
                if abs(f(root)) < 0.01:
                    roots.append(root)
                else:
                    jumps.append(root)
            elif gap[i + 1] == 0 and i + 2 < len(values) and gap[i] * gap[i + 2] < 0:
                roots.append(float(values[i + 1]))
        rows.append(
            out.BreakEven(
                parameter=name,
                symbol=SYMBOL[name],
                value=current,
                range_low=lo,
                range_high=hi,
                roots=roots,
                statement=(
                    f"today's split is optimal for every {SYMBOL[name]} in [{lo:g}, {hi:g}]: "
                    f"the recommendation does not depend on {SYMBOL[name]}"
                    if flat
                    else _statement(name, roots, current, lo, hi, ctx.share0)
                    + (f"; the optimum jumps past today's split near {SYMBOL[name]} = "
                       + ", ".join(f"{j:.3g}" for j in jumps) if jumps else "")
                ),
            )
        )
    return rows


def _statement(name: str, roots: list[float], current: float, lo: float, hi: float, s0: float):
    sym = SYMBOL[name]
    fmt = (lambda v: f"{v:.3g}") if name == "rho" else (lambda v: f"{v:.2f}")
    if not roots:
        return (
            f"no {sym} in [{fmt(lo)}, {fmt(hi)}] makes today's split ({_pct(s0)} acquisition) "
            f"optimal; the plan uses {sym} = {fmt(current)}"
        )
    at = " or ".join(f"{sym} = {fmt(r)}" for r in roots)
    words = WORDS[name].format(v=fmt(roots[0]), p=_pct(roots[0]))
    return (
        f"today's split ({_pct(s0)} acquisition) is optimal only at {at} ({words}); "
        f"the plan uses {sym} = {fmt(current)}"
    )


def _leverage(ctx: _Context, sc: Scenario) -> out.Leverage:
    lev = leverage(ctx.cal, ctx.params, sc, ctx.horizon, ctx.objective)
    base = sc.score
    names = {"new_customers": "paid new customers +1 %", "churn": "churn −1 % (relative)",
             "arpu": "ARPU +1 %"}  # fmt: skip
    rows = [
        out.LeverRow(names[k], float(v), float(v / abs(base)) if base else None)
        for k, v in lev.items()
    ]
    ratio = None
    if lev["new_customers"] > 0 and lev["churn"] > 0:
        ratio = float(lev["churn"] / lev["new_customers"])
    return out.Leverage(ctx.objective, rows, ratio)


def _uncertainty(ctx: _Context, d) -> out.Uncertainty | None:
    if d is None:
        return None

    def pct(x: np.ndarray) -> out.Percentiles:
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
        return out.Percentiles(float(p10), float(p50), float(p90))

    return out.Uncertainty(
        draws=ctx.settings.draws,
        seed=ctx.settings.seed,
        split=pct(d.split),
        value_recommended=pct(d.value_recommended),
        value_current=pct(d.value_current),
        share_better=float(np.mean(d.value_recommended > d.value_current)),
        refits_accepted=float(d.refit_channels),
    )


def _headline(
    ctx: _Context, cur: out.Split, rec: out.Split, assumed: list[str], unc: out.Uncertainty | None
) -> str:
    h, per = ctx.horizon, ctx.obs.frequency
    what = {"value": "customer equity", "customers": f"customers after {_plural(h, per)}",
            "profit": f"profit over {_plural(h, per)}"}[ctx.objective]  # fmt: skip
    shift = cur.acquisition_share - rec.acquisition_share
    gain = f"{what} {_pct(rec.change, 1, sign=True)}" if rec.change is not None else what
    if abs(shift) < 0.005:
        text = (
            f"Keep today's split ({_pct(cur.acquisition_share)} acquisition, "
            f"{_pct(cur.retention_share)} retention): it is within half a point of the optimum"
        )
    else:
        direction = "acquisition to retention" if shift > 0 else "retention to acquisition"
        amount = _pct(abs(shift))
        all_assumed = {"rho", "mu", "phi"} <= set(assumed)
        if unc is not None and all_assumed:
            # the answer rests on assumptions: its range across draws comes first
            lo, hi = sorted(cur.acquisition_share - x for x in (unc.split.p90, unc.split.p10))
            if lo * hi > 0:  # every scenario points the same way
                lo, hi = sorted((abs(lo), abs(hi)))
                amount = f"{100 * lo:.0f}–{_pct(hi)} ({amount} at the assumed values)"
            else:
                amount = f"{amount} (at the assumed values; the scenarios disagree on the direction)"
        text = f"Shift {amount} of the budget from {direction}: {gain}"
        if ctx.objective == "value":
            text += f" over {_plural(h, per)}"
    if unc is not None:
        text += f"; better than today in {_pct(unc.share_better)} of {unc.draws} scenarios"
    if {"rho", "mu", "phi"} <= set(assumed):
        text += " (this rests on assumed ρ, μ and φ: see the break-even table)"
    return text


def _window(ctx: _Context) -> out.Window:
    return out.Window(ctx.obs.first, ctx.obs.last, ctx.obs.periods)


def _parameters(ctx: _Context) -> list[out.ParameterOut]:
    return [
        out.ParameterOut(p.name, p.symbol, p.value, p.source, p.note, p.channel)
        for p in ctx.cal.parameters
    ]


def _overflow_warning(ctx: _Context, sc: Scenario, label: str) -> None:
    over = float(sc.traj.overflow.sum())
    if over > 0.5:
        periods = int((sc.traj.overflow > 0.5).sum())
        ctx.warnings.append(
            f"{label}: capacity or max growth binds in {periods} of {ctx.horizon} periods; "
            f"{over:,.0f} customers would be turned away"
        )


def make_plan(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]) -> out.PlanResult:
    return plan_detail(ledger, settings, sources)[0]


def plan_detail(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]):
    """(PlanResult, the context it was computed in, the uncertainty draws or None): what a
    report needs to draw the curves behind the plan without computing anything twice."""
    ctx = _Context(ledger, settings, sources)
    current = ctx.scenario(ctx.share0, optimal=False)
    target = None
    if ctx.target_mode:
        growth = float(settings.target_growth)  # type: ignore[arg-type]
        b, share, max_g = budget_for_growth(ctx.cal, ctx.params, ctx.horizon, growth, ctx.budget0)
        target = out.Target(growth, b is not None, b, share, max_g)
        if b is None:
            ctx.warnings.append(
                f"{_pct(growth, sign=True)} customers over {ctx.horizon} periods is out of reach "
                f"even at 100x today's budget; the most reachable is {_pct(max_g or 0.0, 1, True)}"
            )
            share, b = best_split(ctx.cal, ctx.params, ctx.budget, ctx.horizon, "customers")[0], ctx.budget
        rec = ctx.scenario(float(share), budget=b)
    else:
        share, _ = best_split(ctx.cal, ctx.params, ctx.budget, ctx.horizon, ctx.objective)
        rec = ctx.scenario(share)
    _overflow_warning(ctx, current, "today's split")
    _overflow_warning(ctx, rec, "the recommendation")
    cur_split, rec_split = _split(ctx, current, None), _split(ctx, rec, current)
    assumed = _used_assumptions(ctx)
    scans = _scans(ctx, assumed)
    draws = None
    if not ctx.target_mode and settings.draws > 0:
        from bucket.model.uncertainty import simulate_draws

        draws = simulate_draws(ctx, settings.draws, settings.seed, rec.share)
    unc = _uncertainty(ctx, draws)
    headline = _headline(ctx, cur_split, rec_split, assumed, unc)
    if target is not None:
        headline = (
            f"To grow customers {_pct(target.growth, sign=True)} over {ctx.horizon} "
            f"{ctx.obs.frequency}s, spend {target.budget:,.0f} per {ctx.obs.frequency} with "
            f"{_pct(target.acquisition_share)} on acquisition"
            if target.reachable
            else f"{_pct(target.growth, sign=True)} customers is out of reach; at most "
            f"{_pct(target.max_growth or 0.0, 1, sign=True)}"
        )
    result = out.PlanResult(
        file=ledger.file,
        frequency=ctx.obs.frequency,  # type: ignore[arg-type]
        objective="target" if ctx.target_mode else ctx.objective,  # type: ignore[arg-type]
        horizon=ctx.horizon,
        budget=ctx.budget,
        budget_source="set" if settings.budget is not None else "window mean",
        window=_window(ctx),
        headline=headline,
        current=cur_split,
        recommendation=rec_split,
        parameters=_parameters(ctx),
        marginal=out.Marginal(_marginal_view(ctx, current, False), _marginal_view(ctx, rec, True)),
        sensitivity=_sensitivity(ctx, scans),
        break_even=_break_even(ctx, scans),
        leverage=_leverage(ctx, rec),
        projection=out.Projection(_projection(ctx, current), _projection(ctx, rec)),
        warnings=[*(w.line() for w in ledger.warnings), *ctx.warnings],
        currency=ledger.currency,
        target=target,
        uncertainty=unc,
        backtest=_backtest(ledger, settings, sources),
    )
    return result, ctx, draws


def _backtest(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]):
    if settings.backtest is None:
        return None
    from bucket.analysis.backtest import backtest

    return backtest(ledger, settings, sources, settings.backtest)


def simulate_split(
    ledger: Ledger, settings: PlanSettings, sources: dict[str, str], share: float
) -> out.SimulationResult:
    if not (0.0 <= share <= 1.0) or math.isnan(share):
        raise ConfigError(f"--split {share} is outside [0, 1]", "give the acquisition share, e.g. 0.6")
    ctx = _Context(ledger, settings, sources)
    if ctx.target_mode:
        raise ConfigError("simulate has no target objective", "use value, customers or profit")
    current = ctx.scenario(ctx.share0, optimal=False)
    named = ctx.scenario(share)
    _overflow_warning(ctx, named, "the named split")
    return out.SimulationResult(
        file=ledger.file,
        frequency=ctx.obs.frequency,  # type: ignore[arg-type]
        objective=ctx.objective,  # type: ignore[arg-type]
        horizon=ctx.horizon,
        budget=ctx.budget,
        window=_window(ctx),
        current=_split(ctx, current, None),
        scenario=_split(ctx, named, current),
        parameters=_parameters(ctx),
        projection=out.Projection(_projection(ctx, current), _projection(ctx, named)),
        warnings=[*(w.line() for w in ledger.warnings), *ctx.warnings],
        currency=ledger.currency,
    )

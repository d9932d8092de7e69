"""Assemble a plan: calibrate, optimise, and explain (DESIGN §4–§6, the result of §9).

``make_plan(ledger, settings, sources)`` returns a ``PlanResult``: today's split and the
recommendation with spend per channel, every parameter with its source, the marginal economics
at both, the projection, the sensitivity of the recommendation to each assumed parameter, the
break-even value of each (where today's split would be optimal), and the leverage of 1 % better
acquisition, retention and ARPU. ``simulate_split`` is the what-if for a named split.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bucket.analysis.channels import pools_out, quality_out, with_worth
from bucket.analysis.sensitivity import break_even, scans, sensitivity
from bucket.analysis.wording import headline, pct, target_headline
from bucket.errors import ConfigError, InputError, Problem
from bucket.model.context import PlanContext
from bucket.model.optimize import (
    Scenario,
    best_split,
    budget_for_growth,
    finite_or_none,
    leverage,
    marginals,
)
from bucket.results import plan as out

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.settings import PlanSettings


def plan_readiness(ledger: Ledger, settings: PlanSettings) -> Problem | None:
    """Why ``plan`` would refuse a valid ledger when it calibrates (too short a history, churn
    the model cannot describe), as a warning for ``validate``: the same code, not a copy."""
    try:
        plan_context(ledger, settings, {})
    except InputError as exc:
        return replace(
            exc.problem,
            severity="warning",
            code="not-plannable",
            message=f"plan would refuse it: {exc.problem.message}",
        )
    return None


def _split(ctx: PlanContext, sc: Scenario, base: Scenario | None) -> out.Split:
    cal = ctx.cal
    with np.errstate(over="ignore"):  # far past saturation the next customer costs "infinity"
        channel_cac = cal.kappa * np.exp(sc.spend / (cal.kappa * cal.saturation))
    paid = cal.saturation * -np.expm1(-sc.spend / (cal.kappa * cal.saturation))
    budget = sc.acquisition + sc.retention
    has_money = cal.u is not None
    change = None
    if base is not None and base.score != 0:
        change = (sc.score - base.score) / abs(base.score)
    split = out.Split(
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
        discounted_profit=finite_or_none(float(sc.traj.value - sc.traj.terminal))
        if has_money
        else None,
        terminal_value=finite_or_none(float(sc.traj.terminal)) if has_money else None,
    )
    return with_worth(ctx, split, sc)  # each channel's customer's worth, with pools


def _projection(ctx: PlanContext, sc: Scenario) -> list[out.ProjectionRow]:
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


def _marginal_view(ctx: PlanContext, sc: Scenario, optimal: bool) -> out.MarginalView:
    mg = marginals(ctx.cal, ctx.params, sc, ctx.horizon, ctx.objective, optimal)
    return out.MarginalView(
        marginal_cac=finite_or_none(mg.cac),
        cost_to_retain=mg.cost_to_retain,
        cltv=mg.cltv,
        marginal_value_acquisition=mg.d_acquisition,
        marginal_value_retention=mg.d_retention,
        channels=[
            {"channel": name, "marginal_cac": finite_or_none(float(c))}
            for name, c in zip(ctx.cal.channels, mg.channel_cac)
        ],
    )


def _used_assumptions(ctx: PlanContext) -> list[str]:
    """Assumed parameters the recommendation actually depends on."""
    cal, used = ctx.cal, []
    by_name = {(p.name, p.channel): p for p in cal.parameters}
    retention_from_rho = by_name[("churn_base", None)].source in ("assumed", "set") and (
        by_name[("retention_scale", None)].value is not None
    )
    if retention_from_rho and ctx.sources.get("rho") != "set":
        used.append("rho")
    measured = by_name[("churn_floor", None)].source == "experiment"
    if cal.c_obs > 0 and ctx.sources.get("mu") != "set" and not measured:
        used.append("mu")
    from_phi = any(p.name == "saturation" and p.source == "assumed" for p in cal.parameters)
    if from_phi and ctx.sources.get("phi") != "set":
        used.append("phi")
    if ctx.objective in ("value", "profit") and ctx.sources.get("margin") != "set":
        used.append("margin")
    return used


def _leverage(ctx: PlanContext, sc: Scenario) -> out.Leverage:
    lev = leverage(ctx.cal, ctx.params, sc, ctx.horizon, ctx.objective)
    base = sc.score
    names = {
        "new_customers": "paid new customers +1 %",
        "churn": "churn −1 % (relative)",
        "arpu": "ARPU +1 %",
    }
    rows = [
        out.LeverRow(names[k], float(v), float(v / abs(base)) if base else None)
        for k, v in lev.items()
    ]
    ratio = None
    if lev["new_customers"] > 0 and lev["churn"] > 0:
        ratio = float(lev["churn"] / lev["new_customers"])
    return out.Leverage(ctx.objective, rows, ratio)


def _uncertainty(ctx: PlanContext, d) -> out.Uncertainty | None:
    if d is None:
        return None

    def percentiles(x: np.ndarray) -> out.Percentiles:
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
        return out.Percentiles(float(p10), float(p50), float(p90))

    with np.errstate(divide="ignore", invalid="ignore"):
        gain = (d.value_recommended - d.value_current) / np.abs(d.value_current)
    gain = gain[np.isfinite(gain)]
    return out.Uncertainty(
        draws=ctx.settings.draws,
        seed=ctx.settings.seed,
        split=percentiles(d.split),
        value_recommended=percentiles(d.value_recommended),
        value_current=percentiles(d.value_current),
        share_better=float(np.mean(d.value_recommended > d.value_current)),
        refits_accepted=float(d.refit_channels),
        gain=percentiles(gain) if gain.size else None,
        rule=d.decision.rule,
        best_split=float(d.decision.best),
        confidence=d.decision.confidence,
    )


def _window(ctx: PlanContext) -> out.Window:
    return out.Window(ctx.obs.first, ctx.obs.last, ctx.obs.periods)


def _parameters(ctx: PlanContext) -> list[out.ParameterOut]:
    return list(ctx.cal.parameters)


def _overflow_warning(ctx: PlanContext, sc: Scenario, label: str) -> None:
    over = float(sc.traj.overflow.sum())
    if over > 0.5:
        periods = int((sc.traj.overflow > 0.5).sum())
        ctx.warnings.append(
            f"{label}: capacity or max growth binds in {periods} of {ctx.horizon} periods; "
            f"{over:,.0f} customers would be turned away"
        )


def plan_context(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]) -> PlanContext:
    """The plan's context, with the experiments of ``settings.experiments`` (DESIGN §12)."""
    if settings.experiments is None:
        return PlanContext(ledger, settings, sources)
    from bucket.analysis.tested import load_tests

    tests = load_tests(ledger, settings)
    ctx = PlanContext(
        ledger, settings, sources, tests.arms if tests else (), tests.lifts if tests else ()
    )
    ctx.warnings.extend(tests.warnings if tests else ())
    return ctx


def make_plan(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]) -> out.PlanResult:
    return plan_detail(ledger, settings, sources)[0]


def _decided(ctx: PlanContext, decision, current: Scenario) -> Scenario:
    """The split the scenarios decided on, its channels at their best spread; when it keeps
    today's split and that spread scores below today's mix (a binding capacity, where one more
    customer is worth nothing), today's mix too."""
    rec = ctx.scenario(decision.share)
    return current if decision.rule == "keep" and rec.score < current.score else rec


def plan_detail(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]):
    """(PlanResult, the context it was computed in, the uncertainty draws or None): what a
    report needs to draw the curves behind the plan without computing anything twice."""
    ctx = plan_context(ledger, settings, sources)
    current = ctx.scenario(ctx.share0, optimal=False)
    target, rec = _recommend(ctx)
    draws = None
    if not ctx.target_mode and settings.draws > 0:
        from bucket.model.uncertainty import simulate_draws

        # DESIGN §11: the split is chosen over the scenarios, not on the point fit
        draws = simulate_draws(ctx, settings.draws, settings.seed)
        rec = _decided(ctx, draws.decision, current)
    _overflow_warning(ctx, current, "today's split")
    _overflow_warning(ctx, rec, "the recommendation")
    cur_split, rec_split = _split(ctx, current, None), _split(ctx, rec, current)
    assumed = _used_assumptions(ctx)
    scanned = scans(ctx, assumed)
    unc = _uncertainty(ctx, draws)
    tested = _backtest(ledger, settings, sources, ctx.warnings)
    test = None if target else _next_test(ctx, current, cur_split, rec_split, unc)
    if target is not None:
        text = target_headline(target, ctx.horizon, ctx.obs.frequency)
    else:
        text = headline(
            objective=ctx.objective,
            horizon=ctx.horizon,
            frequency=ctx.obs.frequency,
            current=cur_split,
            recommended=rec_split,
            assumed=assumed,
            uncertainty=unc,
            backtest=tested,
            test=test,
        )
    result = out.PlanResult(
        file=ledger.file,
        frequency=ctx.obs.frequency,  # type: ignore[arg-type]
        objective="target" if ctx.target_mode else ctx.objective,
        horizon=ctx.horizon,
        budget=ctx.budget,
        budget_source="set" if settings.budget is not None else "window mean",
        window=_window(ctx),
        headline=text,
        current=cur_split,
        recommendation=rec_split,
        parameters=_parameters(ctx),
        marginal=out.Marginal(_marginal_view(ctx, current, False), _marginal_view(ctx, rec, True)),
        sensitivity=sensitivity(ctx, scanned),
        break_even=break_even(ctx, scanned),
        leverage=_leverage(ctx, rec),
        projection=out.Projection(_projection(ctx, current), _projection(ctx, rec)),
        warnings=[*(w.line() for w in ledger.warnings), *ctx.warnings],
        currency=ledger.currency,
        target=target,
        uncertainty=unc,
        backtest=tested,
        experiments=_checks(ctx),
        experiment_suggested=test,
        pools=pools_out(ctx),
        channel_quality=quality_out(ctx, rec),
    )
    return result, ctx, draws


def _checks(ctx: PlanContext) -> list[out.ExperimentCheck] | None:
    """Every retention arm and lift test the plan used, against the ledger."""
    checks = [*(ctx.tested.checks if ctx.tested else ())]
    for post in ctx.lifted.values():
        checks += post.checks
    if not checks:
        return None
    return [
        out.ExperimentCheck(
            test=c.test,
            kind="retention" if c.kind == "retention" else "acquisition",
            arm=c.name if c.kind == "retention" else None,
            channel=c.name if c.kind != "retention" else None,
            observed=c.observed,
            predicted=c.predicted,
            ledger=c.ledger,
            se=c.se,
            z=c.z,
            informs=list(c.informs),
        )
        for c in checks
    ]


def _next_test(
    ctx: PlanContext,
    today: Scenario,
    current: out.Split,
    rec: out.Split,
    unc: out.Uncertainty | None,
) -> out.ExperimentSuggested | None:
    from bucket.analysis.next_test import suggest_test

    candidates = [rec]
    if unc is not None and unc.best_split is not None:
        candidates.append(_split(ctx, ctx.scenario(unc.best_split), today))
    return suggest_test(ctx, current, candidates)


def _recommend(ctx: PlanContext) -> tuple[out.Target | None, Scenario]:
    """The recommended scenario: the best split of the budget, or for ``--objective target``
    the least budget (and its split) that reaches the growth."""
    if not ctx.target_mode:
        share, _ = best_split(ctx.cal, ctx.params, ctx.budget, ctx.horizon, ctx.objective)
        return None, ctx.scenario(share)
    growth = float(ctx.settings.target_growth)  # type: ignore[arg-type]
    b, share, max_g = budget_for_growth(ctx.cal, ctx.params, ctx.horizon, growth, ctx.budget0)
    target = out.Target(growth, b is not None, b, share, max_g)
    if b is None:
        ctx.warnings.append(
            f"{pct(growth, sign=True)} customers over {ctx.horizon} periods is out of reach "
            f"even at 100x today's budget; the most reachable is {pct(max_g or 0.0, 1, True)}"
        )
        share, b = (
            best_split(ctx.cal, ctx.params, ctx.budget, ctx.horizon, "customers")[0],
            ctx.budget,
        )
    return target, ctx.scenario(float(share), budget=b)


DEFAULT_BACKTEST = 3  # periods held out when the plan backtests itself (DESIGN §11)


def _backtest(ledger: Ledger, settings: PlanSettings, sources: dict[str, str], warnings: list[str]):
    """The backtest named by --backtest, else (DESIGN §11) one of the last 3 periods when the
    history leaves enough to calibrate on; 0 skips it. One whose holdout never moved spend
    gets a warning: it cannot vouch for the plan."""
    result = _run_backtest(ledger, settings, sources)
    if result is not None and not result.tests_response:
        warnings.append(
            f"the backtest of {result.held_out} cannot vouch for the plan: spend hardly moved "
            "in them, so it checks today's rates, not the response to spend the plan rests on"
        )
    return result


def _run_backtest(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]):
    from bucket.analysis.backtest import backtest_response
    from bucket.model.window import MIN_WINDOW

    if settings.backtest == 0:
        return None
    if settings.backtest is not None:
        return backtest_response(ledger, settings, sources, settings.backtest, option="--backtest")
    holdout = min(DEFAULT_BACKTEST, len(ledger.periods) - MIN_WINDOW)
    if holdout < 1:
        return None
    try:
        return backtest_response(ledger, settings, sources, holdout, option="--backtest")
    except InputError:
        return None  # a default backtest the history cannot hold is skipped, not an error


def simulate_split(
    ledger: Ledger, settings: PlanSettings, sources: dict[str, str], share: float
) -> out.SimulationResult:
    if not (0.0 <= share <= 1.0) or math.isnan(share):
        raise ConfigError(
            f"--split {share} is outside [0, 1]", "give the acquisition share, e.g. 0.6"
        )
    ctx = plan_context(ledger, settings, sources)
    if ctx.target_mode:
        raise ConfigError("simulate has no target objective", "use value, customers or profit")
    current = ctx.scenario(ctx.share0, optimal=False)
    named = ctx.scenario(share)
    _overflow_warning(ctx, named, "the named split")
    return out.SimulationResult(
        file=ledger.file,
        frequency=ctx.obs.frequency,  # type: ignore[arg-type]
        objective=ctx.objective,
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

"""The plain-language wording of a plan: its headline, the break-even statements and the
report's takeaways, written from the numbers and kept out of the numerics (DESIGN §6, §11).

Everything here is a pure function from results to text: nothing is computed that a table does
not also show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bucket.results import plan as out
    from bucket.results.backtest import BacktestResult

SYMBOL = {"rho": "ρ", "mu": "μ", "phi": "φ", "margin": "m"}
WORDS = {
    "rho": "acquiring a customer costs {v} times as much as keeping one, at the margin",
    "mu": "retention spend can remove at most {p} of today's churn",
    "phi": "today's spend reaches {p} of each assumed channel's saturation",
    "margin": "the gross margin is {p}",
}
ASSUMED_CORE = {"rho", "mu", "phi"}  # when all three are assumed, the answer rests on them


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def pct(x: float, digits: int = 0, sign: bool = False) -> str:
    """12 %, +4.1 % (a space before %, as in the tables)."""
    return f"{100 * x:{'+' if sign else ''}.{digits}f} %"


def money(x: float, currency: str | None) -> str:
    return f"{x:,.0f}" + (f" {currency}" if currency else "")


def headline(
    *,
    objective: str,
    horizon: int,
    frequency: str,
    current: out.Split,
    recommended: out.Split,
    assumed: list[str],
    uncertainty: out.Uncertainty | None,
    backtest: BacktestResult | None = None,
    test: out.ExperimentSuggested | None = None,
) -> str:
    """The plan's first sentence: the shift, its gain, how sure, and what it rests on."""
    sure = pct(uncertainty.confidence if uncertainty is not None else 0.9)
    h, per, cur, rec, unc = horizon, frequency, current, recommended, uncertainty
    what = {
        "value": "customer equity",
        "customers": f"customers after {plural(h, per)}",
        "profit": f"profit over {plural(h, per)}",
    }[objective]
    shift = cur.acquisition_share - rec.acquisition_share
    # DESIGN §11: the gain is the median across the scenarios, with its P10
    scenarios = unc.gain if unc is not None else None
    change = scenarios.p50 if scenarios is not None else rec.change
    gain = what + (f" {pct(change, 1, sign=True)}" if change is not None else "")
    where = _where_from(cur, rec, h, per) if objective == "value" else ""
    if objective == "value" and not where:
        gain += f" over {plural(h, per)}"
    if scenarios is not None:
        gain += f" ({pct(scenarios.p10, 1, sign=True)} or more in 9 of 10 scenarios)"
    all_assumed = set(assumed) >= ASSUMED_CORE
    if unc is not None and unc.rule == "keep":
        text = _keep_headline(cur, unc, sure, test, per)
    elif abs(shift) < 0.005:
        text = (
            f"Keep today's split ({pct(cur.acquisition_share)} acquisition, "
            f"{pct(cur.retention_share)} retention): it is within half a point of the optimum"
        )
    else:
        direction = "acquisition to retention" if shift > 0 else "retention to acquisition"
        amount = pct(abs(shift))
        if unc is not None and all_assumed:
            amount = _amount_range(cur, unc, amount)
        text = f"Shift {amount} of the budget from {direction}: {gain}{where}"
        if unc is not None and unc.rule == "partial" and unc.best_split is not None:
            text += (
                f"; going further, to the best split on average ({pct(unc.best_split)} "
                f"acquisition), beats today's in fewer than {sure} of the scenarios"
            )
    if unc is not None and unc.rule != "keep":
        text += f"; better than today in {pct(unc.share_better)} of {unc.draws} scenarios"
    measures = (
        "; the Next test measures μ"
        if test is not None and test.informs == "mu" and test.customers_per_arm is not None
        else ""
    )
    if all_assumed:
        text += f" (this rests on assumed ρ, μ and φ: see the break-even table{measures})"
    elif "mu" in assumed and measures and (unc is None or unc.rule != "keep"):
        text += " (this rests on an assumed μ, how much churn money can remove" + measures + ")"
    if backtest is not None and backtest.verdict_level == "poor":
        text += (
            f"; but the model forecast {backtest.held_out} poorly (backtest): take these "
            "figures as indicative"
        )
    return text


def _keep_headline(
    cur: out.Split,
    unc: out.Uncertainty,
    sure: str,
    test: out.ExperimentSuggested | None,
    per: str,
) -> str:
    """No move beats today's split in ``sure`` of the scenarios: say so, and what would
    decide."""
    best = (
        f" (the best on average, {pct(unc.best_split)} acquisition,"
        if unc.best_split is not None
        else " ("
    )
    return (
        f"Keep today's split ({pct(cur.acquisition_share)} acquisition, "
        f"{pct(cur.retention_share)} retention): no move beats it in {sure} of {unc.draws} "
        f"scenarios{best} is uncertain either way); a test of retention spend would decide"
        + (
            f" ({test.customers_per_arm:,} customers per arm for {plural(int(test.periods), per)}"
            ", see Next test)"
            if test is not None and test.customers_per_arm is not None
            else ""
        )
    )


def _where_from(cur: out.Split, rec: out.Split, h: int, per: str) -> str:
    """DESIGN §11: when most of a gain in customer equity is the worth of the customers left
    after the horizon, say so, beside the change in profit over it and in customers at it."""
    parts = (cur.value, rec.value, cur.terminal_value, rec.terminal_value, cur.profit, rec.profit)
    if any(x is None for x in parts):
        return ""
    gain = rec.value - cur.value  # type: ignore[operator]
    terminal = rec.terminal_value - cur.terminal_value  # type: ignore[operator]
    if gain <= 0 or terminal <= 0.5 * gain:
        return ""
    most = "all" if terminal >= 0.95 * gain else "most"
    profit = (rec.profit - cur.profit) / abs(cur.profit) if cur.profit else None  # type: ignore[operator]
    base = rec.customers_end / cur.customers_end - 1 if cur.customers_end > 0 else None
    said = (
        [f"profit over {plural(h, per)} {pct(profit, 1, sign=True)}"] if profit is not None else []
    )
    said += [f"customers at the end {pct(base, 1, sign=True)}"] if base is not None else []
    return f", {most} of it the value of the customers left after {plural(h, per)}" + (
        f" ({', '.join(said)})" if said else ""
    )


def _amount_range(cur: out.Split, unc: out.Uncertainty, amount: str) -> str:
    """The answer rests on assumptions: its range across draws comes first."""
    lo, hi = sorted(cur.acquisition_share - x for x in (unc.split.p90, unc.split.p10))
    if lo * hi > 0:  # every scenario points the same way
        lo, hi = sorted((abs(lo), abs(hi)))
        return f"{100 * lo:.0f}–{pct(hi)} ({amount} recommended)"
    return f"{amount} (the scenarios disagree on the direction)"


def target_headline(target: out.Target, horizon: int, frequency: str) -> str:
    if target.reachable and target.budget is not None and target.acquisition_share is not None:
        return (
            f"To grow customers {pct(target.growth, sign=True)} over {horizon} "
            f"{frequency}s, spend {target.budget:,.0f} per {frequency} with "
            f"{pct(target.acquisition_share)} on acquisition"
        )
    return (
        f"{pct(target.growth, sign=True)} customers is out of reach; at most "
        f"{pct(target.max_growth or 0.0, 1, sign=True)}"
    )


def break_even_statement(
    *,
    name: str,
    roots: list[float],
    jumps: list[float],
    flat: bool,
    current: float,
    low: float,
    high: float,
    share0: float,
) -> str:
    """What the break-even scan of one assumed parameter found, in a sentence."""
    sym = SYMBOL[name]
    if flat:
        return (
            f"today's split is optimal for every {sym} in [{low:g}, {high:g}]: "
            f"the recommendation does not depend on {sym}"
        )
    fmt = (lambda v: f"{v:.3g}") if name == "rho" else (lambda v: f"{v:.2f}")
    if not roots:
        text = (
            f"no {sym} in [{fmt(low)}, {fmt(high)}] makes today's split ({pct(share0)} "
            f"acquisition) optimal; the plan uses {sym} = {fmt(current)}"
        )
    else:
        at = " or ".join(f"{sym} = {fmt(r)}" for r in roots)
        words = WORDS[name].format(v=fmt(roots[0]), p=pct(roots[0]))
        text = (
            f"today's split ({pct(share0)} acquisition) is optimal only at {at} ({words}); "
            f"the plan uses {sym} = {fmt(current)}"
        )
    if jumps:
        text += f"; the optimum jumps past today's split near {sym} = " + ", ".join(
            f"{j:.3g}" for j in jumps
        )
    return text


def takeaways(r: dict, plan: out.PlanResult) -> dict[str, str]:
    """One sentence under each of the report's charts, from the numbers it draws (``r``: the
    report's parts)."""
    t = {
        "objective": _objective_takeaway(plan),
        "marginal": _marginal_takeaway(r, plan.currency),
        "base": _base_takeaway(r, plan),
    }
    channels = _channels_takeaway(plan)
    if channels is not None:
        t["channels"] = channels
    t["backtest"] = _backtest_takeaway(r)
    if plan.channel_quality is not None:
        q = plan.channel_quality.statement
        t["worth"] = q[0].upper() + q[1:] + "."
    if r["cohorts"] is not None:
        t["cohorts"] = _cohorts_takeaway(r["cohorts"], plan.frequency)
    return t


def _objective_takeaway(plan: out.PlanResult) -> str:
    rec = plan.recommendation
    what = {
        "value": "Customer equity",
        "customers": "Customers at the horizon",
        "profit": "Profit over the horizon",
    }.get(plan.objective, "Customers at the horizon")
    gain = "" if rec.change is None else f", {100 * rec.change:+.1f} % against today's split"
    text = f"{what} peaks at {pct(rec.acquisition_share)} acquisition{gain}"
    if plan.uncertainty is not None:
        u = plan.uncertainty.split
        text += (
            f"; across {plan.uncertainty.draws} scenarios the best split lies between "
            f"{pct(u.p10)} and {pct(u.p90)} (P10–P90)"
        )
    return text + "."


def _marginal_takeaway(r: dict, currency: str | None) -> str:
    if r["crossing"] is not None:
        shares = r["marginal_shares"]
        i = min(range(len(shares)), key=lambda j: abs(shares[j] - r["crossing"]))
        a, k = r["marginal_acquisition"][i], r["marginal_retention"][i]
        cost = money((a + k) / 2, currency) if a is not None and k is not None else "the same"
        return (
            f"The next customer costs the same on both sides ({cost}) at "
            f"{pct(r['crossing'])} acquisition: below that, acquisition is the "
            "cheaper way to add one; above it, retention."
        )
    pairs = [
        (a, k)
        for a, k in zip(r["marginal_acquisition"], r["marginal_retention"])
        if a is not None and k is not None
    ]
    if not pairs:
        return (
            "One side buys no customers at any split here (its marginal cost is "
            "undefined), so the costs cannot be compared."
        )
    if all(a < k for a, k in pairs):
        return "Acquisition is the cheaper way to add a customer at every split."
    if all(a > k for a, k in pairs):
        return "Retention is the cheaper way to add a customer at every split."
    return "The two costs are close across the splits; neither side is clearly cheaper."


def _base_takeaway(r: dict, plan: out.PlanResult) -> str:
    n_cur, n_rec = r["base_current"][-1], r["base_recommended"][-1]
    text = (
        f"After {plural(plan.horizon, plan.frequency)} the base is {n_rec:,.0f} customers under the "
        f"recommendation and {n_cur:,.0f} under today's split ({n_rec - n_cur:+,.0f})"
    )
    if r["band_recommended"] is not None:
        b = r["band_recommended"]
        text += f"; P10–P90 {b.p10[-1]:,.0f}–{b.p90[-1]:,.0f}"
    return text + "."


def _channels_takeaway(plan: out.PlanResult) -> str | None:
    cur, rec, currency = plan.current, plan.recommendation, plan.currency
    moves = [
        (c.channel or "all", rc.acquisition_spend - c.acquisition_spend)
        for c, rc in zip(cur.channels, rec.channels)
    ]
    if not moves:
        return None
    up = max(moves, key=lambda x: x[1])
    down = min(moves, key=lambda x: x[1])
    parts = [
        f"Acquisition spend goes from {money(cur.acquisition_spend, currency)} to "
        f"{money(rec.acquisition_spend, currency)} a {plan.frequency}"
    ]
    if len(moves) > 1 and up[1] > 0.5:
        parts.append(f"{up[0]} gains the most ({up[1]:+,.0f})")
    if len(moves) > 1 and down[1] < -0.5:
        parts.append(f"{down[0]} gives up the most ({down[1]:+,.0f})")
    if plan.pools is not None:  # allocation by worth (DESIGN §13)
        return "; ".join(parts) + (
            ". The money goes where the next customer is worth most per unit of spend (chart "
            "7): a channel whose customers leak pays less for each, so marginal CACs differ."
        )
    return "; ".join(parts) + (
        ". The money goes where the next customer is cheapest, until each channel's "
        "marginal CAC is the same."
    )


def _backtest_takeaway(r: dict) -> str:
    bt = r["backtest"]
    if bt is None:
        return (r["backtest_note"] or "No backtest.").rstrip(".") + "."
    mape = bt.mape
    bits = [
        f"{name} {100 * v:.1f} %"
        for name, v in (
            ("the base", mape.customers),
            ("new", mape.new_customers),
            ("churned", mape.churned_customers),
        )
        if v is not None
    ]
    return (
        f"Calibrated on {bt.calibrated_on} and forecasting the "
        f"last {bt.holdout}, the model was off by {', '.join(bits)} on average "
        f"(MAPE): {bt.verdict_level}."
    )


def _cohorts_takeaway(co, frequency: str) -> str:
    fit = co.fit
    if fit.better == "sbg" and fit.alpha is not None:
        return (
            "Retention improves with tenure: the sBG curve fits the cohorts "
            "clearly better than a constant churn of "
            f"{100 * fit.geometric_churn:.1f} % a {frequency}."
        )
    return (
        f"The cohorts are consistent with a constant churn of "
        f"{100 * fit.geometric_churn:.1f} % a {frequency}: "
        "no clear gain from the sBG curve."
    )


def possessive(name: str) -> str:
    """The possessive of a name: social's, partners'."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"

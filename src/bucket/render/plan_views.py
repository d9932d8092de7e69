"""Plan and simulation results → neutral views (see views.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bucket.render import fmt
from bucket.render.evidence_views import backtest_view
from bucket.render.views import Cell, Section, Tone, View

if TYPE_CHECKING:
    from bucket.results.backtest import BacktestResult
    from bucket.results.plan import (
        ExperimentSuggested,
        PlanResult,
        SimulationResult,
        Split,
        Uncertainty,
    )

SPARK = "▁▂▃▄▅▆▇█"
OBJECTIVE_WORDS = {
    "value": "customer equity",
    "customers": "customers at the horizon",
    "profit": "profit over the horizon",
    "target": "budget for a growth target",
}


def spark(values: list[float]) -> str:
    """A one-line chart of values in [0, 1]."""
    return "".join(SPARK[min(int(v * len(SPARK)), len(SPARK) - 1)] for v in values)


def _change(new: float | None, old: float | None, toned: bool = True) -> Cell:
    """The relative change; green or red only for outcomes (``toned``): a cut in spend is a
    choice, not a loss."""
    if new is None or old is None or old == 0:
        return Cell(fmt.DASH)
    rel = (new - old) / abs(old)
    tone: Tone = None
    if toned and abs(rel) > 0.0005:
        tone = "good" if rel > 0 else "bad"
    return Cell(f"{100 * rel:+.1f} %", tone)


def _compare(
    label: Cell, cur: float | None, rec: float | None, show, bold: bool = False, toned=True
) -> list[Cell]:
    """One row of the comparison: today's value, the recommended one, the change."""
    return [
        label,
        Cell(show(cur)),
        Cell(show(rec), "bold" if bold else None),
        _change(rec, cur, toned),
    ]


def _comparison(
    cur: Split, rec: Split, cur_name: str, rec_name: str, cur_sym: str | None
) -> Section:
    money = lambda x: fmt.money(x, cur_sym)  # noqa: E731
    rows = [
        [
            Cell("acquisition share", "bold"),
            Cell(fmt.pct(cur.acquisition_share)),
            Cell(fmt.pct(rec.acquisition_share), "bold"),
            Cell(f"{100 * (rec.acquisition_share - cur.acquisition_share):+.1f} pts"),
        ],
        _compare(
            Cell("acquisition spend"),
            cur.acquisition_spend,
            rec.acquisition_spend,
            money,
            toned=False,
        ),
    ]
    for c_cur, c_rec in zip(cur.channels, rec.channels):
        rows.append(
            _compare(
                Cell(f"  {c_cur.channel}", "dim"),
                c_cur.acquisition_spend,
                c_rec.acquisition_spend,
                money,
                toned=False,
            )
        )
    rows.append(
        _compare(
            Cell("retention spend"), cur.retention_spend, rec.retention_spend, money, toned=False
        )
    )
    rows.append(_compare(Cell("budget per period"), cur.budget, rec.budget, money, toned=False))
    if cur.value is not None:
        rows.append(_compare(Cell("customer equity", "bold"), cur.value, rec.value, money, True))
    if cur.profit is not None:
        rows.append(_compare(Cell("profit over horizon"), cur.profit, rec.profit, money))
    rows.append(
        _compare(Cell("customers at horizon"), cur.customers_end, rec.customers_end, fmt.count)
    )
    return Section(
        f"{cur_name} vs {rec_name}",
        ["", cur_name, rec_name, "change"],
        rows,
        [False, True, True, True],
    )


def _projection(res, rec_name: str, money_sym: str | None) -> Section:
    p = res.projection
    rows = []
    for a, b in zip(p.current, p.recommended):
        row = [
            Cell(a.period),
            Cell(fmt.count(a.customers_end)),
            Cell(fmt.count(b.customers_end), "bold"),
            Cell(fmt.pct(a.churn_rate, 2)),
            Cell(fmt.pct(b.churn_rate, 2)),
            Cell(fmt.number(a.new_customers, 0)),
            Cell(fmt.number(b.new_customers, 0)),
        ]
        if a.profit is not None:
            row += [Cell(fmt.money(a.profit, money_sym)), Cell(fmt.money(b.profit, money_sym))]
        rows.append(row)
    cols = [
        "period",
        "customers today",
        f"customers {rec_name}",
        "churn today",
        f"churn {rec_name}",
        "new today",
        f"new {rec_name}",
    ]
    if p.current and p.current[0].profit is not None:
        cols += ["profit today", f"profit {rec_name}"]
    return Section(
        "Projection (customers at the end of each period)",
        cols,
        rows,
        [False] + [True] * (len(cols) - 1),
    )


# each parameter in words first, its symbol after (issue 18): the words a marketer uses
WORDS = {
    "arpu": "revenue per customer",
    "margin": "gross margin",
    "discount_rate": "discount rate",
    "organic_inflow": "organic customers",
    "referral_rate": "referral rate",
    "saturation": "saturation",
    "cac_at_zero_spend": "cost of the first customer",
    "carryover": "spend carried over",
    "churn_observed": "churn",
    "churn_floor": "churn floor",
    "churn_base": "churn without retention spend",
    "retention_scale": "retention spend scale",
    "marginal_cac": "marginal CAC",
}


def _parameters(res) -> Section:
    rows = []
    for p in res.parameters:
        tone: Tone = "warn" if p.source == "assumed" else None
        shown = fmt.DASH if p.value is None else f"{p.value:,.4g}"
        mark = "assumed *" if p.source == "assumed" else p.source
        words = WORDS.get(p.name, p.name.replace("_", " "))
        rows.append(
            [
                Cell(f"{words} ({p.symbol})", "bold"),
                Cell(p.channel or ""),
                Cell(shown),
                Cell(mark, tone),
                Cell(p.note, "dim"),
            ]
        )
    return Section(
        "Parameters",
        ["parameter", "channel", "value", "source", "how"],
        rows,
        [False, False, True, False, False],
        note="* assumed: not in your data; the sensitivity and break-even tables test it",
    )


def _plan_headline(res: PlanResult) -> list[str]:
    """The headline sentence and what the plan was calibrated on and asked for."""
    sym, per, h = res.currency, res.frequency, res.horizon
    w = res.window
    return [
        res.headline + ".",
        f"{res.file}: calibrated on {w.first_period} to {w.last_period} "
        f"({fmt.plural(w.periods, per)}); "
        f"budget {fmt.money(res.budget, sym)} per {per} ({res.budget_source}); horizon {fmt.plural(h, per)}; "
        f"objective: {OBJECTIVE_WORDS[res.objective]}",
    ]


def _uncertainty(res: PlanResult, u: Uncertainty) -> Section:
    """The recommended share and the objective across the uncertainty scenarios."""
    sym = res.currency
    value_fmt = (
        (lambda x: fmt.count(x))
        if res.objective in ("customers",)
        else (lambda x: fmt.money(x, sym))
    )
    return Section(
        f"Uncertainty across {u.draws} scenarios (seed {u.seed})",
        ["", "10th pct", "median", "90th pct"],
        [
            [
                Cell("recommended acquisition share", "bold"),
                Cell(fmt.pct(u.split.p10)),
                Cell(fmt.pct(u.split.p50)),
                Cell(fmt.pct(u.split.p90)),
            ],
            [
                Cell(f"{OBJECTIVE_WORDS[res.objective]}, recommended"),
                *(Cell(value_fmt(getattr(u.value_recommended, k))) for k in ("p10", "p50", "p90")),
            ],
            [
                Cell(f"{OBJECTIVE_WORDS[res.objective]}, today's split"),
                *(Cell(value_fmt(getattr(u.value_current, k))) for k in ("p10", "p50", "p90")),
            ],
        ],
        [False, True, True, True],
        note=f"Each scenario resamples the window's periods, refits the curves and redraws the "
        f"assumptions. The recommendation beats today's split in "
        f"{fmt.pct(u.share_better, 0)} of them; {fmt.pct(u.refits_accepted, 0)} of "
        "channel refits passed the fit rules.",
    )


def _marginal_economics(res: PlanResult) -> Section:
    """Marginal CAC, cost to retain and marginal value, today and recommended."""
    sym, per, h = res.currency, res.frequency, res.horizon
    mc, mr = res.marginal.current, res.marginal.recommended
    m_rows = [
        [
            Cell("marginal CAC (blended)", "bold"),
            Cell(fmt.money(mc.marginal_cac, sym)),
            Cell(fmt.money(mr.marginal_cac, sym)),
        ],
    ]
    for a, b in zip(mc.channels, mr.channels):
        m_rows.append(
            [
                Cell(f"  {a['channel']}", "dim"),
                Cell(fmt.money(a["marginal_cac"], sym)),  # type: ignore[arg-type]
                Cell(fmt.money(b["marginal_cac"], sym)),  # type: ignore[arg-type]
            ]
        )
    unit = "customers" if res.objective in ("customers", "target") else "equity"
    m_rows += [
        [
            Cell(f"cost to keep one more customer one {per}", "bold"),
            Cell(fmt.money(mc.cost_to_retain, sym)),
            Cell(fmt.money(mr.cost_to_retain, sym)),
        ],
        [Cell("CLTV"), Cell(fmt.money(mc.cltv, sym)), Cell(fmt.money(mr.cltv, sym))],
        [
            Cell(f"{unit} per extra 1 on acquisition"),
            Cell(fmt.number(mc.marginal_value_acquisition, 3)),
            Cell(fmt.number(mr.marginal_value_acquisition, 3)),
        ],
        [
            Cell(f"{unit} per extra 1 on retention"),
            Cell(fmt.number(mc.marginal_value_retention, 3)),
            Cell(fmt.number(mr.marginal_value_retention, 3)),
        ],
    ]
    return Section(
        "Marginal economics",
        ["", "today", "recommended"],
        m_rows,
        [False, True, True],
        note="At the optimum the last unit of money earns the same on both sides; "
        f"the costs per customer differ because a kept customer's value runs past "
        f"the {h}-{per} horizon.",
    )


def _sensitivity(res: PlanResult) -> Section:
    """The recommended share at each end of every assumption's range."""
    return Section(
        "Sensitivity: recommended acquisition share as each assumption moves",
        ["", "used", "range", "share at low", "share at high", "curve over wider range"],
        [
            [
                Cell(s.symbol, "bold"),
                Cell(f"{s.value:.3g}"),
                Cell(f"{s.low:g}–{s.high:g}"),
                Cell(fmt.pct(s.share_at_low, 0)),
                Cell(fmt.pct(s.share_at_high, 0)),
                Cell(
                    f"{s.curve[0].value:g} {spark([c.acquisition_share for c in s.curve])} "
                    f"{s.curve[-1].value:g}"
                ),
            ]
            for s in res.sensitivity
        ],
        [False, True, False, True, True, False],
    )


def _break_even(res: PlanResult) -> Section:
    """Where each assumption would have to be for today's split to be right."""
    return Section(
        "Break-even: where today's split would be right",
        ["", "statement"],
        [[Cell(b.symbol, "bold"), Cell(b.statement)] for b in res.break_even],
        [False, False],
    )


def _leverage(res: PlanResult) -> Section:
    """How much the objective moves per lever at the recommendation."""
    sym, per, h = res.currency, res.frequency, res.horizon
    lev = res.leverage
    return Section(
        "Leverage at the recommendation",
        ["lever", "change", "relative"],
        [
            [
                Cell(r.lever, "bold"),
                Cell(
                    fmt.number(r.change, 0)
                    if lev.objective in ("customers",)
                    else fmt.money(r.change, sym)
                ),
                Cell(fmt.pct(r.relative_change, 2)),
            ]
            for r in lev.rows
        ],
        [False, True, True],
        note=f"Change of {OBJECTIVE_WORDS[lev.objective]} over {fmt.plural(h, per)}. "
        + (
            ""
            if lev.retention_vs_acquisition is None
            else f"1 % less churn is worth {lev.retention_vs_acquisition:.1f}x as much as 1 % more paid new "
            "customers here (the marketing literature says about 2x)."
        ),
    )


def _backtest_table(backtest: BacktestResult) -> Section:
    """The backtest's forecast table, titled with its verdict."""
    bt = backtest_view(backtest)
    bt.sections[0].title = f"Backtest: {backtest.verdict}"
    return bt.sections[0]


def _next_test(res: PlanResult, t: ExperimentSuggested) -> Section:
    """The retention test the plan suggests, arm by arm."""
    span = fmt.plural(int(t.periods), res.frequency)
    what = "how much churn money can remove" if t.informs == "mu" else "churn with less money"
    return Section(
        f"Next test: {what}",
        ["arm", f"retention spend per customer a {res.frequency}", f"churn in {span}", "customers"],
        [
            [
                Cell(a.name, "bold"),
                Cell(fmt.number(a.spend_per_customer, 2)),
                Cell(fmt.pct(a.churn)),
                Cell(fmt.count(t.customers_per_arm)),
            ]
            for a in t.arms
        ],
        [False, True, True, True],
        note=t.note,
    )


def _channel_quality(res: PlanResult) -> Section:
    """Each channel's customers: churn seen and used, what they pay and are worth, what they
    cost; the test of whether the channels differ as the note."""
    assert res.pools is not None and res.channel_quality is not None
    sym, per = res.currency, res.frequency
    worth = {c.channel: c.value_per_customer for c in res.recommendation.channels}
    rows = []
    for p in res.pools:
        seen = fmt.DASH
        if p.churn_observed is not None and p.churn_se is not None:
            seen = f"{fmt.pct(p.churn_observed)} ± {fmt.pct(p.churn_se)}"
        rows.append(
            [
                Cell(p.pool, "bold"),
                Cell(seen),
                Cell(fmt.pct(p.churn_used)),
                Cell(fmt.money(p.arpu, sym)),
                Cell(fmt.money(p.cltv, sym)),
                Cell(fmt.money(p.cac, sym)),
                Cell(fmt.DASH if p.ltv_to_cac is None else f"{p.ltv_to_cac:.1f}"),
                Cell(fmt.money(worth.get(p.pool), sym)),
            ]
        )
    q = res.channel_quality
    return Section(
        "Channel quality: what each channel's customers are worth",
        [
            "pool",
            f"churn a {per} (± SE)",
            "used",
            "ARPU",
            "CLTV",
            "CAC",
            "LTV/CAC",
            "next customer worth",
        ],
        rows,
        [False, True, True, True, True, True, True, True],
        note=(
            q.statement[0].upper() + q.statement[1:] + f". Churn used: each pool's shrunk "
            f"towards the pooled {fmt.pct(q.pooled_churn)} as far as its noise warrants "
            f"(Q = {q.q:.1f} on {q.df} df). Next customer worth: what one more paid customer "
            "adds at the recommended split."
        ),
    )


def plan_view(res: PlanResult) -> View:
    head = _plan_headline(res)
    sections = [_comparison(res.current, res.recommendation, "today", "recommended", res.currency)]
    if res.uncertainty is not None:
        sections.append(_uncertainty(res, res.uncertainty))
    if res.experiment_suggested is not None:
        sections.append(_next_test(res, res.experiment_suggested))
    sections.append(_marginal_economics(res))
    if res.pools is not None and res.channel_quality is not None:
        sections.append(_channel_quality(res))
    sections.append(_parameters(res))
    sections.append(_projection(res, "rec.", res.currency))
    if res.sensitivity:
        sections.append(_sensitivity(res))
        sections.append(_break_even(res))
    sections.append(_leverage(res))
    if res.backtest is not None:
        sections.append(_backtest_table(res.backtest))
    return View(head, sections)


def simulation_view(res: SimulationResult) -> View:
    cur, sc = res.current, res.scenario
    per, sym = res.frequency, res.currency
    what = OBJECTIVE_WORDS[res.objective]
    change = f"{100 * sc.change:+.1f} %" if sc.change is not None else fmt.DASH
    head = [
        f"A {fmt.pct(sc.acquisition_share, 0)} acquisition split: {what} {change} against "
        f"today's ({fmt.pct(cur.acquisition_share, 0)}) over {fmt.plural(res.horizon, per)}.",
        f"{res.file}: calibrated on {res.window.first_period} to {res.window.last_period}; "
        f"budget {fmt.money(res.budget, sym)} per {per}",
    ]
    sections = [
        _comparison(cur, sc, "today", "named split", sym),
        _projection(res, "named", sym),
        _parameters(res),
    ]
    return View(head, sections)

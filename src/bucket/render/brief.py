"""The plan's first screen (issue 18): the headline, today against the recommendation, and in
plain words why, how sure and what to do next; everything else behind ``--detail``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bucket.render import fmt
from bucket.render.views import Section, View

if TYPE_CHECKING:
    from bucket.results.plan import PlanResult, SimulationResult


def _paragraph(title: str, text: str) -> Section:
    """A titled paragraph (a section without columns: its title leads its text)."""
    return Section(title, [], [], [], note=text)


def _why(res: PlanResult) -> str:
    """The marginal economics and where the gain comes from, in two or three sentences."""
    cur, rec = res.marginal.current, res.marginal.recommended
    sym = res.currency
    what = {"value": "customer equity", "profit": "profit", "customers": "customers"}.get(
        res.objective, "the objective"
    )
    unit = f"{sym}1" if sym else "1"
    text = (
        f"At today's split, each extra {unit} on retention adds "
        f"{fmt.number(cur.marginal_value_retention, 2)} to {what}, on acquisition "
        f"{fmt.number(cur.marginal_value_acquisition, 2)}"
    )
    if abs(rec.marginal_value_retention - rec.marginal_value_acquisition) <= 0.05 * max(
        abs(rec.marginal_value_acquisition), 1e-9
    ):
        text += (
            f"; at the recommended split both add about "
            f"{fmt.number(rec.marginal_value_acquisition, 2)}, so moving money either way loses."
        )
    else:
        text += (
            f"; at the recommended split {fmt.number(rec.marginal_value_retention, 2)} and "
            f"{fmt.number(rec.marginal_value_acquisition, 2)}."
        )
    if res.channel_quality is not None:
        q = res.channel_quality.statement
        text += " " + q[0].upper() + q[1:] + "."
    return text


def _how_sure(res: PlanResult) -> str:
    """The interval and what the split rests on."""
    parts = []
    u = res.uncertainty
    if u is not None:
        parts.append(
            f"Across {u.draws} scenarios the best split lies between {fmt.pct(u.split.p10, 0)} "
            f"and {fmt.pct(u.split.p90, 0)} acquisition (P10–P90)"
            + (
                f", the gain between {fmt.pct(u.gain.p10)} and {fmt.pct(u.gain.p90)}."
                if u.gain is not None
                else "."
            )
        )
    assumed = list(dict.fromkeys(p.symbol for p in res.parameters if p.source == "assumed"))
    if assumed:
        parts.append(f"Assumed, not in your data: {', '.join(assumed)} (--detail tests each).")
    bt = res.backtest
    if bt is not None:
        m = bt.mape
        errors = (m.new_customers, m.churned_customers, m.customers)
        worst = max((v for v in errors if v is not None), default=None)
        within = f", errors up to {fmt.pct(worst)}" if worst is not None else ""
        parts.append(
            f"Backtest {bt.verdict_level} on the last {fmt.plural(bt.holdout, res.frequency)}"
            f"{within}."
        )
    return " ".join(parts)


def _next(res: PlanResult) -> str:
    """The test to run and the check to schedule."""
    parts = []
    t = res.experiment_suggested
    if t is not None and t.customers_per_arm is not None:
        arms = " and ".join(
            f"{t.customers_per_arm:,} at {fmt.number(a.spend_per_customer, 2)}" for a in t.arms
        )
        parts.append(
            f"Test retention: {arms} a customer a {res.frequency}, for "
            f"{fmt.plural(int(t.periods), res.frequency)}; then plan with --experiments FILE."
        )
    parts.append(
        f"Each {res.frequency}: plan with --save plans/, then bucket check {res.file} --plans "
        "plans/ --max-split-gap 0.1 (exit 3 on drift; bucket track plans/ shows why)."
    )
    return " ".join(parts)


def brief_plan_view(res: PlanResult, full: View) -> View:
    """The first screen of ``plan``: ``full``'s headline and comparison, then three paragraphs."""
    first = full.sections[0]
    if res.target is None:  # the same budget on both sides: its row says nothing here
        first = replace(first, rows=[r for r in first.rows if r[0].text != "budget per period"])
    sections = [first]
    if res.target is None:
        sections += [
            _paragraph("Why", _why(res)),
            _paragraph("How sure", _how_sure(res)),
            _paragraph("Next", _next(res)),
        ]
    return View(
        full.headline,
        sections,
        ["More: --detail (economics, channels, parameters, projection, sensitivity)."],
    )


def brief_simulation_view(res: SimulationResult, full: View) -> View:
    """The first screen of ``simulate``: the comparison; the projection and parameters behind
    --detail."""
    return View(
        full.headline,
        full.sections[:1],
        ["More: --detail (projection, parameters)."],
    )

"""The view of `bucket track`: saved plans against what happened (DESIGN §14)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bucket.render import fmt
from bucket.render.views import Cell, Section, View

if TYPE_CHECKING:
    from bucket.results.track import TrackedPlan, TrackResult

NAMES = {"customers": "customers", "new_customers": "new", "churned_customers": "churned"}
VERDICT_TONE = {"paid off": "good", "cost": "bad", "cannot tell yet": "warn", "not followed": "dim"}


def _plans(res: TrackResult) -> Section:
    rows = []
    for p in res.plans:
        rows.append(
            [
                Cell(p.as_of, "bold"),
                Cell(str(len(p.periods))),
                Cell(fmt.pct(p.current_share, 0)),
                Cell(fmt.pct(p.recommended_share, 0)),
                Cell(fmt.pct(p.actual_share, 0)),
                Cell(fmt.DASH if p.adherence is None else f"{p.adherence + 0.0:.2f}"),
                Cell(
                    p.payoff.verdict if p.payoff else fmt.DASH,
                    VERDICT_TONE.get(p.payoff.verdict) if p.payoff else None,  # type: ignore[arg-type]
                ),
            ]
        )
    return Section(
        "Saved plans (acquisition share: today's, recommended, spent since)",
        ["as of", "periods", "today", "plan", "spent", "adherence", "payoff"],
        rows,
        [False, True, True, True, True, True, False],
        note="Adherence: 0 kept today's split, 1 followed the plan (per channel and on "
        "retention). Payoff: the plan's model replayed at the spend made against today's split.",
    )


def _periods(p: TrackedPlan) -> Section:
    rows, marked = [], False
    for r in p.periods:
        cells = [Cell(r.period), Cell(str(r.horizon))]
        for s in NAMES:
            v = getattr(r, s)
            inside = v.low <= v.actual <= v.high
            marked = marked or not inside
            cells += [
                Cell(fmt.count(v.actual)),
                Cell(fmt.count(v.replay) + ("" if inside else " *"), None if inside else "warn"),
            ]
        rows.append(cells)
    return Section(
        f"Plan of {p.as_of} on the spend made, against what happened",
        ["period", "h", "customers", "model", "new", "model", "churned", "model"],
        rows,
        [False, True, True, True, True, True, True, True],
        note="*: the actual fell outside the model's 80 % interval (--json has the intervals)."
        if marked
        else "Every actual fell inside the model's 80 % interval (--json has the intervals).",
    )


def _errors(p: TrackedPlan) -> Section:
    rows = [
        [
            Cell(NAMES[e.series], "bold"),
            Cell(fmt.pct(e.mape)),
            Cell(fmt.pct(e.mape_h1)),
            Cell(fmt.DASH if e.bias is None else f"{100 * e.bias:+.1f} %"),
            Cell(fmt.pct(e.coverage, 0)),
            Cell(fmt.DASH if e.skill is None else f"{e.skill:+.2f}"),
        ]
        for e in p.errors
    ]
    return Section(
        f"Forecast errors of the plan of {p.as_of}",
        ["series", "MAPE", "MAPE h1", "bias", "in 80 %", "skill"],
        rows,
        [False, True, True, True, True, True],
        note="Bias above 0: the model forecast too much. Skill above 0: better than carrying the "
        "as-of period forward.",
    )


def _drift(res: TrackResult) -> Section:
    rows = [
        [
            Cell(d.parameter + (f" ({d.channel})" if d.channel else "")),
            Cell(f"{d.before_as_of} → {d.after_as_of}"),
            Cell(f"{d.before:.4g}"),
            Cell(f"{d.after:.4g}"),
            Cell(f"{d.z:+.1f}", "bad" if d.flagged else None),
        ]
        for d in res.drift
    ]
    return Section(
        "Parameter drift between plans",
        ["parameter", "plans", "before", "after", "z"],
        rows,
        [False, False, True, True, True],
        note="Both plans read at the later plan's spend; z: the move in SDs of the difference "
        "(both plans' draws). Beyond ±2 with a move of 5 % or more, the model drifted.",
    )


def track_view(res: TrackResult) -> View:
    head = [res.verdict]
    sections = []
    if res.plans:
        sections.append(_plans(res))
        latest = res.plans[-1]
        sections += [_periods(latest), _errors(latest)]
        restated = [f"{r.period} ({', '.join(r.columns)})" for p in res.plans for r in p.restated]
        if restated:
            sections[-1].note = (
                (sections[-1].note or "")
                + " Restated since saved: "
                + "; ".join(dict.fromkeys(restated))
            )
    if res.drift:
        sections.append(_drift(res))
    return View(head, sections)

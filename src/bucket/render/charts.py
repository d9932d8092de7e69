"""The report's charts as inline SVG, written with the kit in `render/chart_svg.py`.

Text stays text (small, selectable, the page's own sans-serif font, nothing fetched), ids are
named after the chart so the same input gives the same page, and every chart scales to the
width of its column (a viewBox, no fixed size) with text that stays readable on a phone.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from bucket.render.chart_svg import (
    INK,
    MUTED,
    PAD,
    ROW,
    WIDTH,
    Axis,
    Key,
    Panel,
    categories,
    document,
    linear,
    log_axis,
    num,
    percent,
    text,
    text_width,
)

if TYPE_CHECKING:
    from bucket.analysis.report import Report

ACQ, RET, TODAY, REC = "#2f6fb3", "#d9822b", "#7b8794", "#1a7f5a"
SHARE = "share of the budget on acquisition"


def _short(name: str, most: int = 24) -> str:
    """A label that fits beside a chart on a phone: long names end in an ellipsis."""
    return name if len(name) <= most else name[: most - 1].rstrip() + "…"


def _money(r: Report) -> str:
    return f" ({r.plan.currency})" if r.plan.currency else ""


def objective_chart(r: Report) -> str:
    p = r.plan
    rec, cur, band = p.recommendation, p.current, r.objective_band
    low = min([*r.objective, *(band.p10 if band is not None else [])])
    values = [*r.objective, rec.objective, cur.objective, *(band.p90 if band else [])]
    label = {"value": "customer equity", "profit": "profit"}.get(
        p.objective, "customers at horizon"
    )
    # from zero when it can: a cropped axis would make a few per cent look like a cliff
    y = linear(0.0 if low >= 0 else min([*values, low]), max(values), label)
    keys = [
        *([Key("P10–P90 across scenarios", REC, patch=True, opacity=0.15)] if band else []),
        Key("calibrated model", REC),
        Key(f"recommended ({100 * rec.acquisition_share:.0f} %)", REC, marker="circle", line=False),
        Key(
            f"today ({100 * cur.acquisition_share:.0f} %, today's channel mix)",
            TODAY,
            marker="diamond",
            line=False,
        ),
    ]
    panel = Panel("objective", linear(0.0, 1.0, SHARE, percent), y, keys)
    if band is not None:
        panel.band(r.shares, band.p10, band.p90, REC)
    panel.line(r.shares, r.objective, REC)
    panel.vline(rec.acquisition_share, REC, "5 3", 1.0)
    panel.point(rec.acquisition_share, rec.objective, "circle", REC, 6.0)
    panel.point(cur.acquisition_share, cur.objective, "diamond", TODAY, 5.0)
    return document([panel], f"{label} against the acquisition share")


def marginal_chart(r: Report) -> str:
    p = r.plan
    rec, cur = p.recommendation.acquisition_share, p.current.acquisition_share
    values = [
        v for v in (*r.marginal_acquisition, *r.marginal_retention) if v is not None and v > 0
    ]
    label = f"cost per customer's worth{_money(r)}"
    if values:
        lo, hi = min(values), max(values)
        y = log_axis(lo / 1.3, min(hi * 1.3, lo * 1e3), label)
    else:
        y = linear(0.0, 1.0, label)
    keys = [
        Key("acquisition: cost of the next customer won", ACQ),
        Key("retention: cost of the next customer kept", RET),
        Key(f"recommended ({100 * rec:.0f} %)", REC, dash="5 3"),
        Key(f"today ({100 * cur:.0f} %)", TODAY, dash="2 3"),
    ]
    panel = Panel("marginal", linear(0.0, 1.0, SHARE, percent), y, keys)
    panel.line(r.marginal_shares, r.marginal_acquisition, ACQ)
    panel.line(r.marginal_shares, r.marginal_retention, RET)
    panel.vline(rec, REC, "5 3", 1.0)
    panel.vline(cur, TODAY, "2 3", 1.4)
    return document([panel], "the marginal cost of a customer on each side against the split")


def base_chart(r: Report) -> str:
    x = list(range(len(r.periods)))
    series = (
        (r.base_current, r.band_current, TODAY, "today's split"),
        (r.base_recommended, r.band_recommended, REC, "recommended"),
    )
    values = [v for ys, band, _, _ in series for v in (*ys, *(band.p10 + band.p90 if band else []))]
    keys = [
        Key(label + (" (band: P10–P90)" if band is not None else ""), color)
        for _, band, color, label in series
    ]
    panel = Panel(
        "base", categories(r.periods), linear(min(values), max(values), "customers"), keys
    )
    for _, band, color, _ in series:
        if band is not None:
            panel.band(x, band.p10, band.p90, color)
    for ys, _, color, _ in series:
        panel.line(x, ys, color)
    return document([panel], "customers over the horizon, today's split and the recommendation")


def channel_chart(r: Report) -> str:
    """Two bars a channel, today's and the recommended spend, each with its marginal CAC, under
    the channel's name (a row of its own: a long name needs no room beside the bars)."""
    cur, rec = r.plan.current.channels, r.plan.recommendation.channels
    names = [c.channel or "all" for c in cur]
    notes = [
        [
            f"marginal CAC {'—' if c.marginal_cac is None else f'{c.marginal_cac:,.0f}'}"
            for c in pair
        ]
        for pair in zip(cur, rec)
    ]
    room = max((text_width(n) for pair in notes for n in pair), default=0.0) + 8
    top = max([c.acquisition_spend for c in (*cur, *rec)] + [1.0])
    width = WIDTH - 2 * PAD - 36  # the plot, less half the last tick's label
    x = linear(0.0, top * width / (width - room), f"acquisition spend per {r.plan.frequency}")
    x = Axis(x.lo, x.hi, x.ticks, x.label + _money(r))
    rows = max(len(names), 1)
    keys = [Key("today", TODAY, patch=True), Key("recommended", ACQ, patch=True)]
    panel = Panel("channels", x, Axis(float(rows), 0.0, []), keys, height=62.0 * rows, left=PAD + 4)
    for i, name in enumerate(names):
        y = panel.py(i)
        panel.raw(
            f'<g id="channel-{i}"><title>{escape(name)}</title>'
            f"{text(PAD + 4, y + 16, _short(name), fill=INK, font_weight='600')}</g>"
        )
        for j, (c, color) in enumerate(((cur[i], TODAY), (rec[i], ACQ))):
            by, end = y + 23 + 18 * j, panel.px(c.acquisition_spend)
            panel.raw(
                f'<rect x="{num(panel.x0)}" y="{num(by)}" width="{num(end - panel.x0)}" '
                f'height="15" fill="{color}"/>' + text(end + 4, by + 12, notes[i][j], fill=INK)
            )
    return document([panel], "acquisition spend per channel, today and recommended")


def _backtest_base(r: Report) -> Panel | None:
    """The customer base, actual and forecast over the held-out periods."""
    bt = r.backtest
    assert bt is not None
    hist_ok = [
        (row.period or "", row.customers_end)
        for row in r.metrics.periods
        if row.customers_end is not None
    ]
    labels = [label for label, _ in hist_ok]
    pos = {label: i for i, label in enumerate(labels)}
    pred = [
        (pos[b.period], b.predicted.customers)
        for b in bt.periods
        if b.period in pos and b.predicted.customers is not None
    ]
    xs, ys = [i for i, _ in pred], [v for _, v in pred]
    if pred:
        start = pos[bt.periods[0].period] - 1
        if start >= 0:
            xs, ys = [start, *xs], [hist_ok[start][1], *ys]
    values = [v for _, v in hist_ok] + ys
    if not values:
        return None
    keys = [Key("actual", INK), Key("forecast (held out)", ACQ, dash="5 3", marker="circle")]
    panel = Panel(
        "backtest-base",
        categories(labels, margin=0.5),
        linear(min(values), max(values)),
        keys,
        height=170.0,
        title="customer base",
    )
    panel.line(range(len(hist_ok)), [v for _, v in hist_ok], INK)
    if pred:
        panel.span(pred[0][0] - 0.5, pred[-1][0] + 0.5, ACQ)
        panel.line(xs, ys, ACQ, dash="5 3", dots=3.5)
    return panel


def _backtest_flows(r: Report, top: float) -> Panel | None:
    """New and churned customers in the held-out periods, actual and forecast."""
    bt = r.backtest
    assert bt is not None
    flows = [
        (key, color, label)
        for key, color, label in (
            ("new_customers", ACQ, "new"),
            ("churned_customers", RET, "churned"),
        )
        if any(getattr(b.actual, key) is not None for b in bt.periods)
    ]
    values = [
        v
        for key, _, _ in flows
        for b in bt.periods
        for v in (getattr(b.actual, key), getattr(b.predicted, key))
        if v is not None
    ]
    if not values:
        return None
    keys = [
        Key(f"{label}: {kind}", color, dash=dash, marker=dot)
        for _, color, label in flows
        for kind, dash, dot in (("actual", None, None), ("forecast", "5 3", "circle"))
    ]
    names = [b.period or "" for b in bt.periods]
    y = linear(min(values), max(values))
    panel = Panel(
        "backtest-flows",
        categories(names, margin=0.2),
        y,
        keys,
        height=150.0,
        top=top,
        title="flows in the held-out periods",
    )
    x = range(len(names))
    for key, color, _ in flows:
        panel.line(x, [getattr(b.actual, key) for b in bt.periods], color)
        panel.line(x, [getattr(b.predicted, key) for b in bt.periods], color, dash="5 3", dots=3.5)
    return panel


def backtest_chart(r: Report) -> str | None:
    if r.backtest is None:
        return None
    base = _backtest_base(r)
    flows = _backtest_flows(r, base.bottom + 8 if base else 0.0)
    panels = [p for p in (base, flows) if p is not None]
    return document(panels, "backtest: forecast against actual") if panels else None


def cohort_chart(r: Report) -> str | None:
    co = r.cohorts
    if co is None:
        return None
    ages = [pt.age for pt in co.projection]
    oldest = max([len(row.survival) - 1 for row in co.cohorts] + ages + [1])
    x = linear(0.0, float(oldest), f"age ({r.plan.frequency}s since the first purchase)")
    y = Axis(0.0, 1.02, [(t / 5, percent(t / 5)) for t in range(6)], "still active")
    sbg = any(pt.survival_sbg is not None for pt in co.projection)
    keys = [
        Key("observed cohorts", MUTED),
        *([Key("sBG fit (pooled)", REC)] if sbg else []),
        Key("constant churn", RET, dash="6 3"),
    ]
    panel = Panel("cohorts", x, y, keys)
    for row in co.cohorts:
        panel.line(range(len(row.survival)), row.survival, MUTED, width=0.8, opacity=0.7)
    if sbg:
        panel.line(ages, [pt.survival_sbg for pt in co.projection], REC, width=2.5)
    panel.line(ages, [pt.survival_constant for pt in co.projection], RET, width=1.8, dash="6 3")
    return document([panel], "cohort survival, the sBG fit and constant churn")


def _arrow(panel: Panel, start: tuple[float, float], end: tuple[float, float]) -> str:
    """A grey arrow between two points, stopping short of the markers on them."""
    (ax, ay), (bx, by) = (
        (panel.px(start[0]), panel.py(start[1])),
        (panel.px(end[0]), panel.py(end[1])),
    )
    length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
    if length < 16:
        return ""
    ux, uy = (bx - ax) / length, (by - ay) / length
    ax, ay, bx, by = ax + 6 * ux, ay + 6 * uy, bx - 7 * ux, by - 7 * uy
    head = " ".join(
        f"{num(bx - 8 * ux + s * 4 * uy)},{num(by - 8 * uy - s * 4 * ux)}" for s in (1, -1)
    )
    return (
        f'<line x1="{num(ax)}" y1="{num(ay)}" x2="{num(bx)}" y2="{num(by)}" stroke="{MUTED}" '
        f'stroke-width="1.2"/><polygon points="{num(bx)},{num(by)} {head}" fill="{MUTED}"/>'
    )


def _worth_labels(panel: Panel, points: list[tuple[str, float, float, float]]) -> None:
    """Each channel's name beside its recommended point (name, today's cost, recommended cost,
    worth), on the side its arrow does not come from unless the name would leave the chart;
    a name that would cover one placed before it moves down, with a line back to its point."""
    placed: list[tuple[float, float, float]] = []  # left, right, baseline
    order = sorted(range(len(points)), key=lambda i: panel.py(points[i][3]))
    for i in order:
        name, x0, x1, y1 = points[i]
        label, at, y = _short(name), panel.px(x1), panel.py(y1) + 5
        w = text_width(label)
        end = at + 9 + w > WIDTH - PAD or (x0 > x1 and at - 9 - w >= PAD)
        left = at - 9 - w if end else at + 9
        while any(a < left + w and left < b and abs(base - y) < ROW for a, b, base in placed):
            y += 4
        placed.append((left, left + w, y))
        lead = ""
        if y - panel.py(y1) > 12:
            lead = (
                f'<line x1="{num(at)}" y1="{num(panel.py(y1) + 5)}" x2="{num(at - 6 if end else at + 6)}" '
                f'y2="{num(y - 5)}" stroke="{MUTED}" stroke-width="0.8"/>'
            )
        where = text(at - 9 if end else at + 9, y, label, "end" if end else "start")
        panel.raw(f'<g id="worth-{i}"><title>{escape(name)}</title>{lead}{where}</g>')


def worth_chart(r: Report) -> str | None:
    """Each channel's next paid customer: what it costs (marginal CAC) against what it is worth
    (value per customer), today and at the recommendation, with the line of equal worth per
    unit of money the recommendation's funded channels sit on. None without channel pools."""
    points = [  # (name, today's cost, worth, recommended cost, worth, recommended spend)
        (
            b.channel,
            c.marginal_cac,
            c.value_per_customer,
            b.marginal_cac,
            b.value_per_customer,
            b.acquisition_spend,
        )
        for c, b in zip(r.plan.current.channels, r.plan.recommendation.channels)
        if c.marginal_cac is not None
        and c.value_per_customer is not None
        and b.marginal_cac is not None
        and b.value_per_customer is not None
    ]
    if r.plan.pools is None or not points:
        return None
    funded = [(x1, y1) for _, _, _, x1, y1, a in points if a > 0.01 * r.plan.budget]
    right = max(max(p[1], p[3]) for p in points) * (1.15 if funded else 1.05)
    # worth per unit of money at the margin, equal across the funded channels
    slope = sum(y / x for x, y in funded) / len(funded) if funded else 0.0
    high = max([v for p in points for v in (p[2], p[4])] + [slope * right])
    money = _money(r)
    x = linear(0.0, right, f"marginal CAC: cost of the channel's next paid customer{money}")
    keys = [
        *([Key("equal worth per unit", REC, dash="5 3")] if funded else []),
        Key("today", TODAY, marker="circle", line=False),
        Key("recommended", ACQ, marker="circle", line=False),
    ]
    panel = Panel("worth", x, linear(0.0, high, f"what that customer is worth{money}"), keys)
    if funded:
        panel.line([0.0, right], [0.0, slope * right], REC, width=1.2, dash="5 3")
    for _, x0, y0, x1, y1, _ in points:
        panel.raw(_arrow(panel, (x0, y0), (x1, y1)))
        panel.point(x0, y0, "circle", TODAY, 4.5)
        panel.point(x1, y1, "circle", ACQ, 5.5)
    _worth_labels(panel, [(name or "all", x0, x1, y1) for name, x0, _, x1, y1, _ in points])
    return document([panel], "each channel's marginal CAC against what its customer is worth")


PAST = ("#2f6fb3", "#1a7f5a", "#d9822b", "#8e44ad")


def track_chart(r: Report) -> str | None:
    """Chart 8: the customer base as it happened, and each saved plan's forecast of it on the
    spend actually made (its model replayed, with the 80 % interval) from its as-of period."""
    tracked = r.tracked
    if tracked is None or not tracked.plans:
        return None
    actual = {
        row.period or "": row.customers_end
        for row in r.metrics.periods
        if row.customers_end is not None
    }
    labels = list(actual)
    pos = {label: i for i, label in enumerate(labels)}
    shown = tracked.plans[-len(PAST) :]
    values = list(actual.values())
    for p in shown:
        values += [v for row in p.periods for v in (row.customers.low, row.customers.high)]
    keys = [Key("actual", INK)] + [
        Key(f"plan of {p.as_of}", color, dash="5 3") for p, color in zip(shown, PAST)
    ]
    panel = Panel(
        "track", categories(labels, margin=0.5), linear(min(values), max(values), "customers"), keys
    )
    for p, color in zip(shown, PAST):
        rows = [row for row in p.periods if row.period in pos]
        if not rows or p.as_of not in pos:
            continue
        start = pos[p.as_of]
        x = [start, *(pos[row.period] for row in rows)]
        base = actual[p.as_of]
        panel.band(
            x,
            [base, *(row.customers.low for row in rows)],
            [base, *(row.customers.high for row in rows)],
            color,
        )
        panel.line(x, [base, *(row.customers.replay for row in rows)], color, dash="5 3")
    panel.line(range(len(labels)), list(actual.values()), INK)
    return document([panel], "saved plans' forecasts of the customer base against what happened")

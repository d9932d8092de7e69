"""The report's charts as inline SVG, drawn with matplotlib (imported only by `bucket report`).

Text stays text (``svg.fonttype = none``: small files, selectable, the browser's own sans-serif
font, nothing fetched), ids are salted so the same input gives the same page, and every figure
scales to the width of the page (viewBox, no fixed size).
"""

from __future__ import annotations

import io
import re
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bucket.analysis.report import Report

INK, MUTED, GRID_C = "#1f2933", "#7b8794", "#e4e7eb"
ACQ, RET, TODAY, REC = "#2f6fb3", "#d9822b", "#7b8794", "#1a7f5a"


def _setup():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "bucket",
            "font.family": "sans-serif",
            "font.sans-serif": ["Helvetica", "Arial", "DejaVu Sans"],
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": INK,
            "xtick.color": MUTED,
            "ytick.color": MUTED,
            "axes.grid": True,
            "grid.color": GRID_C,
            "grid.linewidth": 0.6,
            "legend.frameon": False,
            "figure.dpi": 100,
            "lines.linewidth": 2,
            "axes.axisbelow": True,
            "text.parse_math": False,  # "$5 off" is a channel name, not a formula
        }
    )
    return plt


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # RDF boilerplate
    # scale with the page: keep the viewBox, let CSS set the size
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', text, count=1)


def _short(name: str, most: int = 24) -> str:
    """A label that fits beside a chart on a phone: long names end in an ellipsis."""
    return name if len(name) <= most else name[: most - 1].rstrip() + "…"


def _pct_axis(ax, which: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter

    f = FuncFormatter(lambda v, _: f"{100 * v:.0f} %")
    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(f)


def _num_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    def f(v, _):
        a = abs(v)
        if a >= 1e6:
            return f"{v / 1e6:,.1f} M"
        if a >= 1e4:
            return f"{v / 1e3:,.0f} k"
        return f"{v:,.0f}"

    ax.yaxis.set_major_formatter(FuncFormatter(f))


def objective_chart(r: Report) -> str:
    plt = _setup()
    p = r.plan
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if r.objective_band is not None:
        ax.fill_between(
            r.shares,
            r.objective_band.p10,
            r.objective_band.p90,
            color=REC,
            alpha=0.15,
            linewidth=0,
            label="P10–P90 across scenarios",
        )
    ax.plot(r.shares, r.objective, color=REC, label="calibrated model")
    ax.axvline(p.recommendation.acquisition_share, color=REC, linestyle="--", linewidth=1)
    ax.plot(
        [p.recommendation.acquisition_share],
        [p.recommendation.objective],
        "o",
        color=REC,
        markersize=8,
        label=f"recommended ({100 * p.recommendation.acquisition_share:.0f} %)",
    )
    ax.plot(
        [p.current.acquisition_share],
        [p.current.objective],
        "D",
        color=TODAY,
        markersize=7,
        label=f"today ({100 * p.current.acquisition_share:.0f} %, today's channel mix)",
    )
    _pct_axis(ax)
    _num_axis(ax)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the budget on acquisition")
    ax.set_ylabel(
        {"value": "customer equity", "profit": "profit"}.get(p.objective, "customers at horizon")
    )
    low = min([*r.objective, *(r.objective_band.p10 if r.objective_band is not None else [])])
    if low >= 0:  # from zero: a cropped axis would make a few per cent look like a cliff
        ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=9)
    return _svg(fig)


def marginal_chart(r: Report) -> str:
    plt = _setup()
    p = r.plan
    fig, ax = plt.subplots(figsize=(8, 3.6))
    xs = r.marginal_shares

    def line(ys, color, label):
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None and y > 0]
        if pts:
            ax.plot([a for a, _ in pts], [b for _, b in pts], color=color, label=label)

    line(r.marginal_acquisition, ACQ, "acquisition: cost of the next customer won")
    line(r.marginal_retention, RET, "retention: cost of the next customer kept")
    ax.axvline(
        p.recommendation.acquisition_share,
        color=REC,
        linestyle="--",
        linewidth=1,
        label=f"recommended ({100 * p.recommendation.acquisition_share:.0f} %)",
    )
    ax.axvline(
        p.current.acquisition_share,
        color=TODAY,
        linestyle=":",
        linewidth=1.2,
        label=f"today ({100 * p.current.acquisition_share:.0f} %)",
    )
    values = [
        y for y in (*r.marginal_acquisition, *r.marginal_retention) if y is not None and y > 0
    ]
    if values:
        ax.set_yscale("log")
        lo, hi = min(values), max(values)
        ax.set_ylim(lo / 1.3, min(hi * 1.3, lo * 1e3))
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    _pct_axis(ax)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the budget on acquisition")
    ax.set_ylabel(f"cost per customer's worth{' (' + p.currency + ')' if p.currency else ''}")
    ax.legend(loc="best", fontsize=9)
    return _svg(fig)


def base_chart(r: Report) -> str:
    plt = _setup()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = list(range(len(r.periods)))
    for ys, band, color, label in (
        (r.base_current, r.band_current, TODAY, "today's split"),
        (r.base_recommended, r.band_recommended, REC, "recommended"),
    ):
        if band is not None:
            ax.fill_between(x, band.p10, band.p90, color=color, alpha=0.15, linewidth=0)
        ax.plot(x, ys, color=color, label=label + (" (band: P10–P90)" if band is not None else ""))
    step = -(-len(x) // 7)  # at most 7 labels
    ax.set_xticks(x[::step], r.periods[::step])
    _num_axis(ax)
    ax.set_ylabel("customers")
    ax.legend(loc="best", fontsize=9)
    return _svg(fig)


def channel_chart(r: Report) -> str:
    plt = _setup()
    cur, rec = r.plan.current.channels, r.plan.recommendation.channels
    names = [c.channel or "all" for c in cur]
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.7 * max(len(names), 1)))
    y = list(range(len(names)))
    h = 0.38
    ax.barh(
        [i + h / 2 for i in y], [c.acquisition_spend for c in cur], h, color=TODAY, label="today"
    )
    ax.barh(
        [i - h / 2 for i in y],
        [c.acquisition_spend for c in rec],
        h,
        color=ACQ,
        label="recommended",
    )
    top = max([c.acquisition_spend for c in (*cur, *rec)] + [1.0])
    for i, (a, b) in enumerate(zip(cur, rec)):
        for off, c in ((h / 2, a), (-h / 2, b)):
            cac = "—" if c.marginal_cac is None else f"{c.marginal_cac:,.0f}"
            ax.text(
                c.acquisition_spend + top * 0.01,
                i + off,
                f"marginal CAC {cac}",
                va="center",
                fontsize=8,
                color=INK,
            )
    ax.set_yticks(y, [_short(n) for n in names])
    for i, tick in enumerate(ax.get_yticklabels()):
        tick.set_gid(f"channel-{i}")
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.35)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(
        f"acquisition spend per {r.plan.frequency}"
        + (f" ({r.plan.currency})" if r.plan.currency else "")
    )
    ax.grid(axis="y", visible=False)
    # above the bars, so it covers no label however few channels there are
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=9)
    svg = _svg(fig)
    for i, name in enumerate(names):  # the whole name as a tooltip on its (shortened) label
        svg = svg.replace(
            f'<g id="channel-{i}">', f'<g id="channel-{i}"><title>{escape(name)}</title>', 1
        )
    return svg


def backtest_chart(r: Report) -> str | None:
    bt = r.backtest
    if bt is None:
        return None
    plt = _setup()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(8, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    hist = [
        (row.period, row.customers_end)
        for row in r.metrics.periods
        if row.customers_end is not None
    ]
    labels = [p for p, _ in hist]
    ax.plot(range(len(hist)), [v for _, v in hist], color=INK, label="actual")
    pos = {p: i for i, p in enumerate(labels)}
    pred = [
        (pos[b.period], b.predicted.customers)
        for b in bt.periods
        if b.period in pos and b.predicted.customers is not None
    ]
    if pred:
        start = pos[bt.periods[0].period] - 1
        xs = ([start] if start >= 0 else []) + [i for i, _ in pred]
        ys = ([hist[start][1]] if start >= 0 else []) + [v for _, v in pred]
        ax.plot(xs, ys, "o--", color=ACQ, markersize=4, label="forecast (held out)")
        ax.axvspan(pred[0][0] - 0.5, pred[-1][0] + 0.5, color=ACQ, alpha=0.06, linewidth=0)
    step = -(-len(labels) // 5)
    ax.set_xticks(range(0, len(labels), step), labels[::step])
    _num_axis(ax)
    ax.set_title("customer base", fontsize=10, color=INK)
    ax.legend(loc="best", fontsize=8)
    names = [b.period for b in bt.periods]
    x = range(len(names))
    for key, color, label in (("new_customers", ACQ, "new"), ("churned_customers", RET, "churned")):
        act = [getattr(b.actual, key) for b in bt.periods]
        prd = [getattr(b.predicted, key) for b in bt.periods]
        if any(v is not None for v in act):
            ax2.plot(
                x,
                [v if v is not None else float("nan") for v in act],
                "-",
                color=color,
                label=f"{label}: actual",
            )
            ax2.plot(
                x,
                [v if v is not None else float("nan") for v in prd],
                "o--",
                color=color,
                markersize=4,
                alpha=0.8,
                label=f"{label}: forecast",
            )
    ax2.set_xticks(list(x), names)
    _num_axis(ax2)
    ax2.set_title("flows in the held-out periods", fontsize=10, color=INK)
    ax2.legend(loc="best", fontsize=7)
    fig.tight_layout()
    return _svg(fig)


def cohort_chart(r: Report) -> str | None:
    co = r.cohorts
    if co is None:
        return None
    plt = _setup()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, row in enumerate(co.cohorts):
        ax.plot(
            range(len(row.survival)),
            row.survival,
            color=MUTED,
            linewidth=0.8,
            alpha=0.7,
            label="observed cohorts" if i == 0 else None,
        )
    ages = [pt.age for pt in co.projection]
    if any(pt.survival_sbg is not None for pt in co.projection):
        ax.plot(
            ages,
            [pt.survival_sbg for pt in co.projection],
            color=REC,
            linewidth=2.5,
            label="sBG fit (pooled)",
        )
    ax.plot(
        ages,
        [pt.survival_constant for pt in co.projection],
        "--",
        color=RET,
        linewidth=1.8,
        label="constant churn",
    )
    _pct_axis(ax, "y")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"age ({r.plan.frequency}s since the first purchase)")
    ax.set_ylabel("still active")
    ax.legend(loc="best", fontsize=9)
    return _svg(fig)


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
    plt = _setup()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, (name, x0, y0, x1, y1, _) in enumerate(points):
        ax.annotate(
            "", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "color": MUTED}
        )
        ax.scatter([x0], [y0], s=40, color=TODAY, zorder=3)
        ax.scatter([x1], [y1], s=50, color=ACQ, zorder=3)
        label = f"  {_short(name or 'all')}"
        ax.text(x1, y1, label, va="center", fontsize=9, color=INK, gid=f"worth-{i}")
    funded = [(x1, y1) for _, _, _, x1, y1, a in points if a > 0.01 * r.plan.budget]
    if funded:  # worth per unit of money at the margin, equal across funded channels
        slope = sum(y / x for x, y in funded) / len(funded)
        top = max(max(p[1], p[3]) for p in points) * 1.15
        ax.plot([0, top], [0, slope * top], color=REC, lw=1, ls="--", label="equal worth per unit")
    ax.scatter([], [], color=TODAY, label="today")
    ax.scatter([], [], color=ACQ, label="recommended")
    _num_axis(ax)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    money = f" ({r.plan.currency})" if r.plan.currency else ""
    ax.set_xlabel(f"marginal CAC: cost of the channel's next paid customer{money}")
    ax.set_ylabel(f"what that customer is worth{money}")
    ax.legend(loc="upper left", fontsize=9)
    svg = _svg(fig)
    for i, p in enumerate(points):
        svg = svg.replace(
            f'<g id="worth-{i}">', f'<g id="worth-{i}"><title>{escape(p[0])}</title>', 1
        )
    return svg

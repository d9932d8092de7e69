"""`bucket report`: one self-contained HTML page (inline SVG charts, inline CSS, no script).

The page fetches nothing: no scripts, fonts or images from anywhere, and a Content-Security-Policy
that forbids every request, so it opens offline, survives being mailed, and cannot phone home.
The tables are the same views the terminal and Markdown renderers draw, so the numbers agree
with `bucket plan` to the digit.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bucket.analysis.report import Report
    from bucket.render.views import Section

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #1a7f5a; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 980px; padding: 24px 20px 48px; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  overflow-wrap: break-word; }
.long { overflow-wrap: anywhere; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 28px 0 4px; }
h3 { font-size: 1em; margin: 20px 0 2px; }
.meta { color: var(--muted); font-size: .9em; margin: 0 0 12px; }
.headline { font-size: 1.15em; font-weight: 600; margin: 16px 0; }
.takeaway { margin: 4px 0 8px; }
/* charts two abreast on a wide screen, one per row below about 750 px; a chart's text is at
   least 14 viewBox units in 480, so 10.7 px in the 366 px column of a 390 px phone */
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr));
  column-gap: 32px; }
@supports (grid-template-rows: subgrid) {
  section.chart { display: grid; grid-row: span 3; grid-template-rows: subgrid;
    grid-template-columns: minmax(0, 1fr); align-content: start; }
}
section.chart, section.chart > * { min-width: 0; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; display: block; }
figcaption, .note { color: var(--muted); font-size: .85em; margin-top: 4px; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9em; margin: 6px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.good { color: #1a7f5a; } .warn { color: #a35d00; } .bad { color: #b42318; }
.dim { color: var(--muted); } .bold { font-weight: 600; }
ul.warnings li { margin-bottom: 4px; }
footer { margin-top: 32px; color: var(--muted); font-size: .85em; }
@media (max-width: 600px) { body { padding: 12px; font-size: 14px; } h1 { font-size: 1.3em; } }
@media print {
  @page { margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  .charts { grid-template-columns: 1fr 1fr; }
  section.chart, figure, table, tr { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .wrap { overflow: visible; }
}
"""

# no request of any kind: only the inline style and inline SVG are allowed
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


# a token longer than this cannot sit in a phone-width column: it may break anywhere
LONG = 24


def _cell(text: str, cls: str) -> str:
    """One <td>: a cell holding a long unbreakable word (a file or channel name) may break inside
    it, and carries its whole text as a tooltip."""
    if any(len(w) > LONG for w in text.split()):
        cls = f"{cls} long".strip()
        return f'<td class="{cls}" title="{escape(text)}">{escape(text)}</td>'
    return f'<td class="{cls}">{escape(text)}</td>'


def _table(sec: Section) -> str:
    head = "".join(
        f'<th class="{"num" if (sec.numeric[i] if i < len(sec.numeric) else False) else ""}">'
        f"{escape(c)}</th>"
        for i, c in enumerate(sec.columns)
    )
    rows = []
    for row in sec.rows:
        cells = []
        for i, cell in enumerate(row):
            cls = " ".join(
                x
                for x in (
                    "num" if (sec.numeric[i] if i < len(sec.numeric) else False) else "",
                    cell.tone or "",
                )
                if x
            )
            cells.append(_cell(cell.text.strip(), cls))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{escape(sec.note)}</p>' if sec.note else ""
    return (
        f'<h3>{escape(sec.title)}</h3><div class="wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{note}"
    )


def _chart(n: int, title: str, takeaway: str, svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return (
        f'<section class="chart" id="chart-{n}"><h2>{n}. {escape(title)}</h2>'
        f'<p class="takeaway">{escape(takeaway)}</p><figure>{svg}'
        f"<figcaption>{escape(caption)}</figcaption></figure></section>"
    )


def _charts(r: Report) -> list[str]:
    """The six numbered chart sections, each with its takeaway and caption: 1 to 3 here."""
    from bucket.render import charts

    p, t = r.plan, r.takeaways
    per = p.frequency
    what = {"value": "customer equity", "profit": "profit", "customers": "customers at the horizon"}
    parts = [
        _chart(
            1,
            f"{what.get(p.objective, 'customers at the horizon').capitalize()} against the split",
            t["objective"],
            charts.objective_chart(r),
            f"The objective over {p.horizon} {per}s for every acquisition share of a budget of "
            f"{p.budget:,.0f} per {per}, channels funded at their best for each split; the band is "
            "the 10th to 90th percentile across the uncertainty scenarios (resampled, refitted, "
            "assumptions redrawn).",
        ),
        _chart(
            2,
            "What the next customer costs on each side",
            t["marginal"],
            charts.marginal_chart(r),
            "Money per customer's worth of the objective that the next unit of spend adds: on "
            "acquisition it is close to the marginal CAC; on retention, it counts every period "
            "the lower churn lasts, so it is not the one-period cost to keep a customer of the "
            "marginal table. Where they meet, moving money either way loses; that is the "
            "recommendation. Log scale.",
        ),
        _chart(
            3,
            "The customer base over the horizon",
            t["base"],
            charts.base_chart(r),
            "Customers at the end of each period from the last observed one, under today's split "
            "(today's channel mix) and the recommendation; bands from the uncertainty scenarios.",
        ),
    ]
    return parts + _evidence_charts(r)


def _evidence_charts(r: Report) -> list[str]:
    """Charts 4 to 6: spend per channel, the backtest and the cohorts."""
    from bucket.render import charts

    t = r.takeaways
    return [
        _chart(
            4,
            "Spend per channel, today and recommended",
            t.get("channels", ""),
            charts.channel_chart(r),
            "Acquisition spend per channel and each channel's marginal CAC (the cost of its next "
            "customer) at that spend.",
        ),
        _chart(
            5,
            "Backtest: could the model have forecast the recent past?",
            t["backtest"],
            charts.backtest_chart(r),
            "Calibrated without the held-out periods, then fed the spend actually made in them; "
            "the forecast is never reset to the actuals.",
        )
        or f'<section class="chart"><h2>5. Backtest</h2><p class="takeaway">{escape(t["backtest"])}</p></section>',
        _chart(
            6,
            "Cohort survival and the sBG curve",
            t.get("cohorts", ""),
            charts.cohort_chart(r),
            "Share of each cohort still active by age, the shifted-beta-geometric curve fitted to "
            "all cohorts at once, and the constant-churn curve for comparison.",
        ),
        _chart(
            7,
            "What each channel's next customer costs, and what it is worth",
            t.get("worth", ""),
            charts.worth_chart(r),
            "Each channel's marginal CAC against what its next paid customer adds to the "
            "objective (its customers' own churn and ARPU), today (grey) and recommended (blue). "
            "The plan spreads acquisition money until every funded channel sits on one line of "
            "equal worth per unit of money; a channel below it is not worth its next customer.",
        ),
        _chart(
            8,
            "Past plans against what happened",
            r.tracked.verdict if r.tracked else "",
            charts.track_chart(r),
            "Each saved plan's model replayed on the spend actually made since its as-of "
            "period (dashed, never reset to the actuals), with its 80 % interval (parameter "
            "draws plus binomial churn and Poisson new customers), against the customer base "
            "as it happened. bucket track has the errors, adherence and payoff.",
        ),
    ]


def _tables(r: Report) -> list[str]:
    """The key figures of the metrics, then the plan's tables the page shows."""
    from bucket.render.plan_views import plan_view
    from bucket.render.views import metrics_view

    pv = plan_view(r.plan)
    wanted = (
        "today vs recommended",
        "Uncertainty",
        "Next test",
        "Marginal economics",
        "Parameters",
        "Sensitivity",
        "Break-even",
        "Leverage",
    )
    tables = [_table(metrics_view(r.metrics).sections[0])]
    tables += [_table(s) for s in pv.sections if s.title.startswith(wanted)]
    return tables


def _warnings(r: Report) -> str:
    """The Warnings heading and its list, or "None."."""
    warnings = "".join(f"<li>{escape(w)}</li>" for w in r.warnings)
    warn_html = (
        f'<h3>Warnings</h3><ul class="warnings">{warnings}</ul>'
        if warnings
        else "<h3>Warnings</h3><p>None.</p>"
    )
    return warn_html


def _meta(r: Report, version: str) -> str:
    """The line under the title: input, periods, calibration window, run date, version."""
    p, per = r.plan, r.plan.frequency
    meta = (
        f'Input <b class="long" title="{escape(p.file)}">{escape(p.file)}</b> · periods '
        f"{escape(r.first_period)} to "
        f"{escape(r.last_period)} ({per}ly) · calibrated on {escape(p.window.first_period)} to "
        f"{escape(p.window.last_period)} · run {escape(r.run_date)} · bucket {escape(version)}"
    )
    return meta


def to_html(r: Report, version: str) -> str:
    p = r.plan
    parts = _charts(r)
    tables = _tables(r)
    warn_html = _warnings(r)
    meta = _meta(r, version)
    title = f"bucket report: {p.file}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="bucket {escape(version)}">
<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Acquisition or retention? The budget plan</h1>
<p class="meta">{meta}</p>
</header>
<p class="headline">{escape(p.headline)}.</p>
<div class="charts">{"".join(parts)}</div>
<section class="tables">
<h2>The numbers</h2>
{"".join(tables)}
{warn_html}
</section>
<footer>Made with bucket {escape(version)}: <code>bucket plan</code> with the same input and options
prints the same numbers (<code>--json</code> for the machine-readable form). Model: a leaky bucket
calibrated on the ledger's history; every parameter says whether it was fitted, observed, assumed
or set.</footer>
</body>
</html>
"""

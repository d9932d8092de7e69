"""Views of the evidence behind a plan: the backtest, the cron checks and the cohort analysis."""

from __future__ import annotations

from bucket.render import fmt
from bucket.render.views import Cell, Section, View


def backtest_view(res) -> View:
    m = res.mape
    head = [
        res.verdict,
        f"{res.file}: calibrated on {res.calibrated_on}; forecast of the last "
        f"{fmt.plural(res.holdout, res.frequency)} with the spend actually made",
    ]
    rows = []
    for p in res.periods:
        rows.append(
            [Cell(p.period)]
            + [
                Cell(fmt.number(getattr(s, k), 0), "bold" if s is p.predicted else None)
                for k in ("new_customers", "churned_customers", "customers")
                for s in (p.predicted, p.actual)
            ]
        )
    rows.append(
        [
            Cell("MAPE", "bold"),
            Cell(fmt.pct(m.new_customers)),
            Cell(""),
            Cell(fmt.pct(m.churned_customers)),
            Cell(""),
            Cell(fmt.pct(m.customers)),
            Cell(""),
        ]
    )
    cols = [
        "period",
        "new (model)",
        "new (actual)",
        "churned (model)",
        "churned (actual)",
        "customers (model)",
        "customers (actual)",
    ]
    return View(
        head,
        [
            Section(
                "Forecast against what happened",
                cols,
                rows,
                [False] + [True] * 6,
                note=f"verdict: {res.verdict_level}",
            )
        ],
    )


def check_view(res) -> View:
    breached = res.breached
    head = [
        f"{res.file} ({res.scope}): "
        + (f"{breached} check(s) breached" if breached else "all checks clear")
    ]
    rows = [
        [
            Cell(c.check, "bold"),
            Cell(fmt.DASH if c.value is None else f"{c.value:.4g}"),
            Cell(f"{c.threshold:g}"),
            Cell(c.status, "good" if c.status == "ok" else "bad"),
        ]
        for c in res.checks
    ]
    return View(
        head,
        [
            Section(
                "Checks",
                ["check", "value", "threshold", "status"],
                rows,
                [False, True, True, False],
            )
        ]
        if rows
        else [],
    )


def cohorts_view(res) -> View:
    f = res.fit
    per = res.frequency
    if f.homogeneous:
        model = f"no heterogeneity: constant churn {fmt.pct(f.geometric_churn)} per {per}"
    else:
        model = (
            f"sBG α = {f.alpha:.3f} (± {f.se_alpha or 0:.3f}), β = {f.beta:.3f} "
            f"(± {f.se_beta or 0:.3f}); constant churn would be {fmt.pct(f.geometric_churn)}"
        )
    life = res.lifetime
    head = [
        f"{res.file}: {len(res.cohorts)} cohorts; {model}",
        f"Expected discounted lifetime of a new customer: {fmt.number(life.periods_sbg, 1)} "
        f"{per}s (sBG) vs {fmt.number(life.periods_constant, 1)} (constant churn)"
        + (
            f"; CLTV {fmt.money(life.cltv_sbg)} vs {fmt.money(life.cltv_constant)}"
            if life.cltv_sbg is not None
            else ""
        ),
    ]
    oldest = min(max(len(c.survival) for c in res.cohorts), 13)  # the table shows ages 0-12
    heat = []
    for c in res.cohorts:
        cells = [Cell(c.cohort, "bold"), Cell(fmt.count(c.size))]
        for t in range(oldest):
            if t < len(c.survival):
                v = c.survival[t]
                cells.append(Cell(f"{100 * v:.0f}", f"heat{min(int(v * 6), 5)}"))  # type: ignore[arg-type]
            else:
                cells.append(Cell(""))
        heat.append(cells)
    more = max(len(c.survival) for c in res.cohorts) > oldest
    sections = [
        Section(
            "Survival by age (% of the cohort still active)",
            ["cohort", "size", *(str(t) for t in range(oldest))],
            heat,
            [False] + [True] * (oldest + 1),
            note="Ages beyond 12 are in --json and --format csv." if more else None,
        )
    ]
    sections.append(
        Section(
            "Retention by age",
            ["age", "observed", "sBG", "constant"],
            [
                [
                    Cell(str(a.age)),
                    Cell(fmt.pct(a.observed_retention)),
                    Cell(fmt.pct(a.fitted_retention)),
                    Cell(fmt.pct(a.constant_retention)),
                ]
                for a in res.ages
            ],
            [True, True, True, True],
        )
    )
    return View(head, sections)

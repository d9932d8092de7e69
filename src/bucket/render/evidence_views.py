"""Views of the evidence behind a plan: the backtest, the cron checks and the cohort analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bucket.render import fmt
from bucket.render.views import Cell, Section, View

if TYPE_CHECKING:
    from bucket.results.cohorts import CohortsResult


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
    if res.channels and res.channel_test is not None:
        sections.append(_channel_survival(res))
    return View(head, sections)


def _channel_survival(res: CohortsResult) -> Section:
    """Each channel's survival at a few ages and its churn at the ages all channels show."""
    assert res.channels is not None and res.channel_test is not None
    t = res.channel_test
    shown = [a for a in (1, 3, 6, 12) if a <= t.ages] or [t.ages]
    rows = [
        [
            Cell(c.channel or "(none)", "bold"),
            Cell(fmt.count(c.customers)),
            *(Cell(fmt.pct(c.survival[a]) if a < len(c.survival) else fmt.DASH) for a in shown),
            Cell(fmt.pct(c.churn)),
            Cell(f"{c.lost:,.0f} / {c.expected:,.0f}"),
        ]
        for c in res.channels
    ]
    note = (
        t.statement[0].upper()
        + t.statement[1:]
        + (
            ". Lost / expected: customers lost at those ages against those the channel would "
            "have lost churning as all channels together."
        )
    )
    return Section(
        "Channels at equal age (survival, % still active)",
        [
            "channel",
            "customers",
            *(f"age {a}" for a in shown),
            f"churn a {res.frequency}",
            "lost / expected",
        ],
        rows,
        [False, True, *(True for _ in shown), True, True],
        note=note,
    )

"""Results → neutral views (headline sentences and tables of strings with tones).

The table (rich) and markdown renderers draw the same views, so both show the same content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bucket.render import fmt

if TYPE_CHECKING:
    from bucket.results.common import MetricsResult, MetricsRow, ValidationResult

Tone = Literal["good", "warn", "bad", "dim", "bold"] | None


@dataclass
class Cell:
    text: str
    tone: Tone = None


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    numeric: list[bool] = field(default_factory=list)  # right-align these columns
    note: str | None = None


@dataclass
class View:
    headline: list[str]
    sections: list[Section]
    footer: list[str] = field(default_factory=list)


def _ltv_tone(x: float | None) -> Tone:
    if x is None:
        return None
    return "bad" if x < 1 else "warn" if x < 3 else "good"


def _payback_tone(x: float | None, per_year: int) -> Tone:
    if x is None:
        return None
    return "bad" if x > per_year else "warn" if x > per_year / 2 else "good"


def _metrics_headline(res: MetricsResult) -> list[str]:
    """The scope line, the KPI summary line and the LTV/CAC verdict."""
    cur, freq = res.currency, res.frequency
    o = res.window or res.overall
    span = fmt.plural(o.periods, freq)
    scope = (
        f"last {span} ({o.first_period} to {o.last_period})"
        if res.window
        else f"{span} ({o.first_period} to {o.last_period})"
    )
    head = [f"{res.file}: {scope}"]
    parts = []
    if o.cac is not None:
        parts.append(f"CAC {fmt.money(o.cac, cur)}")
    if o.cltv is not None:
        parts.append(f"CLTV {fmt.money(o.cltv, cur)}")
    if o.ltv_to_cac is not None:
        parts.append(f"LTV/CAC {fmt.times(o.ltv_to_cac)}")
    if o.payback_periods is not None:
        parts.append(f"payback {fmt.periods(o.payback_periods, freq)}")
    if o.churn_rate is not None:
        parts.append(f"churn {fmt.pct(o.churn_rate)} per {freq}")
    if parts:
        head.append(" · ".join(parts))
    if o.ltv_to_cac is not None:
        verdict = (
            "each customer returns less than it costs to win"
            if o.ltv_to_cac < 1
            else "below the common 3× rule of thumb"
            if o.ltv_to_cac < 3
            else "above the common 3× rule of thumb"
        )
        head.append(f"LTV/CAC {fmt.times(o.ltv_to_cac)}: {verdict}.")
    return head


def _kpi_rows(freq: str) -> list[tuple[str, str, str]]:
    """(field, label, meaning) of each row of the key-figures table, in order."""
    return [
        ("cac", "CAC", "spend per new customer"),
        ("cltv", "CLTV", "margin a customer brings over its life (discounted)"),
        ("ltv_to_cac", "LTV/CAC", "CLTV ÷ CAC; 3× is the usual bar"),
        ("payback_periods", "Payback", f"{freq}s of margin to earn back CAC"),
        ("churn_rate", "Churn", f"share of customers lost per {freq}"),
        ("retention_rate", "Retention (CRR)", f"share of customers kept per {freq}"),
        ("arpu", "ARPU", f"revenue per customer per {freq}"),
        ("paid_cac", "Paid CAC", "spend per paid (non-organic, non-referral) customer"),
        ("conversion_rate", "Conversion", "new customers ÷ leads"),
        ("roas", "ROAS", "attributed revenue ÷ acquisition spend"),
        ("quick_ratio", "Quick ratio", "new ÷ churned customers"),
        ("net_growth_rate", "Net growth", f"customer base growth per {freq}"),
        ("nps", "NPS", "promoters − detractors, % of respondents"),
        ("retention_share", "Retention share", "share of spend on retention"),
    ]


def _kpi_cell(key: str, m: MetricsRow, cur: str | None, freq: str, per_year: int) -> Cell:
    """One KPI of one scope, formatted and toned."""
    x = getattr(m, key)
    if key in ("cac", "cltv", "arpu", "paid_cac"):
        return Cell(fmt.money(x, cur), "bold" if key in ("cac", "cltv") else None)
    if key == "ltv_to_cac":
        return Cell(fmt.times(x), _ltv_tone(x))
    if key == "payback_periods":
        return Cell(fmt.periods(x, freq), _payback_tone(x, per_year))
    if key in (
        "churn_rate",
        "retention_rate",
        "conversion_rate",
        "net_growth_rate",
        "retention_share",
    ):
        return Cell(fmt.pct(x, 2 if key in ("churn_rate", "net_growth_rate") else 1))
    if key == "roas":
        return Cell(fmt.times(x))
    if key == "quick_ratio":
        return Cell(fmt.number(x, 2))
    return Cell(fmt.number(x, 0))


def _key_figures(res: MetricsResult) -> Section:
    """The KPI table: one column for all periods, one for the window if any."""
    from bucket.io.periods import PERIODS_PER_YEAR

    cur, freq = res.currency, res.frequency
    per_year = PERIODS_PER_YEAR[freq]
    scopes: list[tuple[str, MetricsRow]] = [("all periods", res.overall)]
    if res.window:
        scopes.append((f"last {res.window.periods}", res.window))
    rows = []
    for key, name, meaning in _kpi_rows(freq):
        if all(getattr(m, key) is None for _, m in scopes):
            continue
        cells = [_kpi_cell(key, m, cur, freq, per_year) for _, m in scopes]
        rows.append([Cell(name, "bold"), *cells, Cell(meaning, "dim")])
    return Section(
        "Key figures",
        ["KPI", *(s for s, _ in scopes), "meaning"],
        rows,
        [False, *(True for _ in scopes), False],
        note=None if rows else "No KPI is defined: the ledger has no spend, churn or revenue.",
    )


def _channel_table(res: MetricsResult) -> Section:
    """Spend, new customers and unit economics per channel over all periods."""
    from bucket.io.periods import PERIODS_PER_YEAR

    cur, freq = res.currency, res.frequency
    per_year = PERIODS_PER_YEAR[freq]
    return Section(
        "Channels (all periods)",
        ["channel", "spend", "new", "CAC", "churn", "CLTV", "LTV/CAC", "payback"],
        [
            [
                Cell(c.channel or "", "bold"),
                Cell(fmt.money(c.acquisition_spend, cur)),
                Cell(fmt.count(c.new_customers)),
                Cell(fmt.money(c.cac, cur)),
                Cell(fmt.pct(c.churn_rate, 2)),
                Cell(fmt.money(c.cltv, cur)),
                Cell(fmt.times(c.ltv_to_cac), _ltv_tone(c.ltv_to_cac)),
                Cell(
                    fmt.periods(c.payback_periods, freq), _payback_tone(c.payback_periods, per_year)
                ),
            ]
            for c in res.channels
        ],
        [False] + [True] * 7,
    )


def _period_table(res: MetricsResult) -> Section:
    """One row per period of the ledger."""
    cur = res.currency
    return Section(
        "Periods",
        ["period", "spend", "new", "churned", "customers", "CAC", "churn", "ARPU", "LTV/CAC"],
        [
            [
                Cell(p.period or ""),
                Cell(fmt.money(p.acquisition_spend, cur)),
                Cell(fmt.count(p.new_customers)),
                Cell(fmt.count(p.churned_customers)),
                Cell(fmt.count(p.customers_end)),
                Cell(fmt.money(p.cac, cur)),
                Cell(fmt.pct(p.churn_rate, 2)),
                Cell(fmt.money(p.arpu, cur)),
                Cell(fmt.times(p.ltv_to_cac), _ltv_tone(p.ltv_to_cac)),
            ]
            for p in res.periods
        ],
        [False] + [True] * 8,
    )


def _cltv_assumptions(res: MetricsResult) -> str:
    """The footer: the margin and discount rate behind CLTV."""
    a = res.assumptions
    return (
        f"CLTV assumes gross margin {fmt.pct(a.margin, 0)} (--margin) and a "
        f"{fmt.pct(a.annual_discount_rate, 0)} annual discount rate "
        f"({fmt.pct(a.discount_rate, 2)} per {res.frequency}, --discount-rate)."
    )


def metrics_view(res: MetricsResult) -> View:
    head = _metrics_headline(res)
    sections = [_key_figures(res)]
    if res.channels:
        sections.append(_channel_table(res))
    sections.append(_period_table(res))
    return View(head, sections, [_cltv_assumptions(res)])


def validation_view(res: ValidationResult) -> View:
    status = "valid" if res.valid else "NOT valid"
    what = []
    if res.rows is not None:
        what.append(f"{res.rows} row{'' if res.rows == 1 else 's'}")
    if res.frequency:
        what.append(f"{res.periods} {res.frequency}{'' if res.periods == 1 else 's'}")
    if res.channels:
        what.append(f"{len(res.channels)} channels ({', '.join(res.channels)})")
    head = [
        f"{res.file}: {status}"
        + (f" ({', '.join(what)})" if what else "")
        + f"; {res.errors} error(s), {res.warnings} warning(s)"
    ]
    sections = []
    if res.problems:
        sections.append(
            Section(
                "Problems",
                ["", "row", "column", "problem", "fix"],
                [
                    [
                        Cell(p.severity, "bad" if p.severity == "error" else "warn"),
                        Cell("" if p.row is None else str(p.row)),
                        Cell(p.column or ""),
                        Cell(p.message),
                        Cell(p.fix, "dim"),
                    ]
                    for p in res.problems
                ],
                [False, True, False, False, False],
            )
        )
    return View(head, sections)

"""KPIs over any set of ledger rows: ratios of sums, never means of ratios (DESIGN §3).

A metric is computed over the rows that carry every input it needs: ROAS over the rows that
have attributed revenue, ARPU over the rows that have revenue, and so on, so numerator and
denominator always come from the same rows. A zero or missing denominator gives ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bucket.errors import ConfigError
from bucket.io.periods import PERIODS_PER_YEAR

if TYPE_CHECKING:
    import pandas as pd

    from bucket.io.ledger import Ledger
    from bucket.model.results import MetricsResult


def period_discount_rate(annual: float, frequency: str) -> float:
    """(1 + annual)^(1 / periods per year) − 1 (DESIGN §5)."""
    return (1.0 + annual) ** (1.0 / PERIODS_PER_YEAR[frequency]) - 1.0


def check_assumptions(margin: float, annual_discount_rate: float) -> None:
    if not (0.0 < margin <= 1.0) or not math.isfinite(margin):
        raise ConfigError(
            f"margin {margin:g} is outside (0, 1]", "give the gross margin as a fraction, e.g. 0.7"
        )
    if not (0.0 <= annual_discount_rate <= 10.0) or not math.isfinite(annual_discount_rate):
        raise ConfigError(
            f"annual discount rate {annual_discount_rate:g} is outside [0, 10]",
            "give it as a fraction per year, e.g. 0.1 for 10 %",
        )


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None when either is missing, the denominator is 0, or the result is not
    finite."""
    if num is None or den is None or den == 0:
        return None
    if isinstance(num, float) and math.isnan(num) or isinstance(den, float) and math.isnan(den):
        return None
    value = num / den
    return value if math.isfinite(value) else None


def _inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-row inputs of the KPIs, each NaN on rows that lack what its metric needs."""
    import numpy as np
    import pandas as pd

    def col(name: str, default: float = math.nan) -> pd.Series:
        if name in frame:
            return frame[name].astype("float64")
        return pd.Series(default, index=frame.index, dtype="float64")

    a, n = col("acquisition_spend"), col("new_customers")
    s, e, c = col("customers_start"), col("customers_end"), col("churned_customers")
    react = col("reactivated_customers", 0.0).fillna(0.0)
    r = col("retention_spend", 0.0).fillna(0.0)
    out = pd.DataFrame(
        {
            "acquisition_spend": a,
            "retention_spend": r,
            "new_customers": n,
            "customers_start": s,
            "customers_end": e,
            "churned_customers": c,
            "reactivated_customers": react,
            "kept": e - n - react,
        }
    )
    if "organic_customers" in frame or "referral_customers" in frame:
        unpaid = col("organic_customers", 0.0) + col("referral_customers", 0.0)
        paid = n - unpaid  # NaN where a present column has an empty cell
        out["paid_new"] = paid
        out["paid_spend"] = a.where(paid.notna())
    leads = col("leads")
    out["leads"], out["leads_new"] = leads, n.where(leads.notna())
    attr = col("attributed_revenue")
    out["attributed_revenue"], out["attr_spend"] = attr, a.where(attr.notna())
    rev = col("revenue")
    out["revenue"], out["rev_avg_customers"] = rev, ((s + e) / 2).where(rev.notna())
    p, pa, d = col("promoters"), col("passives"), col("detractors")
    surveyed = p.notna() & pa.notna() & d.notna()
    out["nps_net"] = (p - d).where(surveyed)
    out["nps_n"] = (p + pa + d).where(surveyed)
    out["spend_both"] = (a + r).where(a.notna())
    return out.astype(np.float64)


def _sum(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def kpis(sums: Mapping[str, float], margin: float, discount: float) -> dict[str, float | None]:
    """The KPIs of DESIGN §3 from column sums (NaN meaning no row had the input)."""
    g = {k: _sum(v) for k, v in sums.items()}
    cac = ratio(g.get("acquisition_spend"), g.get("new_customers"))
    churn = ratio(g["churned_customers"], g["customers_start"])
    arpu = ratio(g.get("revenue"), g.get("rev_avg_customers"))
    cltv = None
    if arpu is not None and churn is not None:
        cltv = ratio(arpu * margin * (1.0 + discount), discount + churn)
    nps = ratio(g.get("nps_net"), g.get("nps_n"))
    return {
        "cac": cac,
        "paid_cac": ratio(g.get("paid_spend"), g.get("paid_new")),
        "conversion_rate": ratio(g.get("leads_new"), g.get("leads")),
        "roas": ratio(g.get("attributed_revenue"), g.get("attr_spend")),
        "churn_rate": churn,
        "retention_rate": ratio(g["kept"], g["customers_start"]),
        "arpu": arpu,
        "cltv": cltv,
        "ltv_to_cac": ratio(cltv, cac),
        "payback_periods": ratio(cac, None if arpu is None else arpu * margin),
        "quick_ratio": ratio(g["new_customers"], g["churned_customers"]),
        "net_growth_rate": ratio(
            None
            if g["customers_end"] is None or g["customers_start"] is None
            else g["customers_end"] - g["customers_start"],
            g["customers_start"],
        ),
        "nps": None if nps is None else 100.0 * nps,
        "retention_share": ratio(g["retention_spend"], g.get("spend_both")),
    }


def _totals(sums: Mapping[str, float], present: frozenset[str]) -> dict[str, float | None]:
    keys = (
        "acquisition_spend", "retention_spend", "leads", "new_customers", "customers_start",
        "customers_end", "churned_customers", "reactivated_customers", "revenue",
        "attributed_revenue",
    )  # fmt: skip
    out: dict[str, float | None] = {}
    for k in keys:
        if k in present or k in ("customers_end", "churned_customers"):
            out[k] = _sum(sums[k])
        else:
            out[k] = None
    return out


def compute_metrics(
    ledger: Ledger,
    margin: float = 1.0,
    annual_discount_rate: float = 0.10,
    window: int | None = None,
) -> MetricsResult:
    """Every KPI overall, per period, per channel and over the last ``window`` periods."""
    from bucket.model.results import Assumptions, MetricsResult, MetricsRow

    check_assumptions(margin, annual_discount_rate)
    if window is not None and window < 1:
        raise ConfigError(f"--window {window} is less than 1", "give a number of periods ≥ 1")
    d = period_discount_rate(annual_discount_rate, ledger.frequency)
    frame = ledger.frame
    inputs = _inputs(frame)
    present = ledger.present
    label_of = dict(zip(frame["ordinal"].tolist(), frame["period"].tolist()))

    def make(scope: str, sums: Mapping[str, float], ords, **ids) -> MetricsRow:
        return MetricsRow(
            scope=scope,  # type: ignore[arg-type]
            first_period=label_of[min(ords)],
            last_period=label_of[max(ords)],
            periods=len(set(ords)),
            **ids,
            **_totals(sums, present),
            **kpis(sums, margin, d),
        )

    def grouped(scope: str, key: str) -> list[MetricsRow]:
        sums = inputs.groupby(frame[key], sort=True).sum(min_count=1)
        ords = frame.groupby(key, sort=True)["ordinal"].agg(list)
        out = []
        for name, row in zip(sums.index.tolist(), sums.to_dict("records")):
            ids = {"period": label_of[name]} if key == "ordinal" else {"channel": name}
            out.append(make(scope, row, ords[name], **ids))
        return out

    all_ords = frame["ordinal"].tolist()
    overall = make("overall", inputs.sum(min_count=1).to_dict(), all_ords)
    win = None
    warnings = [p.line() for p in ledger.warnings]
    if window is not None:
        distinct = sorted(set(all_ords))
        if window > len(distinct):
            warnings.append(
                f"--window {window} is longer than the {len(distinct)} periods in the file; "
                "the window covers all of them"
            )
        cut = distinct[-min(window, len(distinct))]
        mask = (frame["ordinal"] >= cut).to_numpy()
        win = make("window", inputs[mask].sum(min_count=1).to_dict(), distinct[-window:])
    periods = grouped("period", "ordinal")
    channels = grouped("channel", "channel") if ledger.has_channels else []
    return MetricsResult(
        file=ledger.file,
        frequency=ledger.frequency,  # type: ignore[arg-type]
        currency=ledger.currency,
        channels_present=ledger.has_channels,
        assumptions=Assumptions(
            margin=margin, annual_discount_rate=annual_discount_rate, discount_rate=d
        ),
        overall=overall,
        window=win,
        periods=periods,
        channels=channels,
        warnings=warnings,
    )

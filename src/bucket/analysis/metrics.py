"""KPIs over any set of ledger rows: ratios of sums, never means of ratios (DESIGN §3).

A metric is computed over the rows that carry every input it needs: ROAS over the rows that
have attributed revenue, ARPU over the rows that have revenue, and so on, so numerator and
denominator always come from the same rows. A zero or missing denominator gives ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bucket.errors import ConfigError
from bucket.model.money import check_assumptions, period_discount_rate

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from bucket.io.ledger import Ledger
    from bucket.results.common import MetricsResult, MetricsRow


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None when either is missing, the denominator is 0, or the result is not
    finite."""
    if num is None or den is None or den == 0:
        return None
    if (isinstance(num, float) and math.isnan(num)) or (isinstance(den, float) and math.isnan(den)):
        return None
    value = num / den
    return value if math.isfinite(value) else None


def _inputs(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per-row inputs of the KPIs as float arrays, NaN on rows that lack what a metric needs."""
    import numpy as np

    rows = len(frame)

    def col(name: str, default: float = math.nan) -> np.ndarray:
        if name in frame:
            return frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        return np.full(rows, default)

    def where(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
        return np.where(ok, x, np.nan)

    a, n = col("acquisition_spend"), col("new_customers")
    s, e, c = col("customers_start"), col("customers_end"), col("churned_customers")
    react = np.nan_to_num(col("reactivated_customers", 0.0))
    r = np.nan_to_num(col("retention_spend", 0.0))
    out = {
        "acquisition_spend": a,
        "retention_spend": r,
        "new_customers": n,
        "customers_start": s,
        "customers_end": e,
        "churned_customers": c,
        "reactivated_customers": react,
        "kept": e - n - react,
    }
    if "organic_customers" in frame or "referral_customers" in frame:
        paid = n - (col("organic_customers", 0.0) + col("referral_customers", 0.0))
        out["paid_new"] = paid  # NaN where a present column has an empty cell
        out["paid_spend"] = where(a, ~np.isnan(paid))
    leads = col("leads")
    out["leads"], out["leads_new"] = leads, where(n, ~np.isnan(leads))
    attr = col("attributed_revenue")
    out["attributed_revenue"], out["attr_spend"] = attr, where(a, ~np.isnan(attr))
    rev = col("revenue")
    out["revenue"], out["rev_avg_customers"] = rev, where((s + e) / 2, ~np.isnan(rev))
    p, pa, d = col("promoters"), col("passives"), col("detractors")
    surveyed = ~(np.isnan(p) | np.isnan(pa) | np.isnan(d))
    out["nps_net"] = where(p - d, surveyed)
    out["nps_n"] = where(p + pa + d, surveyed)
    out["spend_both"] = where(a + r, ~np.isnan(a))
    return out


def group_sums(inputs: dict[str, np.ndarray], codes: np.ndarray, groups: int) -> list[dict]:
    """Σ of every input per group (``codes`` numbers the groups 0..groups−1); a group where
    no row has the input gets NaN, so "not reported" stays apart from zero."""
    import numpy as np

    sums = {}
    for key, x in inputs.items():
        have = ~np.isnan(x)
        total = np.bincount(codes, weights=np.where(have, x, 0.0), minlength=groups)
        count = np.bincount(codes, weights=have.astype(np.float64), minlength=groups)
        sums[key] = np.where(count > 0, total, np.nan).tolist()
    return [{k: v[i] for k, v in sums.items()} for i in range(groups)]


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
    from bucket.results.common import TOTAL_KEYS

    out: dict[str, float | None] = {}
    for k in TOTAL_KEYS:
        if k in present or k in ("customers_end", "churned_customers"):
            out[k] = _sum(sums[k])
        else:
            out[k] = None
    return out


@dataclass(frozen=True)
class _MetricRows:
    """The ledger's per-row inputs, periods and assumptions: what turns the sums over any set
    of its rows into a MetricsRow."""

    frame: pd.DataFrame
    inputs: dict[str, np.ndarray]
    present: frozenset[str]
    label_of: dict[int, str]
    ord_arr: np.ndarray
    start_arr: np.ndarray
    end_arr: np.ndarray
    margin: float
    d: float

    @classmethod
    def of(cls, ledger: Ledger, margin: float, d: float) -> _MetricRows:
        """The rows of ``ledger`` under the margin and the discount rate per period ``d``."""
        import numpy as np

        frame = ledger.frame
        inputs = _inputs(frame)
        present = ledger.present
        label_of = dict(zip(frame["ordinal"].tolist(), frame["period"].tolist()))

        ord_arr = frame["ordinal"].to_numpy()
        start_arr = frame["customers_start"].to_numpy(dtype=np.float64)
        end_arr = frame["customers_end"].to_numpy(dtype=np.float64)
        return cls(frame, inputs, present, label_of, ord_arr, start_arr, end_arr, margin, d)

    def make(self, scope: str, sums: Mapping[str, float], mask: np.ndarray, **ids) -> MetricsRow:
        """The row of one scope from the sums over the rows in ``mask``."""
        import numpy as np

        from bucket.results.common import MetricsRow

        ord_arr, present = self.ord_arr, self.present
        o = ord_arr[mask]
        first, last = int(o.min()), int(o.max())
        totals = _totals(sums, present)
        # stocks of a span: the base when it starts and when it ends (rates use the sums)
        totals["customers_start"] = float(self.start_arr[mask & (ord_arr == first)].sum())
        totals["customers_end"] = float(self.end_arr[mask & (ord_arr == last)].sum())
        values = kpis(sums, self.margin, self.d)
        if "retention_spend" not in present:
            values["retention_share"] = None
        return MetricsRow(
            scope=scope,  # type: ignore[arg-type]
            first_period=self.label_of[first],
            last_period=self.label_of[last],
            periods=len(np.unique(o)),
            **ids,
            **totals,  # type: ignore[arg-type]
            **values,  # type: ignore[arg-type]
        )

    def grouped(self, scope: str, key: str) -> list[MetricsRow]:
        """One row per period (key "ordinal") or per channel."""
        import pandas as pd

        codes, names = pd.factorize(self.frame[key], sort=True)
        sums = group_sums(self.inputs, codes, len(names))
        out = []
        for i, name in enumerate(names.tolist()):
            ids = {"period": self.label_of[name]} if key == "ordinal" else {"channel": name}
            out.append(self.make(scope, sums[i], codes == i, **ids))
        return out

    def window_row(self, window: int, warnings: list[str]) -> MetricsRow:
        """The row of the last ``window`` calendar periods (warns when the file spans fewer)."""
        import numpy as np

        frame = self.frame
        all_ords = frame["ordinal"].tolist()
        distinct = sorted(set(all_ords))
        span = distinct[-1] - distinct[0] + 1
        if window > span:
            warnings.append(
                f"--window {window} is longer than the {span} periods the file spans; "
                "the window covers all of them"
            )
        cut = distinct[-1] - window + 1  # calendar periods, so a gap does not stretch it
        mask = frame["ordinal"].to_numpy() >= cut
        win_inputs = {k: v[mask] for k, v in self.inputs.items()}
        win_sums = group_sums(win_inputs, np.zeros(int(mask.sum()), dtype=np.intp), 1)[0]
        return self.make("window", win_sums, mask)


def compute_metrics(
    ledger: Ledger,
    margin: float = 1.0,
    annual_discount_rate: float = 0.10,
    window: int | None = None,
) -> MetricsResult:
    """Every KPI overall, per period, per channel and over the last ``window`` periods."""
    import numpy as np

    from bucket.results.common import Assumptions, MetricsResult

    check_assumptions(margin, annual_discount_rate)
    if window is not None and window < 1:
        raise ConfigError(f"--window {window} is less than 1", "give a number of periods ≥ 1")
    d = period_discount_rate(annual_discount_rate, ledger.frequency)
    frame = ledger.frame
    rows = _MetricRows.of(ledger, margin, d)
    everything = np.zeros(len(frame), dtype=np.intp)
    overall_sums = group_sums(rows.inputs, everything, 1)[0]
    overall = rows.make("overall", overall_sums, np.ones(len(frame), bool))
    win = None
    warnings = [p.line() for p in ledger.warnings]
    if window is not None:
        win = rows.window_row(window, warnings)
    periods = rows.grouped("period", "ordinal")
    channels = rows.grouped("channel", "channel") if ledger.has_channels else []
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

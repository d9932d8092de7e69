"""Threshold checks for cron (`bucket check`): KPIs of the last period(s) and model alarms.

Each check is ``key <= threshold`` (``--max``) or ``key >= threshold`` (``--min``) on a KPI of
DESIGN §3 over the last period or the last ``window`` periods, plus two checks that need the
model: how far today's split is from the recommended one (``split_gap``, in points of the
budget), and the backtest's worst mean absolute percentage error (``mape``). A value that cannot
be computed (``null``) is reported as ``undefined`` and alerts too: a check that silently cannot
run is not a check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bucket.errors import ConfigError
from bucket.results.backtest import CheckResult, CheckRow
from bucket.results.common import KPI_KEYS

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.settings import PlanSettings


def parse_thresholds(pairs: list[str], where: str) -> dict[str, float]:
    """``["churn_rate=0.06", ...]`` → {key: value}; ValueError with a usage message."""
    out: dict[str, float] = {}
    for raw in pairs:
        for item in raw.split(","):
            if not item.strip():
                continue
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or key not in KPI_KEYS:
                raise ValueError(
                    f"{where} '{item}': give metric=value with a metric of {', '.join(KPI_KEYS)}"
                )
            try:
                out[key] = float(value.strip().rstrip("%")) / (
                    100 if value.strip().endswith("%") else 1
                )
            except ValueError:
                raise ValueError(f"{where} '{item}': '{value}' is not a number") from None
    return out


def run_checks(
    ledger: Ledger,
    settings: PlanSettings,
    sources: dict[str, str],
    *,
    maxima: dict[str, float],
    minima: dict[str, float],
    window: int | None,
    split_gap: float | None,
    mape: float | None,
    holdout: int | None,
) -> CheckResult:
    from bucket.analysis.metrics import compute_metrics

    if not (maxima or minima or split_gap is not None or mape is not None):
        raise ConfigError(
            "nothing to check",
            "give thresholds such as --max churn_rate=0.06 --min ltv_to_cac=3, or a [check] "
            "table in bucket.toml",
        )
    span = window or 1
    res = compute_metrics(ledger, settings.margin, settings.annual_discount_rate, span)
    row = res.window
    assert row is not None
    scope = (
        row.first_period
        if row.first_period == row.last_period
        else (f"{row.first_period} to {row.last_period}")
    )
    checks: list[CheckRow] = []
    for key, limit in maxima.items():
        value = getattr(row, key)
        status = "undefined" if value is None else "ok" if value <= limit else "breached"
        checks.append(CheckRow(f"{key} <= {limit:g}", key, value, limit, status))  # type: ignore[arg-type]
    for key, limit in minima.items():
        value = getattr(row, key)
        status = "undefined" if value is None else "ok" if value >= limit else "breached"
        checks.append(CheckRow(f"{key} >= {limit:g}", key, value, limit, status))  # type: ignore[arg-type]
    warnings = list(res.warnings)
    if split_gap is not None:
        from bucket.analysis.plan import make_plan

        plan = make_plan(ledger, settings, sources)
        gap = abs(plan.current.acquisition_share - plan.recommendation.acquisition_share)
        status = "ok" if gap <= split_gap else "breached"
        checks.append(CheckRow(f"split gap <= {split_gap:g}", "split_gap", gap, split_gap, status))  # type: ignore[arg-type]
        warnings += [w for w in plan.warnings if w not in warnings]
    if mape is not None:
        from bucket.analysis.backtest import backtest

        periods = len(ledger.periods)
        h = holdout or min(6, max(periods - 1, 1))
        bt = backtest(ledger, settings, sources, h)
        values = [
            v
            for v in (bt.mape.new_customers, bt.mape.churned_customers, bt.mape.customers)
            if v is not None
        ]
        worst = max(values) if values else None
        status = "undefined" if worst is None else "ok" if worst <= mape else "breached"
        checks.append(CheckRow(f"backtest MAPE <= {mape:g}", "mape", worst, mape, status))  # type: ignore[arg-type]
    breached = sum(1 for c in checks if c.status != "ok")
    return CheckResult(ledger.file, scope, breached, checks, warnings)

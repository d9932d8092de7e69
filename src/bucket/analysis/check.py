"""Threshold checks for cron (`bucket check`): KPIs of the last period(s) and model alarms.

Each check is ``key <= threshold`` (``--max``) or ``key >= threshold`` (``--min``) on a KPI of
DESIGN §3 over the last period or the last ``window`` periods, plus two checks that need the
model: how far today's split is from the recommended one (``split_gap``, in points of the
budget), and the backtest's worst mean absolute percentage error (``mape``). A value that cannot
be computed (``null``) is reported as ``undefined`` and alerts too: a check that silently cannot
run is not a check.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from bucket.errors import ConfigError
from bucket.results.backtest import CheckResult, CheckRow
from bucket.results.common import KPI_KEYS

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.settings import PlanSettings


# KPIs that are shares: a threshold above 1 would mean over 100 %, an alert that can never
# fire (--max churn_rate=3 is 300 %); 3% or 0.03 is what the user means
SHARES = frozenset(
    {
        "churn_rate",
        "retention_rate",
        "conversion_rate",
        "retention_share",
        "forecast_mape_h1",
        "forecast_bias",
        "forecast_coverage",
    }
)
# keys read off the saved plans (`check --plans DIR`, DESIGN §14); see results/track.py
TRACK_KEYS = (
    "forecast_mape_h1",
    "forecast_bias",
    "forecast_coverage",
    "plan_adherence",
    "parameter_drift_max_z",
)
# with --plans and no threshold on a track key: alert when a parameter moved beyond 3 SDs
DEFAULT_DRIFT = 3.0


def threshold(key: str, value: object, where: str) -> float:
    """One threshold as a finite number (``5%`` is 0.05); ValueError says what is wrong."""
    if key not in KPI_KEYS and key not in TRACK_KEYS:
        keys = ", ".join((*KPI_KEYS, *TRACK_KEYS))
        raise ValueError(f"{where}: unknown metric {key!r}; choose from {keys}")
    percent = isinstance(value, str) and value.strip().endswith("%")
    if isinstance(value, str):
        try:
            number = float(value.strip().rstrip("%").strip()) / (100 if percent else 1)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a number") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise ValueError(f"{where}: {value!r} is not a number")
    if not math.isfinite(number):
        raise ValueError(f"{where}: {value} is not a finite number")
    if key in TRACK_KEYS and key != "plan_adherence" and number < 0:
        raise ValueError(f"{where}: {key} is never negative, so {value} would never fire")
    if key in SHARES and not percent and abs(number) > 1:
        raise ValueError(
            f"{where}: {key} is a share, so {value} would mean {100 * number:g} %; "
            f"write {number / 100:g} or {value}%"
        )
    return number


def parse_thresholds(pairs: list[str], where: str) -> dict[str, float]:
    """``["churn_rate=0.06", ...]`` → {key: value}; ValueError with a usage message."""
    out: dict[str, float] = {}
    for raw in pairs:
        for item in raw.split(","):
            if not item.strip():
                continue
            key, eq, value = item.partition("=")
            if not eq:
                raise ValueError(
                    f"{where} '{item}': give metric=value with a metric of "
                    f"{', '.join((*KPI_KEYS, *TRACK_KEYS))}"
                )
            out[key.strip()] = threshold(key.strip(), value, f"{where} '{item}'")
    return out


def config_thresholds(table: dict, path: str) -> dict[str, dict[str, float]]:
    """The ``max`` and ``min`` tables of bucket.toml's ``[check]``, each threshold checked like
    the command line's; a bad one is a ``ConfigError`` naming its key."""
    found: dict[str, dict[str, float]] = {}
    for side in ("max", "min"):
        given = table.get(side, {})
        if not isinstance(given, dict):
            raise ConfigError(
                f"{path}, key check.{side}: not a table",
                f"write {side} = {{ churn_rate = 0.06 }}",
            )
        try:
            found[side] = {
                key: threshold(key, value, f"{path}, key check.{side}.{key}")
                for key, value in given.items()
            }
        except ValueError as exc:
            raise ConfigError(str(exc), "fix the [check] table of the config file") from None
    for key in ("split_gap", "mape"):
        value = table.get(key)
        if value is not None and not (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value >= 0
        ):
            raise ConfigError(
                f"{path}, key check.{key}: {value!r} is not a number ≥ 0", "e.g. 0.1 for 10 points"
            )
    for key in ("window", "holdout"):
        value = table.get(key)
        if value is not None and not (
            isinstance(value, int) and not isinstance(value, bool) and value >= 1
        ):
            raise ConfigError(
                f"{path}, key check.{key}: {value!r} is not a whole number ≥ 1", "e.g. 3"
            )
    return found


def _compare(key: str, value: float | None, limit: float, upper: bool) -> CheckRow:
    sign = "<=" if upper else ">="
    ok = value is not None and (value <= limit if upper else value >= limit)
    status = "undefined" if value is None else "ok" if ok else "breached"
    return CheckRow(f"{key} {sign} {limit:g}", key, value, limit, status)  # type: ignore[arg-type]


def _track_checks(
    ledger: Ledger, plans: Path | None, limits: dict[tuple[str, bool], float], warnings: list[str]
) -> list[CheckRow]:
    """The forecast keys of DESIGN §14 off the saved plans in ``plans``; a key with nothing to
    compare yet is skipped (said in ``warnings``), not an alert."""
    if plans is None:
        if limits:
            keys = sorted({k for k, _ in limits})
            verb = "needs" if len(keys) == 1 else "need"
            raise ConfigError(
                f"{', '.join(keys)} {verb} saved plans", "give --plans DIR (plan --save DIR)"
            )
        return []
    from bucket.analysis.track import track

    if not limits:
        limits = {("parameter_drift_max_z", True): DEFAULT_DRIFT}
    summary = track(plans, ledger).summary
    rows, skipped = [], []
    for (key, upper), limit in limits.items():
        value = getattr(summary, key)
        if value is None:
            skipped.append(key)
            continue
        rows.append(_compare(key, abs(value) if key == "forecast_bias" else value, limit, upper))
    if skipped:
        warnings.append(
            f"{', '.join(skipped)}: nothing to compare yet in {plans} (no saved plan with later "
            "periods, or fewer than two plans for drift); skipped"
        )
    return rows


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
    plans: Path | None = None,
) -> CheckResult:
    from bucket.analysis.metrics import compute_metrics

    if not (maxima or minima or split_gap is not None or mape is not None or plans is not None):
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
    limits = {(k, True): v for k, v in maxima.items()}
    limits.update({(k, False): v for k, v in minima.items()})
    checks = [
        _compare(key, getattr(row, key), limit, upper)
        for (key, upper), limit in limits.items()
        if key not in TRACK_KEYS
    ]
    warnings = list(res.warnings)
    tracked = {k: v for k, v in limits.items() if k[0] in TRACK_KEYS}
    checks += _track_checks(ledger, plans, tracked, warnings)
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

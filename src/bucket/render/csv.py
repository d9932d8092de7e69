"""CSV: one flat row per result row (metrics: overall, window, periods, channels)."""

from __future__ import annotations

import csv
import io
from typing import Any

from bucket.io.text import spreadsheet_safe
from bucket.results.common import to_dict


def _cell(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, str):
        return spreadsheet_safe(x)  # a spreadsheet must not run a channel name as a formula
    return x


def _write(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if not records:
        return ""
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: _cell(v) for k, v in rec.items()})
    return buf.getvalue()


def to_csv(result: Any) -> str:
    kind = getattr(result, "command", None)
    if kind == "metrics":
        rows = [result.overall]
        if result.window is not None:
            rows.append(result.window)
        rows += result.periods + result.channels
        return _write([to_dict(r) for r in rows])
    if kind in ("plan", "simulate"):
        names = ("current", "recommended" if kind == "plan" else "scenario")
        p = result.projection
        recs = [
            {"scenario": name, **to_dict(row)}
            for name, rows in zip(names, (p.current, p.recommended))
            for row in rows
        ]
        return _write(recs)
    if kind == "backtest":
        recs = []
        for p in result.periods:
            rec: dict[str, Any] = {"period": p.period}
            for key in ("new_customers", "churned_customers", "customers"):
                rec[f"{key}_predicted"] = getattr(p.predicted, key)
                rec[f"{key}_actual"] = getattr(p.actual, key)
            recs.append(rec)
        return _write(recs)
    if kind == "cohorts":
        recs = [
            {"cohort": c.cohort, "age": t, "active": a, "survival": sv}
            for c in result.cohorts
            for t, (a, sv) in enumerate(zip(c.active, c.survival))
        ]
        return _write(recs)
    if kind == "check":
        recs = [to_dict(c) for c in result.checks]
        return _write(recs) or "check,key,value,threshold,status\n"
    if kind == "validate":
        fields = ["severity", "code", "row", "column", "value", "message", "fix"]
        recs = [{k: getattr(p, k) for k in fields} for p in result.problems]
        return _write(recs) or ",".join(fields) + "\n"
    if kind == "track":
        return _track_csv(result)
    raise ValueError(f"no CSV form for {kind!r}")


def _track_csv(result: Any) -> str:
    """One row per saved plan and tracked period: spend, and each series' actual, replay and
    80 % interval."""
    series = [
        f"{key}_{k}"
        for key in ("customers", "new_customers", "churned_customers")
        for k in ("actual", "replay", "low", "high")
    ]
    fields = ["plan", "as_of", "period", "horizon", "acquisition_spend", "retention_spend"]
    recs = []
    for plan in result.plans:
        for row in plan.periods:
            one: dict[str, Any] = {"plan": plan.plan, "as_of": plan.as_of, "period": row.period}
            one.update(
                horizon=row.horizon,
                acquisition_spend=row.acquisition_spend,
                retention_spend=row.retention_spend,
            )
            for name in series:
                key, _, k = name.rpartition("_")
                one[name] = getattr(getattr(row, key), k)
            recs.append(one)
    return _write(recs) or ",".join(fields + series) + "\n"

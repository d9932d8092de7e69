"""JSON Schemas of every command's JSON output, generated from the result models."""

from __future__ import annotations

from typing import Any


def schemas() -> dict[str, dict[str, Any]]:
    from pydantic import TypeAdapter

    from bucket.results.backtest import BacktestResult, CheckResult
    from bucket.results.cohorts import CohortsResult
    from bucket.results.common import SCHEMA_VERSION, MetricsResult, ValidationResult
    from bucket.results.plan import PlanResult, SimulationResult
    from bucket.results.track import SavedPlan, TrackResult

    models = {
        "metrics": MetricsResult,
        "validate": ValidationResult,
        "plan": PlanResult,
        "simulate": SimulationResult,
        "backtest": BacktestResult,
        "check": CheckResult,
        "cohorts": CohortsResult,
        "track": TrackResult,
        "saved-plan": SavedPlan,
    }
    out = {}
    for name, model in models.items():
        s = TypeAdapter(model).json_schema(mode="serialization")
        s["$id"] = f"https://bucket.invalid/schema/{SCHEMA_VERSION}/{name}.json"
        s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = s
    return out

"""Planner settings: defaults, a TOML config file, and command-line values (the latter wins).

Every setting the planner assumes has a default here and a domain pydantic checks. Where a value
came from is kept (``assumed`` for a default, ``set`` for the config file or the command line),
so the plan can say which of its parameters rest on assumptions.

Config file: ``--config FILE``, else ``bucket.toml`` in the working directory if present, with
keys at the top level or under a ``[plan]`` table::

    [plan]
    rho = 7            # acquiring a customer costs 7x keeping one, at the margin
    margin = 0.7
    window = 12
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bucket.errors import ConfigError
from bucket.io.config import config_path, read_toml

Objective = Literal["value", "customers", "profit", "target"]


class PlanSettings(BaseModel):
    """What the planner assumes and what the user may set (DESIGN §4–§6)."""

    # every number finite; the domains keep the model's arithmetic finite too (μ = 1e-300 left
    # retention no churn to remove and divided by zero)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    phi: float = Field(
        0.5, ge=0.001, le=0.999, description="share of saturation today's spend reaches"
    )
    mu: float = Field(
        0.5, ge=0.001, le=0.999, description="most of today's churn retention can remove"
    )
    rho: float = Field(
        5.0, ge=0.01, le=1000, description="marginal cost to acquire ÷ to retain a customer"
    )
    margin: float = Field(1.0, ge=0.001, le=1, description="gross margin on revenue")
    annual_discount_rate: float = Field(0.10, ge=0, le=10, description="per year")
    window: int = Field(6, ge=1, le=1000, description="calibration window, periods")
    horizon: int | None = Field(None, ge=1, le=1000, description="periods; default 1 year")
    capacity: float | None = Field(None, gt=0, description="most customers the business serves")
    max_growth: float | None = Field(None, gt=0, description="largest growth per period")
    budget: float | None = Field(None, ge=0, description="budget per period")
    arpu: float | None = Field(None, gt=0, description="revenue per customer per period")
    objective: Objective = "value"
    target_growth: float | None = Field(None, gt=-1, le=100, description="growth over horizon")
    draws: int = Field(200, ge=0, le=5_000, description="resampled scenarios; 0 disables")
    seed: int = Field(0, ge=0, description="random seed of the draws")
    backtest: int | None = Field(
        None,
        ge=0,
        description="backtest the last N periods (default 3 when the history allows; 0: none)",
    )
    retention_model: Literal["constant", "sbg"] = "constant"
    channel_quality: Literal["auto", "off"] = "auto"
    experiments: str | None = Field(
        None, description="experiments file (DESIGN §12): retention tests and lift tests"
    )


ASSUMABLE = ("phi", "mu", "rho", "margin", "annual_discount_rate")


def _plan_table(path: Path) -> dict[str, Any]:
    data = read_toml(path)
    data.pop("check", None)  # read by check_config()
    plan = data.pop("plan", {})
    if not isinstance(plan, dict):
        raise ConfigError(f"{path}: [plan] must be a table", "write [plan] then key = value lines")
    merged = {**data, **plan}
    if "discount_rate" in merged:  # the name the command line uses (--discount-rate)
        if "annual_discount_rate" in merged:
            raise ConfigError(
                f"{path}: discount_rate and annual_discount_rate both set",
                "keep one of them (they are the same setting)",
            )
        merged["annual_discount_rate"] = merged.pop("discount_rate")
    return merged


def check_config(config: Path | None, cwd: Path | None = None) -> dict[str, Any]:
    """The ``[check]`` table of the config file (empty when there is none)::

    [check]
    window = 3                       # metrics over the last 3 periods (default: the last one)
    max = { churn_rate = 0.06 }
    min = { ltv_to_cac = 3 }
    split_gap = 0.10                 # alert when today's split is 10+ points off the plan's
    mape = 0.25                      # alert when the backtest's worst MAPE exceeds 25 %
    plans = "plans"                  # saved plans to track (relative to the file)
    """
    path = config_path(config, cwd)
    if path is None:
        return {}
    table = read_toml(path).get("check", {})
    known = {"window", "max", "min", "split_gap", "mape", "holdout", "plans"}
    if not isinstance(table, dict) or set(table) - known:
        extra = ", ".join(sorted(set(table) - known)) if isinstance(table, dict) else "[check]"
        raise ConfigError(
            f"{path}, key check.{extra}: unknown setting",
            f"known settings: {', '.join(sorted(known))}",
        )
    if isinstance(table.get("plans"), str):  # relative to the config file, as experiments
        table = {**table, "plans": str(path.parent / table["plans"])}
    elif "plans" in table:
        raise ConfigError(f"{path}, key check.plans: not a folder name", 'write plans = "plans"')
    return {**table, "_path": str(path)}


def load_settings(
    config: Path | None, cli: dict[str, Any], cwd: Path | None = None
) -> tuple[PlanSettings, dict[str, str], str | None]:
    """Merge defaults < config file < command line. Returns settings, the source of each
    field ('assumed' or 'set'), and the config file used (if any)."""
    path = config_path(config, cwd)
    from_file = _plan_table(path) if path is not None else {}
    given = {k: v for k, v in cli.items() if v is not None}
    if path is not None and isinstance(from_file.get("experiments"), str):
        # a file named in the config file is found beside it, wherever bucket runs
        named = from_file["experiments"]
        if named != "-" and not Path(named).is_absolute():
            from_file["experiments"] = str(path.parent / named)
    merged = {**from_file, **given}
    try:
        settings = PlanSettings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        where = f"--{key.replace('_', '-')}" if key in given else f"{path}, key {key}"
        if err["type"] == "extra_forbidden":
            known = ", ".join(PlanSettings.model_fields)
            raise ConfigError(f"{where}: unknown setting", f"known settings: {known}") from None
        raise ConfigError(
            f"{where}: {err['msg'].lower()} (got {err.get('input')!r})",
            "see `bucket plan --help` for each setting's range",
        ) from None
    sources = {k: ("set" if k in merged else "assumed") for k in PlanSettings.model_fields}
    return settings, sources, None if path is None else str(path)

"""`bucket plan` and `bucket simulate`: the leaky-bucket planner."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from bucket.cli._common import (
    DebugOpt,
    Format,
    FormatOpt,
    FrequencyOpt,
    EngineOpt,
    InactiveOpt,
    SparkRemoteOpt,
    TableOpt,
    LedgerPath,
    SpendOpt,
    SubscriptionsOpt,
    TransactionsOpt,
    JsonOpt,
    MapOpt,
    OutputOpt,
    QuietOpt,
    emit,
    guarded,
    load_ledger,
    resolve_format,
    warn_all,
)
from bucket.cli.app import app


class ObjectiveChoice(str, Enum):
    value = "value"
    customers = "customers"
    profit = "profit"
    target = "target"


def _opt(flag: str, help_: str, **kw: Any) -> Any:
    return typer.Option(flag, help=help_, show_default=False, **kw)


Budget = Annotated[Optional[float], _opt("--budget", "Budget per period to split (default: the window's mean total spend).")]
Horizon = Annotated[Optional[int], _opt("--horizon", "Periods to plan over (default: one year: 12 months, 52 weeks, 4 quarters).")]
Window = Annotated[Optional[int], _opt("--window", "Calibrate on the last N periods (default 6).")]
Phi = Annotated[Optional[float], _opt("--phi", "Share of saturation today's spend reaches, for channels the data cannot fit (default 0.5).")]
Mu = Annotated[Optional[float], _opt("--mu", "Most of today's churn retention spend can remove (default 0.5).")]
Rho = Annotated[Optional[float], _opt("--rho", "Marginal cost to acquire ÷ to retain a customer, when the data cannot fit retention (default 5).")]
Margin = Annotated[Optional[float], _opt("--margin", "Gross margin on revenue, 0 < m ≤ 1 (default 1).")]
Discount = Annotated[Optional[float], _opt("--discount-rate", "Annual discount rate (default 0.10).")]
Arpu = Annotated[Optional[float], _opt("--arpu", "Revenue per customer per period, when the ledger has no revenue.")]
Capacity = Annotated[Optional[float], _opt("--capacity", "Most customers the business can serve (default: no limit).")]
MaxGrowth = Annotated[Optional[float], _opt("--max-growth", "Largest growth of the base per period, e.g. 0.1 (default: no limit).")]
Config = Annotated[Optional[Path], _opt("--config", "TOML file with settings (default: ./bucket.toml if present).", dir_okay=False)]  # fmt: skip


def _progress(draws: int):
    """A transient spinner on stderr while the scenarios run, only on a terminal."""
    import contextlib
    import sys

    if draws <= 0 or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(f"Planning with {draws} scenarios…", spinner="dots")


def _settings(config: Path | None, **cli: Any):
    from bucket.settings import load_settings

    values = {k: (v.value if isinstance(v, Enum) else v) for k, v in cli.items()}
    settings, sources, _ = load_settings(config, values)
    return settings, sources


@app.command()
@guarded
def plan(
    file: LedgerPath = None,
    budget: Budget = None,
    horizon: Horizon = None,
    objective: Annotated[
        Optional[ObjectiveChoice],
        _opt("--objective", "What to maximise: value (customer equity, default), customers, "
             "profit, or target (least budget reaching --target-growth).", case_sensitive=False),
    ] = None,  # fmt: skip
    target_growth: Annotated[
        Optional[float], _opt("--target-growth", "Growth of the customer base over the horizon to reach, e.g. 0.2.")
    ] = None,  # fmt: skip
    window: Window = None,
    phi: Phi = None,
    mu: Mu = None,
    rho: Rho = None,
    margin: Margin = None,
    discount_rate: Discount = None,
    arpu: Arpu = None,
    capacity: Capacity = None,
    max_growth: MaxGrowth = None,
    draws: Annotated[
        Optional[int],
        _opt("--draws", "Scenarios for the uncertainty: resampled, refitted, assumptions redrawn "
             "(default 200; 0 disables).", min=0),
    ] = None,  # fmt: skip
    seed: Annotated[Optional[int], _opt("--seed", "Random seed of the draws (default 0).", min=0)] = None,
    backtest_h: Annotated[
        Optional[int], _opt("--backtest", "Also backtest the model on the last N periods.", min=1)
    ] = None,  # fmt: skip
    retention_model: Annotated[
        Optional[str],
        _opt("--retention-model", "constant (default) or sbg: churn that falls with tenure, "
             "fitted on the cohorts of --transactions/--subscriptions."),
    ] = None,  # fmt: skip
    config: Config = None,
    map_: MapOpt = None,
    transactions: TransactionsOpt = None,
    subscriptions: SubscriptionsOpt = None,
    spend: SpendOpt = None,
    inactive_after: InactiveOpt = 90,
    engine: EngineOpt = "duckdb",
    table: TableOpt = None,
    spark_remote: SparkRemoteOpt = None,
    frequency: FrequencyOpt = "month",
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Recommend how to split the budget between acquisition and retention, and across channels.

    Calibrates the leaky-bucket model on the last --window periods (every parameter fitted,
    observed, assumed or set, and says which), finds the split that maximises the objective
    over the horizon, and explains it: marginal economics, projection, sensitivity to each
    assumption, the break-even value of each, and the leverage of 1 % better acquisition,
    retention and ARPU.

    Examples:

      bucket plan ledger.csv

      bucket plan ledger.csv --margin 0.7 --rho 7 --horizon 24 --json

      bucket plan ledger.csv --objective target --target-growth 0.2

      bucket plan --transactions orders.csv --spend spend.csv
    """
    from bucket.analysis.plan import make_plan

    settings, sources = _settings(
        config, budget=budget, horizon=horizon, objective=objective, target_growth=target_growth,
        window=window, phi=phi, mu=mu, rho=rho, margin=margin, annual_discount_rate=discount_rate,
        arpu=arpu, capacity=capacity, max_growth=max_growth, draws=draws, seed=seed,
        backtest=backtest_h, retention_model=retention_model,
    )  # fmt: skip
    ledger = load_ledger(file, transactions, spend, frequency, inactive_after, map_,
                         ("acquisition_spend",), subscriptions, engine, table, spark_remote)
    with _progress(settings.draws):
        result = make_plan(ledger, settings, sources)
    emit(result, resolve_format(fmt, as_json), output, (file, transactions, subscriptions, spend))
    warn_all(result.warnings, quiet)


@app.command()
@guarded
def simulate(
    split: Annotated[
        float, typer.Option("--split", "-s", help="Acquisition share of the budget to simulate, 0–1.")
    ],
    file: LedgerPath = None,
    budget: Budget = None,
    horizon: Horizon = None,
    objective: Annotated[
        Optional[ObjectiveChoice],
        _opt("--objective", "What to score: value (default), customers or profit.", case_sensitive=False),
    ] = None,  # fmt: skip
    window: Window = None,
    phi: Phi = None,
    mu: Mu = None,
    rho: Rho = None,
    margin: Margin = None,
    discount_rate: Discount = None,
    arpu: Arpu = None,
    capacity: Capacity = None,
    max_growth: MaxGrowth = None,
    config: Config = None,
    map_: MapOpt = None,
    transactions: TransactionsOpt = None,
    subscriptions: SubscriptionsOpt = None,
    spend: SpendOpt = None,
    inactive_after: InactiveOpt = 90,
    engine: EngineOpt = "duckdb",
    table: TableOpt = None,
    spark_remote: SparkRemoteOpt = None,
    frequency: FrequencyOpt = "month",
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """What if: project the customer base and value for a split you name, beside today's.

    The acquisition part is spread across channels the way plan would spread it (equal
    marginal CAC); today's split keeps today's channel mix.

    Examples:

      bucket simulate ledger.csv --split 0.6

      bucket simulate ledger.csv --split 0.5 --budget 40000 --json
    """
    from bucket.analysis.plan import simulate_split

    settings, sources = _settings(
        config, budget=budget, horizon=horizon, objective=objective, window=window, phi=phi,
        mu=mu, rho=rho, margin=margin, annual_discount_rate=discount_rate, arpu=arpu,
        capacity=capacity, max_growth=max_growth,
    )  # fmt: skip
    ledger = load_ledger(file, transactions, spend, frequency, inactive_after, map_,
                         ("acquisition_spend",), subscriptions, engine, table, spark_remote)
    result = simulate_split(ledger, settings, sources, split)
    emit(result, resolve_format(fmt, as_json), output, (file, transactions, subscriptions, spend))
    warn_all(result.warnings, quiet)

"""Options declared once: the typer parameters, and the bundles every command reuses.

A bundle is a frozen dataclass whose fields are typer parameters (``Annotated[type,
typer.Option(...)]`` with a default); ``cli.command`` spells it out for the commands that name it
in their signature. The option names mean one thing in every command.

Only typer and the standard library are imported here: ``bucket --help`` must stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bucket.events.ledger import Events, Kind
    from bucket.io.ledger import Ledger


def opt(flag: str, help_: str, *more: str, **kw: Any) -> Any:
    """A typer option without a shown default (the help text says it)."""
    return typer.Option(flag, *more, help=help_, show_default=False, **kw)


class Objective(str, Enum):
    value = "value"
    customers = "customers"
    profit = "profit"
    target = "target"


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


# The option names mean one thing in every command. --map renames event columns when the input
# is events and ledger columns when it is a ledger; an option that writes (--output,
# ledger's --cohorts-output) never shares a name with one that reads (report's --cohorts).
LedgerPath = Annotated[
    str | None,
    typer.Argument(
        help="Ledger CSV (path, or - to read stdin); or give --transactions instead.",
        show_default=False,
    ),
]
TransactionsOpt = Annotated[
    str | None,
    opt(
        "--transactions",
        "Derive the ledger from a transactions CSV or Parquet file "
        "(customer_id, date, amount[, channel]; path or -) instead of reading one.",
    ),
]
SubscriptionsOpt = Annotated[
    str | None,
    opt(
        "--subscriptions",
        "Derive the ledger from a subscriptions CSV "
        "(customer_id, start, end[, mrr, channel]; empty end = active).",
    ),
]
SpendOpt = Annotated[
    str | None,
    opt(
        "--spend",
        "Spend CSV (period[, channel], acquisition_spend[, retention_spend]) joined "
        "to a ledger derived from events, or to a ledger file without spend.",
    ),
]
FrequencyOpt = Annotated[
    str, typer.Option("--frequency", help="With event inputs: month, week or quarter.")
]
InactiveOpt = Annotated[
    int,
    typer.Option(
        "--inactive-after",
        min=1,
        help="With --transactions: days without a purchase after which a customer has churned.",
    ),
]
MapOpt = Annotated[
    list[str] | None,
    opt(
        "--map",
        "Name a column: canonical=theirs (repeatable, or comma separated). With "
        "--transactions or --subscriptions it names event columns (--map date=order_date; "
        "theirs - for none: --map channel=-), else ledger columns (--map "
        "new_customers='Neukunden gesamt').",
        "-m",
    ),
]
EngineOpt = Annotated[
    str,
    opt(
        "--engine",
        "Where event inputs are aggregated: duckdb (embedded, default), spark "
        "(local[*], or a cluster with --spark-remote), or a database URL "
        "(postgresql://user@host/db, with --table).",
    ),
]
TableOpt = Annotated[
    str | None, opt("--table", "With --engine: the table holding the events (schema.table).")
]
SparkRemoteOpt = Annotated[
    str | None,
    opt(
        "--spark-remote",
        "With --engine spark: a Spark Connect address, e.g. sc://host:15002 (default: local mode).",
    ),
]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
OutputOpt = Annotated[
    Path | None,
    opt(
        "--output",
        "Write the result to this file (atomically, only on success, never over an "
        "input) instead of stdout.",
        "-o",
        dir_okay=False,
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Do not print warnings.")]
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="Show a traceback on errors (for bug reports).")
]
ConfigOpt = Annotated[
    Path | None,
    opt("--config", "TOML file with settings (default: ./bucket.toml if present).", dir_okay=False),
]
MarginOpt = Annotated[
    float | None,
    opt("--margin", "Gross margin on revenue, 0 < m ≤ 1 (default: bucket.toml's, else 1)."),
]
DiscountOpt = Annotated[
    float | None,
    opt(
        "--discount-rate",
        "Annual discount rate, as a fraction (default: bucket.toml's, else "
        "0.10); converted per period.",
    ),
]
ObjectiveOpt = Annotated[
    Objective | None,
    opt(
        "--objective",
        "What to maximise: value (customer equity, default), customers, profit, or target "
        "(plan only: the least budget reaching --target-growth).",
        case_sensitive=False,
    ),
]


def without_target(objective: Objective | None) -> Objective | None:
    """``--objective target`` is plan's question (the least budget); other commands refuse it."""
    if objective == Objective.target:
        raise typer.BadParameter(
            "target asks for the least budget, which only `bucket plan` answers; "
            "choose value, customers or profit",
            param_hint="--objective",
        )
    return objective


WindowOpt = Annotated[int | None, opt("--window", "Calibrate on the last N periods (default 6).")]
PhiOpt = Annotated[
    float | None,
    opt(
        "--phi",
        "Share of saturation today's spend reaches, for channels the data cannot fit "
        "(0.001–0.999, default 0.5).",
    ),
]
MuOpt = Annotated[
    float | None,
    opt("--mu", "Most of today's churn retention spend can remove (0.001–0.999, default 0.5)."),
]
RhoOpt = Annotated[
    float | None,
    opt(
        "--rho",
        "Marginal cost to acquire ÷ to retain a customer, when the data cannot fit "
        "retention (0.01–1000, default 5).",
    ),
]
ExperimentsOpt = Annotated[
    str | None,
    opt(
        "--experiments",
        "CSV of retention tests (arms with customers, churned, spend per customer) and lift "
        "tests, or - for stdin; they measure how much churn money removes (README).",
        metavar="FILE",
    ),
]
ChannelQualityOpt = Annotated[
    str | None,
    opt(
        "--channel-quality",
        "auto (default): each channel's customers churn and pay at their own rates, and "
        "acquisition money goes where a customer is worth most per unit of spend; off: one "
        "pool, channels funded at equal marginal CAC.",
        metavar="auto|off",
    ),
]
ArpuOpt = Annotated[
    float | None,
    opt("--arpu", "Revenue per customer per period, when the ledger has no revenue."),
]


@dataclass(frozen=True)
class EventInputs:
    """Events (transactions or subscriptions) and where they are aggregated."""

    transactions: TransactionsOpt = None
    subscriptions: SubscriptionsOpt = None
    frequency: FrequencyOpt = "month"
    inactive_after: InactiveOpt = 90
    map_: MapOpt = None
    engine: EngineOpt = "duckdb"
    table: TableOpt = None
    spark_remote: SparkRemoteOpt = None

    @property
    def reads_events(self) -> bool:
        """Events rather than a ledger or cohort file: given ones, or a non-embedded engine."""
        return self.given or self.engine not in ("", "duckdb")

    @property
    def given(self) -> bool:
        """Whether the command reads events (a file, or a table on an engine)."""
        return self.transactions is not None or self.subscriptions is not None or bool(self.table)

    def events(self, memory_limit: str | None = None) -> Events:
        """The events as the core takes them; usage errors name the option."""
        from bucket.events.ledger import Events

        if self.transactions is not None and self.subscriptions is not None:
            raise typer.BadParameter("give --transactions or --subscriptions, not both")
        self.check_frequency()
        engine = None if self.engine in ("", "duckdb") else self.engine
        if engine is None and (self.table or self.spark_remote):
            raise typer.BadParameter(
                "--table and --spark-remote go with --engine spark or a database URL",
                param_hint="--engine",
            )
        kind: Kind = "subscriptions" if self.subscriptions is not None else "transactions"
        path = self.subscriptions if self.subscriptions is not None else self.transactions
        if path is None and not (engine and self.table):
            raise typer.BadParameter(
                "give --transactions FILE or --subscriptions FILE, or --engine with --table NAME"
            )
        return Events(
            kind,
            path,
            self.frequency,
            self.inactive_after,
            self.event_map(kind),
            engine,
            self.table,
            self.spark_remote,
            memory_limit,
        )

    def check_frequency(self) -> None:
        from typing import get_args

        from bucket.io.periods import Frequency

        if self.frequency not in get_args(Frequency):
            raise typer.BadParameter("choose month, week or quarter", param_hint="--frequency")

    def event_map(self, kind: str) -> dict[str, str]:
        from bucket.events.columns import parse_event_map

        try:
            return parse_event_map(self.map_ or [], kind)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--map") from None

    def input_paths(self) -> list[str]:
        return [p for p in (self.transactions, self.subscriptions) if p]


@dataclass(frozen=True)
class LedgerInputs(EventInputs):
    """A ledger file, or events to derive it from; and spend to join."""

    file: LedgerPath = None
    spend: SpendOpt = None

    def load(self, require: tuple[str, ...] = ()) -> Ledger:
        """The ledger from a ledger file, or derived from events (on the engine named)."""
        if self.reads_events:
            from bucket.cli.output import spinner
            from bucket.events.ledger import ledger_from_events

            with spinner("Reading the events…"):
                return ledger_from_events(self.events(), self.spend, require)
        from bucket.cli.output import stdin_is_a_file

        file = self.file or ("-" if stdin_is_a_file() else None)
        if file is None:
            raise typer.BadParameter(
                "give a ledger FILE (or - for stdin), or --transactions FILE", param_hint="FILE"
            )
        mapping = self.ledger_map()
        if self.spend is not None:  # a ledger without spend (e.g. from a warehouse) plus spend
            from bucket.events.spend import ledger_with_spend

            return ledger_with_spend(file, self.spend, mapping, require)
        from bucket.io.ledger import read_ledger

        return read_ledger(file, mapping, require)

    def ledger_map(self) -> dict[str, str]:
        from bucket.io.columns import parse_mapping

        try:
            return parse_mapping(self.map_ or [])
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--map") from None

    def input_paths(self) -> list[str]:
        return [p for p in (self.file, *super().input_paths(), self.spend) if p]


@dataclass(frozen=True)
class OutputOptions:
    """Where and how the result is written."""

    fmt: FormatOpt = Format.table
    as_json: JsonOpt = False
    output: OutputOpt = None

    @property
    def format(self) -> str:
        return "json" if self.as_json else self.fmt.value


@dataclass(frozen=True)
class RunOptions:
    """What every command takes: warnings off, tracebacks on."""

    quiet: QuietOpt = False
    debug: DebugOpt = False


@dataclass(frozen=True)
class MoneyOptions:
    """Margin and discount rate, from the command line, else bucket.toml, else the defaults:
    the same values in metrics, cohorts and plan, so CLTV agrees across them."""

    margin: MarginOpt = None
    discount_rate: DiscountOpt = None
    config: ConfigOpt = None

    def resolved(self) -> tuple[float, float]:
        """(margin, annual discount rate)."""
        from bucket.io.config import config_path

        margin, discount = self.margin, self.discount_rate
        if config_path(self.config) is not None and (margin is None or discount is None):
            from bucket.settings import load_settings  # pydantic only when there is a config

            settings, _, _ = load_settings(
                self.config, {"margin": margin, "annual_discount_rate": discount}
            )
            margin, discount = settings.margin, settings.annual_discount_rate
        return (1.0 if margin is None else margin), (0.10 if discount is None else discount)

    def input_paths(self) -> list[str]:
        return [str(self.config)] if self.config else []


@dataclass(frozen=True)
class CalibrationOptions:
    """How the model is calibrated on the ledger (DESIGN §5)."""

    window: WindowOpt = None
    phi: PhiOpt = None
    mu: MuOpt = None
    rho: RhoOpt = None
    experiments: ExperimentsOpt = None
    config: ConfigOpt = None
    channel_quality: ChannelQualityOpt = None

    def values(self) -> dict[str, Any]:
        """The settings this bundle sets, by their names in ``PlanSettings``."""
        return {
            "window": self.window,
            "phi": self.phi,
            "mu": self.mu,
            "rho": self.rho,
            "experiments": self.experiments,
            "channel_quality": self.channel_quality,
        }

    def input_paths(self) -> list[str]:
        paths = [str(self.config)] if self.config else []
        return paths + ([self.experiments] if self.experiments not in (None, "-") else [])


@dataclass(frozen=True)
class ModelOptions(CalibrationOptions):
    """The planner's settings beyond calibration: money, budget, horizon, limits."""

    margin: MarginOpt = None
    discount_rate: DiscountOpt = None
    arpu: ArpuOpt = None
    budget: Annotated[
        float | None,
        opt("--budget", "Budget per period to split (default: the window's mean total spend)."),
    ] = None
    horizon: Annotated[
        int | None,
        opt(
            "--horizon",
            "Periods to plan over (default: one year: 12 months, 52 weeks, 4 quarters).",
        ),
    ] = None
    capacity: Annotated[
        float | None,
        opt("--capacity", "Most customers the business can serve (default: no limit)."),
    ] = None
    max_growth: Annotated[
        float | None,
        opt("--max-growth", "Largest growth of the base per period, e.g. 0.1 (default: no limit)."),
    ] = None

    def values(self) -> dict[str, Any]:
        return {
            **super().values(),
            "margin": self.margin,
            "annual_discount_rate": self.discount_rate,
            "arpu": self.arpu,
            "budget": self.budget,
            "horizon": self.horizon,
            "capacity": self.capacity,
            "max_growth": self.max_growth,
        }


@dataclass(frozen=True)
class ScenarioOptions:
    """The uncertainty draws and the retention model of a plan (DESIGN §7, §8)."""

    draws: Annotated[
        int | None,
        opt(
            "--draws",
            "Scenarios for the uncertainty: resampled, refitted, assumptions redrawn "
            "(default 200; 0 disables).",
            min=0,
        ),
    ] = None
    seed: Annotated[int | None, opt("--seed", "Random seed of the draws (default 0).", min=0)] = (
        None
    )
    retention_model: Annotated[
        str | None,
        opt(
            "--retention-model",
            "constant (default) or sbg (experimental): churn that falls with tenure, "
            "fitted on the cohorts of --transactions/--subscriptions (or report's --cohorts).",
        ),
    ] = None

    def values(self) -> dict[str, Any]:
        return {
            "draws": self.draws,
            "seed": self.seed,
            "retention_model": self.retention_model,
        }


def load_settings(options: CalibrationOptions, **more: Any):
    """(PlanSettings, source of each) from a bundle and a command's own settings: defaults <
    bucket.toml < the command line."""
    from bucket.settings import load_settings as load

    values = {
        k: (v.value if isinstance(v, Enum) else v) for k, v in {**options.values(), **more}.items()
    }
    settings, sources, _ = load(options.config, values)
    return settings, sources

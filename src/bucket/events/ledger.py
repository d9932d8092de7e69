"""Events → ledger: the entry point every command with event inputs goes through
(DESIGN §2.2). ``Events`` says where the events are and how to read them; ``derive`` runs the
aggregation on the embedded engine or where the data lives; ``ledger_from_events`` joins the
spend and reads the result as any ledger is read."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from bucket.errors import InputError, Problem

if TYPE_CHECKING:
    from bucket.events.derived import Derived
    from bucket.io.ledger import Ledger

Kind = Literal["transactions", "subscriptions"]


@dataclass(frozen=True)
class Events:
    """Where the events are and how to read them."""

    kind: Kind
    path: str | None = None  # a CSV or Parquet file, or "-" for stdin
    frequency: str = "month"
    inactive: int = 90  # days without a purchase after which a customer has churned
    mapping: dict[str, str] = field(default_factory=dict)  # canonical → their column ("-": none)
    engine: str | None = None  # None: the embedded DuckDB; "spark" or a database URL
    table: str | None = None  # with an engine: the table holding the events
    remote: str | None = None  # with spark: a Spark Connect address
    memory_limit: str | None = None  # the embedded engine's cap, e.g. "256MB" (None: 768MB)

    @property
    def name(self) -> str:
        """The events as messages name them: the table on an engine, else the file."""
        from bucket.io.text import display_name

        return (self.engine and self.table) or display_name(self.path or "")


def derive(events: Events) -> Derived:
    """Events → ledger rows and cohort counts: on the embedded engine, or where the data lives
    when an engine other than the embedded one is named (Spark, a database URL)."""
    ev = events
    if ev.engine is not None:
        from bucket.events.remote import derive_remote

        return derive_remote(
            ev.kind,
            ev.engine,
            source=ev.path,
            table=ev.table,
            frequency=ev.frequency,
            inactive=ev.inactive,
            remote=ev.remote,
            mapping=ev.mapping,
        )
    if ev.path is None:
        raise InputError(
            Problem("error", "no-data", f"no {ev.kind} given", f"give --{ev.kind} FILE", "-")
        )
    from bucket.events import embedded

    if ev.kind == "subscriptions":
        return embedded.derive_subscriptions(ev.path, ev.frequency, ev.memory_limit, ev.mapping)
    return embedded.derive_transactions(
        ev.path, ev.frequency, ev.inactive, ev.memory_limit, ev.mapping
    )


def ledger_from_events(
    events: Events, spend: str | None = None, require: tuple[str, ...] = ()
) -> Ledger:
    """Derive a ledger from transactions or subscriptions (and a spend file) and read it as
    any ledger is read."""
    from bucket.events.spend import read_spend, with_spend

    name = events.name
    derived = derive(events)
    frame, notes = with_spend(derived.frame, read_spend(spend) if spend else None, name)
    ledger = check_derived(frame.to_csv(index=False, float_format="%.2f"), name, require)
    warns = [replace(w, file=name) for w in ledger.warnings]
    extra = [Problem("warning", "events", n, "", name) for n in (*derived.warnings, *notes)]
    return replace(ledger, file=name, warnings=[*extra, *warns], cohorts=derived.cohorts_rows)


def check_derived(text: str, name: str, require: tuple[str, ...] = ()) -> Ledger:
    """The derived ledger (CSV text) read as any ledger is read, with the checks every command
    applies; its problems name the events and the period, not the derived table's rows."""
    from bucket.io.ledger import read_ledger_text

    try:
        return read_ledger_text(text, name, require)
    except InputError as exc:
        problem = replace(exc.problem, file=name, row=None)
        if problem.column == "acquisition_spend":
            problem = replace(
                problem,
                message="the events carry no spend",
                fix="give the spend per period with --spend FILE",
            )
        elif problem.code == "negative" and problem.column == "revenue":
            problem = replace(
                problem,
                message=f"the revenue of {_period_at(text, exc.problem.row)} is negative "
                f"({problem.value}): its refunds exceed its sales",
                fix="the planner needs revenue of 0 or more per period; book refunds "
                "against the sales they refund, or leave them out",
            )
        raise InputError(problem) from None


def _period_at(text: str, row: int | None) -> str:
    """The period (and channel) of a row of the derived ledger's CSV text (1 = the header)."""
    import csv

    lines = text.splitlines()
    if row is None or not 2 <= row <= len(lines):
        return "a period"
    cells = dict(zip(*csv.reader([lines[0], lines[row - 1]]), strict=False))
    channel = cells.get("channel")
    return cells.get("period", "a period") + (f" ({channel})" if channel else "")

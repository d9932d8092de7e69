"""What every command shares: option declarations (once), error handling, output writing.

Only typer and the standard library are imported here: ``bucket --help`` must stay fast.
"""

from __future__ import annotations

import functools
import os
import sys

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from bucket.errors import BucketError

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in bucket, not in the input


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


LedgerPath = Annotated[
    Optional[str],
    typer.Argument(
        help="Ledger CSV (path, or - to read stdin); or give --transactions instead.",
        show_default=False,
    ),
]
TransactionsOpt = Annotated[
    Optional[str],
    typer.Option("--transactions", help="Derive the ledger from a transactions CSV "
                 "(customer_id, date, amount[, channel]) instead of reading one.", show_default=False),
]  # fmt: skip
SubscriptionsOpt = Annotated[
    Optional[str],
    typer.Option("--subscriptions", help="Derive the ledger from a subscriptions CSV "
                 "(customer_id, start, end[, mrr, channel]; empty end = active).", show_default=False),
]  # fmt: skip
SpendOpt = Annotated[
    Optional[str],
    typer.Option("--spend", help="With --transactions: spend CSV (period[, channel], "
                 "acquisition_spend[, retention_spend]).", show_default=False),
]  # fmt: skip
InactiveOpt = Annotated[
    int,
    typer.Option("--inactive-after", min=1, help="With --transactions: days without a purchase "
                 "after which a customer has churned."),
]  # fmt: skip
EngineOpt = Annotated[
    str,
    typer.Option("--engine", help="Where event inputs are aggregated: duckdb (embedded, default), "
                 "spark (local[*], or a cluster with --spark-remote), or a database URL "
                 "(postgresql://user@host/db, with --table).", show_default=False),
]  # fmt: skip
TableOpt = Annotated[
    Optional[str],
    typer.Option("--table", help="With --engine: the table holding the events (schema.table).",
                 show_default=False),
]  # fmt: skip
SparkRemoteOpt = Annotated[
    Optional[str],
    typer.Option("--spark-remote", help="With --engine spark: a Spark Connect address, "
                 "e.g. sc://host:15002 (default: local mode).", show_default=False),
]  # fmt: skip
FrequencyOpt = Annotated[
    str,
    typer.Option("--frequency", help="With --transactions: month, week or quarter."),
]
FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
OutputOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--output",
        "-o",
        help="Write the result to this file (atomically, only on success) instead of stdout.",
        dir_okay=False,
        show_default=False,
    ),
]
MapOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--map",
        "-m",
        help="Name a column explicitly: canonical=theirs (repeatable, or comma separated), "
        "e.g. --map new_customers='Neukunden gesamt'.",
        show_default=False,
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Do not print warnings.")]
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="Show a traceback on errors (for bug reports).")
]
MarginOpt = Annotated[
    float,
    typer.Option(
        "--margin",
        help="Gross margin as a fraction of revenue, used for CLTV and payback (0 < m ≤ 1).",
    ),
]
DiscountOpt = Annotated[
    float,
    typer.Option(
        "--discount-rate",
        help="Annual discount rate for CLTV, as a fraction (0.1 = 10 %); converted per period.",
    ),
]


def err(line: str) -> None:
    """One line on stderr."""
    sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()


def warn_all(warnings: list[str], quiet: bool) -> None:
    if not quiet:
        for w in warnings:
            err(f"Warning: {w}")


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command; turn ``BucketError`` into ``Error: ...`` + exit 1 (or its own code).

    Unexpected exceptions are bugs: one line and exit 70, or the traceback with ``--debug``.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except BucketError as exc:
            if debug:
                raise
            err(f"Error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err("Error: interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: say so plainly
            if debug:
                raise
            err(
                f"Error: internal error ({type(exc).__name__}: {exc}); this is a bug in bucket: "
                "rerun with --debug and report the traceback"
            )
            raise typer.Exit(INTERNAL_ERROR) from None

    return wrapper


def engine_spec(engine: str, table: str | None, remote: str | None):
    """None for the embedded engine, else (engine, table, remote) for events/remote.py."""
    if engine in ("", "duckdb"):
        if table or remote:
            raise typer.BadParameter("--table and --spark-remote go with --engine spark or a "
                                     "database URL", param_hint="--engine")  # fmt: skip
        return None
    return (engine, table, remote)


def load_ledger(file, transactions, spend, frequency, inactive, map_, require=(),
                subscriptions=None, engine="duckdb", table=None, spark_remote=None):  # fmt: skip
    """The ledger from a ledger CSV, or derived from events (on ``engine`` when it is not the
    embedded one). Takes the command's options as given: --map values, the engine's name."""
    mapping = parse_map(map_)
    engine = engine_spec(engine, table, spark_remote)
    if transactions is not None and subscriptions is not None:
        raise typer.BadParameter("give --transactions or --subscriptions, not both")
    if transactions is not None or subscriptions is not None or engine is not None:
        if transactions is None and subscriptions is None and engine[1] is None:  # type: ignore[index]
            raise typer.BadParameter("with --engine, give --transactions PATH or --table NAME",
                                     param_hint="--engine")  # fmt: skip
        if frequency not in ("month", "week", "quarter"):
            raise typer.BadParameter("choose month, week or quarter", param_hint="--frequency")
        from bucket.events.ledger import Events, ledger_from_events

        kind, path = ("subscriptions", subscriptions) if subscriptions else ("transactions", transactions)
        events = Events(kind, path, frequency, inactive, {}, *(engine or (None, None, None)))
        return ledger_from_events(events, spend, require)
    if file is None:
        raise typer.BadParameter("give a ledger FILE, or --transactions FILE", param_hint="FILE")
    if spend is not None:  # a ledger without spend (e.g. from a warehouse) plus a spend file
        from bucket.events.spend import ledger_with_spend

        return ledger_with_spend(file, spend, mapping, require)
    from bucket.io.ledger import read_ledger

    return read_ledger(file, mapping, require)


def resolve_format(fmt: Format, as_json: bool) -> str:
    return "json" if as_json else fmt.value


def parse_map(values: list[str] | None) -> dict[str, str]:
    from bucket.io.columns import parse_mapping

    try:
        return parse_mapping(values or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--map") from None


def _same_file(a: Path, b: str) -> bool:
    if b == "-":
        return False
    try:
        return a.resolve() == Path(b).resolve() or (a.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def refuse_inputs(output: Path, inputs) -> None:
    """--output must not name one of the inputs (``None`` for an option not given)."""
    for path in inputs:
        if path and _same_file(output, path):
            raise typer.BadParameter(f"{output} is an input file; choose another path",
                                     param_hint="--output")  # fmt: skip


def emit(result: Any, fmt: str, output: Path | None, inputs) -> None:
    """Render ``result`` and write it to stdout or, atomically, to ``output`` (never over one of
    the ``inputs``, paths or ``None``)."""
    from bucket.render import render

    if output is not None and str(output) == "-":
        output = None  # -o - means stdout
    if output is not None:
        refuse_inputs(output, inputs)
        text = render(result, fmt, color=False, width=120)
        _write_atomic(output, text)
        return
    color = fmt == "table" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = _width()
    text = render(result, fmt, color=color, width=width)
    sys.stdout.write(text)
    sys.stdout.flush()


def _width() -> int:
    try:
        if sys.stdout.isatty():
            return max(60, os.get_terminal_size(sys.stdout.fileno()).columns)
    except OSError:
        pass
    try:
        return max(60, int(os.environ.get("COLUMNS", "120")))
    except ValueError:
        return 120


def _write_atomic(path: Path, text: str) -> None:
    import tempfile

    from bucket.errors import OutputError

    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}); choose a writable path") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        # mkstemp creates 0600; give the file the mode a plain open() would (or keep the old one)
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):  # a full disk or a lost mount is not a bug: one line, exit 1
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc}); the file is as it was, "
                              "free some space or choose another path") from None  # fmt: skip
        raise

"""Command-line interface: thin commands over the core (parse → core → render → exit code)."""

from __future__ import annotations

# registration order is the order `bucket --help` lists the commands in
from bucket.cli import (
    cohorts,  # noqa: F401
    evidence,  # noqa: F401  (backtest, check)
    example,  # noqa: F401
    ledger,  # noqa: F401
    metrics,  # noqa: F401
    plan,  # noqa: F401  (plan, simulate)
    report,  # noqa: F401
    schema,  # noqa: F401
    validate,  # noqa: F401
)
from bucket.cli.app import app

__all__ = ["app", "run"]


def run() -> None:
    """Console-script entry point."""
    app(prog_name="bucket")

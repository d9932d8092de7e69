"""Command-line interface: thin commands over the core (parse → core → render → exit code)."""

from __future__ import annotations

# registration order is the order `bucket --help` lists the commands in
from bucket.cli import plan  # noqa: F401, I001  (plan, simulate)
from bucket.cli import report  # noqa: F401
from bucket.cli import metrics  # noqa: F401
from bucket.cli import evidence  # noqa: F401  (backtest, check)
from bucket.cli import validate  # noqa: F401
from bucket.cli import cohorts  # noqa: F401
from bucket.cli import ledger  # noqa: F401
from bucket.cli import example  # noqa: F401
from bucket.cli import schema  # noqa: F401
from bucket.cli.app import app

__all__ = ["app", "run"]


def run() -> None:
    """Console-script entry point."""
    app(prog_name="bucket")

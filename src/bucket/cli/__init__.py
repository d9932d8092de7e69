"""Command-line interface: thin commands over the core (parse → core → render → exit code)."""

from __future__ import annotations

from bucket.cli import cohorts, evidence, example, ledger, metrics, plan, schema, validate  # noqa: F401
from bucket.cli.app import app

__all__ = ["app", "run"]


def run() -> None:
    """Console-script entry point."""
    app(prog_name="bucket")

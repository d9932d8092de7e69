"""Command-line interface: thin commands over the core (parse → core → render → exit code)."""

from __future__ import annotations

import gc
import os

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
    track,  # noqa: F401
    validate,  # noqa: F401
)
from bucket.cli.app import app

__all__ = ["app", "run"]


def run() -> None:
    """Console-script entry point."""
    # One OpenBLAS thread unless the user set a number: bucket's linear algebra is tiny
    # (L-BFGS-B's and curve_fit's few-parameter steps), and waking a pool of threads for each
    # made most of `bucket cohorts`' time. Set here, before anything imports numpy.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # A short-lived process: the cyclic garbage collector's first generation is collected every
    # 100,000 net allocations instead of 700. Importing pandas, scipy and pydantic creates a few
    # hundred thousand objects that the default traversed again and again (about 0.1 s of a
    # plan: 258 collections of the youngest generation and 2 full ones, now 1 and none). Older
    # generations keep their thresholds, so a long run still collects its cycles.
    gc.set_threshold(100_000, *gc.get_threshold()[1:])
    app(prog_name="bucket")

"""Event files at scale: `bucket ledger` on 10 million transactions against a bare DuckDB scan.

    python benchmarks/events.py                 # 10,000,000 rows, 3 runs each
    python benchmarks/events.py --rows 2000000 --runs 5
    python benchmarks/events.py --throughput    # rows/s: embedded on 1 M and 10 M, Spark on 1 M

Generates the transactions file (about 2.6 M customers, 24 months, 5 channels) in a temporary
folder with `bucket example --transactions`, never in the repository. Each command runs as a
whole process under /usr/bin/time -v for wall time and peak resident memory. Targets (issue 6):
wall time within 2.5x of the scan, peak RSS ≤ 1 GiB, and completion under --memory-limit 256MB.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PY = sys.executable
BUCKET = shutil.which("bucket", path=str(Path(PY).parent)) or "bucket"
SCAN = (
    'import duckdb, sys; print(duckdb.sql("SELECT count(*), count(DISTINCT customer_id), '
    'sum(amount) FROM read_csv(\'" + sys.argv[1] + "\')").fetchall())'
)
# The least an exact derivation has to do: put each customer's purchases in date order (ids as
# text, since "007" and "7" are two customers), here with one LAG and nothing else. Printed as a
# reference, so the gap between it and `bucket ledger` is the cost of what the ledger adds.
FLOOR = (
    'import duckdb, sys; print(duckdb.sql("SELECT count(*) FROM (SELECT LAG(date) OVER '
    "(PARTITION BY customer_id ORDER BY date) AS p FROM read_csv('\" + sys.argv[1] + "
    "\"', types = {'customer_id': 'VARCHAR'})) WHERE p IS NULL\").fetchall())"
)


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MiB) from GNU time."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-500:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss
    parts = [float(x) for x in wall.group(1).split(":")]
    seconds = (
        parts[-1]
        + 60 * (parts[-2] if len(parts) > 1 else 0)
        + 3600 * (parts[-3] if len(parts) > 2 else 0)
    )
    return seconds, int(rss.group(1)) / 1024


def throughput(runs: int) -> None:
    """Rows per second of `bucket ledger` as a whole process: the embedded engine on 1 M and
    10 M rows, and Spark in local mode on 1 M (its fixed start-up cost shows)."""
    with tempfile.TemporaryDirectory() as tmp:
        for rows, engines in ((1_000_000, ("duckdb", "spark")), (10_000_000, ("duckdb",))):
            folder = Path(tmp) / str(rows)
            subprocess.run(
                [BUCKET, "example", str(folder), "--transactions", "--rows", str(rows)],
                check=True,
                capture_output=True,
            )
            tx = folder / "transactions.csv"
            for engine in engines:
                cmd = [
                    BUCKET,
                    "ledger",
                    "--transactions",
                    str(tx),
                    "--engine",
                    engine,
                    "-q",
                    "-o",
                    str(folder / f"{engine}.csv"),
                ]
                walls = [timed(cmd)[0] for _ in range(runs)]
                wall = statistics.median(walls)
                print(
                    f"{engine:7} {rows:>11,} rows  {wall:6.2f} s  {rows / wall:>11,.0f} rows/s "
                    f"(median of {runs})"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--throughput",
        action="store_true",
        help="rows per second of the embedded engine and of Spark (local mode)",
    )
    args = parser.parse_args()
    if args.throughput:
        throughput(args.runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gen_s, _ = timed(
            [BUCKET, "example", str(folder), "--transactions", "--rows", str(args.rows)]
        )
        tx = folder / "transactions.csv"
        size = tx.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows ({size:,.0f} MiB) in {gen_s:.1f} s")
        cases = {
            "bare DuckDB scan": [PY, "-c", SCAN, str(tx)],
            "reference: per-customer LAG only": [PY, "-c", FLOOR, str(tx)],
            "bucket ledger": [
                BUCKET,
                "ledger",
                "--transactions",
                str(tx),
                "-o",
                str(folder / "l.csv"),
            ],
            "bucket ledger --memory-limit 256MB": [
                BUCKET,
                "ledger",
                "--transactions",
                str(tx),
                "--memory-limit",
                "256MB",
                "-o",
                str(folder / "m.csv"),
            ],
        }
        results = {}
        for name, cmd in cases.items():
            runs = [timed(cmd) for _ in range(args.runs)]
            results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
            print(
                f"{name:36} wall {results[name][0]:6.2f} s (median of {args.runs})   "
                f"peak {results[name][1]:7.1f} MiB"
            )
        scan = results["bare DuckDB scan"][0]
        wall, peak = results["bucket ledger"]
        print()
        print(
            f"target: within 2.5x of the scan: {wall / scan:.2f}x "
            f"({'met' if wall / scan <= 2.5 else 'MISSED'})"
        )
        floor = results["reference: per-customer LAG only"][0]
        print(
            f"(the per-customer LAG alone is {floor / scan:.2f}x of the scan; "
            f"bucket ledger is {wall / floor:.2f}x of it)"
        )
        print(f"target: peak RSS <= 1 GiB: {peak:,.0f} MiB ({'met' if peak <= 1024 else 'MISSED'})")
        print(
            f"--memory-limit 256MB finished in {results['bucket ledger --memory-limit 256MB'][0]:.2f} s, "
            f"peak {results['bucket ledger --memory-limit 256MB'][1]:,.0f} MiB"
        )


if __name__ == "__main__":
    main()

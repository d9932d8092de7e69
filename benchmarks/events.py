"""Event files at scale: `bucket ledger` on generated transactions, as whole processes.

    python benchmarks/events.py                  # 10 M rows: bare scan, per-customer LAG, ledger
    python benchmarks/events.py --rows 2000000 --runs 5
    python benchmarks/events.py --memory --rows 2000000 10000000 20000000
                                                 # the default memory cap against none
    python benchmarks/events.py --order          # input sorted by customer vs by date, CSV and Parquet
    python benchmarks/events.py --against /tmp/old/bin/python
                                                 # another interpreter (another DuckDB): time, bytes
    python benchmarks/events.py --throughput     # rows/s: embedded on 1 M and 10 M, Spark on 1 M

The transactions come from `bucket example --transactions` (about 2.6 M customers per 10 M
rows, 24 months, 5 channels) in a temporary folder, never in the repository, and are then
sorted by date, as real exports are: the generator writes each customer's purchases together,
which flatters the ledger (--order measures by how much). The cases run interleaved, in one
order then the reverse (A B C, C B A, ...), so a change of load on the machine falls on every
case alike. Each line gives the median wall and CPU seconds, the highest peak resident memory
(ru_maxrss of the child process, from os.wait4) and the median of the per-round ratios to the
first case. Targets (issue 6, issue 18): peak ≤ 1 GiB at any size, wall time within 2.5x of the
bare scan.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
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
# The generated file re-ordered by date (within a day in an order unrelated to the customer),
# and with --parquet the same rows as Parquet, in the generator's order and by date.
SORT = """
import duckdb, sys
src, folder, parquet = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
con = duckdb.connect(config={"temp_directory": folder + "/spill"})
con.execute("SET enable_progress_bar = false")
by_date = "ORDER BY date, hash(customer_id, amount)"
text = f"read_csv('{src}', all_varchar = true)"
con.execute(f"COPY (FROM {text} {by_date}) TO '{folder}/by_date.csv' (HEADER)")
if parquet:
    typed = f"read_csv('{src}', types = {{'customer_id': 'VARCHAR', 'amount': 'DECIMAL(18, 2)'}})"
    con.execute(f"COPY (FROM {typed}) TO '{folder}/by_customer.parquet' (FORMAT parquet)")
    con.execute(f"COPY (FROM {typed} {by_date}) TO '{folder}/by_date.parquet' (FORMAT parquet)")
"""

Run = tuple[float, float, float]  # wall s, CPU s, peak MiB


def measure(cmd: list[str]) -> Run:
    """One whole process: (wall seconds, user + system CPU seconds, peak resident MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux: KiB


def interleaved(cases: dict[str, list[str]], runs: int) -> dict[str, list[Run]]:
    """Each case ``runs`` times, one round after another, every other round in reverse."""
    results: dict[str, list[Run]] = {name: [] for name in cases}
    for r in range(runs):
        order = list(cases) if r % 2 == 0 else list(reversed(cases))
        for name in order:
            results[name].append(measure(cases[name]))
    return results


def ratio(results: dict[str, list[Run]], case: str, base: str, what: int = 0) -> float:
    """The median of the per-round ratios case / base (0: wall time, 1: CPU time)."""
    return statistics.median(a[what] / b[what] for a, b in zip(results[case], results[base]))


def report(results: dict[str, list[Run]], width: int = 38) -> None:
    base = next(iter(results))
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        vs = "" if name == base else f"   x{ratio(results, name, base):.2f} wall"
        vs += "" if name == base else f", x{ratio(results, name, base, 1):.2f} CPU"
        print(f"  {name:{width}} {wall:6.2f} s  CPU {cpu:6.2f} s  peak {peak:6,.0f} MiB{vs}")
    print(f"  (medians of {len(runs)} interleaved runs; ratios to {base!r}, per round)")


def generate(rows: int, folder: Path, parquet: bool = False) -> Path:
    """The generated transactions, sorted by date (folder/by_date.csv); with ``parquet`` also
    folder/by_customer.parquet and folder/by_date.parquet. Returns the date-ordered CSV."""
    start = time.perf_counter()
    subprocess.run(
        [PY, "-m", "bucket", "example", str(folder), "--transactions", "--rows", str(rows)],
        check=True,
        capture_output=True,
    )
    src = folder / "transactions.csv"
    subprocess.run([PY, "-c", SORT, str(src), str(folder), "1" if parquet else "0"], check=True)
    size = src.stat().st_size / 2**20
    took = time.perf_counter() - start
    print(f"{rows:,} rows ({size:,.0f} MiB of CSV), generated and sorted by date in {took:.0f} s")
    return folder / "by_date.csv"


def ledger(events: Path, out: Path, python: str = PY) -> list[str]:
    return [python, "-m", "bucket", "ledger", "--transactions", str(events), "-q", "-o", str(out)]


def same_bytes(*paths: Path) -> str:
    return "identical" if all(filecmp.cmp(paths[0], p, shallow=False) for p in paths) else "DIFFER"


def headline(rows: int, runs: int) -> None:
    """The ledger against a bare scan and the per-customer LAG, and under a 256MB cap."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tx = generate(rows, folder)
        cases = {
            "bare DuckDB scan": [PY, "-c", SCAN, str(tx)],
            "reference: per-customer LAG only": [PY, "-c", FLOOR, str(tx)],
            "bucket ledger": ledger(tx, folder / "l.csv"),
            "bucket ledger --memory-limit 256MB": [
                *ledger(tx, folder / "m.csv"),
                "--memory-limit",
                "256MB",
            ],
        }
        results = interleaved(cases, runs)
        report(results)
        scan = ratio(results, "bucket ledger", "bare DuckDB scan")
        floor = ratio(results, "reference: per-customer LAG only", "bare DuckDB scan")
        peak = max(r[2] for r in results["bucket ledger"])
        print(
            f"target: within 2.5x of the scan: {scan:.2f}x ({'met' if scan <= 2.5 else 'MISSED'})"
        )
        print(f"(the per-customer LAG alone is {floor:.2f}x of the scan)")
        print(f"target: peak RSS <= 1 GiB: {peak:,.0f} MiB ({'met' if peak <= 1024 else 'MISSED'})")
        print(f"output under 256MB: {same_bytes(folder / 'l.csv', folder / 'm.csv')}")


def memory(sizes: list[int], runs: int) -> None:
    """Per size: the ledger under its default cap (768MB) and with none (a cap of 1TB)."""
    table = []
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            tx = generate(rows, folder)
            cases = {
                "no cap (--memory-limit 1TB)": [
                    *ledger(tx, folder / "free.csv"),
                    "--memory-limit",
                    "1TB",
                ],
                "default cap (768MB)": ledger(tx, folder / "capped.csv"),
            }
            results = interleaved(cases, runs)
            report(results)
            same = same_bytes(folder / "free.csv", folder / "capped.csv")
            table.append((rows, results, same))
    print("\n     rows   no cap: peak MiB    s   capped: peak MiB    s   wall  CPU   output")
    for rows, results, same in table:
        (free, capped) = (results[name] for name in results)
        cells = [
            f"{max(r[2] for r in runs):8,.0f} {statistics.median(r[0] for r in runs):6.2f}"
            for runs in (free, capped)
        ]
        names = list(results)
        wall, cpu = (ratio(results, names[1], names[0], what) for what in (0, 1))
        print(f"{rows:>11,}   {cells[0]}         {cells[1]}   x{wall:.2f} x{cpu:.2f}  {same}")


def order(rows: int, runs: int) -> None:
    """The same purchases sorted by customer (the generator's order) and by date."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(rows, folder, parquet=True)
        files = {
            "CSV by date": folder / "by_date.csv",
            "CSV by customer": folder / "transactions.csv",
            "Parquet by date": folder / "by_date.parquet",
            "Parquet by customer": folder / "by_customer.parquet",
        }
        outs = {name: folder / f"{i}.out.csv" for i, name in enumerate(files)}
        results = interleaved({n: ledger(f, outs[n]) for n, f in files.items()}, runs)
        report(results)
        for kind in ("CSV", "Parquet"):
            a, b = f"{kind} by customer", f"{kind} by date"
            print(
                f"{kind}: sorted by customer takes x{ratio(results, a, b):.2f} the wall time "
                f"(x{ratio(results, a, b, 1):.2f} CPU) of sorted by date"
            )
        print(f"output: {same_bytes(*outs.values())} for all four")


def against(python: str, rows: int, runs: int) -> None:
    """This interpreter's bucket ledger against another's (another DuckDB), same code."""
    version = "import duckdb; print(duckdb.__version__)"
    ours, theirs = (
        subprocess.run(
            [p, "-c", version], capture_output=True, text=True, check=True
        ).stdout.strip()
        for p in (PY, python)
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tx = generate(rows, folder)
        cases = {
            f"DuckDB {ours} ({PY})": ledger(tx, folder / "ours.csv"),
            f"DuckDB {theirs} ({python})": ledger(tx, folder / "theirs.csv", python=python),
        }
        results = interleaved(cases, runs)
        report(results, width=60)
        print(f"output: {same_bytes(folder / 'ours.csv', folder / 'theirs.csv')}")


def throughput(runs: int) -> None:
    """Rows per second of `bucket ledger` as a whole process: the embedded engine on 1 M and
    10 M rows, and Spark in local mode on 1 M (its fixed start-up cost shows)."""
    with tempfile.TemporaryDirectory() as tmp:
        for rows, engines in ((1_000_000, ("duckdb", "spark")), (10_000_000, ("duckdb",))):
            folder = Path(tmp) / str(rows)
            tx = generate(rows, folder)
            cases = {e: [*ledger(tx, folder / f"{e}.csv"), "--engine", e] for e in engines}
            results = interleaved(cases, runs)
            for engine, got in results.items():
                wall = statistics.median(r[0] for r in got)
                print(f"  {engine:7} {rows:>11,} rows  {wall:6.2f} s  {rows / wall:>11,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--runs", type=int, default=3)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--memory", action="store_true", help="the default cap against none")
    mode.add_argument("--order", action="store_true", help="sorted by customer vs by date")
    mode.add_argument("--against", metavar="PYTHON", help="another interpreter with bucket")
    mode.add_argument("--throughput", action="store_true", help="rows/s, embedded and Spark")
    args = parser.parse_args()
    if args.memory:
        memory(args.rows, args.runs)
    elif args.order:
        order(args.rows[0], args.runs)
    elif args.against:
        against(args.against, args.rows[0], args.runs)
    elif args.throughput:
        throughput(args.runs)
    else:
        headline(args.rows[0], args.runs)


if __name__ == "__main__":
    main()

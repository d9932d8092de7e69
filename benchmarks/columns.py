"""Wide headers: `bucket validate` on files with thousands (or millions) of unknown columns.

    python benchmarks/columns.py                  # every case, 3 runs each, 120 s timeout
    python benchmarks/columns.py --runs 1 --timeout 900

The files are generated in a temporary folder, never in the repository:

* 5,000 unknown columns and none of bucket's (every required column is missing);
* the same beside period, new_customers, churned_customers and a typo (custmers_start);
* one line of about 50 MB: a header of about 2.2 million unknown columns and no data;
* one line of about 50 MB that is a single column name.

Each `bucket validate` runs as a whole process (exit 1 is expected: the files are invalid);
wall time is the median of the runs, peak memory the child's maximum resident set size, and
the length of stderr shows the messages stay capped. A run past the timeout is killed and
reported as such. Target (issue "bounded work"): each case well under the timeout, the
search for a missing column's nearest header bounded however wide the file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
BUCKET = shutil.which("bucket", path=str(Path(PY).parent)) or "bucket"


def unknown(n: int) -> str:
    return ",".join(f"unknown_column_{i:07d}" for i in range(n))


def cases(folder: Path, write: bool) -> dict[str, Path]:
    """name → file; written only with ``write``, which the benchmark asks of a process of its
    own (a child forked from a parent that built 50 MB of text would count it in its peak)."""
    wide, ones = unknown(5000), ",".join("1" * 5000)
    files = {
        "5,000 unknown columns": lambda: f"{wide}\n{ones}\n",
        "5,000 unknown + a typo": lambda: (
            f"period,new_customers,custmers_start,churned_customers,{wide}\n2025-01,1,10,1,{ones}\n"
        ),
        "50 MB line, 2.2 M columns": lambda: unknown(50_000_000 // 23) + "\n",
        "50 MB line, one name": lambda: "customers_" * 5_000_000 + "\n",
    }
    out = {}
    for i, (name, text) in enumerate(files.items()):
        out[name] = folder / f"case{i}.csv"
        if write:
            out[name].write_text(text(), encoding="utf-8")
    return out


def run_once(cmd: list[str], timeout: float) -> tuple[float | None, float, int]:
    """(wall seconds, or None when killed at the timeout; peak MiB; bytes written to stderr)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        while True:  # poll with wait4, which also gives the child's peak memory
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return None, usage.ru_maxrss / 1024, 0
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
        return wall, usage.ru_maxrss / 1024, err.seek(0, os.SEEK_END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--write-cases", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_cases:
        cases(args.write_cases, write=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([PY, __file__, "--write-cases", tmp], check=True)
        for name, path in cases(Path(tmp), write=False).items():
            size = path.stat().st_size / 1e6
            walls: list[float] = []
            peak, err_bytes = 0.0, 0
            for _ in range(args.runs):
                wall, mib, err_bytes = run_once([BUCKET, "validate", str(path)], args.timeout)
                peak = max(peak, mib)
                if wall is None:
                    print(f"{name:28} {size:6.1f} MB  over {args.timeout:.0f} s (killed)")
                    break
                walls.append(wall)
            else:
                print(
                    f"{name:28} {size:6.1f} MB  {statistics.median(walls):7.2f} s  "
                    f"peak {peak:6.0f} MiB  stderr {err_bytes:,} bytes"
                )


if __name__ == "__main__":
    main()

"""Spark Connect (`--spark-remote`): the event query on a Spark Connect server gives the
embedded engine's ledger. Its own file, so the test runner can put it beside the other engine
tests (test_engines.py) rather than after them: the server takes about 15 s to start.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.conftest import free_port, invoke, unavailable

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("events")
    assert invoke("example", str(folder), "--transactions", "--rows", "6000").exit_code == 0
    return {"tx": folder / "transactions.csv"}


@pytest.fixture(scope="module")
def spark_connect():
    """A Spark Connect server (the script PySpark ships), local[2], on a loopback port."""
    import sys
    import tempfile

    try:
        import pyspark
        from pyspark.sql.connect import session  # noqa: F401  (the client's own dependencies)
    except ImportError:
        unavailable("PySpark with Spark Connect (pip install 'pyspark[connect]')")
    home = Path(pyspark.__file__).parent
    port = free_port()
    logs = tempfile.mkdtemp(prefix="bucket-connect-")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": logs,
        "SPARK_PID_DIR": logs,
        "SPARK_IDENT_STRING": f"bucket{port}",
        "PYSPARK_PYTHON": sys.executable,
    }
    subprocess.run(
        [
            "bash",
            str(home / "sbin" / "start-connect-server.sh"),
            "--master",
            "local[2]",
            "--conf",
            f"spark.connect.grpc.binding.port={port}",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"Spark Connect did not start; see {logs}")
            time.sleep(0.5)
    try:
        yield f"sc://127.0.0.1:{port}"
    finally:
        subprocess.run(
            ["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env, capture_output=True
        )
        shutil.rmtree(logs, ignore_errors=True)


def test_spark_connect_gives_the_embedded_ledger(spark_connect, events, tmp_path):
    """--spark-remote: the query runs on a Spark Connect server (a separate process here, so
    the client session does not meet the local one of the other tests)."""
    import sys

    out = tmp_path / "remote.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bucket",
            "ledger",
            "--transactions",
            str(events["tx"]),
            "--engine",
            "spark",
            "--spark-remote",
            spark_connect,
            "-o",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    local = invoke("ledger", "--transactions", str(events["tx"]), "-q")
    assert out.read_text() == local.stdout

"""One query, many engines: the transpiled event SQL gives the embedded engine's ledger and cohorts
on a real PostgreSQL server, on Spark in local mode and on a Spark Connect server, and
`ledger --print-sql` pastes into each.

The PostgreSQL server is started by the test on a loopback port (Debian's `postgresql` package;
`.ci/run` installs it when missing); Spark runs in local mode (PySpark from PyPI, Java 17), and
its JVM also serves Spark Connect on a loopback port (Spark's own SparkConnectPlugin, as
`pyspark --remote local` starts it), so the suite starts one JVM. The Spark tests sit in this
file, not one of their own: pytest-xdist hands out the files with the most tests first, so a
small heavy file would run last, alone.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.conftest import ENGINES_REQUIRED, free_port, invoke, unavailable

from bucket.errors import InputError
from bucket.events.embedded import derive_subscriptions, derive_transactions

pytestmark = pytest.mark.slow

REQUIRE = ENGINES_REQUIRED

# edge cases worked out in test_events plus a generated month of noise: first purchase on the
# last day of a period, churn exactly at the window's end, reactivation, a gap month, ties
EDGE = """customer_id,date,amount,channel
a,2024-01-31,10.00,search
a,2024-02-15,5.50,social
b,2024-01-05,20.00,social
b,2024-04-04,1.00,search
c,2024-01-10,7.25,search
c,2024-05-20,3.00,search
d,2024-03-01,100.00,email
d,2024-03-01,1.00,affiliate
e,2024-02-29,9.99,search
f,2024-06-30,12.00,social
"""


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("events")
    assert invoke("example", str(folder), "--transactions", "--rows", "6000").exit_code == 0
    assert (
        invoke("example", str(folder), "--subscriptions", "--rows", "3000", "--force").exit_code
        == 0
    )
    edge = folder / "edge.csv"
    edge.write_text(EDGE)
    return {"tx": folder / "transactions.csv", "sub": folder / "subscriptions.csv", "edge": edge}


@pytest.fixture(scope="module")
def postgres():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        unavailable("PostgreSQL (apt-get install postgresql)")
    pytest.importorskip("psycopg") if not REQUIRE else __import__("psycopg")
    import tempfile

    bindir = Path(bins[-1]).parent
    # outside pytest's private (0700) temporary folders: the server's user must reach it
    home = Path(tempfile.mkdtemp(prefix="bucket-pg-"))
    data, sock = home / "data", home
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use the package's own user
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(home, "postgres")
    port = free_port()
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "bucket",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(home / "log"),
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://bucket@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


def _load(url: str, table: str, path: Path, types: dict[str, str]) -> None:
    import psycopg

    header = path.read_text().splitlines()[0].split(",")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        cols = ", ".join(f'"{h}" {types.get(h, "text")}' for h in header)
        conn.execute(f"CREATE TABLE {table} ({cols})")
        with conn.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(path.read_bytes())


# a few short queries in one JVM: the first (client) JIT compiler alone starts faster and
# spends half the CPU of the default tiered one; one GC thread
SPARK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def _connect_jar() -> bool:
    import pyspark

    return bool(glob.glob(str(Path(pyspark.__file__).parent / "jars" / "spark-connect_*.jar")))


@pytest.fixture(scope="module")
def spark_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def spark(spark_port):
    """The local session of the Spark tests; its JVM serves Spark Connect on ``spark_port``."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("PySpark (pip install 'bucket-planner[spark]')")
    if shutil.which("java") is None:
        unavailable("Java")
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("bucket-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", SPARK_JVM)
    )
    if _connect_jar():  # Spark 4 ships the server; without it, the Connect test says so
        builder = (
            builder.config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
            .config("spark.connect.grpc.binding.address", "127.0.0.1")
            .config("spark.connect.grpc.binding.port", str(spark_port))
        )
    session = builder.getOrCreate()
    yield session
    session.stop()


TX_TYPES = {"date": "date", "amount": "numeric(18, 2)"}
SUB_TYPES = {"start": "date", "end": "date", "mrr": "numeric(18, 2)"}


@pytest.mark.parametrize("name", ["edge", "tx"])
def test_postgres_gives_the_embedded_ledger_and_cohorts(postgres, events, name):
    from bucket.events.remote import derive_remote

    _load(postgres, "orders", events[name], TX_TYPES)
    ours = derive_transactions(str(events[name]))
    theirs = derive_remote("transactions", postgres, table="orders")
    assert theirs.rows == ours.rows
    assert theirs.cohorts_rows == ours.cohorts_rows
    assert len(ours.rows) > 3


def test_postgres_subscriptions(postgres, events):
    from bucket.events.remote import derive_remote

    _load(postgres, "subs", events["sub"], SUB_TYPES)
    ours = derive_subscriptions(str(events["sub"]))
    theirs = derive_remote("subscriptions", postgres, table="subs")
    assert theirs.rows == ours.rows
    assert theirs.cohorts_rows == ours.cohorts_rows


def test_postgres_subscriptions_are_checked_like_the_embedded_ones(postgres, tmp_path):
    """The embedded path refuses subscriptions that end before they start and warns when ends
    run far past the last start; the same table on PostgreSQL gets the same line and warning."""
    from bucket.events.remote import derive_remote

    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,start,end\na,2024-01-05,2024-03-01\nb,2024-02-10,2024-01-01\n")
    _load(postgres, "bad_subs", bad, SUB_TYPES)
    for derive in (
        lambda: derive_subscriptions(str(bad)),
        lambda: derive_remote("subscriptions", postgres, table="bad_subs"),
    ):
        with pytest.raises(InputError) as err:
            derive()
        assert err.value.problem.code == "end-before-start"
        assert "1 subscription(s) end before they start" in err.value.problem.message
    empty = tmp_path / "empty.csv"
    empty.write_text("customer_id,start,end\n")
    _load(postgres, "empty_subs", empty, SUB_TYPES)
    with pytest.raises(InputError) as err:
        derive_remote("subscriptions", postgres, table="empty_subs")
    assert (
        str(err.value) == "empty_subs: no subscriptions; export some"
    )  # a table has no rows to name
    far = tmp_path / "far.csv"
    far.write_text(
        "customer_id,start,end\na,2024-01-05,\nb,2024-02-10,2026-06-30\nc,2024-03-01,2024-05-02\n"
    )
    _load(postgres, "far_subs", far, SUB_TYPES)
    ours, theirs = (
        derive_subscriptions(str(far)),
        derive_remote("subscriptions", postgres, table="far_subs"),
    )
    assert theirs.rows == ours.rows
    assert any("well after the latest start" in w for w in ours.warnings)
    assert theirs.warnings == ours.warnings


@pytest.mark.parametrize("name", ["edge", "tx"])
def test_spark_local_gives_the_embedded_ledger_and_cohorts(spark, events, name):
    from bucket.events.remote import derive_remote

    ours = derive_transactions(str(events[name]))
    theirs = derive_remote("transactions", "spark", source=str(events[name]))
    assert theirs.rows == ours.rows
    assert theirs.cohorts_rows == ours.cohorts_rows


def test_spark_reads_parquet_like_the_embedded_engine(spark, events, tmp_path):
    import duckdb

    from bucket.events.remote import derive_remote

    pq = tmp_path / "orders.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{events['tx']}')) TO '{pq}' (FORMAT parquet)")
    ours = derive_transactions(str(events["tx"]))
    assert derive_transactions(str(pq)).rows == ours.rows  # the embedded engine reads Parquet
    theirs = derive_remote("transactions", "spark", source=str(pq))
    assert theirs.rows == ours.rows and theirs.cohorts_rows == ours.cohorts_rows


def _printed(dialect: str, events_csv: Path, *extra: str) -> str:
    first, last = _range(events_csv)
    res = invoke(
        "ledger",
        "--print-sql",
        "--dialect",
        dialect,
        "--table",
        "orders",
        "--from",
        first,
        "--to",
        last,
        *extra,
    )
    assert res.exit_code == 0, res.stderr
    return res.stdout


def _range(path: Path) -> tuple[str, str]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return min(r["date"] for r in rows)[:7], max(r["date"] for r in rows)[:7]


def _expected(path: Path) -> list[tuple]:
    """`bucket ledger` on the file, as tuples."""
    res = invoke("ledger", "--transactions", str(path), "-q")
    assert res.exit_code == 0, res.stderr
    return [
        (
            r["period"],
            r["channel"],
            int(r["customers_start"]),
            int(r["new_customers"]),
            int(r["reactivated_customers"]),
            int(r["churned_customers"]),
            int(r["customers_end"]),
            round(float(r["revenue"]), 2),
        )
        for r in csv.DictReader(res.stdout.splitlines())
    ]


def _norm(rows) -> list[tuple]:
    return [
        (str(a), str(b), int(c), int(d), int(e), int(f), int(g), round(float(h), 2))
        for a, b, c, d, e, f, g, h in rows
    ]


def test_printed_sql_runs_on_postgres(postgres, events):
    import psycopg

    _load(postgres, "orders", events["tx"], TX_TYPES)
    sql = _printed("postgres", events["tx"])
    with psycopg.connect(postgres) as conn:
        rows = conn.execute(sql).fetchall()
    # the generated file ends in a partial month: bucket ledger leaves it out, --to says where
    assert _norm(rows) == _expected(events["tx"])


def test_printed_sql_runs_on_spark(spark, events):
    spark.read.option("header", True).csv(str(events["tx"])).createOrReplaceTempView("orders")
    rows = [tuple(r) for r in spark.sql(_printed("spark", events["tx"])).collect()]
    assert _norm(rows) == _expected(events["tx"])


def test_printed_sql_runs_on_duckdb_and_plan_reads_it(events, tmp_path):
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW orders AS SELECT * FROM read_csv('{events['tx']}', all_varchar = true)"
    )
    out = tmp_path / "ledger.csv"
    con.execute(f"COPY ({_printed('duckdb', events['tx'])}) TO '{out}' (HEADER)")
    assert _norm(duckdb.sql(f"SELECT * FROM read_csv('{out}')").fetchall()) == _expected(
        events["tx"]
    )
    res = invoke("metrics", str(out), "--json")  # the round trip: a ledger bucket reads as it is
    assert res.exit_code == 0, res.stderr
    # and plans from it with the spend joined, as it plans from the events themselves
    spend = str(Path(events["tx"]).with_name("spend.csv"))
    from_table = invoke("plan", str(out), "--spend", spend, "--json", "--draws", "0")
    from_events = invoke(
        "plan", "--transactions", str(events["tx"]), "--spend", spend, "--json", "--draws", "0"
    )
    assert from_table.exit_code == 0, from_table.stderr
    a, b = json.loads(from_table.stdout), json.loads(from_events.stdout)
    assert a["recommendation"] == b["recommendation"] and a["parameters"] == b["parameters"]


@pytest.mark.parametrize(
    "dialect", ["spark", "bigquery", "snowflake", "postgres", "trino", "duckdb"]
)
def test_print_sql_every_dialect(events, dialect):
    import sqlglot

    sql = _printed(dialect, events["tx"])
    assert "WINDOW" not in sql.upper().split("--")[-1] or dialect == "duckdb"
    sqlglot.parse_one(sql, read=dialect)  # it parses back in its own dialect


def test_missing_extra_is_one_clear_line(monkeypatch, events):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("pyspark"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    res = invoke("ledger", "--transactions", str(events["edge"]), "--engine", "spark")
    assert res.exit_code == 1
    assert (
        "pip install 'bucket-planner[spark]'" in res.stderr
        and len(res.stderr.strip().splitlines()) == 1
    )


def test_cli_commands_run_on_the_engines(postgres, events):
    """bucket ledger / cohorts / plan with --engine print what they print from the file (Spark
    through the CLI: the Spark Connect test)."""
    _load(postgres, "orders", events["tx"], TX_TYPES)
    spend = str(Path(events["tx"]).with_name("spend.csv"))
    local = invoke("ledger", "--transactions", str(events["tx"]), "-q")
    on_pg = invoke("ledger", "--engine", postgres, "--table", "orders", "-q")
    assert local.exit_code == on_pg.exit_code == 0, on_pg.stderr
    assert local.stdout == on_pg.stdout
    c_local = invoke("cohorts", "--transactions", str(events["tx"]), "--json")
    c_pg = invoke("cohorts", "--engine", postgres, "--table", "orders", "--json")
    assert c_pg.exit_code == 0, c_pg.stderr
    a, b = json.loads(c_local.stdout), json.loads(c_pg.stdout)
    assert a["cohorts"] == b["cohorts"] and a["fit"] == b["fit"]
    p_local = invoke(
        "plan", "--transactions", str(events["tx"]), "--spend", spend, "--json", "--draws", "0"
    )
    p_pg = invoke(
        "plan",
        "--engine",
        postgres,
        "--table",
        "orders",
        "--spend",
        spend,
        "--json",
        "--draws",
        "0",
    )
    assert p_pg.exit_code == 0, p_pg.stderr
    assert json.loads(p_pg.stdout)["recommendation"] == json.loads(p_local.stdout)["recommendation"]


def test_engine_errors_are_one_line(postgres):
    res = invoke("ledger", "--engine", postgres, "--table", "no_such_table")
    assert res.exit_code == 1 and res.stderr.startswith("Error: ")
    assert len(res.stderr.strip().splitlines()) == 1
    res = invoke("ledger", "--engine", "postgresql://nobody@127.0.0.1:1/x", "--table", "t")
    assert res.exit_code == 1 and "cannot connect" in res.stderr


def test_printed_sql_from_a_later_start_carries_the_earlier_customers(events):
    """--from after the first event: customers acquired before it are in customers_start."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW orders AS SELECT * FROM read_csv('{events['tx']}', all_varchar = true)"
    )
    first, last = _range(events["tx"])
    later = f"{int(first[:4]) + 1}-01"
    res = invoke("ledger", "--print-sql", "--table", "orders", "--from", later, "--to", last)
    assert res.exit_code == 0, res.stderr
    want = [r for r in _expected(events["tx"]) if later <= r[0] <= last]
    assert _norm(con.execute(res.stdout).fetchall()) == want
    assert want[0][2] > 0  # a real customers_start, not zero


def test_map_names_the_engine_columns(postgres, events):
    from bucket.events.remote import derive_remote

    renamed = events["edge"].with_name("renamed.csv")
    renamed.write_text(EDGE.replace("customer_id,date,amount,channel", "who,when_,paid,src"))
    _load(postgres, "renamed", renamed, {"when_": "date", "paid": "numeric(18, 2)"})
    mapping = {"customer_id": "who", "date": "when_", "amount": "paid", "channel": "src"}
    theirs = derive_remote("transactions", postgres, table="renamed", mapping=mapping)
    assert theirs.rows == derive_transactions(str(events["edge"])).rows
    no_channel = derive_remote(
        "transactions", postgres, table="renamed", mapping={**mapping, "channel": "-"}
    )
    assert {"channel"} & set(no_channel.rows[0]) == set()


@pytest.fixture(scope="module")
def spark_connect(spark, spark_port):
    """The Spark Connect server in the local session's JVM, local[2], on a loopback port."""
    try:
        from pyspark.sql.connect import session  # noqa: F401  (the client's own dependencies)
    except ImportError:
        unavailable("PySpark with Spark Connect (pip install 'pyspark[connect]')")
    if not _connect_jar():
        unavailable("the Spark Connect server (PySpark 4 ships it)")
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", spark_port), timeout=1).close()
            return f"sc://127.0.0.1:{spark_port}"
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("Spark Connect did not start")
            time.sleep(0.2)


def test_spark_connect_gives_the_embedded_ledger(spark_connect, events, tmp_path):
    """--spark-remote: the query runs on a Spark Connect server, from a separate process (the
    CLI as a user runs it, so the client session does not meet the local one of the tests)."""
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

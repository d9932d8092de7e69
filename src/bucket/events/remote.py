"""Run the event aggregation where the data lives: Spark (local or Spark Connect) or a database.

The heavy query (events → steps, ``sql.steps_query``) is transpiled to the engine's dialect and
runs there; only the steps come back (a few thousand rows). The same ledger.sql as the embedded
path then finishes them locally in DuckDB, so every engine's ledger goes through one code path
after the steps. PySpark and the PostgreSQL driver are optional extras, imported only here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bucket.errors import ConfigError, InputError, Problem
from bucket.events.columns import event_columns
from bucket.events.derived import Derived, check_subscriptions, from_steps
from bucket.events.sql import steps_query, subscription_checks_query

STEP_COLUMNS = (
    "ordinal INTEGER, channel VARCHAR, cohort INTEGER, new_customers BIGINT, "
    "reactivated_customers BIGINT, customer_step BIGINT, revenue_cents BIGINT, "
    "mrr_step_cents BIGINT, first_day DATE, last_day DATE"
)
EXTRAS = {"spark": ("pyspark", "spark"), "postgres": ("psycopg", "postgres")}  # module, extra


@dataclass
class Engine:
    dialect: str
    relation: str  # what the query reads FROM
    columns: list[str]  # of that relation
    fetch: Callable[[str], list[tuple]]
    close: Callable[[], None]
    name: str  # for messages


def _missing(module: str, extra: str) -> ConfigError:
    return ConfigError(
        f"this engine needs {module}, which is not installed",
        f"pip install 'bucket-planner[{extra}]' (in a checkout: pip install '.[{extra}]')",
    )


class _engine_logs_off:
    """PySpark and py4j log a failed query (a Java stack trace) before raising it; the error
    reaches the user once, as one line."""

    def __enter__(self):
        import logging

        self.saved = [(lg, lg.level) for lg in map(logging.getLogger, ("pyspark", "py4j"))]
        for lg, _ in self.saved:
            lg.setLevel(logging.CRITICAL + 1)

    def __exit__(self, *exc):
        for lg, level in self.saved:
            lg.setLevel(level)
        return False


def _quietly(start: Callable[[], Any], local: bool):
    """Start Spark without its JVM's start-up chatter on our stderr: the JVM inherits file
    descriptor 2 while it points at a log file (errors still reach us as Python exceptions)."""
    import contextlib
    import os
    import sys
    import tempfile
    import warnings

    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "hostname resolves to" warning
    fd, path = tempfile.mkstemp(prefix="bucket-spark-", suffix=".log")  # private, never shared
    sys.stderr.flush()
    saved = os.dup(2)
    with os.fdopen(fd, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return start()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            # the JVM keeps its descriptor to the file, which the system frees when the JVM
            # ends: nothing is left behind in the temporary folder (one file per run before)
            with contextlib.suppress(OSError):
                os.unlink(path)


def spark_engine(source: str | None, table: str | None, remote: str | None) -> Engine:
    """A Spark session (local[*], or Spark Connect at ``remote``) reading a CSV or Parquet path
    (local or on the cluster's storage) or a table."""
    import warnings

    try:
        with warnings.catch_warnings():  # pyspark frets about the pandas version on import
            warnings.simplefilter("ignore")
            from pyspark.sql import SparkSession
    except ImportError:
        raise _missing(*EXTRAS["spark"]) from None
    builder = SparkSession.builder.appName("bucket")
    if remote:
        builder = builder.remote(remote)
    else:
        builder = (
            builder.master("local[*]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.showConsoleProgress", "false")
        )
    try:
        spark = _quietly(builder.getOrCreate, remote is None)
    except ImportError:  # Spark Connect's client needs grpc and pyarrow
        raise _missing("pyspark[connect]", "spark") from None
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    if table:
        frame = spark.table(table)
    elif source is not None and source.lower().endswith(".parquet"):
        frame = spark.read.parquet(source)
    elif source is not None:
        frame = spark.read.option("header", True).csv(source)
    else:
        raise ConfigError("no events to read", "give a path, or --table NAME")
    frame.createOrReplaceTempView("bucket_events")

    def fetch(sql: str) -> list[tuple]:
        return [tuple(r) for r in spark.sql(sql).collect()]

    return Engine(
        "spark", "bucket_events", list(frame.columns), fetch, lambda: None, table or source or ""
    )


def database_engine(url: str, table: str | None) -> Engine:
    """A PostgreSQL database (``postgresql://user@host:port/db``), reading ``table``."""
    if not table:
        raise ConfigError("a database engine reads a table", "give --table NAME")
    try:
        import psycopg
    except ImportError:
        raise _missing(*EXTRAS["postgres"]) from None
    from sqlglot import exp

    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot connect to the database ({' '.join(str(exc).split())[:160]})",
            "check the --engine URL, the server and the credentials",
        ) from None
    relation = exp.to_table(table, dialect="postgres").sql(dialect="postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {relation} LIMIT 0")
            columns = [d.name for d in cur.description or []]
    except psycopg.Error as exc:
        conn.close()
        raise ConfigError(
            f"cannot read table {table} ({' '.join(str(exc).split())[:160]})",
            "check --table (schema.table) and the user's rights",
        ) from None

    def fetch(sql: str) -> list[tuple]:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    return Engine("postgres", relation, columns, fetch, conn.close, table)


def open_engine(engine: str, source: str | None, table: str | None, remote: str | None) -> Engine:
    if engine == "spark":
        return spark_engine(source, table, remote)
    if engine in ("postgres", "postgresql") or engine.startswith(("postgresql://", "postgres://")):
        url = engine if "://" in engine else "postgresql:///"
        return database_engine(url, table or source)
    raise ConfigError(
        f"unknown engine {engine!r}", "use duckdb (default), spark, or a postgresql:// URL"
    )


def _steps_rows(rows: list[tuple]) -> list[tuple]:
    """Engine rows → plain Python values (Decimal sums, Spark Rows, datetimes)."""
    out = []
    for r in rows:
        vals: list[Any] = []
        for i, v in enumerate(r):
            if v is None or i == 1:
                vals.append(v)
            elif i >= 8:
                vals.append(_date(v))
            else:
                vals.append(int(v))
        out.append(tuple(vals))
    return out


def derive_remote(
    kind: str,
    engine: str,
    *,
    source: str | None = None,
    table: str | None = None,
    frequency: str = "month",
    inactive: int = 90,
    remote: str | None = None,
    mapping: dict[str, str] | None = None,
) -> Derived:
    """Events on an engine → ledger rows and cohort counts, as ``derive_transactions`` gives."""
    import duckdb

    eng = open_engine(engine, source, table, remote)
    try:
        cols = event_columns(eng.columns, eng.name, kind, mapping)
        notes: list[str] = []
        if kind == "subscriptions":  # the embedded path's checks, run where the data is
            _, last_start, last_end, n, bad, left_out, no_id = _run(
                eng, subscription_checks_query(eng.relation, cols, eng.dialect)
            )[0]
            notes = check_subscriptions(
                n,
                bad,
                _date(last_start),
                _date(last_end),
                eng.name,
                start=cols["start"],
                left_out=left_out,
                no_id=no_id,
                customer=cols["customer_id"],
            )
        sql = steps_query(
            kind,
            frequency,
            inactive if kind == "transactions" else 0,
            eng.relation,
            cols,
            eng.dialect,
        )
        rows = _steps_rows(_run(eng, sql))
    finally:
        eng.close()
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE steps ({STEP_COLUMNS})")
    if rows:
        con.executemany("INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    derived = from_steps(con, frequency, eng.name, "channel" in cols, kind)
    derived.warnings.extend(notes)
    return derived


def _date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def _run(eng: Engine, sql: str) -> list[tuple]:
    """The engine's rows; its own error types become one line."""
    try:
        with _engine_logs_off():
            return eng.fetch(sql)
    except Exception as exc:  # the engine's own error types
        raise InputError(
            Problem(
                "error",
                "engine",
                f"the {eng.dialect} query failed: {' '.join(str(exc).split())[:200]}",
                "check the column types (dates, numbers)",
                eng.name,
            )
        ) from None

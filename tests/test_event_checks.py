"""Event inputs that are wrong in ways a file reader does not see: typed Parquet columns of the
wrong kind, events that cannot be placed, a derived ledger the other commands would refuse, and
DuckDB's own errors, each one line that names the file and the fix."""

from __future__ import annotations

import os
import tempfile

import duckdb
import pytest
from conftest import invoke

from bucket.events.embedded import derive_subscriptions, derive_transactions


def parquet(tmp_path, name: str, select: str) -> str:
    path = tmp_path / name
    duckdb.sql(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    return str(path)


def one_error(result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr and "SELECT" not in result.stderr
    return lines[0]


def test_a_boolean_amount_column_is_refused(tmp_path):
    # True was read as 1.00 of revenue
    path = parquet(
        tmp_path,
        "orders.parquet",
        "SELECT * FROM (VALUES ('a', DATE '2025-01-05', true), ('b', DATE '2025-02-28', false)) "
        "t(customer_id, date, amount)",
    )
    line = one_error(invoke("ledger", "--transactions", path))
    assert line.startswith(f"Error: {path}, column amount: the amount column holds BOOLEAN")
    assert "export it as numbers" in line


def test_a_date_column_of_integers_is_refused(tmp_path):
    path = parquet(
        tmp_path,
        "orders.parquet",
        "SELECT * FROM (VALUES ('a', 20250105, 1.5)) t(customer_id, date, amount)",
    )
    line = one_error(invoke("ledger", "--transactions", path))
    assert f"{path}, column date: the date column holds INTEGER values, not dates" in line
    assert "row 1" not in line  # was DuckDB's "LINE 1" of the SQL text


def test_parquet_with_integer_amounts_and_timestamps_is_read(tmp_path):
    path = parquet(
        tmp_path,
        "orders.parquet",
        "SELECT * FROM (VALUES ('a', TIMESTAMP '2025-01-05 10:00', 3), "
        "('b', TIMESTAMP '2025-01-31 23:00', 4)) t(customer_id, date, amount)",
    )
    result = invoke("ledger", "--transactions", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].endswith(",7.00")


def test_ledger_refuses_negative_revenue_as_every_other_command_does(write, tmp_path):
    # refunds beyond February's sales: `ledger` wrote it (exit 0), `plan` and `metrics` refused
    tx = write(
        "customer_id,date,amount,channel\na,2025-01-05,10,x\na,2025-02-05,-30,x\n"
        "b,2025-03-31,3,y\n",
        "orders.csv",
    )
    out = tmp_path / "ledger.csv"
    ledger = one_error(invoke("ledger", "--transactions", tx, "-o", str(out)))
    metrics = one_error(invoke("metrics", "--transactions", tx))
    assert ledger == metrics
    assert f"{tx}, column revenue: the revenue of 2025-02 (x) is negative (-30.00)" in ledger
    assert not out.exists()


def test_events_without_a_customer_id_or_a_date_are_counted_and_left_out(write):
    # empty and blank ids were one customer; a purchase without a date was dropped without a word
    tx = write(
        "customer_id,date,amount\na,2025-01-05,10\n,2025-01-06,5\n  ,2025-01-07,5\n"
        "b,,5\nb,2025-02-28,3\n",
        "orders.csv",
    )
    result = invoke("ledger", "--transactions", tx)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "2025-01,1,0,0,0,1,10.00"  # a only
    warnings = result.stderr.strip().splitlines()
    assert warnings == [
        f"Warning: {tx}: 2 event(s) have no customer id (the first in row 3) and are left out "
        "(10.00 of revenue): they cannot be attributed; fill them in to count them",
        f"Warning: {tx}: 1 event(s) have no date (the first in row 5) and are left out "
        "(5.00 of revenue): they cannot be attributed; fill them in to count them",
    ]


def test_parquet_null_ids_are_not_one_customer(tmp_path):
    path = parquet(
        tmp_path,
        "orders.parquet",
        "SELECT * FROM (VALUES ('a', DATE '2025-01-05', 10.0), (NULL, DATE '2025-01-06', 5.0), "
        "(NULL, DATE '2025-01-07', 5.0), ('a', DATE '2025-02-28', 5.0)) "
        "t(customer_id, date, amount)",
    )
    result = invoke("ledger", "--transactions", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "2025-01,1,0,0,0,1,10.00"
    assert "2 event(s) have no customer id (the first in row 2)" in result.stderr


def test_a_duplicate_header_is_named_not_a_column_count(write):
    tx = write("customer_id,date,amount,amount\na,2025-01-05,10,1\n", "orders.csv")
    line = one_error(invoke("ledger", "--transactions", tx))
    assert line.startswith(f"Error: {tx}, row 1, column amount: the header names amount twice")


def test_duckdb_errors_are_our_lines(write, tmp_path):
    ragged = write("customer_id,date,amount\na,2025-01-05,10\nb,2025-02-28,3,4\n", "r.csv")
    line = one_error(invoke("ledger", "--transactions", ragged))
    assert line == (
        f"Error: {ragged}, row 3: the row has 4 cells, the header 3; "
        "quote cells that hold the delimiter, or fix the row"
    )
    broken = tmp_path / "orders.parquet"
    broken.write_bytes(b"PAR1" + b"x" * 40 + b"PAR1")
    line = one_error(invoke("ledger", "--transactions", str(broken)))
    assert line == (
        f"Error: {broken}: this is not a readable Parquet file (cut short or damaged); "
        "export it again"
    )  # was "row 1" (the SQL's LINE 1) and the SQL text


def test_utf16_events_are_read(write):
    text = "customer_id,date,amount\na,2025-01-05,10\nb,2025-01-31,3\n"
    for encoding in ("utf-16", "utf-16-le"):
        result = invoke("ledger", "--transactions", write(text, "orders.csv", encoding))
        assert result.exit_code == 0, result.stderr  # was a garbled '\02\00...' is not a date
        assert result.stdout.splitlines()[1] == "2025-01,2,0,0,0,2,13.00"


def test_subscriptions_without_a_customer_id_are_left_out_not_merged(write):
    """Blank ids in subscriptions were one customer: two strangers' subscriptions became one
    spell. They are left out with a warning counting them; all left out is an error."""
    head = "customer_id,start,end,mrr\n"
    subs = write(
        head + "a,2025-01-05,,10\n,2025-01-06,2025-01-20,5\n  ,2025-01-10,,7\nb,2025-02-03,,4\n",
        "subs.csv",
    )
    result = invoke("ledger", "--subscriptions", subs)
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[1].startswith("2025-01,1,0,0,0,1,")  # a only: the two blank ids are nobody
    assert (
        f"Warning: {subs}: 2 subscription(s) have no customer id or no start date and are left "
        "out (they cannot be followed); fill them in to count them"
    ) in result.stderr
    nobody = write(head + ",2025-01-06,,5\n ,2025-02-06,,5\n", "nobody.csv")
    result = invoke("ledger", "--subscriptions", nobody)
    assert result.exit_code == 1
    assert "no subscription has a customer id" in result.stderr


def test_left_out_subscriptions_do_not_steer_the_checks(write):
    """A subscription without a customer id is left out of the checks too: one ending before it
    starts refused the whole file, one from 2019 stretched the ledger back to 2019-01."""
    subs = write(
        "customer_id,start,end,mrr\n,2019-01-15,2019-02-10,50\n,2024-03-01,2024-01-01,9\n"
        "a,2024-01-03,,50\nb,2024-01-10,2024-03-20,50\nc,2024-02-05,,50\n",
        "subs.csv",
    )
    result = invoke("ledger", "--subscriptions", subs)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("2024-01,2,")
    assert "2 subscription(s) have no customer id or no start date" in result.stderr


def spy_on_duckdb(monkeypatch, **config) -> list[tuple[str, str]]:
    """Each DuckDB connection's (memory_limit, temp_directory) as it is closed; ``config`` is
    added to every connection's (a machine with less memory: memory_limit="500MB")."""
    seen: list[tuple[str, str]] = []
    real = duckdb.connect

    class Spy:
        def __init__(self, con):
            self.con = con

        def __getattr__(self, name):
            return getattr(self.con, name)

        def close(self):
            row = self.con.execute(
                "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            ).fetchone()
            seen.append(row)
            self.con.close()

    def connect(*args, config=None, **kwargs):
        return Spy(real(*args, config={**(config or {}), **config_added}, **kwargs))

    config_added = config
    monkeypatch.setattr(duckdb, "connect", connect)
    return seen


TX = "customer_id,date,amount\na,2025-01-05,10\nb,2025-01-31,5\n"
SUBS = "customer_id,start,end\na,2025-01-05,\nb,2025-01-10,2025-02-20\n"


def test_events_are_read_under_a_memory_cap_spilling_to_a_folder_removed_after(
    write, tmp_path, monkeypatch
):
    # uncapped, the window over the purchases grew by 69 MiB per million rows (1.6 GiB at 20 M)
    monkeypatch.chdir(tmp_path)
    seen = spy_on_duckdb(monkeypatch)
    derive_transactions(write(TX, "tx.csv"))
    derive_subscriptions(write(SUBS, "subs.csv"))
    assert [limit for limit, _ in seen] == ["732.4 MiB"] * 2  # 768MB
    for _, spill in seen:
        assert os.path.basename(spill).startswith("bucket-duckdb-")
        assert os.path.dirname(spill) == tempfile.gettempdir() and not os.path.exists(spill)
    assert not (tmp_path / ".tmp").exists()  # DuckDB's own default: a folder in the cwd


def test_a_lower_default_or_a_given_memory_limit_wins(write, monkeypatch):
    seen = spy_on_duckdb(monkeypatch, memory_limit="500MB")  # a small machine or container
    tx = write(TX, "tx.csv")
    derive_transactions(tx)
    derive_transactions(tx, memory_limit="256MB")
    assert [limit for limit, _ in seen] == ["476.8 MiB", "244.1 MiB"]


def test_a_memory_limit_that_is_not_one_is_refused(write):
    line = one_error(
        invoke("ledger", "--transactions", write(TX, "tx.csv"), "--memory-limit", "lots")
    )
    assert line.endswith(
        "--memory-limit lots is not an amount of memory; give one such as 768MB or 2GB"
    )


@pytest.mark.slow
def test_a_ledger_that_spills_is_the_same_ledger(tmp_path):
    """A million purchases need about 70 MiB uncapped; under 64MB DuckDB spills to disk."""
    path = tmp_path / "tx.csv"
    duckdb.sql(
        "COPY (SELECT CAST(i * 7919 % 250000 AS VARCHAR) AS customer_id, "
        "DATE '2024-01-01' + CAST(hash(i) % 700 AS INTEGER) AS date, "
        "ROUND((hash(i + 1) % 10000) / 100.0, 2) AS amount, "
        "['a', 'b', 'c'][CAST(hash(i + 2) % 3 AS INTEGER) + 1] AS channel "
        f"FROM range(1000000) t(i) ORDER BY date) TO '{path}' (HEADER)"
    )
    free, capped = (
        derive_transactions(str(path)),
        derive_transactions(str(path), memory_limit="64MB"),
    )
    assert capped.rows == free.rows and capped.cohorts_rows == free.cohorts_rows
    assert len(free.rows) == 69 and free.warnings == capped.warnings

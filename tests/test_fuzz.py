"""The adversarial harness, kept: mutated event files (transactions and subscriptions) through
the real CLI. Whatever the cells hold, a command exits 0 or 1 (2 for usage), never 70, never
prints a traceback, and its JSON holds no NaN or Infinity (issue 14's fuzzing, as a test)."""

from __future__ import annotations

import pytest
from conftest import invoke, no_nan_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_command")]


def mostly(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    """Mostly good values, so that files get past the first check, with the odd bad one."""
    return st.sampled_from(good * 6 + bad)


IDS = mostly(
    ["a", "b", "c", "007", "7", "d", "e"], ["", " ", "\x00", "Ünï", "a,b", '"q"', "x" * 300]
)
DATES = mostly(
    ["2024-01-05", "2024-02-29", "2024-03-31", "2024-06-15", "2024-12-31", "2025-01-01",
     "2024-04-10", "2024-05-20", "2024-08-01", "2024-10-15"],
    ["", "2024-13-01", "0001-01-01", "12024-03-07", "-2024-03-07", "9999-12-31",
     "1899-12-31", "2024/03/05", "05.03.2024", "yesterday", "2024-03-05T10:00:00",
     "\u2028", "1e5"],
)  # fmt: skip
AMOUNTS = mostly(
    ["10", "0", "25.5", "3", "120"],
    ["-5", "1e400", "NaN", "inf", "", "1,5", "abc", "99999999999999999", "0.001", "true"],
)
CHANNELS = mostly(
    ["search", "social", "partners"],
    ["", "all", "Total", "Итого", "=HYPERLINK(1)", "\x1b[2J", "a\u2028b"],
)


def _file(rows: list[tuple[str, str, str, str]], header: str) -> str:
    return header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"


def _ok(res) -> None:
    assert res.exit_code in (0, 1, 2), (res.exit_code, res.stderr)
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr, res.stderr
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(rows=st.lists(st.tuples(IDS, DATES, AMOUNTS, CHANNELS), min_size=1, max_size=30))
def test_mutated_transactions(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("fuzz") / "orders.csv"
    path.write_text(_file(rows, "customer_id,date,amount,channel"), encoding="utf-8")
    for args in (("ledger",), ("metrics", "--json"), ("cohorts", "--json")):
        res = invoke(*args, "--transactions", str(path))
        _ok(res)
        if res.exit_code == 0 and "--json" in args:
            no_nan_json(res.stdout)


@SETTINGS
@given(rows=st.lists(st.tuples(IDS, DATES, DATES, AMOUNTS), min_size=1, max_size=30))
def test_mutated_subscriptions(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("fuzz") / "subs.csv"
    path.write_text(_file(rows, "customer_id,start,end,mrr"), encoding="utf-8")
    for args in (("ledger",), ("cohorts", "--json")):
        res = invoke(*args, "--subscriptions", str(path))
        _ok(res)
        if res.exit_code == 0 and "--json" in args:
            no_nan_json(res.stdout)

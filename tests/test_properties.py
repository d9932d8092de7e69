"""Arbitrary bytes and mutated ledgers through the real CLI: exit 0 or 1, never a traceback,
never NaN or Infinity in the JSON."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, invoke, no_nan_json
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_command")]


BASE = (EXAMPLES / "saas_monthly.csv").read_text().splitlines()[:10]
EU = (EXAMPLES / "saas_monthly_eu.csv").read_text().splitlines()[:7]

TRICKY = st.sampled_from(
    [
        "",
        " ",
        "-1",
        "0",
        "1e400",
        "1e-400",
        "NaN",
        "inf",
        "-inf",
        "#N/A",
        "#DIV/0!",
        "1,5",
        "1.5",
        "1.234,5",
        "1,234.5",
        "(5)",
        "$",
        "€ -",
        "12%",
        "abc",
        '"',
        '""',
        "∞",
        "Total",
        "Итого",
        "2025-13",
        "Q5 2025",
        "2025-W53",
        "9999999999999999999999",
        "0.0000001",
        "\x00",
        "\ufeff",
        ";",
        ",",
        "\t",
        "\r",
        "\n",
        "— ",
        "1'000",
        "\u00a01\u00a0000",
    ]
)
CELL = st.one_of(TRICKY, st.text(max_size=8), st.integers(-10, 10**7).map(str))


@st.composite
def mutated(draw, lines=BASE):
    delim = ";" if lines is EU else ","
    rows = [line.split(delim) for line in lines]
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["cell", "drop-cell", "dup-row", "drop-row", "swap", "blank"]))
        r = draw(st.integers(0, len(rows) - 1))
        if op == "cell" and rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(CELL)
        elif op == "drop-cell" and rows[r]:
            rows[r].pop(draw(st.integers(0, len(rows[r]) - 1)))
        elif op == "dup-row":
            rows.insert(r, list(rows[r]))
        elif op == "drop-row" and len(rows) > 1:
            rows.pop(r)
        elif op == "swap":
            s = draw(st.integers(0, len(rows) - 1))
            rows[r], rows[s] = rows[s], rows[r]
        elif op == "blank":
            rows.insert(r, [])
    text = "\n".join(delim.join(row) for row in rows) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace")


def check(data: bytes, command: str, *extra: str) -> None:
    result = invoke(command, "-", "--json", *extra, input=data)
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr, data[:300])
    assert "Traceback" not in result.stderr
    if result.exit_code == 0:
        parsed = no_nan_json(result.stdout)
        assert parsed["schema_version"]
    else:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: stdin")]
        assert errors, result.stderr
        if command == "validate":
            json.loads(result.stdout)  # the report is the result, even for a bad file
        else:
            assert result.stdout == ""


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=400))
def test_arbitrary_bytes_metrics(data):
    check(data, "metrics")


@FAST
@given(st.binary(max_size=400))
def test_arbitrary_bytes_validate(data):
    check(data, "validate")


@FAST
@given(mutated())
def test_mutated_ledger_metrics(data):
    check(data, "metrics", "--window", "3")


@FAST
@given(mutated())
def test_mutated_ledger_validate(data):
    check(data, "validate")


@FAST
@given(mutated(EU))
def test_mutated_european_ledger_metrics(data):
    check(data, "metrics")


@FAST
@given(st.text(alphabet=st.sampled_from(list("0123456789,;.-\n\"' $€%Qabc")), max_size=300))
def test_csv_like_text(text):
    check(
        (
            "period,acquisition_spend,new_customers,customers_start,churned_customers\n" + text
        ).encode(),
        "metrics",
    )


PLAN = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# found by CI: a channel first seen after the window's start (the header row moved into the
# data) counted its spend since launch, which put today's acquisition above the budget and
# left retention a negative one (churn overflowed)
LAUNCHED_LATE = b"2024-01,social,11810.00,1820.00,1266,71,2,1,5,900,40,936,43617.87,13843.37,24,24,10\n2024-01,search,20320.00,2520.00,1445,152,14,2,2,1400,47,1507,72141.59,23988.10,29,31,16\nperiod,channel,acquisition_spend,retention_spend,leads,new_customers,organic_customers,referral_customers,reactivated_customers,customers_start,churned_customers,customers_end,revenue,attributed_revenue,promoters,passives,detractors\n2024-01,partners,4110.00,790.00,136,20,0,0,1,500,19,502,25762.97,4417.60,9,11,2\n2024-02,search,17720.00,3240.00,1263,131,9,4,4,1507,58,1584,77856.03,23352.29,48,31,16\n2024-02,social,12110.00,1960.00,1714,84,2,0,2,936,43,979,45490.15,15466.23,22,16,10\n2024-02,partners,4630.00,1130.00,150,24,0,0,1,502,16,511,25113.21,5470.45,18,7,0\n2024-03,search,20310.00,3780.00,1657,162,11,1,3,1584,61,1688,75295.94,28441.47,51,32,22\n2024-03,social,11480.00,2150.00,1355,83,5,5,2,979,52,1012,49342.45,19123.80,31,26,8\n2024-03,partners,5110.00,1150.00,252,39,0,1,0,511,9,541,25411.72,8851.38,14,11,2\n"


@PLAN
@given(mutated())
@example(LAUNCHED_LATE)
def test_mutated_ledger_plan(data):
    check(data, "plan", "--horizon", "6")


@PLAN
@given(
    budget=st.one_of(st.none(), st.floats(0, 1e7)),
    horizon=st.integers(1, 60),
    phi=st.floats(0.01, 0.99),
    mu=st.floats(0.01, 0.99),
    rho=st.floats(0.05, 100),
    margin=st.floats(0.01, 1.0),
    objective=st.sampled_from(["value", "customers", "profit"]),
    capacity=st.one_of(st.none(), st.floats(1, 1e5)),
)
def test_plan_settings_never_break_the_numbers(
    budget, horizon, phi, mu, rho, margin, objective, capacity
):
    args = [
        "plan",
        str(EXAMPLES / "saas_monthly.csv"),
        "--json",
        "--draws",  # the scenarios run as with 200; fewer keep the 25 examples quick
        "40",
        "--horizon",
        str(horizon),
        "--phi",
        repr(phi),
        "--mu",
        repr(mu),
        "--rho",
        repr(rho),
        "--margin",
        repr(margin),
        "--objective",
        objective,
    ]
    if budget is not None:
        args += ["--budget", repr(budget)]
    if capacity is not None:
        args += ["--capacity", repr(capacity)]
    result = invoke(*args)
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    if result.exit_code == 0:
        plan = no_nan_json(result.stdout)
        rec = plan["recommendation"]
        assert 0.0 <= rec["acquisition_share"] <= 1.0
        assert rec["objective"] >= plan["current"]["objective"] - 1e-6 * abs(
            plan["current"]["objective"]
        )

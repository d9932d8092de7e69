"""`bucket cohorts`: reading a cohort table, the pooled fit, and its one-line errors."""

from __future__ import annotations

import pytest
from conftest import invoke, no_nan_json
from test_retention import HIGH_END, REGULAR


def table(cohorts: dict[str, list[int]]) -> str:
    rows = ["cohort,age,active"]
    for name, n in cohorts.items():
        rows += [f"{name},{age},{v}" for age, v in enumerate(n)]
    return "\n".join(rows) + "\n"


def test_cohorts_json_reproduces_the_published_fit(write):
    path = write(table({"2020-01": list(REGULAR)}))
    result = invoke("cohorts", path, "--json", "--arpu", "100", "--discount-rate", "0.1")
    assert result.exit_code == 0, result.stderr
    data = no_nan_json(result.stdout)
    assert data["fit"]["alpha"] == pytest.approx(0.704, abs=5e-4)
    assert data["fit"]["beta"] == pytest.approx(1.182, abs=5e-4)
    assert data["fit"]["better"] == "sbg"
    ages = {a["age"]: a for a in data["ages"]}
    assert ages[1]["observed_retention"] == pytest.approx(631 / 1000)
    assert ages[7]["observed_retention"] == pytest.approx(241 / 262)
    life = data["lifetime"]
    assert life["cltv_sbg"] == pytest.approx(100 * life["periods_sbg"])
    assert life["periods_sbg"] > life["periods_constant"]  # constant churn understates stayers
    assert "fits clearly better" in result.stderr


def test_pooled_fit_of_cohorts_of_different_ages(write):
    young = list(HIGH_END[:4])
    data = no_nan_json(
        invoke(
            "cohorts", write(table({"2024-03": young, "2024-01": list(HIGH_END)})), "--json"
        ).stdout
    )
    assert [c["cohort"] for c in data["cohorts"]] == ["2024-01", "2024-03"]  # chronological
    ages = {a["age"]: a for a in data["ages"]}
    assert ages[2]["observed_retention"] == pytest.approx((743 + 743) / (869 + 869))
    assert ages[5]["observed_retention"] == pytest.approx(551 / 593)  # only the old cohort


@pytest.mark.parametrize(
    "text, row, column, words",
    [
        ("cohort,age,active\n2024-01,0,100\n2024-01,2,80\n", None, "age", "no row for age 1"),
        ("cohort,age,active\n2024-01,0,100\n2024-01,0,90\n", 3, "age", "already appears on row 2"),
        ("cohort,age,active\n2024-01,0,100\n2024-01,1,8.5\n", 3, "active", "whole number"),
        ("cohort,months,active\n2024-01,0,100\n", 1, "age", "required column age not found"),
    ],
)
def test_cohort_errors(write, text, row, column, words):
    path = write(text)
    result = invoke("cohorts", path)
    assert result.exit_code == 1 and result.stdout == ""
    line = result.stderr.strip()
    assert line.startswith(
        f"Error: {path}" + (f", row {row}" if row else "") + f", column {column}:"
    )
    assert words in line and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_cohort_formats(write, fmt):
    result = invoke("cohorts", write(table({"2024-01": list(HIGH_END)})), "--format", fmt)
    assert result.exit_code == 0
    if fmt == "csv":
        assert result.stdout.splitlines()[0] == "cohort,age,active,survival"
    else:
        assert "Survival by age" in result.stdout


def test_rising_cohort_is_a_warning_and_single_ages_an_error(write):
    rising = invoke(
        "cohorts", write("cohort,age,active\n2024-01,0,100\n2024-01,1,80\n2024-01,2,90\n"), "--json"
    )
    assert rising.exit_code == 0 and "rises from 80 to 90 at age 2 (reactivations)" in rising.stderr
    single = invoke("cohorts", write("cohort,age,active\n2024-01,0,100\n", "one.csv"))
    assert (
        single.exit_code == 1
        and "no cohort has customers at age 0 and a later age" in single.stderr
    )

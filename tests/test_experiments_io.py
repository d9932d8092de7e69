"""Reading the experiments file (DESIGN §12): records, the three spellings, T, and each
input error as its exact line."""

from __future__ import annotations

import datetime as dt
import io
from statistics import NormalDist

import pytest

from bucket.errors import InputError
from bucket.io.experiments import (
    LiftTest,
    RetentionArm,
    check_channels,
    duration,
    read_experiments,
    read_experiments_text,
)

H = "test,kind,start,end,arm,customers,churned,spend_per_customer\n"
A1 = "r1,retention,2024-01-01,2024-03-31,holdout,1000,150,0\n"
A2 = "r1,retention,2024-01-01,2024-03-31,current,1000,120,2\n"
L = "test,channel,start,end,spend,incremental_spend,incremental_customers,se,scope\n"
ROBYN = "channel,liftStartDate,liftEndDate,liftAbs,spend,confidence,metric,calibration_scope\n"


def read(text: str):
    return read_experiments_text(text, "exp.csv")


def test_retention_arms_grouped_by_test():
    exp = read(
        H + A1 + A2 + "r2,retention,2024-04,2024-06,holdout,500,80,0\n"
        "r2,retention,2024-04,2024-06,stretch,500,40,8\n"
    )
    assert exp.arms[0] == RetentionArm(
        "r1", dt.date(2024, 1, 1), dt.date(2024, 3, 31), "holdout", 1000, 150, 0.0, 2
    )
    tests = exp.retention_tests()
    assert [(t.test, [a.arm for a in t.arms]) for t in tests] == [
        ("r1", ["holdout", "current"]),
        ("r2", ["holdout", "stretch"]),
    ]
    # period labels stand for their first and last day
    assert (tests[1].start, tests[1].end) == (dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    assert exp.lifts == () and exp.warnings == ()


def test_eu_numbers_and_semicolons():
    exp = read(
        "test;kind;start;end;arm;customers;churned;spend_per_customer\n"
        "r1;retention;01.01.2024;31.03.2024;holdout;1.200;150;0\n"
        "r1;retention;01.01.2024;31.03.2024;current;1.200;120;2,50\n"
    )
    assert [a.customers for a in exp.arms] == [1200, 1200]
    assert exp.arms[1].spend_per_customer == 2.5
    assert exp.arms[0].end == dt.date(2024, 3, 31)
    lift = read(
        "channel;spend;incremental_spend;incremental_customers;ci_low;ci_high;scope\n"
        "search;12.000,00 €;-12.000,00;-45,5;-60,2;-30,8;50 %\n"
    ).lifts[0]
    assert (lift.spend, lift.incremental_spend, lift.incremental_customers) == (
        12000.0,
        -12000.0,
        -45.5,
    )
    assert lift.se == pytest.approx((-30.8 + 60.2) / 3.92)
    assert lift.scope == 0.5


def test_mixed_marks_are_an_error_not_a_guess():
    with pytest.raises(InputError) as err:
        read(
            "channel;spend;incremental_spend;incremental_customers;se\n"
            "search;4.763;100;5;1\nsocial;5,308;100;5;1\n"
        )
    assert str(err.value) == (
        "exp.csv, row 3, column spend: '5,308' and '4.763' (row 2) put a different mark before "
        "three digits: one of them is a decimal, and which one would be a guess; write the "
        "numbers without thousands separators (4763, 5308 or 4.763, 5.308)"
    )


def test_ci_gives_se():
    lift = read(
        "channel,spend,incremental_spend,incremental_customers,ci_low,ci_high\n"
        "search,1000,500,20,10.2,29.8\n"
    ).lifts[0]
    assert lift.se == pytest.approx(19.6 / 3.92) == pytest.approx(5.0)
    assert lift.scope == 1.0 and lift.start is None and lift.test == "search (row 2)"


def test_se_wins_over_interval_and_confidence():
    lift = read(
        "channel,spend,incremental_spend,incremental_customers,se,ci_low,ci_high\n"
        "search,1000,500,20,4,0,100\n"
    ).lifts[0]
    assert lift.se == 4.0


def test_kind_is_inferred():
    exp = read(
        "test,start,end,arm,customers,churned,spend_per_customer,channel,spend,"
        "incremental_spend,incremental_customers,se\n"
        "r1,2024-01-01,2024-03-31,holdout,1000,150,0,,,,,\n"
        "r1,2024-01-01,2024-03-31,current,1000,120,2,,,,,\n"
        "t,,,,,,,search,1000,500,20,4\n"
    )
    assert [a.arm for a in exp.arms] == ["holdout", "current"]
    assert [t.channel for t in exp.lifts] == ["search"]


def test_stdin(monkeypatch):
    data = (H + A1 + A2).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    exp = read_experiments("-")
    assert exp.file == "stdin" and len(exp.arms) == 2


A_FILE = """\
test,kind,start,end,arm,customers,churned,spend_per_customer,channel,spend,incremental_spend,incremental_customers,se,ci_low,ci_high,scope,note
retention-q3,retention,2025-07-01,2025-09-30,holdout,450,61,0,,,,,,,,,"no retention spend for 3 months: tells how much churn the money removes today (k)"
retention-q3,retention,2025-07-01,2025-09-30,current,450,47,2.00,,,,,,,,,"today's retention spend per customer per month"
retention-q3,retention,2025-07-01,2025-09-30,stretch,450,39,8.00,,,,,,,,,"4x today's spend: tells how much churn money can remove at all (mu)"
search-boost,acquisition,2025-10-01,2025-10-31,,,,,search,19000,9500,41,,19,63,,"search spend raised by half for October; lift with its 95 % interval"
social-dark,acquisition,2025-10-01,2025-10-31,,,,,social,4200,-4200,-17,7,,,0.5,"social switched off in half the regions (scope 0.5); spend is that half's"
"""


def test_a_path(tmp_path):
    (tmp_path / "experiments.csv").write_text(A_FILE, encoding="utf-8")
    exp = read_experiments(str(tmp_path / "experiments.csv"))
    assert [a.arm for a in exp.arms] == ["holdout", "current", "stretch"]
    assert [t.test for t in exp.lifts] == ["search-boost", "social-dark"]
    assert exp.warnings == ()
    check_channels(exp, {"search", "social", "partners"})
    assert exp.retention_tests()[0].duration("month") == 3.0


def _ours(se: str, dates: tuple[str, str] | None) -> str:
    start, end = dates or ("", "")
    return (
        "channel,start,end,spend,incremental_spend,incremental_customers,se,scope\n"
        f"search,{start},{end},0,20000,80,{se},1\n"
    )


def test_robyn_and_ours_read_the_same():
    """Robyn's spend is the spend tested against a holdout: our increment over a base of 0;
    confidence 0.95 is a two-sided p of 0.05, so se = liftAbs / 1.96 (to 6 significant digits,
    all a confidence level can tell)."""
    se = f"{80 / NormalDist().inv_cdf(0.975):.6g}"
    ours = read(_ours(se, ("2024-05-01", "2024-05-31"))).lifts
    robyn = read(ROBYN + "search,2024-05-01,2024-05-31,80,20000,0.95,conversions,immediate\n")
    assert robyn.lifts == ours
    assert ours[0] == LiftTest(
        "search (row 2)",
        dt.date(2024, 5, 1),
        dt.date(2024, 5, 31),
        "search",
        0.0,
        20000.0,
        80.0,
        float(se),
        1.0,
        2,
    )


def test_pymc_and_ours_read_the_same():
    """PyMC's frame has no dates: its amounts are per model period, T = 1 ledger period."""
    ours = read(_ours("20.4", None)).lifts
    pymc = read("channel,x,delta_x,delta_y,sigma\nsearch,0,20000,80,20.4\n").lifts
    assert pymc == ours
    assert pymc[0].duration("month") == pymc[0].duration("week") == 1.0


def test_the_three_spellings_last_as_long():
    dated = read(_ours("20.4", ("2024-05-01", "2024-05-31"))).lifts[0]
    pymc = read("channel,x,delta_x,delta_y,sigma\nsearch,0,20000,80,20.4\n").lifts[0]
    assert dated.duration("month") == pymc.duration("month") == 1.0


def test_robyn_scope_number_and_robyn_with_an_se():
    robyn = read(
        "channel,liftStartDate,liftEndDate,liftAbs,spend,se,calibration_scope\n"
        "search,2024-05-01,2024-05-31,80,20000,9,0.25\n"
    ).lifts[0]
    assert (robyn.spend, robyn.incremental_spend, robyn.se, robyn.scope) == (
        0.0,
        20000.0,
        9.0,
        0.25,
    )


@pytest.mark.parametrize(
    "start, end, frequency, periods",
    [
        ("2024-01-01", "2024-03-31", "month", 3.0),
        ("2024-01-01", "2024-01-31", "month", 1.0),
        ("2024-02-01", "2024-02-15", "month", 15 / 29),
        ("2024-01-15", "2024-02-14", "month", 17 / 31 + 14 / 29),
        ("2024-01-01", "2024-12-31", "quarter", 4.0),
        ("2024-01-01", "2024-01-14", "week", 2.0),
        ("2024-01-03", "2024-01-09", "week", 1.0),
    ],
)
def test_duration_in_ledger_periods(start, end, frequency, periods):
    s, e = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    assert duration(s, e, frequency) == pytest.approx(periods, abs=1e-12)


def test_equal_arms_warn():
    exp = read(H + A1 + "r1,retention,2024-01-01,2024-03-31,current,1000,120,0\n")
    assert [w.line() for w in exp.warnings] == [
        "exp.csv, row 2, column spend_per_customer: test r1: every arm spends 0.00 per customer, "
        "so the test informs nothing; the arms must differ in retention spend per customer "
        "(a holdout spends 0)"
    ]


def test_unused_columns_warn():
    exp = read("channel,spend,incremental_spend,incremental_customers,se,geo\nsearch,1,1,1,1,DE\n")
    assert [w.code for w in exp.warnings] == ["unused-columns"]


def test_unknown_channel():
    exp = read(L + "t,serch,,,1000,500,5,2,\n")
    with pytest.raises(InputError) as err:
        check_channels(exp, {"search", "social"})
    assert str(err.value) == (
        "exp.csv, row 2, column channel: channel 'serch' is not in the ledger (its channels: "
        "search, social); did you mean 'search'? write the channel as the ledger does"
    )
    check_channels(read(L + "t,search,,,1000,500,5,2,\n"), {"search"})


ERRORS = [
    (
        "unknown-kind",
        H + "r1,churn,2024-01-01,2024-03-31,holdout,1000,150,0\n" + A2,
        "exp.csv, row 2, column kind: kind 'churn' is neither retention nor acquisition; write "
        "retention (an arm of a retention test) or acquisition (a lift test)",
    ),
    (
        "kind-cannot-be-inferred",
        "test,channel,customers,incremental_customers\nx,search,100,5\n",
        "exp.csv, row 2, column kind: cannot tell whether the row is a retention arm or an "
        "acquisition lift test; fill in kind (retention or acquisition)",
    ),
    (
        "missing-column-retention",
        "test,kind,start,end,arm,customers,spend_per_customer\n"
        "r1,retention,2024-01-01,2024-03-31,holdout,1000,0\n",
        "exp.csv, row 2, column churned: a retention row needs column churned, and the file has "
        "none (columns found: test, kind, start, end, arm, customers, spend_per_customer); add a "
        "churned column (test, arm, start, end, customers, churned, spend_per_customer for a "
        "retention row)",
    ),
    (
        "missing-column-acquisition",
        "channel,spend,incremental_customers,se\nsearch,100,5,1\n",
        "exp.csv, row 2, column incremental_spend: an acquisition row needs column "
        "incremental_spend, and the file has none (columns found: channel, spend, "
        "incremental_customers, se); add an incremental_spend column (channel, spend, "
        "incremental_spend, incremental_customers for an acquisition row)",
    ),
    (
        "non-numeric-customers",
        H + A1 + "r1,retention,2024-01-01,2024-03-31,current,lots,120,2\n",
        "exp.csv, row 3, column customers: 'lots' is not a number; write digits with an "
        "optional decimal point (this file uses '.')",
    ),
    (
        "negative-customers",
        H + A1 + "r1,retention,2024-01-01,2024-03-31,current,-1000,120,2\n",
        "exp.csv, row 3, column customers: customers is negative (-1000); fix the sign",
    ),
    (
        "fractional-customers",
        H + A1 + "r1,retention,2024-01-01,2024-03-31,current,1000.5,120,2\n",
        "exp.csv, row 3, column customers: customers is 1000.5, not a whole number of 1 or "
        "more; write the number of customers",
    ),
    (
        "churned-above-customers",
        H + A1 + "r1,retention,2024-01-01,2024-03-31,current,100,120,2\n",
        "exp.csv, row 3, column churned: churned (120) is more than customers (100); churned "
        "counts the arm's own customers lost by the end; check both cells",
    ),
    (
        "se-zero",
        L + "t,search,2024-05-01,2024-05-31,1000,500,5,0,\n",
        "exp.csv, row 2, column se: se is 0, but a standard error is above 0; enter the test's "
        "standard error, or its 95 % interval in ci_low and ci_high",
    ),
    (
        "ci-reversed",
        "channel,spend,incremental_spend,incremental_customers,ci_low,ci_high\n"
        "search,1000,500,5,9,3\n",
        "exp.csv, row 2, column ci_high: ci_high (3) is not above ci_low (9); give the 95 % "
        "interval's lower end in ci_low and its upper end in ci_high",
    ),
    (
        "no-se",
        "channel,spend,incremental_spend,incremental_customers\nsearch,1000,500,5\n",
        "exp.csv, row 2, column se: the lift has no standard error; fill in se, or ci_low and "
        "ci_high (its 95 % interval), or Robyn's confidence",
    ),
    (
        "end-before-start",
        H + A1 + "r1,retention,2024-03-31,2024-01-01,current,1000,120,2\n",
        "exp.csv, row 3, column end: the test ends (2024-01-01) before it starts (2024-03-31); "
        "swap the dates or fix the typo",
    ),
    (
        "one-date",
        L + "t,search,2024-05-01,,1000,500,5,2,\n",
        "exp.csv, row 2, column end: end is empty while the other date is given; give both "
        "dates, or neither for amounts per ledger period",
    ),
    (
        "arms-with-different-dates",
        H + A1 + "r1,retention,2024-01-01,2024-04-30,current,1000,120,2\n",
        "exp.csv, row 3, column end: test r1: arm current has end 2024-04-30, but arm holdout "
        "(row 2) has 2024-03-31; the arms of one test run over the same dates: fix the date, or "
        "give the arm its own test id",
    ),
    (
        "one-arm",
        H + A1,
        "exp.csv, row 2, column test: retention test r1 has only one arm, and a test compares "
        "two or more; add the other arms (a holdout at 0, today's spend, ...) under the same "
        "test id",
    ),
    (
        "scope-above-1",
        L + "t,search,2024-05-01,2024-05-31,1000,500,5,2,1.5\n",
        "exp.csv, row 2, column scope: scope is 1.5, but it is the share of the channel's market "
        "tested: above 0 and at most 1; write it as 0.5 or 50 % (1, or empty, for a test over "
        "the whole market)",
    ),
    (
        "scope-0",
        L + "t,search,2024-05-01,2024-05-31,1000,500,5,2,0\n",
        "exp.csv, row 2, column scope: scope is 0, but it is the share of the channel's market "
        "tested: above 0 and at most 1; write it as 0.5 or 50 % (1, or empty, for a test over "
        "the whole market)",
    ),
    (
        "duplicate-arm",
        H + A1 + A2 + "r1,retention,2024-01-01,2024-03-31,Holdout,1000,150,0\n",
        "exp.csv, row 4, column arm: test r1 already has an arm Holdout (row 2); give each arm "
        "of a test its own name",
    ),
    (
        "duplicate-test",
        L + "t,search,,,1000,500,5,2,\nt,social,,,1000,500,5,2,\n",
        "exp.csv, row 3, column test: test id t is already used on row 2; give each lift test "
        "its own id (arms of one retention test share theirs)",
    ),
    (
        "spend-below-zero",
        L + "t,search,,,1000,-1500,-5,2,\n",
        "exp.csv, row 2, column incremental_spend: incremental_spend (-1,500.00) takes spend "
        "(1,000.00) below zero; a go-dark test's increment is minus the spend it switched off, "
        "no more",
    ),
    (
        "robyn-revenue",
        ROBYN + "search,2024-05-01,2024-05-31,4000,2000,0.9,revenue,immediate\n",
        "exp.csv, row 2, column metric: metric is revenue: the lift is measured in money, and "
        "bucket needs it in new customers; export the test's incremental conversions (metric "
        "conversion) and their se",
    ),
    (
        "robyn-confidence-1",
        ROBYN + "search,2024-05-01,2024-05-31,40,2000,1,conversions,immediate\n",
        "exp.csv, row 2, column confidence: confidence is 1, but it is a level between 0 and 1, "
        "both excluded (1 − the test's p-value); write it as 0.9 or 90 %, or give se or the "
        "95 % interval instead",
    ),
    (
        "bad-date",
        H + A1 + "r1,retention,2024-13-01,2024-03-31,current,1000,120,2\n",
        "exp.csv, row 3, column start: '2024-13-01' is not a real date; write periods like "
        "2025-01, Jan 2025, 2025-Q1, 2025-W05 or a date like 2025-01-31",
    ),
    (
        "ragged-row",
        H + A1 + "r1,retention,2024-01-01\n",
        "exp.csv, row 3: the row has 3 cells but the header has 8; make every row as wide as "
        "the header (check for an unquoted delimiter)",
    ),
    (
        "no-data",
        H,
        "exp.csv, row 2: the file has a header but no data rows; add one row per retention arm "
        "or lift test",
    ),
]


@pytest.mark.parametrize("text, line", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_input_errors(text, line):
    with pytest.raises(InputError) as err:
        read(text)
    assert str(err.value) == line

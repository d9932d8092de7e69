"""A plan that reads experiments (DESIGN §12; issue 16): the sample's retention test, drawn from
the truth that generated the sample, moves μ and k to where that truth lies; a test that tells
nothing changes nothing; a bad file is one line."""

from __future__ import annotations

import csv
import math
from statistics import NormalDist

import pandas as pd
import pytest
from conftest import EXAMPLES, invoke, no_nan_json

from bucket.analysis.sample import K_RETENTION, TRUTH

LEDGER = str(EXAMPLES / "saas_monthly.csv")
TESTS = str(EXAMPLES / "experiments.csv")


def plan(*args: str) -> dict:
    res = invoke("plan", LEDGER, "--json", "--draws", "40", *args)
    assert res.exit_code == 0, res.stderr
    return no_nan_json(res.stdout)


def parameters(p: dict) -> dict:
    return {q["symbol"]: q for q in p["parameters"] if q["channel"] is None}


def test_the_samples_test_measures_the_retention_curve_near_its_truth():
    p = parameters(plan("--experiments", TESTS))
    assert p["c_min"]["source"] == "experiment" and p["k"]["source"] == "experiment"
    # the truth: each channel's pool churns c_min + (c_base − c_min)·e^(−r/2); today's churn
    # c_obs is the window's, so the share of it money can remove is 1 − c_min/c_obs with c_min
    # the pools' floor weighted by their customers in the test's quarter
    frame = pd.read_csv(LEDGER)
    q4 = frame[frame["period"] == "2025-10"].set_index("channel")["customers_start"]
    floor = sum(TRUTH[ch]["c_min"] * n for ch, n in q4.items()) / q4.sum()
    true_mu = 1 - floor / p["c_obs"]["value"]
    interval = [float(x) for x in p["c_min"]["note"].split("80 % interval ")[1][:9].split("–")]
    assert interval[0] <= true_mu <= interval[1]
    k_low, k_high = (
        float(x) for x in p["k"]["note"].split("interval ")[1].split(")")[0].split("–")
    )
    assert k_low <= K_RETENTION <= k_high


def test_each_arm_is_reported_against_the_ledger():
    res = plan("--experiments", TESTS)
    with open(TESTS, encoding="utf-8") as f:
        arms = list(csv.DictReader(f))
    assert [c["arm"] for c in res["experiments"]] == [a["arm"] for a in arms]
    for check, arm in zip(res["experiments"], arms):
        assert check["observed"] == pytest.approx(int(arm["churned"]) / int(arm["customers"]))
        assert check["z"] == pytest.approx((check["observed"] - check["ledger"]) / check["se"])
    assert plan()["experiments"] is None


def test_a_test_that_tells_nothing_changes_nothing(tmp_path):
    """One huge arm at today's spend per customer churning exactly today's rate: the curve's
    μ and k stay as the ledger and the assumptions had them, and so does the plan."""
    before = plan()
    p = parameters(before)
    frame = pd.read_csv(LEDGER)
    window = frame[frame["period"] >= before["window"]["first_period"]]
    r_obs = float(window["retention_spend"].sum() / window["customers_start"].sum())
    n = 10**6
    churned = round(n * (1 - (1 - p["c_obs"]["value"]) ** 3))
    path = tmp_path / "null.csv"
    path.write_text(
        "test,arm,start,end,customers,churned,spend_per_customer\n"
        f"null,current,2025-10,2025-12,{n},{churned},{r_obs!r}\n"
        f"null,current-too,2025-10,2025-12,{n},{churned},{r_obs!r}\n"
    )
    after = plan("--experiments", str(path))
    assert after["experiments"] is not None
    for key in ("recommendation", "parameters", "uncertainty", "headline"):
        assert after[key] == before[key], key


def test_a_bad_experiments_file_is_one_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "test,arm,start,end,customers,churned,spend_per_customer\n"
        "t,holdout,2025-10,2025-12,100,120,0\nt,current,2025-10,2025-12,100,10,1.6\n"
    )
    res = invoke("plan", LEDGER, "--experiments", str(path))
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith(f"Error: {path}, row 2") and len(res.stderr.splitlines()) == 1


def test_the_config_file_names_experiments_beside_it(tmp_path, monkeypatch):
    (tmp_path / "bucket.toml").write_text('[plan]\nexperiments = "tests.csv"\n')
    (tmp_path / "tests.csv").write_text((EXAMPLES / "experiments.csv").read_text("utf-8"))
    monkeypatch.chdir(EXAMPLES)
    res = plan("--config", str(tmp_path / "bucket.toml"))
    assert res["experiments"] == plan("--experiments", TESTS)["experiments"]
    assert math.isfinite(res["recommendation"]["value"])


def truth_lift(channel: str, period: str, factor: float) -> tuple[float, float]:
    """(spend, the true lift of spend × factor) of a sample channel in a month, from TRUTH."""
    t = TRUTH[channel]
    frame = pd.read_csv(LEDGER)
    a = float(frame[(frame["period"] == period) & (frame["channel"] == channel)].iloc[0, 2])

    def f(x: float) -> float:
        return t["M"] * (1 - math.exp(-x / (t["kappa"] * t["M"])))

    return a, f(factor * a) - f(a)


def test_lift_tests_drawn_from_the_truth_recover_the_channels(tmp_path):
    """An increment on search (+50 % for October) pins its φ with ι held at 1, and the curve
    comes out at the truth's saturation; a go-dark test on half of social measures its ι (the
    truth: every attributed customer is incremental)."""
    a, lift = truth_lift("search", "2025-10", 1.5)
    b, dark = truth_lift("social", "2025-10", 0.0)
    path = tmp_path / "lifts.csv"
    path.write_text(
        "test,channel,start,end,spend,incremental_spend,incremental_customers,se,scope\n"
        f"search-boost,search,2025-10,2025-10,{a},{a / 2},{lift:.2f},3,1\n"
        f"social-dark,social,2025-10,2025-10,{b / 2},{-b / 2},{dark / 2:.2f},3,0.5\n"
    )
    res = plan("--experiments", str(path))
    params = {(q["symbol"], q["channel"]): q for q in res["parameters"]}
    m, k = params[("M", "search")], params[("κ", "search")]
    assert m["source"] == "experiment" and "ι = 1 (all attributed customers)" in m["note"]
    assert m["value"] == pytest.approx(TRUTH["search"]["M"], rel=0.05)
    assert k["value"] == pytest.approx(TRUTH["search"]["kappa"], rel=0.10)
    iota = float(params[("M", "social")]["note"].split("ι = ")[1].split()[0])
    assert iota > 0.85 and "φ = 0.5 (assumed)" in params[("M", "social")]["note"]
    informs = {c["channel"]: c["informs"] for c in res["experiments"]}
    assert informs == {"search": ["phi"], "social": ["iota"]}
    o = params[("o", None)]
    assert o["source"] == "experiment" and o["value"] > parameters(plan())["o"]["value"]


def test_one_lift_test_in_three_spellings_gives_one_plan(tmp_path):
    """Our columns, Robyn's calibration input and PyMC-Marketing's lift-test frame for the same
    test (search from nothing to 15,000 in October won 119.6 customers, se 40; Robyn gives a
    confidence instead, the two-sided level of z = 119.6/40: 2Φ(2.99) − 1) give the same plan,
    byte for byte."""
    level = 2 * NormalDist().cdf(119.6 / 40) - 1
    spellings = [
        "channel,start,end,spend,incremental_spend,incremental_customers,se\n"
        "search,2025-10,2025-10,0,15000,119.6,40\n",
        "channel,liftStartDate,liftEndDate,spend,liftAbs,confidence\n"
        f"search,2025-10-01,2025-10-31,15000,119.6,{level!r}\n",
        "channel,x,delta_x,delta_y,sigma\nsearch,0,15000,119.6,40\n",
    ]
    path = tmp_path / "lift.csv"
    plans = []
    for text in spellings:
        path.write_text(text)
        res = invoke("plan", LEDGER, "--json", "--draws", "40", "--experiments", str(path))
        assert res.exit_code == 0, res.stderr
        plans.append(res.stdout)
    assert plans[0] == plans[1] == plans[2]
    assert no_nan_json(plans[0])["experiments"][0]["informs"] == ["iota"]


@pytest.mark.parametrize(
    ("dates", "said"),
    [
        (("2023-01", "2023-03"), "test old ended 28 months before the calibration window"),
        (("2026-03", "2026-05"), "test old started after the ledger's last period"),
    ],
)
def test_a_test_far_from_the_ledger_is_a_warning(tmp_path, dates, said):
    """The window is 2025-07 to 2025-12: a test that ended in March 2023 is 28 months before
    it, one that starts in March 2026 ran after the ledger."""
    path = tmp_path / "old.csv"
    path.write_text(
        "test,arm,start,end,customers,churned,spend_per_customer\n"
        f"old,holdout,{dates[0]},{dates[1]},600,110,0\nold,current,{dates[0]},{dates[1]},600,70,1.6\n"
    )
    assert any(said in w for w in plan("--experiments", str(path))["warnings"])


def test_experiments_from_stdin_and_not_both(tmp_path):
    text = (EXAMPLES / "experiments.csv").read_text("utf-8")
    piped = invoke("plan", LEDGER, "--json", "--draws", "40", "--experiments", "-", input=text)
    assert piped.exit_code == 0, piped.stderr
    assert no_nan_json(piped.stdout)["experiments"] == plan("--experiments", TESTS)["experiments"]
    both = invoke(
        "plan", "-", "--experiments", "-", input=(EXAMPLES / "saas_monthly.csv").read_text()
    )
    assert both.exit_code == 1 and both.stderr == (
        "Error: the ledger and --experiments both read standard input; give one of them as a file\n"
    )


def test_a_backtest_does_not_learn_from_tests_in_its_held_out_periods():
    """The sample's test ran in 2025-Q4; a backtest holding out 2025-07 to 2025-12 leaves it out
    (and says so), so it forecasts exactly as without experiments."""
    args = ("backtest", LEDGER, "--json", "--holdout", "6", "--last")
    alone = no_nan_json(invoke(*args).stdout)
    tested = no_nan_json(invoke(*args, "--experiments", TESTS).stdout)
    assert tested["mape"] == alone["mape"] and tested["periods"] == alone["periods"]
    assert any("leaves out 1 experiment(s)" in w for w in tested["warnings"])

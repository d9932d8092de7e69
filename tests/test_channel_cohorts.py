"""Cohorts per channel (DESIGN §13): each channel's survival at equal ages, the log-rank test
against scipy's, recovery of simulated churn from subscription events."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from conftest import invoke

from bucket.analysis.channel_cohorts import compare, log_rank

TRUTH = {"leaky": 0.12, "loyal": 0.05}  # monthly churn of each channel's subscribers


def test_log_rank_matches_scipy_on_censored_lifetimes():
    from scipy import stats

    rng = np.random.default_rng(1)
    ages = 12
    groups = []
    for n, churn in ((3000, 0.08), (2500, 0.11)):
        life = rng.geometric(churn, n)
        seen = rng.integers(3, ages + 1, n)  # cohorts of different ages: censored
        groups.append((np.minimum(life, seen), life <= seen))
    risk = np.array([[(t >= a).sum() for a in range(1, ages + 1)] for t, _ in groups])
    lost = np.array([[((t == a) & e).sum() for a in range(1, ages + 1)] for t, e in groups])
    chi2, df, p, _ = log_rank(risk, lost)
    data = [stats.CensoredData.right_censored(t.astype(float), ~e) for t, e in groups]
    ref = stats.logrank(*data)
    assert df == 1
    assert chi2 == pytest.approx(ref.statistic**2, rel=1e-9)
    assert p == pytest.approx(ref.pvalue, rel=1e-6)


def test_alike_channels_are_not_told_apart():
    counts = [np.array([1000.0, 900.0, 810.0, 729.0])]
    out = compare({"a": (["2025-01"], counts), "b": (["2025-01"], counts)}, "month")
    assert out is not None
    rows, test = out
    assert test.chi2 == pytest.approx(0.0, abs=1e-12) and test.p_value == pytest.approx(1.0)
    assert [r.churn for r in rows] == pytest.approx([0.1, 0.1])
    assert "alike" in test.statement


def subscriptions(seed: int, months: int = 18, per_month: int = 150) -> str:
    """Subscribers who join each month through one of two channels and leave after a geometric
    number of months (the channel's churn); those still active at the end have no end date."""
    rng = np.random.default_rng(seed)
    lines = ["customer_id,start,end,mrr,channel"]
    last = dt.date(2024, 1, 1) + dt.timedelta(days=31 * months)
    cid = 0
    for m in range(months):
        start = dt.date(2024 + m // 12, m % 12 + 1, 3)
        for channel, churn in TRUTH.items():
            for life in rng.geometric(churn, per_month):
                cid += 1
                y, mo = divmod(m + int(life), 12)
                end = dt.date(2024 + y, mo + 1, 10)
                shown = end.isoformat() if end < last else ""
                lines.append(f"c{cid},{start.isoformat()},{shown},30,{channel}")
    return "\n".join(lines) + "\n"


def test_channels_churn_recovered_from_subscription_events(write, tmp_path):
    path = write(subscriptions(3), "subs.csv")
    res = invoke("cohorts", "--subscriptions", path, "--json", "-q")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    test = out["channel_test"]
    assert test["p_value"] < 0.001 and test["df"] == 1
    by = {c["channel"]: c for c in out["channels"]}
    for channel, churn in TRUTH.items():
        c = by[channel]
        at_risk = c["lost"] / c["churn"]
        se = (churn * (1 - churn) / at_risk) ** 0.5
        assert abs(c["churn"] - churn) < 3 * se, (channel, c["churn"], churn, se)
    assert "leaky's customers churn" in test["statement"]
    # the channels' cohorts add up to the pooled ones the sBG fit and the table use
    sizes = sum(c["customers"] for c in out["channels"])
    assert sizes == pytest.approx(sum(c["size"] for c in out["cohorts"]))
    # the cohort file bucket ledger writes carries the channel, and reads back to the same
    cohorts = tmp_path / "cohorts.csv"
    made = invoke(
        "ledger",
        "--subscriptions",
        path,
        "-o",
        str(tmp_path / "l.csv"),
        "--cohorts-output",
        str(cohorts),
        "-q",
    )
    assert made.exit_code == 0, made.stderr
    assert cohorts.read_text().splitlines()[0] == "cohort,channel,age,active"
    again = json.loads(invoke("cohorts", str(cohorts), "--json", "-q").stdout)
    assert again["channel_test"] == out["channel_test"]
    assert again["channels"] == out["channels"]


def test_a_cohort_file_repeating_a_channel_age_names_it(write):
    path = write("cohort,channel,age,active\n2025-01,a,0,10\n2025-01,a,0,9\n", "c.csv")
    res = invoke("cohorts", path)
    assert res.exit_code == 1
    assert "cohort 2025-01 of channel a, age 0 already appears on row 2" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_the_readme_example_prints_what_it_shows(tmp_path, monkeypatch):
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ bucket example demo --transactions\n", 1)[1].split("```", 1)[0]
    command, _, shown = block.split("\n")[0], None, block.split("\n")[2]
    monkeypatch.chdir(tmp_path)
    assert invoke("example", "demo", "--transactions").exit_code == 0
    res = invoke(*command.removeprefix("$ bucket ").split(), "-q", env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.stderr
    printed = " ".join(res.stdout.split())
    assert shown.removesuffix(" ...") in printed

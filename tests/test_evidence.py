"""Backtest and check (DESIGN §7, §9): a model-made ledger forecasts well, a broken one does not;
check's exit codes as cron sees them."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, invoke, no_nan_json

from bucket.analysis.backtest import backtest
from bucket.io.ledger import read_ledger
from bucket.settings import load_settings

EXAMPLE = str(EXAMPLES / "saas_monthly.csv")
M, KAPPA, C_MIN, C_BASE, K = 3000.0, 90.0, 0.02, 0.06, 2.0


def model_ledger(periods: int = 24, churn_factor_after: int | None = None) -> str:
    """A ledger the model itself generates: one channel, spend and retention varying, a base of
    100,000 so that rounding to whole customers moves rates by < 0.001 %."""
    n = 100_000.0
    lines = [
        "period,acquisition_spend,retention_spend,new_customers,customers_start,"
        "churned_customers,revenue"
    ]
    for t in range(periods):
        a = 200_000 * (1 + 0.3 * math.sin(t / 2.0))
        r = 150_000 * (1 + 0.4 * math.cos(t / 3.0))
        churn = C_MIN + (C_BASE - C_MIN) * math.exp(-(r / n) / K)
        if churn_factor_after is not None and t >= churn_factor_after:
            churn *= 2.5  # a structural break: a price rise doubles and more the churn
        new = round(M * (1 - math.exp(-a / (KAPPA * M))))
        lost = round(n * churn)
        start = round(n)
        lines.append(
            f"{2023 + t // 12}-{t % 12 + 1:02d},{a:.2f},{r:.2f},{new},{start},{lost},"
            f"{start * 40:.2f}"
        )
        n = start + new - lost
    return "\n".join(lines) + "\n"


def settings(**kw):
    s, src, _ = load_settings(None, kw)
    return s, src


def test_backtest_on_a_model_made_ledger_is_accurate(write):
    # Spend varies by ±30 % and retention per customer by ±40 %, so with a 12-period window both
    # response curves are fitted, not assumed. c_min is still assumed (μ = 0.5 puts it at half
    # the observed churn, not at the true 0.02), but the fitted curve runs through the observed
    # range of spend per customer, which the holdout stays inside. Only that curve mismatch and
    # rounding remain (measured: 0.01 %, 0.13 %, 0.02 %); 0.5 %, 1 % and 0.1 % leave room for
    # platform numerics while failing on any real modelling error.
    result = backtest(read_ledger(write(model_ledger())), *settings(window=12), holdout=6)
    assert result.mape.new_customers < 0.005
    assert result.mape.churned_customers < 0.01
    assert result.mape.customers < 0.001
    assert result.verdict_level == "good" and "well" in result.verdict


def test_backtest_across_a_structural_break_says_so(write):
    result = backtest(
        read_ledger(write(model_ledger(churn_factor_after=18))), *settings(window=12), holdout=6
    )
    assert result.mape.churned_customers > 0.5  # churn rose 2.5x: the forecast misses by > 50 %
    assert result.verdict_level == "poor"
    assert "does not forecast this business well" in result.verdict


def test_backtest_json_contract():
    result = invoke("backtest", EXAMPLE, "--holdout", "4", "--json")
    assert result.exit_code == 0, result.stderr
    data = no_nan_json(result.stdout)
    assert data["holdout"] == 4 and len(data["periods"]) == 4
    assert set(data["mape"]) == {"new_customers", "churned_customers", "customers"}
    assert all(0 <= v < 1 for v in data["mape"].values())
    first = data["periods"][0]
    assert set(first) == {"period", "predicted", "actual"}


def test_backtest_holdout_too_long():
    result = invoke("backtest", EXAMPLE, "--holdout", "24")
    assert (
        result.exit_code == 1
        and "leaves 0 periods to calibrate on (the ledger has 24; a calibration needs at least 3); give a holdout between 1 and 21"
        in result.stderr
    )


def _cron(*args: str) -> subprocess.CompletedProcess:
    """Run bucket as cron does: no terminal, no stdin, NO_COLOR, a bare environment."""
    env = {"PATH": os.environ.get("PATH", ""), "NO_COLOR": "1", "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [sys.executable, "-m", "bucket", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_check_exit_codes_as_cron_sees_them(write):
    clear = _cron("check", EXAMPLE, "--max", "churn_rate=0.06", "--min", "ltv_to_cac=3")
    assert clear.returncode == 0, clear.stderr
    assert clear.stdout == "" and clear.stderr == ""  # cron mails nothing
    breached = _cron("check", EXAMPLE, "--max", "churn_rate=0.03")
    assert breached.returncode == 3
    assert "churn_rate <= 0.03" in breached.stdout and "breached" in breached.stdout
    assert "\x1b[" not in breached.stdout
    bad = _cron("check", write("period,new\n2025-01,x\n"), "--max", "churn_rate=0.03")
    assert bad.returncode == 1 and bad.stderr.startswith("Error: ") and bad.stdout == ""


def test_check_values_and_undefined_metrics(write):
    result = invoke("check", EXAMPLE, "--max", "churn_rate=0.06", "--window", "3", "--json")
    data = no_nan_json(result.stdout)
    row = data["checks"][0]
    months = read_ledger(EXAMPLE).frame
    last3 = months[months["ordinal"] >= months["ordinal"].max() - 2]
    assert row["value"] == pytest.approx(
        last3["churned_customers"].sum() / last3["customers_start"].sum()
    )
    no_revenue = write("period,spend,new,start,churned\n2025-01,100,5,100,3\n")
    undefined = invoke("check", no_revenue, "--min", "ltv_to_cac=3", "--json")
    assert undefined.exit_code == 3
    assert no_nan_json(undefined.stdout)["checks"][0]["status"] == "undefined"


def test_check_model_thresholds_and_config(tmp_path):
    cfg = tmp_path / "bucket.toml"
    cfg.write_text("[check]\nmax = { churn_rate = 0.5 }\nsplit_gap = 0.05\nmape = 0.5\n")
    result = invoke("check", EXAMPLE, "--config", str(cfg), "--json")
    data = no_nan_json(result.stdout)
    statuses = {c["key"]: c["status"] for c in data["checks"]}
    assert statuses == {"churn_rate": "ok", "split_gap": "breached", "mape": "ok"}
    assert result.exit_code == 3


def test_check_usage_errors():
    assert invoke("check", EXAMPLE).exit_code == 1  # nothing to check
    bad = invoke("check", EXAMPLE, "--max", "churn=0.1")
    assert bad.exit_code == 2 and "churn_rate" in bad.stderr


def _steady_ledger(path, months=12, shock=None):
    """A ledger with constant spend; from month ``shock`` on, customers stop arriving."""
    rows = [
        "period,acquisition_spend,retention_spend,new_customers,customers_start,"
        "churned_customers,revenue"
    ]
    n = 1000.0
    for t in range(months):
        new = 0 if shock is not None and t >= shock else 60
        churned = round(0.05 * n)
        rows.append(f"2024-{t + 1:02d},6000,2000,{new},{n:.0f},{churned},{50 * n:.0f}")
        n = n + new - churned
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_a_backtest_says_when_spend_never_moved(tmp_path):
    """DESIGN §11: replaying today's spend tests today's rates, not the response the plan rests
    on; such a verdict was 'good' and said nothing more."""
    flat = _steady_ledger(tmp_path / "flat.csv")
    res = no_nan_json(invoke("backtest", flat, "--json").stdout)
    assert res["tests_response"] is False and res["spend_moved"]["acquisition"] == 0.0
    assert res["verdict"].endswith("it cannot vouch for the plan.")
    moved = no_nan_json(invoke("backtest", EXAMPLE, "--json").stdout)
    assert moved["tests_response"] is True and moved["spend_moved"]["acquisition"] > 0.15
    assert "cannot vouch" not in moved["verdict"]
    plan = invoke("plan", flat, "--json")
    assert "the backtest of the last 3 months cannot vouch for the plan" in plan.stderr


def test_plan_backtests_itself_and_a_poor_verdict_reaches_the_headline(tmp_path):
    plan = no_nan_json(invoke("plan", EXAMPLE, "--json").stdout)
    assert plan["backtest"]["holdout"] == 3 and plan["backtest"]["verdict_level"] == "good"
    assert (
        no_nan_json(invoke("plan", EXAMPLE, "--json", "--backtest", "0").stdout)["backtest"] is None
    )
    broken = _steady_ledger(tmp_path / "broken.csv", shock=9)  # no new customers in the holdout
    plan = no_nan_json(invoke("plan", broken, "--json").stdout)
    assert plan["backtest"]["verdict_level"] == "poor"
    assert "the model forecast the last 3 months poorly (backtest)" in plan["headline"]


def test_channels_trading_places_test_their_curves(tmp_path):
    """Two channels swapping budget month by month keep the total flat, yet each channel's curve
    is tested: the move is measured per channel, weighted by spend."""
    rows = ["period,channel,acquisition_spend,new_customers,customers_start,churned_customers"]
    for t in range(12):
        a, b = (3000, 1000) if t % 2 else (1000, 3000)
        rows += [
            f"2024-{t + 1:02d},x,{a},{a // 50},500,20",
            f"2024-{t + 1:02d},y,{b},{b // 50},500,20",
        ]
    path = tmp_path / "swap.csv"
    path.write_text("\n".join(rows) + "\n")
    res = no_nan_json(invoke("backtest", str(path), "--json", "--holdout", "3").stdout)
    assert res["spend_moved"]["acquisition"] == pytest.approx(0.5)  # each channel ±50 %
    assert res["tests_response"] is True


def test_the_plans_backtest_holds_out_periods_where_spend_moved(tmp_path):
    """DESIGN §11: replaying months of unchanged spend tests nothing the plan rests on; the plan's
    own backtest takes the most recent months in which spend moved."""
    rows = [
        "period,acquisition_spend,retention_spend,new_customers,customers_start,"
        "churned_customers,revenue"
    ]
    n = 1000
    for t in range(20):
        spend = 9000 if 4 <= t <= 6 else 6000  # moved in May to July 2024 only
        new = 60 * spend // 6000
        churned = n // 20
        rows.append(f"{2024 + t // 12}-{t % 12 + 1:02d},{spend},2000,{new},{n},{churned},{50 * n}")
        n += new - churned
    path = tmp_path / "moved.csv"
    path.write_text("\n".join(rows) + "\n")
    args = ("backtest", str(path), "--json", "--holdout", "3")
    last = no_nan_json(invoke(*args, "--last").stdout)
    assert [p["period"] for p in last["periods"]] == ["2025-06", "2025-07", "2025-08"]
    assert last["tests_response"] is False  # --last keeps to the last periods
    # bucket backtest and the plan's own backtest hold out the same moved block
    alone = no_nan_json(invoke(*args).stdout)
    bt = no_nan_json(invoke("plan", str(path), "--json").stdout)["backtest"]
    assert alone["periods"] == bt["periods"] and alone["mape"] == bt["mape"]
    held = [p["period"] for p in bt["periods"]]
    assert len(held) == 3 and held[-1] < "2025-06" and bt["tests_response"] is True
    assert bt["spend_moved"]["acquisition"] >= 0.15
    assert f"the 3 months {held[0]} to {held[-1]}" in bt["verdict"]
    assert bt["calibrated_on"].endswith(f"to {_before(held[0])}")


def _before(label: str) -> str:
    year, month = map(int, label.split("-"))
    return f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"

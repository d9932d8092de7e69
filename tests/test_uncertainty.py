"""Uncertainty of the plan (DESIGN §7): ordered percentiles around the point optimum, seeds,
and the vectorised refits against SciPy's own curve fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import EXAMPLES, invoke, no_nan_json

from bucket.analysis.plan import make_plan
from bucket.io.ledger import read_ledger
from bucket.model.observe import observe
from bucket.model.uncertainty import _refit_channel
from bucket.settings import load_settings

EXAMPLE = str(EXAMPLES / "saas_monthly.csv")


def settings(**kw):
    s, src, _ = load_settings(None, kw)
    return s, src


def clean_ledger(periods: int = 12) -> str:
    """Generated from known parameters (M = 400, κ = 60; churn 0.03 + 0.04·e^(−r/3)), spend and
    retention per customer varying so that both curves are fitted, a base large enough that
    whole customers round the rates by < 0.01 %."""
    n = 50_000.0
    rows = [
        "period,acquisition_spend,retention_spend,new_customers,customers_start,"
        "churned_customers,revenue"
    ]
    for t in range(periods):
        a = 20_000 * (1 + 0.35 * math.sin(1.3 * t))
        r = n * 3.0 * (1 + 0.5 * math.cos(0.9 * t))
        churn = 0.03 + 0.04 * math.exp(-(r / n) / 3.0)
        new = round(400 * (1 - math.exp(-a / (60 * 400))))
        lost = round(n * churn)
        rows.append(f"2024-{t + 1:02d},{a:.2f},{r:.2f},{new},{round(n)},{lost},{round(n) * 30}")
        n = round(n) + new - lost
    return "\n".join(rows) + "\n"


def test_percentiles_are_ordered_and_contain_the_point_optimum(write):
    ledger = read_ledger(write(clean_ledger()))
    plan = make_plan(ledger, *settings(window=12, draws=200))
    u = plan.uncertainty
    assert u is not None and u.draws == 200
    assert u.split.p10 <= u.split.p50 <= u.split.p90
    assert u.value_recommended.p10 <= u.value_recommended.p50 <= u.value_recommended.p90
    assert u.value_current.p10 <= u.value_current.p50 <= u.value_current.p90
    point = make_plan(ledger, *settings(window=12, draws=0))
    assert point.uncertainty is None
    assert u.split.p10 <= point.recommendation.acquisition_share <= u.split.p90
    assert 0.0 <= u.share_better <= 1.0


def test_same_seed_same_json_other_seed_other_json():
    a = invoke("plan", EXAMPLE, "--json", "--seed", "7")
    b = invoke("plan", EXAMPLE, "--json", "--seed", "7")
    c = invoke("plan", EXAMPLE, "--json", "--seed", "8")
    assert a.exit_code == b.exit_code == c.exit_code == 0, a.stderr
    assert a.stdout == b.stdout
    assert a.stdout != c.stdout
    ua, uc = no_nan_json(a.stdout)["uncertainty"], no_nan_json(c.stdout)["uncertainty"]
    assert ua["seed"] == 7 and uc["seed"] == 8 and ua["split"] != uc["split"]


def test_headline_carries_the_scenarios():
    plan = no_nan_json(invoke("plan", EXAMPLE, "--json", "--draws", "50").stdout)
    share = plan["uncertainty"]["share_better"]
    assert plan["headline"].endswith(
        f"better than today in {100 * share:.0f} % of 50 scenarios (this rests on an assumed μ, "
        "how much churn money can remove; the Next test measures μ)"
    )


def test_all_assumed_headline_gives_the_interval_first(write):
    rows = ["period,spend,retention,new,start,churned,revenue"]
    rows += [f"2025-0{i},1000,300,20,1000,40,50000" for i in range(1, 4)]
    plan = no_nan_json(invoke("plan", write("\n".join(rows) + "\n"), "--json").stdout)
    assert "recommended)" in plan["headline"] and "rests on assumed" in plan["headline"]


def test_vectorised_refit_equals_scipy_curve_fit():
    # the profile (variable projection) fit of every draw equals SciPy's curve_fit on the
    # calibration window itself
    s, _ = settings()
    obs = observe(read_ledger(EXAMPLE), s)
    j, ch = next((j, c) for j, c in enumerate(obs.channels) if c.fit is not None)
    m, kappa, rel_se, ok = _refit_channel(
        obs.series["spend"][j][None, :], obs.series["paid"][j][None, :], *ch.fit[:2]
    )
    assert ok[0]
    assert m[0] == pytest.approx(ch.fit[0], rel=1e-5)
    assert kappa[0] == pytest.approx(ch.fit[1], rel=1e-5)
    assert rel_se[0] == pytest.approx(ch.fit[2], rel=1e-3)


def test_draws_zero_disables_and_target_mode_skips():
    assert (
        no_nan_json(invoke("plan", EXAMPLE, "--json", "--draws", "0").stdout)["uncertainty"] is None
    )
    target = invoke("plan", EXAMPLE, "--json", "--objective", "target", "--target-growth", "0.1")
    assert no_nan_json(target.stdout)["uncertainty"] is None


def test_plan_with_backtest():
    plan = no_nan_json(invoke("plan", EXAMPLE, "--json", "--backtest", "4", "--draws", "0").stdout)
    assert plan["backtest"]["holdout"] == 4 and plan["backtest"]["verdict_level"] in (
        "good",
        "fair",
        "poor",
    )


def test_no_nan_with_degenerate_resamples(write):
    # 3 periods, one without churn: resamples repeat a period, fits fail, everything falls back
    rows = "period,spend,retention,new,start,churned,revenue\n2025-01,1000,0,20,1000,0,50000\n"
    rows += "2025-02,1200,100,25,1020,30,51000\n2025-03,1200,100,25,1015,30,51000\n"
    result = invoke("plan", write(rows), "--json", "--draws", "300")
    assert result.exit_code == 0, result.stderr
    u = no_nan_json(result.stdout)["uncertainty"]
    assert np.isfinite([u["split"]["p10"], u["split"]["p90"]]).all()


def _scenarios(optima, today):
    """Scenario objectives on the grid: each draw's value peaks at its own optimum."""
    from bucket.model.optimize import GRID

    grid = np.array([1 - (GRID - a) ** 2 for a in optima])
    return grid, np.array([1 - (today - a) ** 2 for a in optima])


def test_the_split_is_decided_over_the_scenarios_with_the_80_percent_rule():
    from bucket.model.uncertainty import decide

    # every scenario agrees: the split with the best mean objective (the Bayes action)
    grid, cur = _scenarios([0.28, 0.30, 0.32] * 10, today=0.8)
    d = decide(grid, cur, 0.8)
    assert d.rule == "best" and d.share == pytest.approx(0.30, abs=1e-3)
    # 70 % of scenarios want 0.2, 30 % want 0.4, today 0.5: the Bayes action (0.26, each
    # scenario scaled by its own size) beats today in only 70 %; every split above 0.3 beats it
    # in all: move only that far
    grid, cur = _scenarios([0.2] * 7 + [0.4] * 3, today=0.5)
    d = decide(grid, cur, 0.5)
    assert d.best == pytest.approx(0.26, abs=2e-4)
    assert d.share_better_best == pytest.approx(0.7)
    assert d.rule == "partial" and d.share == pytest.approx(0.31, abs=1e-9)
    # half want less acquisition, half more: no move is better in 80 %: keep today's split
    grid, cur = _scenarios([0.2] * 5 + [0.8] * 5, today=0.5)
    d = decide(grid, cur, 0.5)
    assert d.rule == "keep" and d.share == 0.5
    # a scenario whose value today is near zero does not outvote the rest (it did when each was
    # divided by today's value)
    grid, cur = _scenarios([0.8] * 199 + [0.1], today=0.6)
    cur[-1], grid[-1] = 0.001, grid[-1] - (1 - 0.001 - (0.6 - 0.1) ** 2)
    d = decide(grid, cur, 0.6)
    assert d.rule == "best" and d.share == pytest.approx(0.8, abs=0.01)


def test_a_plan_never_recommends_what_its_scenarios_call_worse():
    plan = invoke("plan", str(EXAMPLE), "--json", "--mu", "0.05", "--draws", "100")
    u = no_nan_json(plan.stdout)["uncertainty"]
    assert u["rule"] in ("best", "partial", "keep")
    assert u["share_better"] >= 0.8 or u["rule"] == "keep"


def test_the_keep_headline_names_a_best_split_of_zero():
    from bucket.analysis.wording import headline
    from bucket.results.plan import Percentiles, Split, Uncertainty

    split = Split(1000.0, 0.6, 0.4, 600.0, 400.0, [], 1.0, 100.0, 10.0, 5.0, 0.0, 8.0, 2.0)
    p = Percentiles(0.0, 0.0, 0.0)
    unc = Uncertainty(200, 0, p, p, p, 0.5, 1.0, p, "keep", 0.0)
    text = headline(
        objective="value",
        horizon=12,
        frequency="month",
        current=split,
        recommended=split,
        assumed=["rho", "mu", "phi"],
        uncertainty=unc,
    )
    assert "the best on average, 0 % acquisition, is uncertain either way" in text
    assert text.endswith("(this rests on assumed ρ, μ and φ: see the break-even table)")

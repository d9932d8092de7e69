"""Tables never break a number or a word (issue 18): every command's table view, rendered at 80
and 120 columns, keeps each number of a numeric column and each word of a text column whole on
one line, stays within the width, and names the columns it had to leave out."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, invoke

from bucket.render import _view
from bucket.render.table import to_table

LEDGER = str(EXAMPLES / "saas_monthly.csv")


def results(tmp_path) -> dict[str, object]:
    """Every command's result, read back from its JSON into the result classes."""
    from pydantic import TypeAdapter

    from bucket.results.backtest import BacktestResult, CheckResult
    from bucket.results.cohorts import CohortsResult
    from bucket.results.common import MetricsResult, ValidationResult
    from bucket.results.plan import PlanResult, SimulationResult

    assert invoke("example", str(tmp_path), "--transactions", "--rows", "6000").exit_code == 0
    tx = str(tmp_path / "transactions.csv")
    runs = {
        "metrics": (MetricsResult, ["metrics", LEDGER]),
        "validate": (ValidationResult, ["validate", LEDGER]),
        "plan": (PlanResult, ["plan", LEDGER, "--draws", "50"]),
        "simulate": (SimulationResult, ["simulate", LEDGER, "--split", "0.5"]),
        "backtest": (BacktestResult, ["backtest", LEDGER]),
        "check": (CheckResult, ["check", LEDGER, "--max", "churn_rate=0.01"]),
        "cohorts": (CohortsResult, ["cohorts", "--transactions", tx]),
    }
    out = {}
    for name, (model, args) in runs.items():
        res = invoke(*args, "--json", "-q")
        assert res.exit_code in (0, 3), (name, res.stderr)
        out[name] = TypeAdapter(model).validate_python(json.loads(res.stdout))
    return out


@pytest.fixture(scope="module")
def every_result(tmp_path_factory):
    return results(tmp_path_factory.mktemp("tables"))


@pytest.mark.parametrize("width", [80, 120])
def test_no_table_splits_a_number_or_a_word(every_result, width):
    from bucket.render.views import View

    for name, result in every_result.items():
        view = _view(result)
        text = to_table(view, color=False, width=width, wrap=True)
        assert all(len(line) <= width for line in text.split("\n")), (name, width)
        for sec in view.sections:  # each alone, its note of left-out columns on one line
            lines = to_table(View([], [sec]), color=False, width=width, wrap=False).split("\n")
            dropped = next((x for x in lines if x.startswith(f"Not shown at {width}")), "")
            shown = [j for j, c in enumerate(sec.columns) if not (c and f" {c}" in dropped)]
            assert len(shown) >= 2, (name, sec.title)
            for j in shown:
                numeric = sec.numeric[j] if j < len(sec.numeric) else False
                for row in sec.rows:
                    for piece in [row[j].text] if numeric else row[j].text.split():
                        assert any(piece in line for line in lines), (name, sec.title, piece)


def test_a_table_too_wide_leaves_out_its_last_columns_and_says_so(every_result):
    view = _view(every_result["plan"])
    text = to_table(view, color=False, width=80, wrap=True)
    assert "Not shown at 80 columns: next customer worth" in text
    wide = to_table(view, color=False, width=200, wrap=True)
    assert "Not shown" not in wide and "next customer worth" in wide


def test_the_plan_first_screen_fits_80_columns_and_40_lines(every_result):
    """What a new user sees on a standard terminal: the headline, today against the
    recommendation per channel, why, how sure and what next, within one screen."""
    from bucket.render import render

    plan = every_result["plan"]
    text = render(plan, "table", width=80, wrap=True, detail=False)
    lines = text.rstrip("\n").split("\n")
    assert len(lines) <= 40, len(lines)
    assert all(len(line) <= 80 for line in lines)
    body = " ".join(text.split())
    assert plan.headline.split(":")[0] in body
    for channel in plan.recommendation.channels:
        assert f"  {channel.channel} " in text
    for part in ("Why:", "How sure:", "Next:", "--detail"):
        assert part in body
    assert "Parameters" not in text and "Projection" not in text
    full = render(plan, "table", width=80, wrap=True, detail=True)
    assert "Parameters" in full and "Projection" in full and "Why:" not in full

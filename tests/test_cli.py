"""The output contract: formats, stdout/stderr, --output, colour, schema, example, exit codes."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, invoke, no_nan_json
from pydantic import TypeAdapter

from bucket.analysis.metrics import compute_metrics
from bucket.analysis.sample import example_files
from bucket.io.ledger import read_ledger
from bucket.results.common import SCHEMA_VERSION, MetricsResult, ValidationResult

EXAMPLE = str(EXAMPLES / "saas_monthly.csv")
ANSI = re.compile(r"\x1b\[")


def test_json_equals_the_library_result():
    result = invoke("metrics", EXAMPLE, "--json")
    assert result.exit_code == 0, result.stderr
    data = no_nan_json(result.stdout)
    assert data["schema_version"] == SCHEMA_VERSION
    assert TypeAdapter(MetricsResult).validate_python(data) == compute_metrics(read_ledger(EXAMPLE))
    assert {"overall", "periods", "channels"} <= set(data)
    assert len(data["periods"]) == 24 and len(data["channels"]) == 3
    assert result.stderr == ""


def test_format_json_equals_json_flag():
    assert (
        invoke("metrics", EXAMPLE, "-f", "json").stdout
        == invoke("metrics", EXAMPLE, "--json").stdout
    )


def test_csv_format_has_a_row_per_scope():
    result = invoke("metrics", EXAMPLE, "--format", "csv", "--window", "6")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    scopes = [r["scope"] for r in rows]
    assert scopes == ["overall", "window"] + ["period"] * 24 + ["channel"] * 3
    data = no_nan_json(invoke("metrics", EXAMPLE, "--json").stdout)
    assert float(rows[0]["cac"]) == data["overall"]["cac"]  # full precision
    assert rows[1]["periods"] == "6"


def test_markdown_has_the_same_tables():
    result = invoke("metrics", EXAMPLE, "--format", "markdown")
    assert result.exit_code == 0
    text = result.stdout
    for title in ("### Key figures", "### Channels (all periods)", "### Periods"):
        assert title in text
    assert "| 2025-12 |" in text and "| search |" in text


def test_table_headline_and_no_colour_when_piped():
    result = invoke("metrics", EXAMPLE)
    assert result.exit_code == 0
    first = result.stdout.splitlines()[:3]
    assert first[0].startswith(f"{EXAMPLE}: 24 months (2024-01 to 2025-12)")
    assert first[1].startswith("CAC ") and "LTV/CAC" in first[1] and "payback" in first[1]
    assert not ANSI.search(result.stdout)
    assert all(line == line.rstrip() for line in result.stdout.splitlines())


def test_colour_only_on_a_terminal_without_no_color():
    from bucket.render import render

    res = compute_metrics(read_ledger(EXAMPLE))
    assert ANSI.search(render(res, "table", color=True))
    assert not ANSI.search(render(res, "table", color=False))


def test_output_file_is_written_and_stdout_stays_empty(tmp_path):
    out = tmp_path / "m.json"
    result = invoke("metrics", EXAMPLE, "--json", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert no_nan_json(out.read_text())["overall"]["cac"] is not None
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temp file left behind


def test_output_never_over_an_input(tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(Path(EXAMPLE).read_text())
    before = ledger.read_bytes()
    result = invoke("metrics", str(ledger), "--output", str(ledger))
    assert result.exit_code == 2
    assert "is an input file" in result.stderr
    assert ledger.read_bytes() == before


def test_nothing_written_on_error(tmp_path, write):
    out = tmp_path / "out.json"
    bad = write("period,new,start,churned\n2025-01,x,1,1\n")
    result = invoke("metrics", bad, "--json", "-o", str(out))
    assert result.exit_code == 1 and not out.exists()


def test_a_full_disk_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch):
    """Writing can fail half-way (ENOSPC): that is not a bug (exit 70) but one Error line,
    exit 1, the previous output untouched and no temporary file left behind."""
    import errno
    import os

    out = tmp_path / "m.json"
    out.write_text("previous\n")
    real_write = os.write

    def full(fd, data):  # ten bytes fit, then the disk is full
        if len(data) > 10:
            return real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    result = invoke("metrics", EXAMPLE, "--json", "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert result.stderr == (
        f"Error: {out}: cannot write (No space left on device); the file is "
        "as it was, free some space or choose another path\n"
    )
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_usage_errors_exit_2():
    assert invoke("metrics").exit_code == 2
    assert invoke("metrics", EXAMPLE, "--format", "xml").exit_code == 2
    assert invoke("metrics", EXAMPLE, "--window", "0").exit_code == 2
    assert invoke("frobnicate").exit_code == 2


def test_config_error_exits_1():
    result = invoke("metrics", EXAMPLE, "--margin", "1.5")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: margin 1.5 is outside (0, 1]; give the gross margin as a fraction, e.g. 0.7\n"
    )


def test_validate_ok_file():
    result = invoke("validate", EXAMPLE, "--json")
    assert result.exit_code == 0
    report = TypeAdapter(ValidationResult).validate_python(no_nan_json(result.stdout))
    assert report.valid and report.rows == 72 and report.periods == 24
    assert report.channels == ["partners", "search", "social"]
    # a pipe gets each sentence on one line, however narrow the machine's COLUMNS
    table = invoke("validate", EXAMPLE, env={"COLUMNS": "60"})
    assert "valid (72 rows, 24 months, 3 channels (partners, search, social))" in table.stdout
    plan = invoke("plan", EXAMPLE, "--draws", "20", env={"COLUMNS": "60"})
    first = plan.stdout.splitlines()[0]
    assert plan.exit_code == 0 and first.startswith("Shift") and first.endswith("measures μ).")


def test_schema_describes_every_json_output():
    result = invoke("schema")
    assert result.exit_code == 0
    schemas = json.loads(result.stdout)
    assert set(schemas) == {
        "metrics",
        "validate",
        "plan",
        "simulate",
        "backtest",
        "check",
        "cohorts",
        "track",
        "saved-plan",
    }
    metrics = schemas["metrics"]
    assert metrics["$schema"].startswith("https://json-schema.org/")
    assert {"schema_version", "overall", "periods", "channels"} <= set(metrics["properties"])
    row = metrics["$defs"]["MetricsRow"]["properties"]
    for key in ("cac", "cltv", "ltv_to_cac", "payback_periods", "churn_rate", "nps"):
        assert key in row
    assert json.loads(invoke("schema", "metrics").stdout) == metrics
    assert invoke("schema", "nope").exit_code == 2


def test_example_writes_the_shipped_files(tmp_path):
    result = invoke("example", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    for name in ("saas_monthly.csv", "saas_monthly_eu.csv", "experiments.csv"):
        written = (tmp_path / name).read_text(encoding="utf-8")
        assert written == (EXAMPLES / name).read_text(encoding="utf-8"), name
        assert str(tmp_path / name) in result.stdout
    again = invoke("example", str(tmp_path))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert invoke("example", str(tmp_path), "--force").exit_code == 0


@pytest.mark.parametrize("kind", ["transactions", "subscriptions"])
def test_example_events_go_through_the_writer(tmp_path, kind):
    """The events sample and its spend are rendered in the core and written by the one writer:
    what lands is exactly the rendered text, the same CSV pandas writes (dates as YYYY-MM-DD,
    empty for a missing end, nothing that needs quoting), and nothing is replaced without
    --force."""
    import pandas as pd

    from bucket.analysis.sample import csv_text, event_files, spend_name

    files = event_files(kind, 3000)
    assert invoke("example", str(tmp_path), f"--{kind}", "--rows", "3000").exit_code == 0
    for name, text in files.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
        assert frame.to_csv(index=False, lineterminator="\n") == text
    assert files[f"{kind}.csv"].startswith(
        "customer_id,date,amount,channel\n" if kind == "transactions" else "customer_id,start,end"
    )
    assert csv_text(pd.DataFrame({"a": [], "b": []})) == "a,b\n"
    spend = spend_name(kind)
    (tmp_path / spend).write_text("mine\n")
    again = invoke("example", str(tmp_path), f"--{kind}", "--rows", "3000")
    assert again.exit_code == 2 and "--force" in again.stderr
    assert (tmp_path / spend).read_text() == "mine\n"
    forced = invoke("example", str(tmp_path), f"--{kind}", "--rows", "3000", "--force")
    assert forced.exit_code == 0
    assert (tmp_path / spend).read_text(encoding="utf-8") == files[spend]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_example_to_stdout_pipes_into_metrics():
    sample = invoke("example", "--stdout")
    assert sample.stdout == example_files()["saas_monthly.csv"]
    piped = invoke("metrics", "-", "--json", input=sample.stdout)
    assert piped.exit_code == 0


def test_sample_has_realistic_shape():
    ledger = read_ledger(EXAMPLE)
    assert ledger.frequency == "month" and len(ledger.periods) == 24
    spend = ledger.frame.groupby("channel")["acquisition_spend"]
    cv = spend.std(ddof=0) / spend.mean()
    assert (cv >= 0.15).all()  # spend varies enough to fit response curves later


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["metrics", "--help"],
        ["validate", "--help"],
        ["schema", "--help"],
        ["example", "--help"],
    ],
)
def test_help(args):
    result = invoke(*args)
    assert result.exit_code in (0, 2)
    assert "Usage" in result.stdout + result.stderr


def test_version():
    from bucket import __version__

    assert invoke("--version").stdout.strip() == f"bucket {__version__}"


def test_metrics_uses_the_config_margin_like_plan(tmp_path):
    cfg = tmp_path / "bucket.toml"
    cfg.write_text("[plan]\nmargin = 0.5\nannual_discount_rate = 0.2\n")
    data = no_nan_json(invoke("metrics", EXAMPLE, "--json", "--config", str(cfg)).stdout)
    assert (
        data["assumptions"]["margin"] == 0.5 and data["assumptions"]["annual_discount_rate"] == 0.2
    )
    flag = no_nan_json(
        invoke("metrics", EXAMPLE, "--json", "--config", str(cfg), "--margin", "0.9").stdout
    )
    assert flag["assumptions"]["margin"] == 0.9  # the command line wins


def test_a_ledger_redirected_into_stdin_needs_no_dash(tmp_path):
    """`bucket plan < ledger.csv` reads the file; a pipe or a terminal still needs `-`."""
    import subprocess
    import sys

    from conftest import EXAMPLES

    ledger = EXAMPLES / "saas_monthly.csv"
    with ledger.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "bucket", "metrics", "--json", "-q"],
            stdin=stdin,
            capture_output=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert b'"file": "stdin"' in done.stdout
    piped = subprocess.run(
        [sys.executable, "-m", "bucket", "metrics", "-q"],
        input=ledger.read_bytes(),
        capture_output=True,
        timeout=120,
    )
    assert piped.returncode == 2 and b"- for stdin" in piped.stderr


def test_shell_completion_is_offered_and_completes_commands():
    import os
    import subprocess
    import sys

    # typer detects the shell from the process tree (a test runner under cron has none); its
    # documented switch makes --show-completion take the shell's name instead
    shown = subprocess.run(
        [sys.executable, "-m", "bucket", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
    )
    assert shown.returncode == 0 and "complete" in shown.stdout
    env = {**os.environ, "_BUCKET_COMPLETE": "complete_bash", "COMP_WORDS": "bucket pl"}
    env["COMP_CWORD"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", "from bucket.cli import app; app(prog_name='bucket')"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "plan" in done.stdout.split()


def test_example_transactions_and_subscriptions_share_a_folder(tmp_path):
    """Each events example writes its own spend file, so one folder holds both (no --force)."""
    for kind in ("transactions", "subscriptions"):
        res = invoke("example", str(tmp_path), f"--{kind}", "--rows", "2000")
        assert res.exit_code == 0, res.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "spend.csv",
        "subscriptions.csv",
        "subscriptions_spend.csv",
        "transactions.csv",
    ]

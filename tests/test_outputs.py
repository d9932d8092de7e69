"""Every file a command writes goes through one writer that never replaces an input: the ledger,
the events, spend, the config and cohort files, followed through symlinks (regressions: `ledger
-o` and `--cohorts` used to overwrite the user's orders; `plan --config b.toml -o b.toml` the
config). And one meaning per option: --map names event columns on every engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES, invoke

EXAMPLE = str(EXAMPLES / "saas_monthly.csv")
TX = (
    "customer_id,date,amount,channel\n"
    "a,2025-01-05,10.00,search\na,2025-02-10,20.50,search\nb,2025-01-31,5.00,social\n"
    "c,2025-02-01,7.00,search\nc,2025-06-15,8.00,social\nd,2025-03-01,1.10,search\n"
    "e,2025-03-15,3.00,social\nf,2025-06-30,4.00,search\n"
)
SPEND = "period,channel,acquisition_spend\n2025-01,search,100\n2025-02,search,100\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "tx": tmp_path / "orders.csv",
        "spend": tmp_path / "spend.csv",
        "config": tmp_path / "b.toml",
        "ledger": tmp_path / "ledger.csv",
    }
    paths["tx"].write_text(TX)
    paths["spend"].write_text(SPEND)
    paths["config"].write_text("[plan]\nmargin = 0.7\n")
    paths["ledger"].write_bytes(Path(EXAMPLE).read_bytes())
    return paths


def _unchanged(files: dict[str, Path], before: dict[str, bytes]) -> None:
    assert {k: p.read_bytes() for k, p in files.items()} == before


@pytest.mark.parametrize(
    "args",
    [
        ("ledger", "--transactions", "{tx}", "-o", "{tx}"),
        ("ledger", "--transactions", "{tx}", "--spend", "{spend}", "-o", "{spend}"),
        ("ledger", "--transactions", "{tx}", "--cohorts-output", "{tx}"),
        ("ledger", "--transactions", "{tx}", "-o", "{out}", "--cohorts-output", "{out}"),
        (
            "ledger",
            "--print-sql",
            "--table",
            "t",
            "--from",
            "2024-01",
            "--to",
            "2024-06",
            "--transactions",
            "{tx}",
            "-o",
            "{tx}",
        ),
        ("plan", "{ledger}", "--config", "{config}", "-o", "{config}", "--draws", "0"),
        ("metrics", "{ledger}", "--config", "{config}", "-o", "{config}"),
        ("metrics", "--transactions", "{tx}", "--spend", "{spend}", "-o", "{spend}"),
        ("backtest", "{ledger}", "--config", "{config}", "-o", "{config}"),
        ("check", "{ledger}", "--config", "{config}", "--max", "churn_rate=0", "-o", "{config}"),
        ("cohorts", "--transactions", "{tx}", "-o", "{tx}"),
        ("report", "{ledger}", "--config", "{config}", "-o", "{config}", "--draws", "0"),
        ("report", "{ledger}", "--cohorts", "{out}", "-o", "{out}", "--draws", "0"),
        ("validate", "{ledger}", "-o", "{ledger}"),
    ],
    ids=lambda a: " ".join(a[:1] + tuple(x for x in a if x.startswith("-"))),
)
def test_no_command_writes_over_an_input(files, tmp_path, args):
    out = tmp_path / "out.csv"
    out.write_text("cohort,age,active\n2025-01,0,1\n")  # an input for report --cohorts
    given = {**files, "out": out}
    before = {k: p.read_bytes() for k, p in given.items()}
    result = invoke(*(a.format(**{k: str(p) for k, p in given.items()}) for a in args))
    assert result.exit_code == 2, result.stderr
    assert "is an input file" in result.stderr or "same file" in result.stderr
    _unchanged(given, before)


def test_a_symlink_to_an_input_is_an_input(files, tmp_path):
    link = tmp_path / "looks-new.csv"
    link.symlink_to(files["tx"])
    before = files["tx"].read_bytes()
    result = invoke("ledger", "--transactions", str(files["tx"]), "-o", str(link))
    assert result.exit_code == 2 and "is an input file" in result.stderr
    assert files["tx"].read_bytes() == before and link.is_symlink()


def test_refused_before_the_work(files, monkeypatch):
    """The refusal comes first: the plan is never computed for an output that would be refused."""
    import bucket.analysis.plan as plan

    def boom(*a, **k):
        raise AssertionError("the plan ran")

    monkeypatch.setattr(plan, "make_plan", boom)
    result = invoke(
        "plan", str(files["ledger"]), "--config", str(files["config"]), "-o", str(files["config"])
    )
    assert result.exit_code == 2 and "is an input file" in result.stderr


def test_ledger_writes_both_files_when_they_differ(files, tmp_path):
    out, cohorts = tmp_path / "l.csv", tmp_path / "c.csv"
    result = invoke(
        "ledger",
        "--transactions",
        str(files["tx"]),
        "-o",
        str(out),
        "--cohorts-output",
        str(cohorts),
    )
    assert result.exit_code == 0, result.stderr
    # one cohort per channel: the customers a channel won in the period
    assert out.read_text().startswith("period,channel,") and cohorts.read_text().startswith(
        "cohort,channel,age,active"
    )


def test_map_renames_event_columns_on_the_embedded_engine(tmp_path):
    """--map date=order_date was ignored by the embedded engine (only remote engines honoured it)."""
    renamed = tmp_path / "orders.csv"
    renamed.write_text(
        TX.replace("customer_id,date,amount,channel", "buyer,order_date,paid,src", 1)
    )
    plain = invoke("ledger", "--transactions", str(tmp_path / "x.csv"))
    assert plain.exit_code == 1  # no such file: the reference below is the un-renamed file
    reference = tmp_path / "plain.csv"
    reference.write_text(TX)
    want = invoke("ledger", "--transactions", str(reference))
    got = invoke(
        "ledger",
        "--transactions",
        str(renamed),
        "--map",
        "customer_id=buyer,date=order_date",
        "--map",
        "amount=paid",
        "--map",
        "channel=src",
    )
    assert want.exit_code == 0 and got.exit_code == 0, got.stderr
    assert got.stdout == want.stdout
    # without --map the renamed file is refused, naming what is missing and how to map it
    bare = invoke("ledger", "--transactions", str(renamed))
    assert bare.exit_code == 1 and "--map customer_id=theirs" in bare.stderr
    # channel=- : the events have no channel column, even if one looks like it
    nochan = invoke("ledger", "--transactions", str(reference), "--map", "channel=-")
    assert nochan.exit_code == 0 and nochan.stdout.startswith("period,new_customers")


def test_map_for_events_is_the_same_on_plan_and_cohorts(tmp_path):
    renamed = tmp_path / "orders.csv"
    renamed.write_text(TX.replace("customer_id,date", "buyer,order_date", 1))
    mapped = ("--map", "customer_id=buyer,date=order_date")
    cohorts = invoke("cohorts", "--transactions", str(renamed), *mapped, "--json")
    assert cohorts.exit_code == 0, cohorts.stderr
    assert json.loads(cohorts.stdout)["cohorts"]
    wrong = invoke("cohorts", "--transactions", str(renamed), "--map", "new_customers=x")
    assert wrong.exit_code == 2 and "customer_id, date, amount, channel" in wrong.stderr


def test_margin_comes_from_the_config_in_cohorts_too(tmp_path):
    """--margin was declared three ways; cohorts ignored bucket.toml's."""
    cfg = tmp_path / "bucket.toml"
    cfg.write_text("[plan]\nmargin = 0.5\n")
    table = tmp_path / "c.csv"
    table.write_text(
        "cohort,age,active\n2025-01,0,100\n2025-01,1,80\n2025-01,2,70\n"
        "2025-02,0,100\n2025-02,1,82\n"
    )
    args = ("cohorts", str(table), "--arpu", "10", "--json")
    default = json.loads(invoke(*args).stdout)["lifetime"]
    from_config = json.loads(invoke(*args, "--config", str(cfg)).stdout)["lifetime"]
    assert from_config["cltv_constant"] == pytest.approx(0.5 * default["cltv_constant"])


def _bucket(*args: str, **kw):
    """The real command in its own process (real file descriptors, real signals)."""
    import subprocess
    import sys

    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "bucket", *args],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        **kw,
    )


def test_a_device_is_written_through_not_replaced():
    """-o /dev/full used to replace the device with a plain file (as root) and report success."""
    import stat

    res = _bucket("metrics", EXAMPLE, "--json", "-o", "/dev/full")
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith("Error: /dev/full: cannot write (No space left on device)")
    assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)
    ok = _bucket("metrics", EXAMPLE, "--json", "-o", "/dev/null")
    assert ok.returncode == 0 and stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_a_full_stdout_is_an_error_not_a_cut_file():
    """metrics --json > out.json on a full disk kept part of the output and exited 0."""
    with open("/dev/full", "w") as full:
        res = _bucket("metrics", EXAMPLE, "--json", stdout=full)
    assert res.returncode == 1
    assert res.stderr.startswith("Error: stdout: cannot write (No space left on device)")


def test_a_closed_pipe_ends_quietly():
    """bucket schema | head -1 exited 70 (the output is larger than the pipe's buffer)."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "bucket", "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away after one line
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err == b""


def test_a_fifo_is_written_through(tmp_path):
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    res = _bucket("metrics", EXAMPLE, "--json", "-o", str(fifo))
    reader.join(timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(got[0])["command"] == "metrics"
    assert fifo.is_fifo()


def test_a_symlink_is_kept_and_its_target_written(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    link.symlink_to(target)
    res = invoke("metrics", EXAMPLE, "--json", "-o", str(link))
    assert res.exit_code == 0, res.stderr
    assert link.is_symlink() and json.loads(target.read_text())["command"] == "metrics"


def test_messages_are_one_printable_capped_line(tmp_path):
    """Escape sequences from a header or cell reached the terminal raw, a vertical tab or U+2028
    split one Error line into three (enough to fake one), and a 130 KB cell was echoed whole."""
    base = (EXAMPLES / "saas_monthly.csv").read_text().splitlines()
    evil = tmp_path / "evil.csv"
    evil.write_text(
        "\n".join([base[0] + ",\x1b]0;pwned\x07\x1b[2J", *(r + ",x" for r in base[1:])]) + "\n"
    )
    res = invoke("metrics", str(evil), "--json")
    assert res.exit_code == 0 and "\x1b" not in res.stderr and "\x07" not in res.stderr
    assert "\\x1b]0;pwned\\x07" in res.stderr
    for junk in ("1\x0b2", "1\u20282", "x" * 130_000):
        bad = tmp_path / "bad.csv"
        row = base[1].split(",")
        row[2] = junk
        bad.write_text("\n".join([base[0], ",".join(row), *base[2:]]) + "\n")
        res = invoke("metrics", str(bad))
        assert res.exit_code == 1
        assert res.stderr.count("\n") == 1 and res.stderr.startswith("Error: ")
        assert "\u2028" not in res.stderr and "\x0b" not in res.stderr
        assert len(res.stderr) < 2100


def test_text_outputs_neutralise_formulas_and_html(tmp_path):
    """ledger's CSV passed =HYPERLINK(…), +cmd|…, @SUM(1), -2+3 channel names raw; Markdown passed
    <script> and <img onerror>."""
    names = ["=HYPERLINK(1)", "+cmd|x", "@SUM(1)", "-2+3", "<script>x</script>"]
    rows = ["customer_id,date,amount,channel"]
    for i in range(40):
        rows.append(f"c{i},2025-0{1 + i % 4}-1{i % 9},10.00,{names[i % len(names)]}")
    tx = tmp_path / "orders.csv"
    tx.write_text("\n".join(rows) + "\n")
    ledger = invoke("ledger", "--transactions", str(tx))
    assert ledger.exit_code == 0, ledger.stderr
    cells = [line.split(",")[1] for line in ledger.stdout.splitlines()[1:]]
    assert cells and all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=HYPERLINK(1)" in ledger.stdout
    spend = tmp_path / "spend.csv"
    spend.write_text(
        "period,channel,acquisition_spend\n"
        + "".join(
            f"2025-0{m},{n},{90 + m}\n" for m in (1, 2, 3) for n in ("-2+3", "<script>x</script>")
        )
    )
    md = invoke("metrics", "--transactions", str(tx), "--spend", str(spend), "-f", "markdown")
    assert md.exit_code == 0, md.stderr
    assert "<script>" not in md.stdout and "&lt;script>" in md.stdout

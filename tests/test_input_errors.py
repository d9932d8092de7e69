"""Every bad input: exit 1, nothing on stdout, one `Error:` line naming file, row and column."""

import json

import pytest
from conftest import EXAMPLES, invoke

H = "period,acquisition_spend,new_customers,customers_start,churned_customers\n"
OK1 = "2025-01,5000,40,400,20\n"
OK2 = "2025-02,5200,42,420,21\n"

CASES = [
    # id, file content, row, column (None: not in the message), words in the message
    ("empty", "", None, None, "the file is empty"),
    ("blank-lines-only", "\n\n  \n", None, None, "empty"),
    ("header-only", H, 2, None, "no data rows"),
    ("not-csv", "just some words\nand more\n", 1, None, "not a CSV"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, None, "PNG image"),
    ("xlsx", b"PK\x03\x04\x14\x00\x06\x00", None, None, "Excel"),
    ("binary", b"abc,def\x00\x01\x02\n1,2\n", None, None, "binary"),
    (
        "missing-column",
        "period,acquisition_spend,new_customers,churned_customers\n2025-01,1,1,1\n",
        1,
        "customers_start",
        "required column customers_start not found (columns found: period",
    ),
    (
        "missing-end-and-churn",
        "period,new_customers,customers_start\n2025-01,1,1\n",
        1,
        "churned_customers",
        "need customers_end or churned_customers",
    ),
    ("ragged", H + OK1 + "2025-02,5200,42,420\n", 3, None, "4 cells but the header has 5"),
    ("ragged-extra", H + OK1 + "2025-02,5200,42,420,21,7\n", 3, None, "6 cells"),
    ("empty-required", H + OK1 + "2025-02,5200,,420,21\n", 3, "new_customers", "is empty"),
    (
        "non-numeric",
        H + OK1 + "2025-02,lots,42,420,21\n",
        3,
        "acquisition_spend",
        "'lots' is not a number",
    ),
    ("nan", H + OK1 + "2025-02,5200,42,420,NaN\n", 3, "churned_customers", "not a finite number"),
    ("inf", H + OK1 + "2025-02,inf,42,420,21\n", 3, "acquisition_spend", "not a finite number"),
    (
        "excel-error",
        H + OK1 + "2025-02,#DIV/0!,42,420,21\n",
        3,
        "acquisition_spend",
        "spreadsheet error",
    ),
    ("negative-count", H + OK1 + "2025-02,5200,-42,420,21\n", 3, "new_customers", "negative"),
    ("negative-spend", H + "2025-01,(5000),40,400,20\n", 2, "acquisition_spend", "negative"),
    ("fractional", H + OK1 + "2025-02,5200,42.5,420,21\n", 3, "new_customers", "whole numbers"),
    ("percent-count", H + "2025-01,5000,40%,400,20\n", 2, "new_customers", "percentage"),
    ("bad-period", H + OK1 + "Febtember 2025,5200,42,420,21\n", 3, "period", "not a period"),
    (
        "bad-quarter",
        "quarter,spend,new,start,lost\n2025-Q1,1,1,10,1\nQ5 2025,1,1,10,1\n",
        3,
        "quarter",
        "quarters are Q1-Q4",
    ),
    ("mixed-frequency", H + OK1 + "2025-Q2,5200,42,420,21\n", 3, "period", "one frequency"),
    ("duplicate", H + OK1 + OK1.replace("5000", "5100"), 3, "period", "already appears on row 2"),
    (
        "identity",
        "period,new,start,end,churned\n2025-01,10,100,95,20\n",
        2,
        "end",
        "customers_end 95 ≠ customers_start 100 + new_customers 10 − churned 20 = 90",
    ),
    (
        "end-unreachable",
        "period,new,start,end\n2025-01,10,100,150\n",
        2,
        "end",
        "so churned would be negative",
    ),
    ("churn-too-big", H + "2025-01,5000,40,400,441\n", 2, "churned_customers", "more than"),
    (
        "organic-too-big",
        "period,new,organic,referral,start,churned\n2025-01,10,8,3,100,5\n",
        2,
        "organic",
        "organic + referral customers (11) exceed new_customers (10)",
    ),
    (
        "unclosed-quote",
        H + OK1 + '2025-02,"5200,42,420,21\n2025-03,1,1,1,1\n',
        3,
        None,
        "never closes",
    ),
    ("totals-in-middle", H + OK1 + "Total,5000,40,,20\n" + OK2, 3, "period", "totals row"),
    (
        "empty-channel",
        "period,channel,new,start,churned\n2025-01,a,1,10,1\n2025-01,,1,10,1\n",
        3,
        "channel",
        "channel is empty",
    ),
    (
        "two-columns-same-meaning",
        "month,date,new,start,churned\n2025-01,2025-01,1,10,1\n",
        1,
        "date",
        "both mean period",
    ),
]


@pytest.mark.parametrize("command", ["metrics", "validate"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_error_line(write, case, command):
    _, content, row, column, words = case
    path = write(content)
    result = invoke(command, path)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors, result.stderr
    first = errors[0]
    expected = path + (f", row {row}" if row is not None else "")
    expected += f", column {column}:" if column is not None else ":"
    assert first.startswith(f"Error: {expected}"), first
    assert words in first, first
    # what is wrong; how to fix it
    assert "; " in first.split(": ", 2)[-1], first
    if command == "metrics":
        assert len(result.stderr.splitlines()) == 1, result.stderr


def test_validate_reports_every_problem(write):
    path = write(H + "2025-01,x,40,400,20\n2025-02,5200,-1,420,21\n2025-04,5200,42,NaN,21\n")
    result = invoke("validate", path)
    assert result.exit_code == 1
    rows = sorted(
        line.split(", row ")[1].split(",")[0]
        for line in result.stderr.splitlines()
        if line.startswith("Error:")
    )
    assert rows == ["2", "3", "4"]


def test_validate_json_lists_problems_even_on_error(write):
    from conftest import no_nan_json

    path = write(H + "2025-01,x,40,400,20\n" + OK2)
    result = invoke("validate", path, "--json")
    assert result.exit_code == 1
    report = no_nan_json(result.stdout)
    assert report["valid"] is False and report["errors"] == 1
    (problem,) = report["problems"]
    assert (problem["row"], problem["column"], problem["code"]) == (
        2,
        "acquisition_spend",
        "bad-number",
    )


def test_missing_column_suggests_nearest_header(write):
    path = write("period,spend,new,cust_start,churned\n2025-01,1,1,10,1\n")
    result = invoke("metrics", path)
    assert result.exit_code == 1
    assert (
        "nearest: 'cust_start'; if that is it, pass --map customers_start=cust_start"
        in result.stderr
    )
    fixed = invoke("metrics", path, "--map", "customers_start=cust_start", "--json")
    assert fixed.exit_code == 0, fixed.stderr


def test_map_errors_are_usage_errors(write):
    path = write(H + OK1)
    result = invoke("metrics", path, "--map", "customer_start=x")
    assert result.exit_code == 2
    assert "did you mean customers_start" in result.stderr
    missing = invoke("metrics", path, "--map", "customers_start=nope")
    assert missing.exit_code == 1
    assert "no column 'nope'" in missing.stderr


def test_missing_file():
    result = invoke("metrics", "/nonexistent/ledger.csv")
    assert result.exit_code == 1
    assert result.stderr == "Error: /nonexistent/ledger.csv: no such file; check the path\n"


def test_period_gap_is_a_warning_not_an_error(write):
    path = write(H + OK1 + "2025-04,5000,40,400,20\n")
    result = invoke("metrics", path, "--json")
    assert result.exit_code == 0, result.stderr
    assert "2 period(s) missing between 2025-01 and 2025-04: 2025-02, 2025-03" in result.stderr
    assert result.stderr.startswith("Warning: ")


def test_debug_shows_the_traceback(write):
    path = write(H + "2025-01,x,40,400,20\n")
    result = invoke("metrics", path, "--debug")
    assert result.exit_code == 1
    assert result.exception is not None and type(result.exception).__name__ == "InputError"


@pytest.mark.parametrize("day", ["0001-03-07", "12024-03-07", "-2024-03-07"])
@pytest.mark.parametrize("kind", ["transactions", "subscriptions"])
@pytest.mark.parametrize("command", ["ledger", "plan", "cohorts", "validate"])
def test_an_impossible_event_date_is_one_line_naming_row_and_column(tmp_path, day, kind, command):
    """A year-1 date, a five-digit year typo or a leading minus came back from DuckDB as text
    and crashed (exit 70); now one Error line names the row, the column and the value."""
    head = "customer_id,date,amount" if kind == "transactions" else "customer_id,start,end"
    rows = (
        ["a,2024-01-05,10", f"b,{day},5", "c,2024-03-09,3"]
        if kind == "transactions"
        else ["a,2024-01-05,", f"b,{day},", "c,2024-03-09,2024-05-01"]
    )
    path = tmp_path / "events.csv"
    path.write_text("\n".join([head, *rows]) + "\n")
    res = invoke(command, f"--{kind}", str(path))
    column = "date" if kind == "transactions" else "start"
    assert res.exit_code == 1, res.stderr
    assert res.stderr == (
        f"Error: {path}, row 3, column {column}: '{day}' is not a date of real events "
        "(years 1900–2200); fix the typo or remove the placeholder date\n"
    )


@pytest.mark.parametrize(
    ("spend", "line"),
    [
        (
            "period,acquisition_spend\n2025-01,100\n2025-02\n",
            "row 3: the row has 1 cells but the spend columns need 2",
        ),
        (
            "period,acquisition_spend\n2025-01,100\n\n2025-Q1,100\n2025-03,50\n",
            "row 4, column period: a quarter among months",
        ),
        (
            "period,acquisition_spend\n2025-01-01,100\n2025-01-02,100\n2025-01-03,50\n",
            "column period: dates are typically 1 days apart",
        ),
    ],
    ids=["short row", "quarter among months", "daily"],
)
def test_a_bad_spend_file_is_one_line(tmp_path, spend, line):
    """A short row (IndexError), a quarter among months or daily dates in a spend file were
    internal errors (exit 70)."""
    tx = tmp_path / "orders.csv"
    tx.write_text("customer_id,date,amount\na,2025-01-05,10\nb,2025-02-03,5\nc,2025-03-09,3\n")
    path = tmp_path / "spend.csv"
    path.write_text(spend)
    res = invoke("ledger", "--transactions", str(tx), "--spend", str(path))
    assert res.exit_code == 1, res.stderr
    assert res.stderr.startswith(f"Error: {path}, {line}") and res.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--budget", "3e7"), "Error: --budget 30,000,000 is over 100 times today's budget"),
        (("--rho", "inf"), "Error: --rho: input should be a finite number (got inf)"),
        (("--mu", "1e-300"), "Error: --mu: input should be greater than or equal to 0.001"),
        (("--phi", "nan"), "Error: --phi: input should be a finite number (got nan)"),
        (("--draws", "100000"), "Error: --draws: input should be less than or equal to 5000"),
    ],
)
def test_settings_are_checked_at_the_edge(args, line):
    """Non-finite or degenerate settings were internal errors deep in the model (exit 70)."""
    res = invoke("plan", str(EXAMPLES / "saas_monthly.csv"), "--draws", "10", *args)
    assert res.exit_code == 1, res.stderr
    assert res.stderr.startswith(line) and res.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("threshold", "words"),
    [
        ("--max=churn_rate=nan", "nan is not a finite number"),
        ("--min=ltv_to_cac=inf", "inf is not a finite number"),
        ("--max=churn_rate=3", "churn_rate is a share, so 3 would mean 300 %; write 0.03 or 3%"),
    ],
)
def test_check_thresholds_are_finite_and_shares_are_shares(threshold, words):
    """--max churn_rate=3 was read as 300 %: a cron alert that could never fire."""
    res = invoke("check", str(EXAMPLES / "saas_monthly.csv"), threshold)
    assert res.exit_code == 2 and words in res.stderr
    ok = invoke("check", str(EXAMPLES / "saas_monthly.csv"), "--max", "churn_rate=3%", "--json")
    assert ok.exit_code in (0, 3) and json.loads(ok.stdout)["checks"][0]["threshold"] == 0.03


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("max = { nonsense = 1 }", "key check.max.nonsense: unknown metric 'nonsense'"),
        ('max = { churn_rate = "high" }', "key check.max.churn_rate: 'high' is not a number"),
        ("max = { churn_rate = nan }", "key check.max.churn_rate: nan is not a finite number"),
    ],
)
def test_check_config_thresholds_name_their_key(tmp_path, table, words):
    config = tmp_path / "bucket.toml"
    config.write_text(f"[check]\n{table}\n")
    res = invoke("check", str(EXAMPLES / "saas_monthly.csv"), "--config", str(config))
    assert res.exit_code == 1, res.stderr
    assert res.stderr.startswith(f"Error: {config}, {words}") and res.stderr.count("\n") == 1


def test_a_channel_without_customers_since_it_started_spending(tmp_path):
    """Spend that starts in period 5 and brings no new customers: plan divided by zero."""
    path = tmp_path / "ledger.csv"
    path.write_text(
        "period,acquisition_spend,new_customers,customers_start,churned_customers\n"
        "2025-01,0,10,100,5\n2025-02,0,10,105,5\n2025-03,0,10,110,5\n2025-04,0,10,115,5\n"
        "2025-05,100,0,120,5\n2025-06,100,0,115,5\n"
    )
    res = invoke("plan", str(path), "--draws", "10")
    assert res.exit_code == 1, res.stderr
    assert "no channel both spent and won paid customers" in res.stderr


def test_an_absurd_number_of_channels_is_refused_not_planned(tmp_path):
    """5,000 channels took 4.9 GB and 85 s to plan: over 200 the plan says to group them."""
    rows = ["period,channel,acquisition_spend,new_customers,customers_start,churned_customers"]
    rows += [
        f"2025-0{m},ch{c},{100 + c % 7},{5 + c % 3},100,3" for m in range(1, 7) for c in range(201)
    ]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows) + "\n")
    res = invoke("plan", str(path), "--draws", "0")
    assert res.exit_code == 1
    assert "has 201 channels; a plan weighs at most 200" in res.stderr


def test_messages_name_the_option_the_user_wrote(tmp_path, monkeypatch):
    """plan --backtest 100 reported --holdout 100; a bucket.toml that is a folder was ignored."""
    example = str(EXAMPLES / "saas_monthly.csv")
    res = invoke("plan", example, "--backtest", "100", "--draws", "0")
    assert res.exit_code == 1 and res.stderr.startswith("Error: --backtest 100 leaves 0 periods")
    (tmp_path / "bucket.toml").mkdir()
    monkeypatch.chdir(tmp_path)
    res = invoke("plan", example, "--draws", "0")
    assert res.exit_code == 1
    assert (
        res.stderr
        == f"Error: {tmp_path / 'bucket.toml'} is not a file; a config file is TOML text; rename or remove it\n"
    )


@pytest.mark.parametrize(("label", "year"), [("0000-01", 0), ("9999-12", 9999), ("1850-03", 1850)])
def test_a_period_outside_real_history_is_refused(tmp_path, label, year):
    """Year 0000-01 was accepted, and 9999-12 labelled the projection 10000-01."""
    path = tmp_path / "ledger.csv"
    path.write_text(f"{H}{label},5000,40,400,20\n")
    res = invoke("metrics", str(path))
    assert res.exit_code == 1
    assert res.stderr.startswith(
        f"Error: {path}, row 2, column period: '{label}' is in the year {year}"
    )


def test_utf16_without_a_bom_is_read_and_a_late_nul_is_an_error(tmp_path):
    """UTF-16 without its byte-order mark was called a binary file; a NUL byte after the first
    64 KiB was deleted silently (5\\0 0 read as 50)."""
    text = (EXAMPLES / "saas_monthly.csv").read_text()
    want = invoke("metrics", str(EXAMPLES / "saas_monthly.csv"), "--json")
    for codec in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{codec}.csv"
        path.write_bytes(text.encode(codec))
        got = invoke("metrics", str(path), "--json")
        assert got.exit_code == 0, got.stderr
        assert json.loads(got.stdout)["overall"] == json.loads(want.stdout)["overall"]
    lines = text.splitlines()
    padded = [lines[0] + ",note"] + [line + "," + "x" * 4000 for line in lines[1:]]
    body = "\n".join(padded) + "\n"
    cut = body.index("\n", 70_000) + 1
    row = body.count("\n", 0, cut) + 1
    body = body[:cut] + body[cut:].replace(",", ",\x00", 1)
    nul = tmp_path / "nul.csv"
    nul.write_text(body)
    res = invoke("metrics", str(nul))
    assert res.exit_code == 1
    assert res.stderr.startswith(f"Error: {nul}, row {row}: the row holds a NUL byte")


def test_a_column_that_mixes_decimal_marks_is_not_guessed(tmp_path):
    """4.763 and "5,308" in one file were read as 4.763 and 5308, and validate called it valid."""
    path = tmp_path / "ledger.csv"
    path.write_text(f'{H}2025-01,4.763,40,400,20\n2025-02,"5,308",42,420,21\n')
    for command in ("validate", "metrics"):
        res = invoke(command, str(path))
        assert res.exit_code == 1
        assert res.stderr.startswith(
            f"Error: {path}, row 3, column acquisition_spend: '5,308' and '4.763' (row 2) put a "
            "different mark before three digits"
        )
    settled = tmp_path / "settled.csv"  # a 1,234.50 elsewhere says '.' is the decimal mark
    settled.write_text(
        f'{H}2025-01,4.763,40,400,20\n2025-02,"5,308",42,420,21\n2025-03,"1,234.50",44,441,22\n'
    )
    assert invoke("metrics", str(settled)).exit_code == 0


def test_a_spend_file_that_mixes_decimal_marks_is_not_guessed(tmp_path):
    """The same in a spend file beside events: it was read as 4.763 and 5308 without a word."""
    events = tmp_path / "tx.csv"
    events.write_text(
        "customer_id,date,amount,channel\na,2025-01-05,10,search\nb,2025-02-07,12,search\na,2025-03-02,10,search\n"
    )
    spend = tmp_path / "spend.csv"
    spend.write_text(
        'period,acquisition_spend,retention_spend\n2025-01,4.763,10\n2025-02,"5,308",20\n'
    )
    res = invoke("ledger", "--transactions", str(events), "--spend", str(spend))
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith(
        f"Error: {spend}, row 3, column acquisition_spend: '5,308' and '4.763' (row 2) put a "
        "different mark before three digits"
    )


def test_validate_warns_about_a_ledger_plan_would_refuse(tmp_path):
    """validate called these valid; plan refused one with a false claim that churn exceeded
    100 % of the customers (the file is consistent: customers won in a month left within it)."""
    head = "period,acquisition_spend,new_customers,customers_start,churned_customers\n"
    fast = tmp_path / "fast.csv"
    fast.write_text(
        head
        + "2025-01,1000,100,10,50\n"
        + "".join(f"2025-0{i},1000,100,60,100\n" for i in (2, 3, 4))
    )
    res = invoke("validate", str(fast), "--json")
    assert res.exit_code == 0
    (problem,) = json.loads(res.stdout)["problems"]
    assert problem["severity"] == "warning" and problem["code"] == "not-plannable"
    assert problem["message"].startswith(
        "plan would refuse it: more customers churned in the calibration window (2025-01 to "
        "2025-04) than were there at the start of its periods (184 %)"
    )
    plan = invoke("plan", str(fast))
    assert plan.exit_code == 1 and "100 % when every customer leaves" not in plan.stderr
    assert (
        plan.stderr
        == f"Error: {fast}: {problem['message'].removeprefix('plan would refuse it: ')}; {problem['fix']}\n"
    )
    short = tmp_path / "short.csv"
    short.write_text(head + "2025-01,1000,100,400,20\n")
    res = invoke("validate", str(short))
    assert res.exit_code == 0 and "valid (1 row, 1 month)" in res.stdout
    assert "plan would refuse it: the calibration window holds 1 month" in res.stderr
    assert invoke("validate", EXAMPLES / "saas_monthly.csv").stderr == ""

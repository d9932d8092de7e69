"""Regressions from trying real-world exports (each once read wrongly or refused)."""

import os
import stat

import pytest
from conftest import invoke, no_nan_json

from bucket.io.ledger import read_ledger
from bucket.io.periods import parse_label

BASE = "period,spend,new,start,end,revenue\n2025-01,1000,10,100,105,5000\n2025-02,2000,20,105,120,6000\n"


def overall(path, *extra):
    result = invoke("metrics", path, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return no_nan_json(result.stdout)["overall"], result.stderr


def test_german_tab_export_with_whole_amounts(write):
    text = (
        "Monat\tWerbeausgaben\tNeukunden\tKunden am Anfang\tEndbestand\tUmsatz\n"
        "Jan 2025\t1.500\t10\t100\t105\t5.000\nFeb 2025\t2.500\t20\t105\t120\t6.000\n"
    )
    o, _ = overall(write(text.encode("utf-16")))
    assert o["acquisition_spend"] == 4000 and o["cac"] == pytest.approx(4000 / 30)


def test_subtotal_rows_across_channels_are_dropped(write):
    text = (
        "period,channel,spend,new,start,end\n2025-01,search,1000,10,100,105\n"
        "2025-01,social,500,5,50,52\n2025-01,Total,1500,15,150,157\n"
    )
    o, err = overall(write(text))
    assert o["acquisition_spend"] == 1500
    assert "1 subtotal row(s) across channels dropped (rows 4)" in err


def test_mixed_currencies_are_refused(write):
    path = write("period,spend,new,start,churned\n2025-01,$1000,10,100,5\n2025-02,€2000,20,105,5\n")
    result = invoke("metrics", path)
    assert result.exit_code == 1
    assert "row 3, column spend: '€2000' is in €, but row 2 (spend) is in $" in result.stderr
    same = write(
        "period,spend,new,start,churned\n2025-01,$1000,10,100,5\n2025-02,USD 2000,20,105,5\n"
    )
    assert invoke("metrics", same).exit_code == 0  # $ and USD are one currency


def test_unused_columns_are_named(write):
    path = write("Month,Spend,New,Start,End,Returning customers\n2025-01,1000,10,100,105,30\n")
    o, err = overall(path)
    assert o["churned_customers"] == 5  # "returning customers" is not reactivation
    assert "column(s) not used: 'Returning customers'" in err


@pytest.mark.parametrize(
    "header",
    [
        "Mois,Dépenses d’acquisition,Nouveaux clients,Clients début,Clients fin",
        'Месяц,"Расходы на привлечение, руб.","Новые клиенты, чел.",Клиенты на начало,Клиенты на конец',
        "期间,获客支出（元）,新客户数,期初客户,期末客户",
        "\u200bPeriod,Spend $,# New customers,Start,End",
    ],
)
def test_header_spellings(write, header):
    o, _ = overall(write(header + "\n2025-01,1000,10,100,105\n"))
    assert o["cac"] == 100


def test_semicolon_header_with_commas_in_names(write):
    text = (
        "Месяц;Расходы на привлечение, руб.;Новые клиенты, чел.;Клиенты на начало, чел.;"
        "Клиенты на конец, чел.\n2025-01;1 000,00;10;100;105\n"
    )
    o, _ = overall(write(text))
    assert o["cac"] == 100


def test_map_accepts_names_with_commas_and_refuses_one_column_twice(write):
    path = write('period,spend,"Neu, gesamt",Anfang,Ende\n2025-01,1000,10,100,105\n')
    o, _ = overall(
        path,
        "--map",
        "new_customers=Neu, gesamt",
        "--map",
        "customers_start=Anfang,customers_end=Ende",
    )
    assert o["cac"] == 100
    twice = invoke("metrics", path, "--map", "customers_start=Anfang", "-m", "customers_end=Anfang")
    assert twice.exit_code == 2 and "mapped to both" in twice.stderr


def test_title_rows_above_the_header(write):
    o, err = overall(write("Marketing ledger 2025\n\n" + BASE))
    assert o["cac"] == 100 and "the header is on row 3" in err


def test_monthly_dates_with_a_gap_stay_monthly(write):
    path = write(
        "date,spend,new,start,churned\n2025-01-31,1,1,10,1\n2025-02-28,1,1,10,1\n"
        "2025-04-30,1,1,10,1\n"
    )
    ledger = read_ledger(path)
    assert ledger.frequency == "month" and ledger.warnings[0].code == "period-gap"


def test_empty_channel_column_means_no_channels(write):
    ledger = read_ledger(write("period,channel,spend,new,start,end\n2025-01,,1000,10,100,105\n"))
    assert not ledger.has_channels


def test_short_rows_missing_only_unused_cells(write):
    o, _ = overall(write("period,spend,new,start,end,notes,,\n2025-01,1000,10,100,105\n"))
    assert o["cac"] == 100


@pytest.mark.parametrize("cell", ["9" * 400, "1e308"])
def test_huge_numbers_are_input_errors(write, cell):
    path = write(
        f"period,spend,new,start,end\n2025-01,{cell},10,100,105\n2025-02,{cell},10,105,110\n"
    )
    for command in ("metrics", "validate"):
        result = invoke(command, path, "--json")
        assert result.exit_code == 1 and "too large" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "text, label",
    [
        ("31.01.25", "2025-01"),
        ("1/31/2025 12:00:00 AM", "2025-01"),
        ("01-Jan-2025", "2025-01"),
        ("Jan 1, 2025", "2025-01"),
        ("January, 2025", "2025-01"),
        ("202501", "2025-01"),
        ("20250131", "2025-01"),
        ("W5 2025", "2025-W05"),
        ("KW 5 2025", "2025-W05"),
        ("enero de 2025", "2025-01"),
        ("Январь 2025 г.", "2025-01"),
        ("2025年1月31日", "2025-01"),
        ("2025年第1季度", "2025-Q1"),
        ("1. Quartal 2025", "2025-Q1"),
        ("Q1'25", "2025-Q1"),
        ('="2025-01"', "2025-01"),
        ("'2025-01", "2025-01"),
        ("Ma\u0308rz 2025", "2025-03"),
        ("Dec-99", "1999-12"),
    ],
)
def test_more_period_spellings(text, label):
    from bucket.io.periods import resolve

    assert resolve([parse_label(text)]).periods[0].label == label


def test_totals_row_with_words_after_total(write):
    _, err = overall(write(BASE + "Total 2025,3000,30,,120,11000\n"))
    assert "'Total 2025' row dropped as a totals row" in err


def test_multiline_cell_error_is_one_line(write):
    result = invoke("metrics", write('period,spend,new,start,end\n2025-01,1000,"10\nx",100,105\n'))
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1


def test_bom_only_file_is_empty(write):
    result = invoke("metrics", write(b"\xef\xbb\xbf\n"))
    assert result.stderr.endswith(
        "the file is empty; export the ledger with a header row and data\n"
    )


def test_output_mode_follows_umask_and_dash_is_stdout(tmp_path, write):
    out = tmp_path / "m.json"
    old = os.umask(0o022)
    try:
        assert invoke("metrics", write(BASE), "--json", "-o", str(out)).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    to_stdout = invoke("metrics", write(BASE), "--json", "-o", "-")
    assert to_stdout.stdout.startswith("{") and not (tmp_path / "-").exists()


def test_window_counts_calendar_periods(write):
    path = write(
        "period,spend,new,start,churned\n2025-01,1,1,10,1\n2025-02,1,1,10,1\n"
        "2025-05,1,1,10,1\n2025-06,1,1,10,1\n"
    )
    data = no_nan_json(invoke("metrics", path, "--json", "--window", "3").stdout)
    assert (data["window"]["first_period"], data["window"]["periods"]) == ("2025-05", 2)


def test_no_retention_column_gives_no_retention_share(write):
    o, _ = overall(write(BASE))
    assert o["retention_spend"] is None and o["retention_share"] is None


def test_csv_output_does_not_run_formulas(write):
    path = write("period,channel,spend,new,start,end\n2025-01,=HYPERLINK(1),1000,10,100,105\n")
    result = invoke("metrics", path, "--format", "csv")
    assert "'=HYPERLINK(1)" in result.stdout


def test_example_into_an_unusable_folder(write):
    result = invoke("example", write(BASE) + "/sub")
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")

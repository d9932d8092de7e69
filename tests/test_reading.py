"""Messy but valid exports are read to the same numbers as a clean one."""

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, invoke, no_nan_json

from bucket.io.columns import COLUMNS, normalize
from bucket.io.ledger import read_ledger

CLEAN = """\
period,acquisition_spend,retention_spend,new_customers,customers_start,churned_customers,revenue
2025-01,12000.5,1000,80,1000,50,52000
2025-02,13000,1000,85,1030,52,53100
2025-03,12500,1000,79,1063,55,54900
"""


def metrics_json(path: str, *extra: str) -> dict:
    result = invoke("metrics", path, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    data = no_nan_json(result.stdout)
    data.pop("file")
    return data


MESSY = {
    "semicolon-decimal-comma-bom": (
        "\ufeffMonat;Werbeausgaben;Kundenbindungskosten;Neukunden;Kunden am Anfang;"
        "Verlorene Kunden;Umsatz\n"
        "Jan 2025;12.000,50 €;1.000,00 €;80;1.000;50;52.000,00 €\n"
        "\n"
        "Feb 2025;13.000,00 €;1.000,00 €;85;1.030;52;53.100,00 €\n"
        "Mär 2025;13.000,00 €;1.000,00 €;79;1.063;55;54.900,00 €\n".replace(
            "Mär 2025;13.000,00", "Mär 2025;12.500,00"
        ),
        "utf-8",
    ),
    "russian-spaces-rubles": (
        "Период;Расходы на привлечение;Расходы на удержание;Новые клиенты;Клиенты на начало;"
        "Ушедшие клиенты;Выручка\n"
        "2025-01;12 000,50 ₽;1 000 ₽;80;1 000;50;52 000 ₽\n"
        "2025-02;13 000 ₽;1 000 ₽;85;1 030;52;53 100 ₽\n"
        "2025-03;12 500 ₽;1 000 ₽;79;1 063;55;54 900 ₽\n",
        "utf-8",
    ),
    "ukrainian-nbsp": (
        "Період;Витрати на залучення;Витрати на утримання;Нові клієнти;Клієнти на початок;"
        "Втрачені клієнти;Виручка\n"
        "01.2025;12\u00a0000,50;1\u00a0000;80;1\u00a0000;50;52\u00a0000\n"
        "02.2025;13\u00a0000;1\u00a0000;85;1\u00a0030;52;53\u00a0100\n"
        "03.2025;12\u00a0500;1\u00a0000;79;1\u00a0063;55;54\u00a0900\n",
        "utf-8",
    ),
    "chinese": (
        "期间,广告支出,留存费用,新客户,期初客户,流失客户,收入\n"
        '2025年1月,"¥12,000.50","¥1,000",80,"1,000",50,"¥52,000"\n'
        '2025年2月,"¥13,000","¥1,000",85,"1,030",52,"¥53,100"\n'
        '2025年3月,"¥12,500","¥1,000",79,"1,063",55,"¥54,900"\n',
        "utf-8",
    ),
    "french-latin1": (
        "Période;Dépenses publicitaires;Dépenses de fidélisation;Nouveaux clients;"
        "Clients début;Clients perdus;Chiffre d'affaires\n"
        "janvier 2025;12 000,50 €;1 000 €;80;1 000;50;52 000 €\n"
        "février 2025;13 000 €;1 000 €;85;1 030;52;53 100 €\n"
        "mars 2025;12 500 €;1 000 €;79;1 063;55;54 900 €\n",
        "cp1252",
    ),
    "spanish-dates-end": (
        "Fecha;Gasto publicitario;Gasto de retención;Clientes nuevos;Clientes al inicio;"
        "Clientes al final;Ingresos\n"
        "31/01/2025;12.000,50;1.000;80;1.000;1.030;52.000\n"
        "28/02/2025;13.000;1.000;85;1.030;1.063;53.100\n"
        "31/03/2025;12.500;1.000;79;1.063;1.087;54.900\n",
        "utf-8",
    ),
    "tabs-utf16": (
        "Month\tAd Spend ($)\tRetention Spend\tNew\tStart\tLost\tRevenue\r\n"
        "Jan 2025\t$12,000.50\t$1,000\t80\t1,000\t50\t$52,000\r\n"
        "Feb 2025\t$13,000\t$1,000\t85\t1,030\t52\t$53,100\r\n"
        "Mar 2025\t$12,500\t$1,000\t79\t1,063\t55\t$54,900\r\n",
        "utf-16",
    ),
    "swiss-apostrophe-pipe-totals": (
        "period|acquisition_spend|retention_spend|new_customers|customers_start|churned|revenue\n"
        "2025-01|12'000.50|1'000|80|1'000|50|52'000\n"
        "2025-02|13'000|1'000|85|1'030|52|53'100\n"
        "2025-03|12'500|1'000|79|1'063|55|54'900\n"
        "Summe|37'500.50|3'000|244||157|160'000\n",
        "utf-8",
    ),
}


@pytest.mark.parametrize("name", list(MESSY))
def test_messy_exports_match_the_clean_ledger(write, name):
    text, encoding = MESSY[name]
    clean = metrics_json(write(CLEAN, "clean.csv"))
    messy = metrics_json(write(text.encode(encoding), "messy.csv"))
    messy.pop("currency")
    clean.pop("currency")
    messy.pop("warnings")
    clean.pop("warnings")
    assert messy == clean


def test_totals_row_is_dropped_with_a_warning_naming_its_row(write):
    text, _ = MESSY["swiss-apostrophe-pipe-totals"]
    path = write(text)
    result = invoke("metrics", path, "--json")
    assert result.exit_code == 0
    assert f"Warning: {path}, row 5: 'Summe' row dropped as a totals row" in result.stderr
    assert no_nan_json(result.stdout)["warnings"][0].startswith(f"{path}, row 5")


def test_currency_is_carried_to_the_output(write):
    result = invoke("metrics", write(MESSY["russian-spaces-rubles"][0]), "--json")
    assert no_nan_json(result.stdout)["currency"] == "₽"


def test_stdin_equals_path():
    path = str(EXAMPLES / "saas_monthly.csv")
    by_path = invoke("metrics", path, "--json")
    by_stdin = invoke("metrics", "-", "--json", input=Path(path).read_bytes())
    assert by_path.exit_code == by_stdin.exit_code == 0, by_stdin.stderr
    a, b = json.loads(by_path.stdout), json.loads(by_stdin.stdout)
    assert a.pop("file") == path and b.pop("file") == "stdin"
    assert a == b


def test_european_example_gives_identical_json():
    plain = metrics_json(str(EXAMPLES / "saas_monthly.csv"))
    eu = metrics_json(str(EXAMPLES / "saas_monthly_eu.csv"))
    assert plain == eu
    assert plain["overall"]["cac"] is not None


def test_weekly_per_channel_with_derived_end(write):
    path = write(
        "week,channel,spend,new,start,churned\n"
        "2025-W01,search,1000,10,100,3\n2025-W01,social,500,4,50,2\n"
        "2025-W02,search,1100,11,107,4\n2025-W02,social,520,5,52,1\n"
    )
    ledger = read_ledger(path)
    assert ledger.frequency == "week" and ledger.channels == ["search", "social"]
    assert list(ledger.frame["customers_end"]) == [107, 52, 114, 56]


def test_continuity_break_is_a_warning(write):
    path = write("period,new,start,churned\n2025-01,10,100,5\n2025-02,10,90,5\n")
    ledger = read_ledger(path)
    (w,) = ledger.warnings
    assert (
        w.code == "continuity"
        and w.row == 3
        and "customers_start 90 ≠ previous customers_end 105" in w.message
    )


def test_a_channel_missing_a_period_inside_its_span_is_a_warning(write):
    """A channel without a row for a period between its first and last: the period's totals
    silently lose its customers and spend, so validate says so (a channel that starts late
    or stops early is not a gap)."""
    header = "period,channel,acquisition_spend,new_customers,customers_start,churned_customers\n"
    gap = write(
        header + "2025-01,a,100,10,100,5\n2025-01,b,100,10,100,5\n2025-02,b,100,10,105,5\n"
        "2025-03,a,100,10,105,5\n2025-03,b,100,10,110,5\n2025-04,c,50,5,0,0\n"
        "2025-04,b,100,10,115,5\n"
    )
    (w,) = read_ledger(gap).warnings
    assert w.code == "channel-gap" and w.column == "channel"
    assert "channel a has no row for 2025-02" in w.message
    assert "more channels" not in w.message  # b is complete; c starts late, a stops early
    whole = write(header + "2025-01,a,100,10,100,5\n2025-02,a,100,10,105,5\n")
    assert not read_ledger(whole).warnings
    rows = [f"2025-0{m},{c},100,10,100,5" for m in range(1, 6) for c in "abc"]
    holes = [r for r in rows if not r.startswith(("2025-02,a", "2025-03,a", "2025-04,b"))]
    found = read_ledger(write(header + "\n".join(holes) + "\n")).warnings
    (w,) = [w for w in found if w.code == "channel-gap"]
    assert "2 channels" in w.message and "a: 2025-02, 2025-03" in w.message
    assert "b: 2025-04" in w.message


def test_map_renames_explicitly(write):
    path = write("Monat,Ausgaben gesamt,Neue,Bestand,Weg\n2025-01,100,5,50,2\n")
    result = invoke(
        "metrics",
        path,
        "--json",
        "--map",
        "acquisition_spend=Ausgaben gesamt,new_customers=Neue",
        "--map",
        "customers_start=Bestand",
        "-m",
        "churned_customers=weg",
    )
    assert result.exit_code == 0, result.stderr
    assert no_nan_json(result.stdout)["overall"]["cac"] == 20.0


def test_alias_table_is_consistent():
    import csv
    from importlib import resources

    text = resources.files("bucket.io").joinpath("aliases.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    seen: dict[str, str] = {}
    for row in rows:
        assert row["canonical"] in COLUMNS, row
        key = normalize(row["alias"])
        assert seen.setdefault(key, row["canonical"]) == row["canonical"], row
    # every required column has names in each of the languages teams export in
    for lang in ("en", "ru", "uk", "zh", "de", "fr", "es"):
        for canon in (
            "period",
            "acquisition_spend",
            "new_customers",
            "customers_start",
            "customers_end",
            "churned_customers",
        ):
            assert any(r["canonical"] == canon and r["language"] == lang for r in rows), (
                lang,
                canon,
            )


def test_control_characters_in_channel_names_are_dropped(write):
    # found by hypothesis: pandas 3 string dtype compares "\x00" unequal to itself; NUL is dropped
    text = "period,channel,new,start,churned\n2025-01,\x00a\x00,1,10,1\n2025-01,b,1,10,1\n"
    path = write(text.encode("utf-16"))  # UTF-16 may carry NUL; in UTF-8 it means binary
    result = invoke("metrics", path, "--json")
    assert result.exit_code == 0, result.stderr
    assert [c["channel"] for c in no_nan_json(result.stdout)["channels"]] == ["a", "b"]

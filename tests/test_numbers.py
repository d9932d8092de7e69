import pytest

from bucket.io.numbers import NumberProblem, infer_decimal, parse_number


@pytest.mark.parametrize(
    "cell, decimal, value",
    [
        ("1200", ".", 1200.0),
        ("1,200.50", ".", 1200.5),
        ("$12,000.00", ".", 12000.0),
        ("-$5", ".", -5.0),
        ("$-5", ".", -5.0),
        ("(1,000)", ".", -1000.0),
        ("−7", ".", -7.0),  # U+2212 minus
        ("1 250 000,00 ₽", ",", 1250000.0),
        ("1\u00a0250,5", ",", 1250.5),  # no-break space
        ("1\u202f250,5", ",", 1250.5),  # narrow no-break space (French)
        ("5.000,00", ",", 5000.0),
        ("42,5", ",", 42.5),
        ("1'234'567.8", ".", 1234567.8),  # Swiss apostrophe
        ("EUR 900", ".", 900.0),
        ("900 EUR", ".", 900.0),
        ("1.234,56 €", ",", 1234.56),
        ("12%", ".", 0.12),
        ("12,5 %", ",", 0.125),
        (".5", ".", 0.5),
        ("1e3", ".", 1000.0),
        ("$ -", ".", 0.0),  # accounting format zero
        ("—", ".", 0.0),
        ("1 200 руб.", ".", 1200.0),
    ],
)
def test_parse_number_accepts_spreadsheet_formats(cell, decimal, value):
    n = parse_number(cell, decimal)
    assert n is not None
    assert n.value == pytest.approx(value)


def test_currency_and_percent_are_reported():
    assert parse_number("$12", ".").currency == "$"
    assert parse_number("1 250 ₽", ",").currency == "₽"
    assert parse_number("12%", ".").percent


@pytest.mark.parametrize("cell", ["", "   ", "\u00a0"])
def test_empty_cell_is_none(cell):
    assert parse_number(cell, ".") is None


@pytest.mark.parametrize(
    "cell, words",
    [
        ("NaN", "not a finite number"),
        ("inf", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("#DIV/0!", "spreadsheet error"),
        ("#N/A", "spreadsheet error"),
        ("n/a", "placeholder"),
        ("abc", "not a number"),
        ("12abc", "not a number"),
        ("1,2,3", "not a number"),  # bad grouping
        ("1.2.3", "not a number"),
        ("1e400", "too large"),
    ],
)
def test_parse_number_refuses_with_reason(cell, words):
    with pytest.raises(NumberProblem) as info:
        parse_number(cell, ".")
    assert words in info.value.message


@pytest.mark.parametrize(
    "cells, default, expected",
    [
        (["1,234.50", "12"], ",", "."),
        (["1.234,50", "12"], ".", ","),
        (["12,5"], ".", ","),
        (["12.5"], ",", "."),
        (["1.234.567"], ".", ","),  # several dots: thousands
        (["1,234,567"], ",", "."),
        (["1,234", "5,000"], ",", "."),  # a lone mark before 3 digits: thousands
        (["1.500", "2.500", "10"], ".", ","),  # German whole amounts in a tab export
        (["0,500"], ".", ","),  # a leading zero cannot start a thousands group
        (["1.500", "12,75"], ".", ","),
        (["10", "20"], ";", ";"),  # no evidence: the default decides
        (["1 250 000,00 ₽"], ".", ","),
        (["2.0E1", "1.500"], ",", "."),  # scientific notation is only written with a point
        (["-2.5e3", "4.000"], ",", "."),
    ],
)
def test_infer_decimal(cells, default, expected):
    assert infer_decimal(cells, default) == expected

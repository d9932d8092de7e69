import datetime as dt

import pytest

from bucket.io.periods import PeriodProblem, month, parse_label, quarter, resolve, week_of


@pytest.mark.parametrize(
    "text, label",
    [
        ("2025-01", "2025-01"),
        ("2025/3", "2025-03"),
        ("01/2025", "2025-01"),
        ("Jan 2025", "2025-01"),
        ("January 2025", "2025-01"),
        ("Jan-25", "2025-01"),
        ("sept. 2025", "2025-09"),
        ("янв 2025", "2025-01"),
        ("Січень 2025", "2025-01"),
        ("März 2025", "2025-03"),
        ("février 2025", "2025-02"),
        ("enero 2025", "2025-01"),
        ("2025年3月", "2025-03"),
        ("2025-Q1", "2025-Q1"),
        ("Q4 2024", "2024-Q4"),
        ("2025 q2", "2025-Q2"),
        ("2025-W01", "2025-W01"),
        ("2020W53", "2020-W53"),
        ("2025-W10-3", "2025-W10"),
    ],
)
def test_labels(text, label):
    lab = parse_label(text)
    assert lab.period is not None and lab.period.label == label


@pytest.mark.parametrize(
    "text", ["Q5 2025", "2025-13", "2025-W54", "2021-W53", "Foo 2025", "2025", "2025-02-30", ""]
)
def test_bad_labels(text):
    with pytest.raises(PeriodProblem):
        parse_label(text)


def test_dates_become_months_weeks_or_quarters_by_spacing():
    months = resolve([parse_label(d) for d in ("2025-01-31", "2025-02-28", "2025-03-31")])
    assert months.frequency == "month" and [p.label for p in months.periods] == [
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    weeks = resolve([parse_label(d) for d in ("2024-12-30", "2025-01-06", "2025-01-13")])
    assert weeks.frequency == "week"
    # 2024-12-30 is the Monday of ISO week 1 of 2025
    assert [p.label for p in weeks.periods] == ["2025-W01", "2025-W02", "2025-W03"]
    quarters = resolve([parse_label(d) for d in ("31.03.2025", "30.06.2025", "30.09.2025")])
    assert quarters.frequency == "quarter"
    assert [p.label for p in quarters.periods] == ["2025-Q1", "2025-Q2", "2025-Q3"]


def test_slash_dates_settle_order_from_the_file():
    us = resolve([parse_label(d) for d in ("1/31/2025", "2/28/2025")])
    assert [p.label for p in us.periods] == ["2025-01", "2025-02"] and not us.notes
    eu = resolve([parse_label(d) for d in ("31/01/2025", "28/02/2025")])
    assert [p.label for p in eu.periods] == ["2025-01", "2025-02"]
    ambiguous = resolve([parse_label(d) for d in ("01/02/2025", "01/03/2025", "01/04/2025")])
    # month first would make a daily file: read day first, and say so
    assert [p.label for p in ambiguous.periods] == ["2025-02", "2025-03", "2025-04"]
    assert "day/month/year" in ambiguous.notes[0]
    us_months = resolve([parse_label(d) for d in ("02/01/2025", "03/01/2025")])
    assert [p.label for p in us_months.periods] == ["2025-02", "2025-03"]
    assert "US order" in us_months.notes[0]


def test_mixed_frequencies_are_refused():
    with pytest.raises(PeriodProblem) as info:
        resolve([parse_label(x) for x in ("2025-01", "2025-Q2")])
    assert info.value.index == 1


def test_daily_dates_are_refused():
    with pytest.raises(PeriodProblem):
        resolve([parse_label(d) for d in ("2025-01-01", "2025-01-02", "2025-01-03")])


def test_period_arithmetic():
    assert month(2024, 12) + 1 == month(2025, 1)
    assert quarter(2024, 4) + 1 == quarter(2025, 1)
    assert week_of(dt.date(2025, 1, 5)) + 1 == week_of(dt.date(2025, 1, 6))
    assert month(2025, 2).end == dt.date(2025, 2, 28)
    assert week_of(dt.date(2025, 1, 1)).start == dt.date(2024, 12, 30)

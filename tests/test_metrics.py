"""Each KPI against a hand calculation on a small two-channel ledger (DESIGN §3)."""

import dataclasses
import math

import pytest

from bucket.analysis.metrics import compute_metrics, period_discount_rate
from bucket.io.ledger import read_ledger

LEDGER = """\
period,channel,acquisition_spend,retention_spend,leads,new_customers,organic_customers,referral_customers,customers_start,churned_customers,revenue,attributed_revenue,promoters,passives,detractors
2025-01,a,1000,200,100,10,2,1,100,5,5000,1500,20,10,5
2025-01,b,500,100,50,5,0,0,50,4,2400,600,8,6,6
2025-02,a,1200,200,120,12,1,1,105,6,5200,1800,,,
2025-02,b,600,100,60,4,0,0,51,3,2500,500,10,5,5
"""
# customers_end by hand: a Jan 100+10−5=105, b Jan 50+5−4=51, a Feb 105+12−6=111, b Feb 51+4−3=52
D = 1.1 ** (1 / 12) - 1  # 10 % a year, per month


@pytest.fixture
def result(write):
    return compute_metrics(read_ledger(write(LEDGER)))


def test_discount_rate_per_period():
    assert period_discount_rate(0.10, "month") == pytest.approx(0.007974140428903764)
    assert period_discount_rate(0.10, "quarter") == pytest.approx(1.1**0.25 - 1)
    assert (1 + period_discount_rate(0.10, "week")) ** 52 == pytest.approx(1.10)


def test_overall_by_hand(result):
    o = result.overall
    # a span's stocks: the base when it starts and when it ends
    assert o.customers_start == 100 + 50 and o.customers_end == 111 + 52
    assert o.cac == pytest.approx(3300 / 31)
    assert o.paid_cac == pytest.approx(3300 / (31 - 3 - 2))
    assert o.conversion_rate == pytest.approx(31 / 330)
    assert o.roas == pytest.approx((1500 + 600 + 1800 + 500) / 3300)
    assert o.churn_rate == pytest.approx(18 / 306)
    assert o.retention_rate == pytest.approx((319 - 31) / 306)
    assert o.retention_rate == pytest.approx(1 - o.churn_rate)  # identity without reactivation
    avg_customers = (100 + 105) / 2 + (50 + 51) / 2 + (105 + 111) / 2 + (51 + 52) / 2
    arpu = 15100 / avg_customers
    assert avg_customers == 312.5 and o.arpu == pytest.approx(48.32)
    cltv = arpu * 1.0 * (1 + D) / (D + 18 / 306)
    assert o.cltv == pytest.approx(cltv)
    assert o.ltv_to_cac == pytest.approx(cltv / (3300 / 31))
    assert o.payback_periods == pytest.approx((3300 / 31) / arpu)
    assert o.quick_ratio == pytest.approx(31 / 18)
    assert o.net_growth_rate == pytest.approx((319 - 306) / 306)
    # NPS over the rows that have all three counts: 38 promoters, 21 passives, 16 detractors
    assert o.nps == pytest.approx(100 * (38 - 16) / 75)
    assert o.retention_share == pytest.approx(600 / 3900)


def test_periods_and_channels_by_hand(result):
    jan, feb = result.periods
    assert (jan.period, feb.period) == ("2025-01", "2025-02")
    assert jan.cac == pytest.approx(1500 / 15)
    assert jan.churn_rate == pytest.approx(9 / 150)
    assert feb.nps == pytest.approx(100 * (10 - 5) / 20)  # channel a has no survey in Feb
    a, b = result.channels
    assert (a.channel, b.channel) == ("a", "b")
    assert a.cac == pytest.approx(2200 / 22)
    assert a.churn_rate == pytest.approx(11 / 205)
    assert b.roas == pytest.approx(1100 / 1100)
    assert a.periods == 2 and a.first_period == "2025-01" and a.last_period == "2025-02"


def test_margin_and_discount_enter_cltv(write):
    ledger = read_ledger(write(LEDGER))
    r = compute_metrics(ledger, margin=0.6, annual_discount_rate=0.0)
    arpu = 15100 / 312.5
    assert r.overall.cltv == pytest.approx(arpu * 0.6 / (18 / 306))  # d = 0: arpu·m/churn
    assert r.overall.payback_periods == pytest.approx((3300 / 31) / (arpu * 0.6))


def test_window_covers_last_periods(write):
    r = compute_metrics(read_ledger(write(LEDGER)), window=1)
    assert r.window is not None and r.window.periods == 1
    assert r.window.cac == pytest.approx(1800 / 16)
    assert r.overall.periods == 2


def test_undefined_metrics_are_none_not_inf(write):
    # no churn, no spend, no revenue: churn 0, CAC undefined, CLTV undefined
    path = write("period,new,start,churned\n2025-01,0,10,0\n2025-02,0,10,0\n")
    r = compute_metrics(read_ledger(path), annual_discount_rate=0.0)
    o = r.overall
    assert o.churn_rate == 0.0
    assert o.cac is None and o.cltv is None and o.ltv_to_cac is None and o.payback_periods is None
    assert o.quick_ratio is None  # 0 / 0
    assert o.roas is None and o.nps is None and o.conversion_rate is None
    for row in [o, *r.periods]:
        for value in dataclasses.asdict(row).values():
            assert not (isinstance(value, float) and not math.isfinite(value))


def test_zero_start_gives_none_rates(write):
    path = write("period,spend,new,start,churned\n2025-01,100,5,0,0\n")
    o = compute_metrics(read_ledger(path)).overall
    assert o.churn_rate is None and o.net_growth_rate is None and o.cac == 20.0


@pytest.mark.parametrize("margin, rate", [(0.0, 0.1), (1.5, 0.1), (0.5, -0.1), (float("nan"), 0.1)])
def test_assumption_domains(write, margin, rate):
    from bucket.errors import ConfigError

    with pytest.raises(ConfigError):
        compute_metrics(read_ledger(write(LEDGER)), margin=margin, annual_discount_rate=rate)

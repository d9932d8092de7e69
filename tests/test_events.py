"""Transactions → ledger and cohorts, each count worked out by hand (DESIGN §2.2)."""

from __future__ import annotations

import json

import pytest
from conftest import invoke, no_nan_json

from bucket.events.embedded import derive_transactions
from bucket.io.ledger import read_ledger

# Customers (inactive after 90 days):
#   a  search  2025-01-05, 2025-02-10          one spell: active to 2025-05-11
#   b  social  2025-01-31                      first purchase on the last day of January;
#                                              active to 2025-05-01 (Jan 31 + 90 days)
#   c  search  2025-02-01 (search), 2025-06-15 (social)
#              gap 134 days > 90: churned after 2025-05-02, reactivated in June;
#              its channel stays search (the first purchase's)
#   d  search  2025-03-01, 2025-05-30          gap 90 days: still active (the boundary counts)
#   e  social  2025-03-15, 2025-06-13 (gap 90)  and 2025-07-31 (closes July, so no partial month)
# No event at all in April: a period with no events still has its customers.
TX = """customer_id,date,amount,channel
a,2025-01-05,10.00,search
a,2025-02-10,20.50,search
b,2025-01-31,5.00,social
c,2025-02-01,7.00,search
c,2025-06-15,8.00,social
d,2025-03-01,1.10,search
d,2025-05-30,2.20,search
e,2025-03-15,3.00,social
e,2025-06-13,4.00,social
e,2025-07-31,0.10,social
"""


def by_key(frame):
    return {(r.period, r.channel): r for r in frame.itertuples()}


def test_ledger_counts_by_hand(write):
    d = derive_transactions(write(TX))
    rows = by_key(d.frame)
    assert d.warnings == []  # events reach July 31: no partial period
    jan_s, jan_o = rows[("2025-01", "search")], rows[("2025-01", "social")]
    assert (jan_s.new_customers, jan_s.customers_end) == (1, 1)  # a
    assert (jan_o.new_customers, jan_o.customers_end) == (1, 1)  # b, on the last day
    feb_s = rows[("2025-02", "search")]
    assert (feb_s.customers_start, feb_s.new_customers, feb_s.customers_end) == (1, 1, 2)  # + c
    assert feb_s.revenue == pytest.approx(27.50)  # exact cents: 20.50 + 7.00
    mar_s, mar_o = rows[("2025-03", "search")], rows[("2025-03", "social")]
    assert (mar_s.new_customers, mar_s.customers_end) == (1, 3)  # + d
    assert (mar_o.new_customers, mar_o.customers_end) == (1, 2)  # + e
    apr_s = rows[("2025-04", "search")]  # no events in April
    assert (apr_s.customers_start, apr_s.new_customers, apr_s.churned_customers) == (3, 0, 0)
    may_s, may_o = rows[("2025-05", "search")], rows[("2025-05", "social")]
    # a (to 05-11) and c (to 05-02) churn; d buys again on 05-30, 90 days after: still active
    assert (may_s.churned_customers, may_s.customers_end) == (2, 1)
    assert (may_o.churned_customers, may_o.customers_end) == (1, 1)  # b leaves (to 05-01)
    jun_s = rows[("2025-06", "search")]
    assert jun_s.reactivated_customers == 1  # c is back, counted in its own channel
    assert jun_s.customers_end == 2
    jun_o = rows[("2025-06", "social")]
    assert (jun_o.reactivated_customers, jun_o.customers_end) == (0, 1)  # e: 90 days, still active
    for r in d.frame.itertuples():  # the identity holds everywhere
        assert (
            r.customers_end
            == r.customers_start + r.new_customers + r.reactivated_customers - r.churned_customers
        )


def pooled(rows: list[dict]) -> dict[tuple[str, int], int]:
    """Active customers by (cohort, age), every channel's cohort of the period added up."""
    out: dict[tuple[str, int], int] = {}
    for r in rows:
        key = (r["cohort"], r["age"])
        out[key] = out.get(key, 0) + r["active"]
    return out


def test_cohorts_by_hand(write):
    d = derive_transactions(write(TX))
    table = pooled(d.cohorts_rows)
    assert [table[("2025-01", a)] for a in range(7)] == [2, 2, 2, 2, 0, 0, 0]  # a, b
    assert [table[("2025-02", a)] for a in range(6)] == [1, 1, 1, 0, 1, 1]  # c leaves, returns
    assert table[("2025-03", 0)] == 2 and table[("2025-03", 4)] == 2  # d and e


def test_partial_last_period_is_left_out(write):
    d = derive_transactions(write(TX.replace("2025-07-31", "2025-07-15")))
    assert d.frame["period"].max() == "2025-06"
    assert "before the end of 2025-07" in d.warnings[0]


def test_ledger_round_trip_through_the_reader(write, tmp_path):
    out = tmp_path / "ledger.csv"
    result = invoke("ledger", "--transactions", write(TX, "orders.csv"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    ledger = read_ledger(str(out))
    assert ledger.has_channels and ledger.frequency == "month"
    assert ledger.frame["reactivated_customers"].sum() == 1


def test_metrics_and_plan_from_events(write):
    spend = write(
        "period,channel,acquisition_spend,retention_spend\n"
        "2025-01,search,100,10\n2025-02,search,100,10\n2025-03,search,120,10\n"
        "2025-03,social,80,5\n",
        "spend.csv",
    )
    tx = write(TX)
    m = invoke("metrics", "--transactions", tx, "--spend", spend, "--json")
    assert m.exit_code == 0, m.stderr
    data = no_nan_json(m.stdout)
    assert data["overall"]["acquisition_spend"] == 400 and data["file"] == tx
    assert "no spend row" in m.stderr
    p = invoke("plan", "--transactions", tx, "--spend", spend, "--json", "--draws", "0")
    assert p.exit_code == 0, p.stderr


def test_event_errors(write):
    missing = invoke("ledger", "--transactions", write("customer,when,amount\na,2025-01-01,1\n"))
    assert missing.exit_code == 1
    assert "required column date not found" in missing.stderr
    bad_date = invoke("ledger", "--transactions", write("customer_id,date,amount\na,yesterday,1\n"))
    assert bad_date.exit_code == 1 and bad_date.stderr.startswith("Error: ")
    assert "Traceback" not in bad_date.stderr
    no_file = invoke("metrics")
    assert no_file.exit_code == 2 and "--transactions" in no_file.stderr


def test_cohorts_from_transactions(write):
    result = invoke("cohorts", "--transactions", write(TX), "--json")
    assert result.exit_code == 0, result.stderr
    data = no_nan_json(result.stdout)
    jan = next(c for c in data["cohorts"] if c["cohort"] == "2025-01")
    assert jan["active"][:5] == [2, 2, 2, 2, 0]
    assert "gain customers back" in result.stderr  # c returns in June


def test_example_transactions_are_realistic(tmp_path):
    result = invoke("example", str(tmp_path), "--transactions", "--rows", "20000")
    assert result.exit_code == 0, result.stderr
    d = derive_transactions(str(tmp_path / "transactions.csv"))
    rows = len((tmp_path / "transactions.csv").read_text().splitlines()) - 1
    assert 19000 <= rows <= 21000
    customers = d.frame.groupby("channel")["new_customers"].sum().sum()
    assert 3.3 <= rows / customers <= 4.3  # about 3.85 purchases per customer
    assert set(d.frame["channel"]) == {"search", "social", "partners", "email", "referral"}


# Subscriptions (empty end = active):
#   a  search  01-10..03-15 then 03-16..(open)   back to back: one spell, never ends
#   b  social  01-20..02-10, then 04-05..05-31   a gap: churn in February, reactivated in April
#   c  search  02-01..02-28                      active on its last day: churns in March
#   d  social  03-01..06-30                      the latest date: June is complete
SUBS = """customer_id,start,end,mrr,channel
a,2025-01-10,2025-03-15,10,search
a,2025-03-16,,10,search
b,2025-01-20,2025-02-10,20,social
b,2025-04-05,2025-05-31,20,social
c,2025-02-01,2025-02-28,5,search
d,2025-03-01,2025-06-30,7,social
"""


def test_subscriptions_by_hand(write):
    from bucket.events.embedded import derive_subscriptions

    d = derive_subscriptions(write(SUBS))
    rows = by_key(d.frame)
    assert (
        rows[("2025-02", "search")].customers_end,
        rows[("2025-02", "social")].churned_customers,
    ) == (2, 1)
    assert rows[("2025-03", "search")].churned_customers == 1  # c, after its last day
    assert rows[("2025-04", "social")].reactivated_customers == 1  # b
    assert rows[("2025-06", "social")].churned_customers == 1  # b ended 05-31
    assert rows[("2025-06", "search")].customers_end == 1  # a never ended
    assert rows[("2025-04", "social")].revenue == pytest.approx(27.0)  # MRR 20 + 7
    assert rows[("2025-02", "search")].revenue == pytest.approx(15.0)
    cohort = pooled(d.cohorts_rows)
    assert [cohort[("2025-01", a)] for a in range(6)] == [2, 1, 1, 2, 2, 1]
    result = invoke("metrics", "--subscriptions", write(SUBS, "s.csv"), "--json")
    assert result.exit_code == 0, result.stderr


def test_subscription_ending_before_it_starts(write):
    result = invoke(
        "ledger", "--subscriptions", write("customer_id,start,end\na,2025-02-01,2025-01-01\n")
    )
    assert result.exit_code == 1 and "end before they start" in result.stderr


def test_subscriptions_without_any_start_date_are_one_line(write):
    """Rows whose start cells are all empty once crashed (max() of nothing, exit 70)."""
    result = invoke("ledger", "--subscriptions", write("customer_id,Start Date,end\na,,\nb,,\n"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "row 2, column Start Date: no subscription has a start date" in result.stderr


def test_ids_with_leading_zeros_stay_distinct(write):
    d = derive_transactions(write("customer_id,date,amount\n007,2025-01-05,1\n7,2025-01-31,1\n"))
    assert int(d.frame["new_customers"].sum()) == 2


def test_validate_events(write):
    ok = invoke("validate", "--transactions", write(TX), "--json")
    assert ok.exit_code == 0 and no_nan_json(ok.stdout)["valid"] is True
    bad = invoke(
        "validate", "--transactions", write("customer_id,date,amount\na,2025-01-01,x\n", "b.csv")
    )
    assert bad.exit_code == 1
    assert (
        bad.stderr.startswith("Error: ")
        and "row 2, column amount: 'x' is not a number" in bad.stderr
    )


def test_plan_with_the_sbg_retention_model(write):
    from conftest import EXAMPLES

    no_cohorts = invoke("plan", str(EXAMPLES / "saas_monthly.csv"), "--retention-model", "sbg")
    assert no_cohorts.exit_code == 1 and "needs cohorts" in no_cohorts.stderr
    spend = write(
        "period,channel,acquisition_spend,retention_spend\n2025-01,search,100,10\n"
        "2025-03,social,80,5\n",
        "sp.csv",
    )
    few = invoke(
        "plan",
        "--subscriptions",
        write(SUBS),
        "--spend",
        spend,
        "--retention-model",
        "sbg",
        "--draws",
        "0",
        "--json",
    )
    assert few.exit_code == 0, few.stderr
    assert "too few to fit the sBG curve" in few.stderr


def test_spend_rows_that_match_nothing_are_reported(write):
    spend = write(
        "period,channel,acquisition_spend\n2025-01,SEARCH ,100\n2025-01,tiktok,900\n", "sp.csv"
    )
    result = invoke("metrics", "--transactions", write(TX), "--spend", spend, "--json")
    assert result.exit_code == 0, result.stderr
    assert no_nan_json(result.stdout)["overall"]["acquisition_spend"] == 100  # SEARCH = search
    assert (
        "1 spend row(s) match no period and channel of the events (2025-01 tiktok); 900.00"
        in result.stderr
    )


def test_placeholder_dates_are_refused(write):
    # found by fuzzing: a 9999-12-31 placeholder made a ledger of eight thousand years
    result = invoke("ledger", "--transactions", write(TX.replace("2025-01-05", "9999-12-31")))
    assert result.exit_code == 1
    assert ", row 2, column date: '9999-12-31' is not a date of real events" in result.stderr


def test_example_subscriptions_recover_their_sbg_parameters(tmp_path):
    # the generator draws each customer's monthly churn from Beta(1.2, 8): the cohorts derived
    # from its subscriptions must give those back
    assert invoke("example", str(tmp_path), "--subscriptions", "--rows", "20000").exit_code == 0
    subs = str(tmp_path / "subscriptions.csv")
    data = no_nan_json(invoke("cohorts", "--subscriptions", subs, "--json").stdout)
    assert data["fit"]["alpha"] == pytest.approx(1.2, rel=0.15)
    assert data["fit"]["beta"] == pytest.approx(8.0, rel=0.15)
    args = [
        "plan",
        "--subscriptions",
        subs,
        "--spend",
        str(tmp_path / "subscriptions_spend.csv"),
        "--json",
        "--draws",
        "0",
    ]
    constant = no_nan_json(invoke(*args).stdout)
    sbg = invoke(*args, "--retention-model", "sbg")
    assert sbg.exit_code == 0, sbg.stderr
    aged = no_nan_json(sbg.stdout)
    # an ageing base churns less than the constant rate: today's split keeps more customers
    assert aged["current"]["customers_end"] > constant["current"]["customers_end"]
    # the sensitivity scans run the plan's own model: at the current value of a parameter
    # they find the plan's split (they ran channel pools without the ages: 0.570 vs 0.524)
    checked = 0
    for row in aged["sensitivity"]:
        for point in row["curve"]:
            if point["value"] == pytest.approx(row["value"], rel=1e-9):
                share, name = aged["recommendation"]["acquisition_share"], row["parameter"]
                assert point["acquisition_share"] == pytest.approx(share, abs=0.005), name
                checked += 1
    assert checked >= 2  # ρ = 5 and μ = 0.5 lie on their scans' grids


def test_overlapping_subscriptions_are_one_spell(write):
    from bucket.events.embedded import derive_subscriptions

    text = (
        "customer_id,start,end,mrr\na,2025-01-10,2025-04-30,10\na,2025-03-01,2025-06-30,5\n"
        "b,2025-01-15,2025-06-30,1\n"
    )
    d = derive_subscriptions(write(text))
    frame = d.frame.set_index("period")
    assert frame["churned_customers"].sum() == 0 and frame["reactivated_customers"].sum() == 0
    assert frame.loc["2025-03", "revenue"] == pytest.approx(16.0)  # both of a's plans, and b's
    assert frame.loc["2025-05", "revenue"] == pytest.approx(6.0)


# A lapse and a return inside one period: f's last purchase (01-10) keeps it active to
# 04-10; it is back on 04-20. It was active at the end of March and is active at the end of
# April, so §2.2 counts no churn and no reactivation in April (states at period ends).
def test_lapse_and_return_inside_one_period_is_neither_churn_nor_reactivation(write):
    tx = "customer_id,date,amount\nf,2025-01-10,1\nf,2025-04-20,1\ng,2025-04-30,1\n"
    rows = {r["period"]: r for r in derive_transactions(write(tx)).rows}
    apr = rows["2025-04"]
    assert (apr["customers_start"], apr["churned_customers"], apr["reactivated_customers"]) == (
        1,
        0,
        0,
    )
    assert apr["customers_end"] == 2  # f and the new g


def _oracle(purchases, inactive, months):
    """DESIGN §2.2 read literally, day by day: counts per (month, channel) and cohort survival."""
    import datetime as dt
    from collections import defaultdict

    by = defaultdict(list)
    for cid, day, cents, ch in purchases:
        by[cid].append((day, ch, cents))
    first = {c: min((d, ch) for d, ch, _ in v) for c, v in by.items()}

    def active(c, day):
        return any(d <= day and (day - d).days <= inactive for d, _, _ in by[c])

    rows, cohorts = {}, {}
    for y, m in months:
        s = dt.date(y, m, 1)
        e = (dt.date(y + m // 12, m % 12 + 1, 1)) - dt.timedelta(days=1)
        for c in by:
            ch = first[c][1]
            r = rows.setdefault((f"{y}-{m:02d}", ch), [0, 0, 0, 0, 0, 0])
            st, en = active(c, s - dt.timedelta(days=1)), active(c, e)
            bought = [x for x in by[c] if s <= x[0] <= e]
            new = first[c][0] >= s and first[c][0] <= e
            react = bool(bought) and first[c][0] < s and not st
            r[0] += st
            r[1] += new
            r[2] += react
            r[3] += st + new + react - en
            r[4] += en
            r[5] += sum(x[2] for x in bought)
            fy, fm = first[c][0].year, first[c][0].month
            if (fy, fm) <= (y, m):
                key = (f"{fy}-{fm:02d}", (y - fy) * 12 + m - fm)
                cohorts[key] = cohorts.get(key, 0) + en
    return rows, cohorts


@pytest.mark.parametrize("seed", range(6))
def test_matches_a_literal_reading_of_the_definitions(write, seed):
    import datetime as dt
    import random

    rnd = random.Random(seed)
    inactive = rnd.choice([7, 30, 45, 90])
    base = dt.date(2024, 1, 1)
    purchases = []
    for c in range(40):
        for _ in range(rnd.randint(1, 6)):
            purchases.append(
                (
                    f"c{c}",
                    base + dt.timedelta(days=rnd.randint(0, 364)),
                    rnd.randint(1, 5000),
                    rnd.choice(["ads", "seo", "tv"]),
                )
            )
    purchases.append(("last", dt.date(2024, 12, 31), 100, "ads"))  # December is complete
    text = "customer_id,date,amount,channel\n" + "".join(
        f"{c},{d.isoformat()},{cents / 100:.2f},{ch}\n" for c, d, cents, ch in purchases
    )
    derived = derive_transactions(write(text), "month", inactive)
    want, cohorts = _oracle(purchases, inactive, [(2024, m) for m in range(1, 13)])
    got = {
        (r["period"], r["channel"]): [
            r["customers_start"],
            r["new_customers"],
            r["reactivated_customers"],
            r["churned_customers"],
            r["customers_end"],
            round(r["revenue"] * 100),
        ]
        for r in derived.rows
    }
    assert got == want
    assert pooled(derived.cohorts_rows) == cohorts


@pytest.mark.parametrize("seed", range(4))
def test_subscriptions_match_a_literal_reading(write, seed):
    """Active on day D when a subscription covers it; counts are states at period ends."""
    import datetime as dt
    import random

    from bucket.events.embedded import derive_subscriptions

    rnd = random.Random(100 + seed)
    base = dt.date(2024, 1, 1)
    subs = []
    for c in range(40):
        day = base + dt.timedelta(days=rnd.randint(0, 300))
        for _ in range(rnd.randint(1, 3)):
            end = day + dt.timedelta(days=rnd.randint(0, 90))
            open_ = rnd.random() < 0.15
            subs.append((f"c{c}", day, None if open_ else end, rnd.choice(["ads", "seo"])))
            day = end + dt.timedelta(days=rnd.randint(-5, 40))
    subs.append(("z", dt.date(2024, 6, 1), dt.date(2024, 12, 31), "ads"))  # December complete
    subs = [
        s
        for s in subs
        if s[1] <= dt.date(2024, 12, 31) and (s[2] is None or s[2] <= dt.date(2024, 12, 31))
    ]
    text = "customer_id,start,end,channel\n" + "".join(
        f"{c},{s.isoformat()},{'' if e is None else e.isoformat()},{ch}\n" for c, s, e, ch in subs
    )
    derived = derive_subscriptions(write(text))
    first = {}
    for c, s, _e, ch in sorted(subs, key=lambda x: (x[0], x[1], x[2] or dt.date.max)):
        first.setdefault(c, (s, ch))

    def active(c, day):
        return any(s <= day and (e is None or day <= e) for cc, s, e, _ in subs if cc == c)

    want = {}
    for m in range(1, 13):
        s0 = dt.date(2024, m, 1)
        e0 = dt.date(2024 + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
        for c, (f, ch) in first.items():
            if f > e0:
                continue
            r = want.setdefault((f"2024-{m:02d}", ch), [0, 0, 0, 0, 0])
            st, en = active(c, s0 - dt.timedelta(days=1)), active(c, e0)
            new = s0 <= f <= e0
            started = any(cc == c and s0 <= s <= e0 for cc, s, _, _ in subs)
            react = started and f < s0 and not st
            r[0] += st
            r[1] += new
            r[2] += react
            r[3] += st + new + react - en
            r[4] += en
    got = {
        (r["period"], r["channel"]): [
            r["customers_start"],
            r["new_customers"],
            r["reactivated_customers"],
            r["churned_customers"],
            r["customers_end"],
        ]
        for r in derived.rows
        if r["period"] >= min(p for p, _ in want)
    }
    assert {k: v for k, v in got.items() if k in want} == want


def test_channels_named_like_totals_are_channels(tmp_path):
    """Event channels called all, Total, Sum, Gesamt or Итого were dropped as subtotal rows of the
    derived ledger (new customers 781 → 647): they count like any other name."""
    names = ["all", "Total", "Sum", "Gesamt", "Итого", "search"]
    rows = ["customer_id,date,amount,channel"]
    for i in range(120):
        ch = names[i % len(names)]
        rows.append(f"c{i},2025-0{1 + i % 5}-1{i % 9},{10 + i % 7}.00,{ch}")
        rows.append(f"c{i},2025-0{2 + i % 5}-2{i % 8},5.00,{ch}")
    named = tmp_path / "named.csv"
    named.write_text("\n".join(rows) + "\n", encoding="utf-8")
    plain = tmp_path / "plain.csv"
    text = "\n".join(rows) + "\n"
    for j, n in enumerate(names):
        text = text.replace(f",{n}\n", f",ch{j}\n")
    plain.write_text(text, encoding="utf-8")
    got = invoke("metrics", "--transactions", str(named), "--json")
    want = invoke("metrics", "--transactions", str(plain), "--json")
    assert got.exit_code == want.exit_code == 0, got.stderr
    assert "subtotal" not in got.stderr
    g, w = json.loads(got.stdout)["overall"], json.loads(want.stdout)["overall"]
    assert g["new_customers"] == w["new_customers"] == 120
    assert g["revenue"] == w["revenue"]

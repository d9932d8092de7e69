"""A realistic sample ledger: 24 months of a SaaS business with three paid channels.

It is simulated from the leaky-bucket model of DESIGN §4 with known parameters and noise
(``TRUTH`` below), so later commands can be checked against what generated it: each channel's
paid new customers follow M·(1 − exp(−A/(κ·M))), churn falls with retention spend per customer
as c_min + (c_base − c_min)·exp(−(R/N)/k), organic and referral customers add inflow.
Spend varies from month to month (as real budgets do), so the response curves can be fitted.

``ledger_rows`` gives the numbers; ``to_csv`` writes them as a plain export (``,``, ``2024-01``)
or as a European one (``;``, decimal comma, ``.`` thousands, German headers, ``31.01.2024``).
"""

from __future__ import annotations

import calendar
import math
from typing import Any

SEED = 20240101
START_YEAR, MONTHS = 2024, 24
ARPU = 49.0  # revenue per customer per month
TRUTH: dict[str, dict[str, float]] = {
    # M: saturation (most paid customers per month), kappa: CAC at zero spend,
    # spend: mean monthly acquisition spend, c_base / c_min: churn without / with unlimited
    # retention spend, start: customers at the start, cr: lead conversion rate,
    # organic: mean organic customers per month, referral: referrals per customer per month.
    "search": dict(
        M=240,
        kappa=90,
        spend=15000,
        c_base=0.060,
        c_min=0.025,
        start=1400,
        cr=0.09,
        organic=14,
        referral=0.002,
    ),
    "social": dict(
        M=170,
        kappa=120,
        spend=9000,
        c_base=0.085,
        c_min=0.035,
        start=900,
        cr=0.05,
        organic=3,
        referral=0.004,
    ),
    "partners": dict(
        M=80,
        kappa=140,
        spend=4000,
        c_base=0.045,
        c_min=0.020,
        start=500,
        cr=0.14,
        organic=0,
        referral=0.001,
    ),
}
K_RETENTION = 2.0  # retention spend per customer per month that removes 63 % of removable churn
RETENTION_PER_CUSTOMER = 1.6  # mean retention spend per customer per month

HEADERS = [
    "period",
    "channel",
    "acquisition_spend",
    "retention_spend",
    "leads",
    "new_customers",
    "organic_customers",
    "referral_customers",
    "reactivated_customers",
    "customers_start",
    "churned_customers",
    "customers_end",
    "revenue",
    "attributed_revenue",
    "promoters",
    "passives",
    "detractors",
]
EU_HEADERS = [
    "Monat",
    "Kanal",
    "Werbeausgaben",
    "Kundenbindungskosten",
    "Interessenten",
    "Neukunden",
    "Organische Kunden",
    "Empfohlene Kunden",
    "Reaktivierte Kunden",
    "Kunden am Anfang",
    "Verlorene Kunden",
    "Endbestand",
    "Umsatz",
    "Kampagnenumsatz",
    "Promotoren",
    "Passive",
    "Kritiker",
]
MONEY = {"acquisition_spend", "retention_spend", "revenue", "attributed_revenue"}


def ledger_rows(seed: int = SEED) -> list[dict[str, Any]]:
    """The sample ledger as rows of numbers (period as (year, month))."""
    import numpy as np

    rng = np.random.default_rng(seed)
    customers = {ch: float(t["start"]) for ch, t in TRUTH.items()}
    rows = []
    for i in range(MONTHS):
        year, month = START_YEAR + i // 12, i % 12 + 1
        season = 1.0 + 0.22 * math.sin(2 * math.pi * (i + 2) / 12)
        retention_level = RETENTION_PER_CUSTOMER * (1.0 + 0.45 * math.sin(2 * math.pi * i / 7))
        for ch, t in TRUTH.items():
            start = int(customers[ch])
            spend = round(t["spend"] * season * float(rng.lognormal(0.0, 0.18)), -1)
            retention = round(retention_level * start * float(rng.lognormal(0.0, 0.1)), -1)
            paid_mean = t["M"] * (1.0 - math.exp(-spend / (t["kappa"] * t["M"])))
            paid = int(rng.poisson(paid_mean))
            organic = int(rng.poisson(t["organic"]))
            referral = int(rng.binomial(start, t["referral"]))
            new = paid + organic + referral
            churn = t["c_min"] + (t["c_base"] - t["c_min"]) * math.exp(
                -(retention / max(start, 1)) / K_RETENTION
            )
            churned = int(rng.binomial(start, churn))
            reactivated = int(rng.poisson(0.004 * start))
            end = start + new + reactivated - churned
            leads = int(round(paid / t["cr"] * float(rng.lognormal(0.0, 0.08)))) + organic
            revenue = round(ARPU * (start + end) / 2 * float(rng.lognormal(0.0, 0.03)), 2)
            attributed = round(paid * ARPU * 4.0 * float(rng.lognormal(0.0, 0.15)), 2)
            surveyed = int(rng.binomial(start, 0.06))
            promoters, passives, detractors = (
                int(x) for x in rng.multinomial(surveyed, [0.46, 0.36, 0.18])
            )
            rows.append(
                dict(
                    period=(year, month),
                    channel=ch,
                    acquisition_spend=float(spend),
                    retention_spend=float(retention),
                    leads=leads,
                    new_customers=new,
                    organic_customers=organic,
                    referral_customers=referral,
                    reactivated_customers=reactivated,
                    customers_start=start,
                    churned_customers=churned,
                    customers_end=end,
                    revenue=revenue,
                    attributed_revenue=attributed,
                    promoters=promoters,
                    passives=passives,
                    detractors=detractors,
                )
            )
            customers[ch] = float(end)
    return rows


def _eu_number(x: float, decimals: int) -> str:
    text = f"{x:,.{decimals}f}"  # 12,345.67
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def to_csv(rows: list[dict[str, Any]], european: bool = False) -> str:
    """The rows as CSV text: a plain export, or a European one with the same numbers."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if european else ",", lineterminator="\n")
    writer.writerow(EU_HEADERS if european else HEADERS)
    for r in rows:
        year, month = r["period"]
        cells = []
        for h in HEADERS:
            x = r[h]
            if h == "period":
                last = calendar.monthrange(year, month)[1]
                cells.append(
                    f"{last:02d}.{month:02d}.{year}" if european else f"{year}-{month:02d}"
                )
            elif h == "channel":
                cells.append(x)
            elif european:
                cells.append(_eu_number(x, 2 if h in MONEY else 0))
            else:
                cells.append(f"{x:.2f}" if h in MONEY else str(x))
        writer.writerow(cells)
    return buf.getvalue()


EXAMPLES = {
    "saas_monthly.csv": False,
    "saas_monthly_eu.csv": True,
}


# A retention test run on the sample business in its last quarter, as DESIGN §12 reads it: arms
# of about 5 % of the base each, with no retention spend, today's and four times today's
TEST_ARMS = (("holdout", 0.0), ("current", RETENTION_PER_CUSTOMER), ("stretch", 6.4))
TEST_SHARE, TEST_MONTHS = 0.15, 3


def _label(i: int) -> str:
    """The sample's month ``i`` (0: its first) as a period label."""
    return f"{START_YEAR + i // 12}-{i % 12 + 1:02d}"


def experiment_rows(rows: list[dict[str, Any]], seed: int = SEED) -> str:
    """The experiments file of the sample: each arm draws its customers from the channels'
    pools in proportion to their customers at the start of the test, and each pool churns as
    ``TRUTH`` says at the arm's spend per customer, over TEST_MONTHS months."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    start_row = len(rows) - TEST_MONTHS * len(TRUTH)  # the first row of the last quarter
    pools = {r["channel"]: r["customers_start"] for r in rows[start_row : start_row + len(TRUTH)]}
    lines = ["test,arm,start,end,customers,churned,spend_per_customer"]
    for arm, r in TEST_ARMS:
        customers = churned = 0
        for ch, n in pools.items():
            t = TRUTH[ch]
            size = int(round(TEST_SHARE * n))
            c = t["c_min"] + (t["c_base"] - t["c_min"]) * math.exp(-r / K_RETENTION)
            customers += size
            churned += int(rng.binomial(size, 1.0 - (1.0 - c) ** TEST_MONTHS))
        lines.append(
            f"retention-q4,{arm},{_label(MONTHS - TEST_MONTHS)},{_label(MONTHS - 1)},"
            f"{customers},{churned},{r:.2f}"
        )
    return "\n".join(lines) + "\n"


def example_files(seed: int = SEED) -> dict[str, str]:
    """File name → CSV text of every shipped example."""
    rows = ledger_rows(seed)
    files = {name: to_csv(rows, european=eu) for name, eu in EXAMPLES.items()}
    return {**files, "experiments.csv": experiment_rows(rows, seed)}


EVENT_CHANNELS = ("search", "social", "partners", "email", "referral")
EVENT_CAC = (120.0, 150.0, 180.0, 40.0, 0.0)  # spend per new customer (referral buys none)


def _purchases(rng, customers: int, days: int):
    """(owner, day) of the purchases of ``customers`` customers over ``days`` days."""
    import numpy as np

    first = rng.integers(0, days, customers)
    # repeat purchases: a geometric number per customer, loyalty varying across customers
    loyalty = rng.beta(4.0, 1.0, customers)
    counts = rng.geometric(1.0 - loyalty * 0.95)
    owner = np.repeat(np.arange(customers), counts)
    gaps = rng.exponential(35.0, owner.size).astype(np.int64) + 1
    lapse = rng.random(owner.size) < 0.08  # an occasional long pause: churn, maybe a return
    gaps[lapse] += rng.integers(90, 300, int(lapse.sum()))
    is_first = np.ones(owner.size, bool)
    is_first[1:] = owner[1:] != owner[:-1]
    gaps[is_first] = 0
    cum = np.cumsum(gaps)
    day = first[owner] + cum - np.repeat(cum[is_first], counts)
    keep = day < days
    return owner[keep], day[keep]


def transactions_frame(rows: int = 100_000, seed: int = SEED, months: int = 24):
    """A synthetic orders table of about ``rows`` purchases (about 3.85 per customer) over
    ``months`` months from 2024-01, five channels; customers buy every ~5 weeks and lapse at
    their own rate (some for good, some to come back). Vectorised with numpy."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    days = (dt.date(2024 + months // 12, months % 12 + 1, 1) - dt.date(2024, 1, 1)).days
    pilot = _purchases(np.random.default_rng(seed + 7), 20_000, days)[0].size / 20_000
    customers = max(int(round(rows / pilot)), 1)
    owner, day = _purchases(rng, customers, days)
    channel = rng.choice(len(EVENT_CHANNELS), customers, p=[0.35, 0.25, 0.12, 0.18, 0.10])
    return pd.DataFrame(
        {
            "customer_id": owner.astype(np.int64) + 100_000,
            "date": np.datetime64("2024-01-01") + day.astype("timedelta64[D]"),
            "amount": np.round(rng.lognormal(3.6, 0.6, owner.size), 2),
            "channel": np.array(EVENT_CHANNELS)[channel[owner]],
        }
    )


def spend_frame(tx, seed: int = SEED):
    """Monthly acquisition and retention spend per channel, consistent with the new customers
    of ``tx`` (CAC per channel with ±15 % noise)."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    first = tx.groupby("customer_id").agg(date=("date", "min"), channel=("channel", "first"))
    first["period"] = first["date"].dt.strftime("%Y-%m")
    new = first.groupby(["period", "channel"]).size().rename("new").reset_index()
    cac = dict(zip(EVENT_CHANNELS, EVENT_CAC))
    noise = rng.lognormal(0.0, 0.15, len(new))
    new["acquisition_spend"] = np.round(new["new"] * new["channel"].map(cac) * noise, 2)
    new["retention_spend"] = np.round(new["new"] * 6.0 * rng.lognormal(0.0, 0.2, len(new)), 2)
    return new.drop(columns="new")


def subscriptions_frame(rows: int = 20_000, seed: int = SEED, months: int = 24):
    """A synthetic subscriptions table of about ``rows`` subscriptions from 2024-01: each
    customer churns with a monthly probability θ drawn from Beta(1.2, 8), the sBG model's
    assumption (so cohorts show retention rising with tenure); one in twenty comes back after a
    pause of 1-6 months. Columns customer_id, start, end (empty = active), mrr, channel."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    customers = max(int(rows / 1.05), 1)
    start_month = rng.integers(0, months, customers)
    theta = rng.beta(1.2, 8.0, customers)
    life = rng.geometric(theta)  # months subscribed
    back = rng.random(customers) < 0.05
    pause = rng.integers(1, 7, customers)
    channel = rng.choice(len(EVENT_CHANNELS), customers, p=[0.35, 0.25, 0.12, 0.18, 0.10])
    mrr = rng.choice([19.0, 49.0, 99.0], customers, p=[0.5, 0.35, 0.15])
    day = rng.integers(0, 28, customers)

    def date_of(m: np.ndarray) -> list:
        return [dt.date(2024 + int(x) // 12, int(x) % 12 + 1, 1 + int(d)) for x, d in zip(m, day)]

    def end_of(first: np.ndarray, length: np.ndarray) -> list:
        last = first + length
        return [
            None
            if e >= months
            else dt.date(2024 + int(e) // 12, int(e) % 12 + 1, 1) - dt.timedelta(days=1)
            for e in last
        ]

    ids = np.arange(customers) + 500_000
    first = pd.DataFrame(
        {
            "customer_id": ids,
            "start": date_of(start_month),
            "end": end_of(start_month, life),
            "mrr": mrr,
            "channel": np.array(EVENT_CHANNELS)[channel],
        }
    )
    again = back & (start_month + life + pause < months)
    second_start = (start_month + life + pause)[again]
    second = pd.DataFrame(
        {
            "customer_id": ids[again],
            "start": date_of(second_start),
            "end": end_of(second_start, rng.geometric(theta[again])),
            "mrr": mrr[again],
            "channel": np.array(EVENT_CHANNELS)[channel[again]],
        }
    )
    return pd.concat([first, second], ignore_index=True)


def event_files(kind: str, rows: int, seed: int = SEED) -> dict[str, str]:
    """File name → CSV text of a synthetic events table (``kind``: transactions or
    subscriptions, about ``rows`` rows) and the spend file that goes with it: spend.csv for
    transactions, subscriptions_spend.csv for subscriptions (so both fit in one folder)."""
    import pandas as pd

    if kind == "subscriptions":
        tx = subscriptions_frame(rows, seed)
        first = tx.rename(columns={"start": "date"}).assign(
            date=lambda f: pd.to_datetime(f["date"])
        )
        spend = spend_frame(first, seed)
    else:
        tx = transactions_frame(rows, seed)
        spend = spend_frame(tx, seed)
    return {f"{kind}.csv": csv_text(tx), spend_name(kind): csv_text(spend)}


def spend_name(kind: str) -> str:
    """The spend file ``bucket example --transactions`` / ``--subscriptions`` writes."""
    return "spend.csv" if kind == "transactions" else f"{kind}_spend.csv"


def csv_text(frame) -> str:
    """A sample frame as CSV text, each row rendered by DuckDB (twice as fast as pandas' to_csv on
    10 M rows): header, ',' between fields, '\n' after each row, dates as YYYY-MM-DD, numbers in
    their shortest round-trip form, an empty field for a missing value. No field is quoted:
    the samples' texts are channel names, which need none."""
    import duckdb

    fields = []
    for name, dtype in frame.dtypes.items():
        cell = f'"{name}"'
        cell = f"CAST({cell} AS DATE)" if str(dtype).startswith("datetime64") else cell
        fields.append(f"coalesce(CAST({cell} AS VARCHAR), '')")
    con = duckdb.connect()
    try:
        con.register("frame", frame)
        result = con.execute(f"SELECT concat_ws(',', {', '.join(fields)}) AS line FROM frame")
        parts = [",".join(map(str, frame.columns))]
        while len(chunk := result.fetch_df_chunk(256)):  # 256 x 2,048 rows at a time
            parts.append("\n".join(chunk["line"].tolist()))
    finally:
        con.close()
    return "\n".join(parts) + "\n"

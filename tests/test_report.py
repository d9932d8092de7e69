"""`bucket report`: the HTML page agrees with `plan --json`, draws its charts in a real browser,
asks for nothing over the network, and reads on a phone."""

from __future__ import annotations

import json
import os
import re
import shutil
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES, invoke

pytestmark = pytest.mark.slow

EXAMPLE = str(EXAMPLES / "saas_monthly.csv")
OPTS = ("--draws", "40", "--seed", "7")


class Tables(HTMLParser):
    """Every <table> under its <h3> title, as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.title = ""
        self._in: str | None = None
        self._text = ""
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h3", "td", "th"):
            self._in, self._text = tag, ""
        elif tag == "tr":
            self._row = []
        elif tag == "table":
            self.tables[self.title] = []

    def handle_endtag(self, tag):
        if tag == "h3" and self._in == "h3":
            self.title, self._in = self._text.strip(), None
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(self._text.strip())
            self._in = None
        elif tag == "tr" and self._row is not None:
            self.tables[self.title].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in:
            self._text += data


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "plan.html"
    res = invoke("report", EXAMPLE, "-o", str(out), *OPTS)
    assert res.exit_code == 0, res.stderr
    return out


def _num(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text.replace("−", "-")))


def test_tables_carry_the_plan_json_numbers(page):
    res = invoke("plan", EXAMPLE, "--json", *OPTS)
    assert res.exit_code == 0, res.stderr
    plan = json.loads(res.stdout)
    html = page.read_text(encoding="utf-8")
    parser = Tables()
    parser.feed(html)
    split = {row[0]: row[1:] for row in parser.tables["today vs recommended"][1:]}
    cur, rec = plan["current"], plan["recommendation"]
    assert _num(split["acquisition share"][1]) == pytest.approx(
        100 * rec["acquisition_share"], abs=0.05
    )
    assert _num(split["acquisition share"][0]) == pytest.approx(
        100 * cur["acquisition_share"], abs=0.05
    )
    assert _num(split["retention spend"][1]) == pytest.approx(rec["retention_spend"], abs=0.5)
    assert _num(split["customer equity"][1]) == pytest.approx(rec["value"], abs=0.5)
    assert _num(split["customer equity"][0]) == pytest.approx(cur["value"], abs=0.5)
    for ch in rec["channels"]:
        # money under 1,000 shows two decimals, above it none
        assert _num(split[ch["channel"]][1]) == pytest.approx(ch["acquisition_spend"], abs=0.5)
    unc = {row[0]: row[1:] for row in parser.tables["Uncertainty across 40 scenarios (seed 7)"][1:]}
    shares = unc["recommended acquisition share"]
    for text, key in zip(shares, ("p10", "p50", "p90")):
        assert _num(text) == pytest.approx(100 * plan["uncertainty"]["split"][key], abs=0.05)
    params = parser.tables["Parameters"][1:]
    for p in plan["parameters"]:
        # words first, the symbol in brackets: "revenue per customer (u)"
        row = next(
            r for r in params if r[0].endswith(f"({p['symbol']})") and r[1] == (p["channel"] or "")
        )
        assert row[3].split()[0] == p["source"]  # "assumed *": the star points to the note
    test = plan["experiment_suggested"]
    arms = {
        row[0]: row[1:] for row in parser.tables["Next test: how much churn money can remove"][1:]
    }
    for arm in test["arms"]:
        assert _num(arms[arm["name"]][0]) == pytest.approx(arm["spend_per_customer"], abs=0.005)
        assert _num(arms[arm["name"]][1]) == pytest.approx(100 * arm["churn"], abs=0.05)
        assert _num(arms[arm["name"]][2]) == test["customers_per_arm"]
    # the headline is the plan's, and the header names the input and its period range
    assert escape(plan["headline"]) in html  # "today's" is &#x27;: escaped, as every text
    assert "2024-01 to 2025-12" in html and "saas_monthly.csv" in html


def test_page_is_self_contained_and_light(page):
    html = page.read_text(encoding="utf-8")
    assert len(html.encode()) < 2_000_000
    assert "<script" not in html
    # no address the browser could fetch: only the SVG namespace and the CSP
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert "default-src 'none'" in html
    # no cohorts for a ledger input; chart 7 (channel worth) as the example's channels differ
    assert html.count('<section class="chart"') == 6
    assert 'id="chart-7"' in html and 'id="chart-6"' not in html
    assert "@media print" in html and "break-inside: avoid" in html


def test_event_input_adds_the_cohort_chart(tmp_path):
    assert invoke("example", str(tmp_path), "--transactions", "--rows", "20000").exit_code == 0
    out = tmp_path / "r.html"
    res = invoke(
        "report",
        "--transactions",
        str(tmp_path / "transactions.csv"),
        "--spend",
        str(tmp_path / "spend.csv"),
        "--draws",
        "0",
        "-o",
        str(out),
        "-q",
    )
    assert res.exit_code == 0, res.stderr
    html = out.read_text(encoding="utf-8")
    assert 'id="chart-6"' in html and "sBG" in html
    # no draws: no bands, and the page says nothing about scenarios in the takeaways
    assert "P10–P90 across scenarios" not in html


def test_report_refuses_a_terminal_and_bad_input(tmp_path, write):
    bad = write("period,acquisition_spend\n2025-01,abc\n")
    res = invoke("report", bad, "-o", str(tmp_path / "x.html"))
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: ") and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--no-pings",
]


def _chromium() -> str:
    exe = _browser()
    if exe is None:
        if os.environ.get("BUCKET_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (BUCKET_REQUIRE_BROWSER) but not installed")
        pytest.skip("no chromium on this machine (.ci/run installs it)")
    return exe


def _phone_overflow(browser, url: str) -> int:
    """How many CSS pixels the page is wider than a 390 px phone screen."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    ph = phone.new_page()
    ph.goto(url, wait_until="load")
    overflow = ph.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    phone.close()
    return int(overflow)


def test_charts_draw_in_headless_chromium_without_network_or_errors(page, tmp_path):
    exe = _chromium()
    from io import BytesIO

    from PIL import Image
    from playwright.sync_api import sync_playwright

    problems, requests = [], []
    url = page.as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        context.on("request", lambda r: requests.append(r.url))
        pg = context.new_page()
        pg.on(
            "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
        )
        pg.on("pageerror", lambda e: problems.append(str(e)))
        pg.goto(url, wait_until="load")
        marks = pg.evaluate("""() => Array.from(document.querySelectorAll('section.chart svg'))
            .map(s => s.querySelectorAll('path, rect, line, polyline, polygon, use').length)""")
        inked = []
        for n in (1, 2, 3, 4, 5, 7):
            png = pg.locator(f"#chart-{n} svg").screenshot()
            img = Image.open(BytesIO(png)).convert("L")
            hist = img.histogram()
            inked.append(1 - sum(hist[245:]) / sum(hist))  # share of pixels that are not white
        # a phone: nothing wider than the screen
        overflow = _phone_overflow(browser, url)
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        ph = phone.new_page()
        ph.goto(url, wait_until="load")
        svg_width = ph.evaluate(
            "() => document.querySelector('#chart-1 svg').getBoundingClientRect().width"
        )
        pdf = pg.pdf(format="A4")
        browser.close()
    assert problems == []
    assert requests == [url]  # the page itself, nothing else
    assert len(marks) == 6 and min(marks) > 20, marks
    assert min(inked) > 0.03, inked  # every chart put ink on the page
    assert overflow <= 0
    assert 300 < svg_width <= 390
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 3


# one unbreakable word, longer than a phone is wide, in each place long text can come from
LONG_FOLDER = "exports" * 14  # 98 characters, no hyphen, no slash: nothing to break at
LONG_CHANNEL = "partnernetworkreferralsfromourresellersinthenordicsandbaltic"  # 60


@pytest.mark.parametrize("where", ["input path", "channel name"])
def test_long_unbreakable_names_wrap_on_a_phone_and_keep_their_whole_text(tmp_path, where):
    """The page fits a 390 px phone whatever the checkout path, file or channel names: a long
    name breaks inside itself (or is shortened in a chart) and keeps its whole text as a
    tooltip."""
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    text = Path(EXAMPLE).read_text(encoding="utf-8")
    if where == "channel name":
        assert len(LONG_CHANNEL) == 60
        ledger, long = tmp_path / "ledger.csv", LONG_CHANNEL
        ledger.write_text(text.replace(",partners,", f",{LONG_CHANNEL},"), encoding="utf-8")
    else:
        folder = tmp_path / LONG_FOLDER
        folder.mkdir()
        ledger = folder / "saasmonthlyledgerexportfromthewarehouse.csv"
        ledger.write_text(text, encoding="utf-8")
        long = str(ledger)
    out = tmp_path / "r.html"
    res = invoke("report", str(ledger), "-o", str(out), "--draws", "0", "-q")
    assert res.exit_code == 0, res.stderr
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        overflow = _phone_overflow(browser, out.as_uri())
        browser.close()
    assert overflow <= 0, f"{where}: the page is {overflow} px wider than the phone"
    html = out.read_text(encoding="utf-8")
    assert f'title="{escape(long)}"' in html  # the whole text, as a tooltip
    if where == "channel name":
        assert f"<title>{escape(long)}</title>" in html  # on the chart's shortened label too


def test_a_ledger_with_a_cohort_file_gets_the_cohort_chart(tmp_path):
    assert invoke("example", str(tmp_path), "--transactions", "--rows", "6000").exit_code == 0
    ledger, cohorts = tmp_path / "ledger.csv", tmp_path / "cohorts.csv"
    res = invoke(
        "ledger",
        "--transactions",
        str(tmp_path / "transactions.csv"),
        "--spend",
        str(tmp_path / "spend.csv"),
        "--cohorts-output",
        str(cohorts),
        "-o",
        str(ledger),
        "-q",
    )
    assert res.exit_code == 0, res.stderr
    out = tmp_path / "r.html"
    res = invoke(  # one pool: this test is about the cohorts (channel pools: test_pools.py)
        "report",
        str(ledger),
        "--cohorts",
        str(cohorts),
        "--draws",
        "0",
        "--channel-quality",
        "off",
        "-o",
        str(out),
        "-q",
    )
    assert res.exit_code == 0, res.stderr
    assert 'id="chart-6"' in out.read_text(encoding="utf-8")
    # the cohort file is the plan's too: the sBG retention model ages the base with it
    sbg = tmp_path / "sbg.html"
    res = invoke(
        "report",
        str(ledger),
        "--cohorts",
        str(cohorts),
        "--draws",
        "0",
        "--retention-model",
        "sbg",
        "-o",
        str(sbg),
    )
    assert res.exit_code == 0, res.stderr
    assert "retention model sBG" in res.stderr
    assert 'id="chart-6"' in sbg.read_text(encoding="utf-8")


def test_cohort_file_warnings_reach_stderr_and_the_page_and_its_periods_must_match(tmp_path):
    """A cohort whose count rises (reactivations) is a warning from `bucket cohorts`; the
    report used to drop it. Now it is on stderr and in the page's warnings. A cohort file in
    weeks beside a monthly ledger is refused in one line."""
    cohorts = tmp_path / "cohorts.csv"
    rows = ["cohort,age,active"]
    for i, month in enumerate(["2024-01", "2024-02", "2024-03", "2024-04"]):
        counts = [1000, 640, 700, 520, 480][: 5 - i]  # age 2 rises: customers came back
        rows += [f"{month},{a},{n}" for a, n in enumerate(counts)]
    cohorts.write_text("\n".join(rows) + "\n")
    out = tmp_path / "r.html"
    res = invoke("report", str(EXAMPLE), "--cohorts", str(cohorts), "--draws", "0", "-o", str(out))
    assert res.exit_code == 0, res.stderr
    rising = "active rises from 640 to 700 at age 2"
    assert any(rising in line for line in res.stderr.splitlines() if line.startswith("Warning: "))
    page = out.read_text(encoding="utf-8")
    assert 'id="chart-6"' in page
    assert rising in page.split('<ul class="warnings">', 1)[1]
    weekly = tmp_path / "weekly.csv"
    weekly.write_text("cohort,age,active\n2024-01-01,0,100\n2024-01-01,1,90\n2024-01-08,0,80\n")
    res = invoke(
        "report",
        str(EXAMPLE),
        "--cohorts",
        str(weekly),
        "--draws",
        "0",
        "-o",
        str(tmp_path / "w.html"),
    )
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: ") and "the ledger's are months" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "w.html").exists()


@pytest.mark.parametrize("objective", ["value", "profit", "customers"])
def test_marginal_curves_meet_at_the_recommendation_and_match_marginal_cac(objective):
    """An identity of the optimum: where moving money either way loses, the next unit of spend
    buys as much on both sides; and on the acquisition side, money per customer is the plan's
    marginal CAC (an independent computation: κ·exp(A/(κM)) per channel, blended)."""
    import numpy as np

    from bucket.analysis.report import make_report
    from bucket.io.ledger import read_ledger
    from bucket.settings import load_settings

    # one pool: with channel pools a unit of acquisition money buys customers of unequal worth,
    # and the blended marginal CAC is no longer the cost of one customer's worth
    settings, sources, _ = load_settings(
        None, {"objective": objective, "draws": 0, "channel_quality": "off"}
    )
    r = make_report(read_ledger(EXAMPLE), settings, sources)
    rec = r.plan.recommendation.acquisition_share
    assert r.crossing == pytest.approx(rec, abs=0.01)
    xs = np.array(r.marginal_shares)
    ys = np.array([np.nan if y is None else y for y in r.marginal_acquisition])
    at_rec = float(np.interp(rec, xs, ys))
    assert at_rec == pytest.approx(r.plan.marginal.recommended.marginal_cac, rel=0.03)


def test_channel_names_are_text_not_formulas(tmp_path):
    text = (
        (EXAMPLES / "saas_monthly.csv")
        .read_text(encoding="utf-8")
        .replace("social", "promo $5 \\to $_")
    )
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(text, encoding="utf-8")
    out = tmp_path / "r.html"
    res = invoke("report", str(ledger), "--draws", "0", "-o", str(out), "-q")
    assert res.exit_code == 0, res.stderr
    assert "promo $5 \\to $_" in out.read_text(encoding="utf-8")

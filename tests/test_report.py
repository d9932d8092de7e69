"""`bucket report`: the HTML page agrees with `plan --json`, draws its charts in a real browser,
asks for nothing over the network, and reads on a phone."""

from __future__ import annotations

import itertools
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


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module's tests (each opens its own context and page)."""
    exe = _browser()
    if exe is None:
        if os.environ.get("BUCKET_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (BUCKET_REQUIRE_BROWSER) but not installed")
        pytest.skip("no chromium on this machine (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        yield chromium
        chromium.close()


PHONE = {"width": 390, "height": 844}
READABLE_PX = 10  # the smallest chart text a phone may show, in CSS pixels

# every chart's box, and each of its texts: its rendered font size (the SVG's font size times
# the scale the page draws the chart at) and whether it lies inside the chart's box
GEOMETRY = """() => ({
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  charts: [...document.querySelectorAll('section.chart figure svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
      const m = t.getScreenCTM(), b = t.getBoundingClientRect();
      return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b),
        inside: b.left >= box.left - 1 && b.right <= box.right + 1
          && b.top >= box.top - 1 && b.bottom <= box.bottom + 1};
    });
    return {id: svg.closest('section').id, left: box.left, right: box.right, top: box.top,
      bottom: box.bottom, texts};
  }),
})"""


def _geometry(browser, url: str, viewport: dict) -> dict:
    context = browser.new_context(viewport=viewport, device_scale_factor=2)
    pg = context.new_page()
    pg.goto(url, wait_until="load")
    found = pg.evaluate(GEOMETRY)
    context.close()
    return found


def _readable_on_a_phone(browser, url: str) -> list[dict]:
    """The page at 390 px: nothing wider than the screen, the charts one per row and as wide as
    the column, every chart text inside its chart and at least READABLE_PX high."""
    g = _geometry(browser, url, PHONE)
    assert g["overflow"] <= 0, f"the page is {g['overflow']} px wider than the phone"
    charts = g["charts"]
    for above, below in itertools.pairwise(charts):
        assert below["top"] >= above["bottom"], (above["id"], below["id"])  # stacked
    for c in charts:
        assert c["left"] >= 0 and c["right"] <= PHONE["width"], c["id"]
        assert c["right"] - c["left"] > 300, c["id"]  # the column's width, not a thumbnail
        assert c["texts"], c["id"]
        small = [(t["text"], round(t["px"], 1)) for t in c["texts"] if t["px"] < READABLE_PX]
        assert not small, f"{c['id']}: text under {READABLE_PX} px on a phone: {small[:5]}"
        cut = [t["text"] for t in c["texts"] if not t["inside"]]
        assert not cut, f"{c['id']}: text beyond the chart's edge: {cut}"
    return charts


def test_charts_draw_in_headless_chromium_without_network_or_errors(page, browser):
    """On a desktop screen: no error, no request, every chart inked, two charts abreast at a
    comfortable size, and a PDF that keeps them."""
    from io import BytesIO

    from PIL import Image

    problems, requests = [], []
    url = page.as_uri()
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.on("request", lambda r: requests.append(r.url))
    pg = context.new_page()
    pg.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.goto(url, wait_until="load")
    marks = pg.evaluate("""() => Array.from(document.querySelectorAll('section.chart svg'))
        .map(s => s.querySelectorAll('path, rect, line, polyline, polygon, circle').length)""")
    inked = []
    for n in (1, 2, 3, 4, 5, 7):
        png = pg.locator(f"#chart-{n} svg").screenshot()
        img = Image.open(BytesIO(png)).convert("L")
        hist = img.histogram()
        inked.append(1 - sum(hist[245:]) / sum(hist))  # share of pixels that are not white
    desk = pg.evaluate(GEOMETRY)
    pdf = pg.pdf(format="A4")
    context.close()
    assert problems == []
    assert requests == [url]  # the page itself, nothing else
    assert len(marks) == 6 and min(marks) > 12, marks
    assert min(inked) > 0.03, inked  # every chart put ink on the page
    assert desk["overflow"] <= 0
    one, two = desk["charts"][:2]
    assert abs(one["top"] - two["top"]) < 1 and two["left"] > one["right"]  # side by side
    sizes = [t["px"] for c in desk["charts"] for t in c["texts"]]
    assert min(sizes) >= 12 and max(sizes) <= 16, (min(sizes), max(sizes))
    assert all(t["inside"] for c in desk["charts"] for t in c["texts"])
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 3


def test_charts_read_on_a_phone(page, browser):
    """At 390 px (an iPhone's width) the charts stack one per row, fill the column, and their
    smallest text is still 10 CSS px: the text is sized for the narrowest column, not shrunk
    with a chart drawn for a desktop."""
    charts = _readable_on_a_phone(browser, page.as_uri())
    assert [c["id"] for c in charts] == [f"chart-{n}" for n in (1, 2, 3, 4, 5, 7)]


# one unbreakable word, longer than a phone is wide, in each place long text can come from
LONG_FOLDER = "exports" * 14  # 98 characters, no hyphen, no slash: nothing to break at
LONG_CHANNEL = "partnernetworkreferralsfromourresellersinthenordicsandbaltic"  # 60
FORMULA = "promo $5 \\to $_"  # a channel name that matplotlib's mathtext would have parsed


def test_long_unbreakable_names_and_formula_like_names_on_a_phone(tmp_path, browser):
    """The page fits a 390 px phone whatever the checkout path, file or channel names: a long
    name breaks inside itself (or is shortened in a chart) and keeps its whole text as a
    tooltip. A channel name with dollars and backslashes is text, not a formula."""
    assert len(LONG_CHANNEL) == 60
    text = Path(EXAMPLE).read_text(encoding="utf-8")
    text = text.replace(",partners,", f",{LONG_CHANNEL},").replace(",social,", f",{FORMULA},")
    folder = tmp_path / LONG_FOLDER
    folder.mkdir()
    ledger = folder / "saasmonthlyledgerexportfromthewarehouse.csv"
    ledger.write_text(text, encoding="utf-8")
    out = tmp_path / "r.html"
    res = invoke("report", str(ledger), "-o", str(out), "--draws", "0", "-q")
    assert res.exit_code == 0, res.stderr
    _readable_on_a_phone(browser, out.as_uri())
    html = out.read_text(encoding="utf-8")
    for long in (str(ledger), LONG_CHANNEL):
        assert f'title="{escape(long)}"' in html  # the whole text, as a tooltip
    assert f"<title>{escape(LONG_CHANNEL)}</title>" in html  # on the chart's shortened label too
    assert FORMULA in html


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> Path:
    """An example's transactions and spend, and the ledger and cohort file made from them."""
    d = tmp_path_factory.mktemp("events")
    assert invoke("example", str(d), "--transactions", "--rows", "6000").exit_code == 0
    res = invoke(
        "ledger",
        "--transactions",
        str(d / "transactions.csv"),
        "--spend",
        str(d / "spend.csv"),
        "--cohorts-output",
        str(d / "cohorts.csv"),
        "-o",
        str(d / "ledger.csv"),
        "-q",
    )
    assert res.exit_code == 0, res.stderr
    return d


def test_event_input_adds_the_cohort_chart(events, tmp_path, browser):
    out = tmp_path / "r.html"
    res = invoke(
        "report",
        "--transactions",
        str(events / "transactions.csv"),
        "--spend",
        str(events / "spend.csv"),
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
    charts = _readable_on_a_phone(browser, out.as_uri())  # the cohort chart too
    assert "chart-6" in [c["id"] for c in charts]


def test_a_ledger_with_a_cohort_file_gets_the_cohort_chart(events, tmp_path):
    """The cohort file is the plan's too: the sBG retention model ages the base with it. One
    pool: this test is about the cohorts (channel pools: test_pools.py)."""
    out = tmp_path / "r.html"
    res = invoke(
        "report",
        str(events / "ledger.csv"),
        "--cohorts",
        str(events / "cohorts.csv"),
        "--draws",
        "0",
        "--channel-quality",
        "off",
        "--retention-model",
        "sbg",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.stderr
    assert "retention model sBG" in res.stderr
    assert 'id="chart-6"' in out.read_text(encoding="utf-8")


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

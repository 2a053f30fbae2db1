"""What a new user saw in Chromium (issue 11), checked in Chromium: one server for the whole
file (the session's `app_url`), a fresh browser context per test. Numbers are computed from
the demo's files or the fixture with pandas, never copied from the page."""

from __future__ import annotations

import contextlib
import json
import re

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from handoff.demo import DEMO_DIR
from tests.conftest import FIXTURES
from tests.test_browser import _metric, _uploaded, _wait_idle

pytestmark = pytest.mark.browser
MAVEN = "maven_sales_pipeline_300.csv"


@pytest.fixture(scope="module")
def demo():
    return {t: pd.read_parquet(DEMO_DIR / f"{t}.parquet") for t in ("leads", "deals")}


def _no_exception(page) -> None:
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def _nav(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role(
        "link", name=re.compile(f"^{name}$")).click()
    _wait_idle(page)


def _tab(page, name: str) -> None:
    """Open a tab and wait for its content (only the open tab runs, after the click)."""
    page.get_by_role("tab", name=name, exact=True).click()
    expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute(
        "aria-selected", "true")
    expect(page.locator('[role="tabpanel"]:visible [data-testid="stElementContainer"]').first
           ).to_be_attached(timeout=60_000)
    _wait_idle(page)


def _rerun_done(page) -> None:
    """After a change that reruns the script: wait for the run to start, then to end (a
    busy machine can take a moment to start it)."""
    with contextlib.suppress(PlaywrightTimeout):  # it may have run and ended already
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]',
                               timeout=3_000)
    _wait_idle(page)


def _chart(page, n: int = 0):
    return page.locator('[data-testid="stVegaLiteChart"]').nth(n)


def _pick(page, label: str, option: str) -> None:
    """Choose an option of the selectbox with this label."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    _wait_idle(page)


def _download(page, button: str, tmp_path, n: int = 0) -> str:
    with page.expect_download() as download:
        page.get_by_role("button", name=button, exact=True).nth(n).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return path.read_bytes().decode("utf-8-sig")


def test_funnel_in_period_chart_labels_click_to_records_and_exports(page, app_url, demo,
                                                                    tmp_path):
    """Items 1, 6, 9, 10: in period no longer crashes; the chart says conversion and
    drop-off; a click on a stage opens its records; exports carry their context."""
    leads = demo["leads"]
    page.goto(f"{app_url}/Funnel")
    _no_exception(page)
    n, mqls = len(leads), int(leads.mql_at.notna().sum())
    label = f"{mqls:,} · {mqls / n:.0%} of previous · {n - mqls:,} did not reach"
    expect(_chart(page).get_by_text(label)).to_be_visible()
    evangelists = int((leads.stage == "evangelist").sum())
    expect(_chart(page).get_by_text(re.compile(f"^{evangelists:,} · "))).to_be_visible()

    box = _chart(page).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + 25)  # the first bar: Lead
    _wait_idle(page)
    expect(page.get_by_text("Records at Lead (the stage you clicked)")).to_be_visible()
    expect(page.get_by_text(f"{n:,} record(s)")).to_be_visible()

    svg = _download(page, "SVG", tmp_path)
    for text in ("Funnel", "Counting: Leads, cohort", "Period: 01 Oct 2024 – 30 Oct 2026",
                 "Data: Demo company (synthetic)", "#2563eb"):
        assert text in svg, text
    csv = _download(page, "CSV", tmp_path)
    assert csv.splitlines()[0].startswith("Stage,Count,From previous (%),From first (%)")
    assert "Revenue won (USD)" in csv.splitlines()[0]

    page.get_by_text("In period", exact=True).click()
    _no_exception(page)
    _pick(page, "Breakdown", "Source / channel")
    _no_exception(page)
    expect(page.get_by_text(re.compile("^In period: each stage counts"))).to_be_visible()
    for source in leads.source.unique()[:3]:
        expect(_chart(page).get_by_text(source, exact=True).first).to_be_visible()


def test_five_stages_keep_the_breakdown_and_trends_read_well(page, app_url, demo):
    """Items 6 and 12: the five-stage view with a breakdown; legends say maturing; month
    axes show the year; no reference to 'the articles'."""
    page.goto(f"{app_url}/Funnel")
    _wait_idle(page)
    page.get_by_text("Show the five funnel stages").click()
    _wait_idle(page)
    _pick(page, "Breakdown", "Segment")
    _no_exception(page)
    for segment in demo["leads"].segment.unique():
        expect(_chart(page).get_by_text(segment, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile("^The five stages: awareness"))).to_be_visible()
    assert "articles" not in page.locator('[data-testid="stMain"]').inner_text()

    page.get_by_text("Show the five funnel stages").click()
    _wait_idle(page)
    _tab(page, "Trends")
    _no_exception(page)
    trend = _chart(page)
    expect(trend.get_by_text("Still maturing", exact=True)).to_be_visible()
    texts = trend.locator("text").all_text_contents()
    assert not {"true", "false"} & set(texts)
    assert any(re.fullmatch(r"[A-Z][a-z]{2} 20\d\d", t) for t in texts), texts


def test_compare_periods_on_the_default_range(page, app_url, demo):
    """Item 4: not empty on the default range; steps that have not had time are marked and
    left out of the verdict; the compared periods are labelled with their dates."""
    leads, deals = demo["leads"], demo["deals"]
    last = max(leads.created_at.max(), deals.closed_at.fillna(deals.created_at).max())
    quarter = (last + pd.Timedelta(days=1)).to_period("Q") - 1
    before = quarter - 1
    page.goto(f"{app_url}/Funnel")
    _wait_idle(page)
    _tab(page, "Compare periods")
    _no_exception(page)

    def span(q) -> str:
        return f"{q.start_time:%d %b %Y} – {q.end_time:%d %b %Y}"

    compare_with = page.locator('[data-testid="stRadio"]').filter(has_text="Compare with")
    expect(compare_with.get_by_text("The period just before", exact=True)).to_be_visible()
    expect(compare_with.get_by_text(span(before), exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile("^Still maturing, so left out of the verdict: "
                                       ".*Customer → Evangelist"))).to_be_visible()
    waited = (last.date() - quarter.end_time.date()).days
    expect(page.get_by_text(f"The period ended {waited:,} days before")).to_be_visible()
    assert page.get_by_text("Not enough data").count() == 0
    # the sidebar's two years against the same dates a year earlier: they overlap
    page.get_by_label("This period", exact=True).click()
    page.get_by_role("option", name=re.compile("^The date range in the sidebar")).click()
    _wait_idle(page)
    page.get_by_text(re.compile("^The same period a year earlier")).click()
    _no_exception(page)
    expect(page.get_by_text(re.compile("These periods overlap .* share [\\d,]+ days"))
           ).to_be_visible()


def test_a_copied_link_shows_another_member_the_same_view(browser, page, app_url, demo):
    """Issue 13, item 5: the page, a sidebar filter, the open tab and the compare mode are in
    the address; opened in another browser context it shows the same view and numbers."""
    leads, deals = demo["leads"], demo["deals"]
    source = "Paid search"
    page.goto(f"{app_url}/Funnel")
    _wait_idle(page)
    page.get_by_label("Source / channel").click()
    page.keyboard.type(source)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _rerun_done(page)
    _tab(page, "Compare periods")
    page.get_by_text("The same period a year earlier", exact=True).click()
    _rerun_done(page)
    expect(page).to_have_url(re.compile("funnel.compare=The"), timeout=30_000)
    link = page.url
    for part in ("/Funnel?", "source=Paid+search", "funnel.tab=Compare+periods",
                 "funnel.compare=The+same+period+a+year+earlier"):
        assert part in link.replace("%20", "+"), link

    last = max(leads.created_at.max(), deals.closed_at.fillna(deals.created_at).max())
    quarter = (last + pd.Timedelta(days=1)).to_period("Q") - 1

    def lead_to_mql(q) -> float:
        cohort = leads[(leads.source == source) & (leads.created_at >= q.start_time)
                       & (leads.created_at < q.end_time.normalize() + pd.Timedelta(days=1))]
        return cohort.mql_at.notna().sum() / len(cohort)

    expected = f"Lead → MQL: {lead_to_mql(quarter):.1%} against {lead_to_mql(quarter - 4):.1%}"
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(link)
    expect(other.get_by_role("tab", name="Compare periods", exact=True)).to_have_attribute(
        "aria-selected", "true", timeout=60_000)
    _no_exception(other)
    for shown in (page, other):
        expect(shown.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
            has_text="Source / channel").get_by_text(source, exact=True)).to_be_visible()
        expect(shown.get_by_role("radio", name="The same period a year earlier")).to_be_checked()
        expect(shown.get_by_text(re.compile("^" + re.escape(expected)))).to_be_visible(
            timeout=60_000)
    other.context.close()


def test_deals_lost_apart_from_still_open_and_objectives_say_why(browser, app_url, tmp_path):
    """Items 5, 8, 11 on an upload: the deal funnel, its chart and Home separate lost from
    still open; pipeline coverage says why it cannot be computed; names anonymised on every
    page and in downloads."""
    raw = pd.read_csv(FIXTURES / MAVEN)
    won, lost = int((raw.deal_stage == "Won").sum()), int((raw.deal_stage == "Lost").sum())
    still = len(raw) - won - lost
    page = _uploaded(browser, app_url, MAVEN)
    _nav(page, "Funnel")
    _no_exception(page)
    n = len(raw)
    expect(page.get_by_text(f"Of {n:,} deals: {won:,} won ({won / n:.0%}), {lost:,} lost "
                            f"({lost / n:.0%}) and {still:,} still open ({still / n:.0%})")
           ).to_be_visible()
    expect(_chart(page).get_by_text("Still open", exact=True)).to_be_visible()
    expect(_chart(page).get_by_text(re.compile(f"· {lost:,} lost, {still:,} open$"))
           ).to_be_visible()
    _nav(page, "Home")
    expect(_metric(page, "Lost · still open")).to_have_text(f"{lost:,} · {still:,}")

    _nav(page, "Objectives")
    _no_exception(page)
    expect(page.get_by_text(re.compile("Pipeline coverage: cannot be computed: there is no "
                                       "open pipeline with an amount"))).to_be_visible()

    page.get_by_text("Anonymise rep names").click()
    _nav(page, "Close rates")
    _no_exception(page)
    expect(page.get_by_text(re.compile(r"^Most reliably high: Rep \d+, "))).to_be_visible()
    csv = _download(page, "CSV", tmp_path)
    assert not any(name in csv for name in raw.sales_agent.unique())
    assert "Rep 1" in csv
    _nav(page, "Funnel")
    _pick(page, "Breakdown", "Owner (rep)")
    _no_exception(page)
    expect(_chart(page).locator("text", has_text=re.compile(r"^Rep \d+$")).first
           ).to_be_attached()  # the legend, once the chart is drawn
    texts = _chart(page).locator("text").all_text_contents()
    assert not set(raw.sales_agent) & set(texts)
    page.context.close()


def test_objectives_grouped_by_stage_with_attainment(page, app_url):
    """Item 8: KPIs under the funnel stages, attainment against target drawn, LTV : CAC
    with its parts, in a page a fraction of the 4,218 px it was."""
    page.goto(f"{app_url}/Objectives")
    _no_exception(page)
    main = page.locator('[data-testid="stMain"]')
    for stage in ("Awareness", "Consideration", "Sale", "Loyalty", "Advocacy",
                  "Shared (revenue team)"):
        expect(main.get_by_text(stage, exact=True).first).to_be_visible()
    note = page.get_by_text(re.compile(r"LTV : CAC: LTV \$[\d,]+ ÷ CAC \$[\d,]+"))
    expect(note).to_be_visible()
    ltv, cac = (float(x.replace(",", "")) for x in
                re.findall(r"\$([\d,]+)", note.inner_text().split("LTV : CAC: ")[1])[:2])
    shown = _chart(page, 5).get_by_text(re.compile(r"^LTV : CAC: [\d.]+×"))
    ratio = float(re.search(r"LTV : CAC: ([\d.]+)×", shown.text_content()).group(1))
    assert ratio == pytest.approx(ltv / cac, abs=0.06)
    expect(_chart(page, 1).get_by_text("Within 10% of target", exact=True)).to_be_visible()
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    assert height < 3_200, height  # was 4,218 px of cards in one column


def test_whatif_one_truth_for_shares_and_what_a_scorecard_measures(page, app_url):
    """Item 7: at 100 % the shares table says so; no green +0.0 at baseline; both teams are
    held to something; the scorecards and the projection are explained; labels uncut."""
    page.goto(f"{app_url}/What_if")
    _no_exception(page)
    assert page.locator('[data-testid="stMetricDelta"]').count() == 0  # baseline: no +0.0
    page.get_by_role("button", name="Marketing owns revenue").click()
    _no_exception(page)
    expect(page.get_by_role("slider").first).to_have_attribute("aria-valuetext",
                                                               re.compile("^100%"))
    expect(page.get_by_text("Sales is held to: Consideration 20%, Loyalty 40%, Advocacy 20%.")
           ).to_be_visible()
    expect(page.get_by_text("A scorecard and the projection answer different questions."
                            )).to_be_visible()
    expect(page.get_by_text(re.compile(r"Here projected revenue is -\d+\.\d% against"))
           ).to_be_visible()
    page.get_by_text("Every objective's share, and the model's assumptions").click()
    _wait_idle(page)
    shares = page.locator('[data-testid="stDataFrame"]').filter(has_text="Sale (revenue)")
    expect(shares).to_have_count(1)
    texts = shares.locator('[role="gridcell"]').all_inner_texts()
    sale = texts.index("Sale (revenue)")
    assert texts[sale + 1] == "100" and texts[sale + 2] == "0"  # not "Sale 0.00"
    expect(_chart(page, 1).get_by_text("Margin discipline left when sales is not accountable")
           ).to_be_visible()


def test_scenarios_import_share_link_and_workshop_mode(browser, page, app_url, tmp_path):
    """Items 2 and 11: an imported file applies (and a bad one is named); the share link is
    one copy away and reopens the scenarios compared; workshop mode keeps the comparison."""
    page.goto(f"{app_url}/What_if")
    _wait_idle(page)
    _tab(page, "Scenarios")
    good = tmp_path / "board.json"
    good.write_text(json.dumps({"name": "Board plan", "shares": {"sale": 0.65,
                                                                  "margin": 0.65}}))
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files(good)
    _no_exception(page)
    expect(page.get_by_text("Imported 'Board plan' and applied it.")).to_be_visible()
    expect(page.get_by_role("slider").first).to_have_attribute("aria-valuetext",
                                                               re.compile("^65%"))
    bad = tmp_path / "list.json"
    bad.write_text("[1, 2, 3]")
    uploader.set_input_files(bad)
    _no_exception(page)
    expect(page.get_by_text(re.compile("list.json is not a Handoff scenario: a scenario must "
                                       "be a JSON object"))).to_be_visible()
    page.get_by_label("Compare side by side (up to four)").click()
    page.keyboard.type("Board plan")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _wait_idle(page)
    code = page.locator('[data-testid="stCode"]').filter(has_text="?scenario=")
    expect(code).to_be_visible()
    code.hover()
    expect(code.get_by_role("button")).to_have_count(1)  # the copy button
    link = code.inner_text().strip()

    page.get_by_text("Workshop mode").click()
    _no_exception(page)
    expect(page.get_by_role("heading", name="Scenarios compared")).to_be_visible()
    expect(page.locator('[data-testid="stCode"]').filter(has_text="?scenario=")
           ).to_be_visible()

    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(link)
    # a fresh page reads as idle before its first run starts: wait for what it draws
    expect(other.get_by_role("slider").first).to_have_attribute(
        "aria-valuetext", re.compile("^65%"), timeout=60_000)
    _no_exception(other)
    _tab(other, "Scenarios")
    chips = other.locator('[data-testid="stMultiSelect"]').filter(
        has_text="Compare side by side")
    expect(chips.get_by_text("Board plan")).to_be_visible()
    other.context.close()


def test_targets_with_infinity_are_refused_and_the_reverse_funnel_opens(page, app_url,
                                                                       tmp_path):
    """Item 3: the CSV that crashed the Reverse funnel tab."""
    page.goto(f"{app_url}/Objectives")
    _wait_idle(page)
    _tab(page, "SMART targets")
    bad = tmp_path / "targets.csv"
    bad.write_text("KPI,Target\nLeads,2500\nRevenue against target,inf\n")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(bad)
    _no_exception(page)
    expect(page.get_by_text(re.compile(r"row 3, column Target \(Revenue against target\): "
                                       "is not a finite number"))).to_be_visible()
    _tab(page, "Reverse funnel")
    _no_exception(page)
    expect(page.get_by_label(re.compile("^Revenue target for the next period"))).to_be_visible()


def test_home_currency_and_wording(page, app_url, demo, tmp_path):
    """Items 11 and 12: Home in the navigation (also on a page opened by its address), the
    last quarter's change and trend, a currency applied to money; p < 0.001; quarters in
    time order."""
    page.goto(f"{app_url}/Close_rates")
    _wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_role("link", name="Home", exact=True)).to_be_visible()
    assert nav.get_by_role("link", name="app", exact=True).count() == 0
    _tab(page, "Compare two")
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text(re.compile(r"p (<|=) 0\.\d{3}\)"))
    text = main.inner_text()
    assert "p = 0.000" not in text and "is could" not in text
    _tab(page, "Trend by quarter")
    expect(_chart(page).locator("text", has_text=re.compile(r"^20\d\d Q\d$")).first
           ).to_be_attached()
    labels = [t for t in _chart(page).locator("text").all_text_contents()
              if re.fullmatch(r"20\d\d Q\d", t)]
    assert labels == sorted(labels) and len(labels) >= 4, labels

    _nav(page, "Home")
    deals = demo["deals"]
    revenue = deals.loc[deals.status == "won", "amount"].sum()
    expect(_metric(page, "Revenue won")).to_have_text(f"${revenue:,.0f}")
    expect(page.get_by_text(re.compile(r"^Last complete quarter: 20\d\d Q\d$"))).to_be_visible()
    assert page.locator('[data-testid="stMetricDelta"]').count() >= 3
    _pick(page, "Currency", "EUR (€)")
    expect(_metric(page, "Revenue won")).to_have_text(f"€{revenue:,.0f}")
    _nav(page, "Objectives")
    _tab(page, "CAC by channel")
    csv = _download(page, "Download CSV", tmp_path)
    assert csv.splitlines()[0] == "Channel,Spend (EUR),New customers,CAC (EUR)"


def test_sidebar_choices_hold_on_a_page_seen_before(page, app_url, demo):
    """Each page has its own copy of the sidebar's widgets and the browser remembers what a
    copy showed: a filter or setting chosen elsewhere must still win on a page seen before."""
    page.goto(f"{app_url}/Funnel")
    _wait_idle(page)
    _nav(page, "Home")
    source = demo["leads"].source.value_counts().index[0]
    page.get_by_text("Anonymise rep names").click()
    expect(page.locator('[data-testid="stSidebar"] input[type="checkbox"]').first
           ).to_be_checked()
    _rerun_done(page)
    _nav(page, "Close rates")
    page.get_by_label("Source / channel").click()
    page.keyboard.type(source)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _wait_idle(page)
    _nav(page, "Funnel")  # seen before both choices
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.locator('[data-testid="stMultiSelect"]').filter(
        has_text="Source / channel").get_by_text(source, exact=True)).to_be_visible()
    expect(sidebar.locator('input[type="checkbox"]').first).to_be_checked()
    leads = demo["leads"]
    expect(_chart(page).get_by_text(f"{int((leads.source == source).sum()):,}", exact=True)
           ).to_be_visible()

"""As a user, in Chromium: the demo opens, an upload is mapped, confirmed and counted."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from playwright.sync_api import expect

from handoff import scenarios_ui
from handoff.demo import DEMO_DIR
from tests.conftest import FIXTURES

pytestmark = pytest.mark.browser


def _settled(page, locator) -> str:
    """The locator's text once the app is idle and the text held still for half a second."""
    last = None
    for _ in range(40):
        _wait_idle(page)
        text = locator.inner_text().strip()
        if text == last:
            return text
        last = text
        page.wait_for_timeout(500)
    raise AssertionError(f"value never settled (last: {last})")


def _wait_idle(page) -> None:
    """The app has drawn its page and is not running. A page just opened reads as not
    running before its first run has started, so wait for something drawn first."""
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stElementContainer"]',
                           state="attached", timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=60_000)


def _metric(page, label: str):
    """The value element of the metric with this label (assert on it with expect: retries)."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]',
                         has_text=re.compile(f"^{re.escape(label)}$")))
    return metric.locator('[data-testid="stMetricValue"]')


def test_demo_then_upload_then_new_numbers(page, app_url, tmp_path):
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    page.goto(app_url)
    _wait_idle(page)
    expect(page.get_by_text("Headline numbers")).to_be_visible()
    expect(_metric(page, "Leads")).to_have_text(f"{len(leads):,}")
    assert page.locator('[data-testid="stException"]').count() == 0

    page.get_by_role("link", name=re.compile("^Data")).first.click()
    _wait_idle(page)
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
    fixture = FIXTURES / "maven_sales_pipeline_300.csv"
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(fixture)
    load = page.get_by_role("button", name=re.compile(r"^Load 1 file\(s\), 300 rows"))
    expect(load).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Rows rejected")).to_be_visible()
    page.screenshot(path=str(tmp_path / "data-page.png"), full_page=True)
    load.click()
    _wait_idle(page)
    expect(page.get_by_text(re.compile(r"Loaded maven_sales_pipeline_300\.csv: 300 deals"))
           ).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0

    raw = pd.read_csv(fixture)
    page.get_by_role("link", name=re.compile("^Home$")).first.click()
    _wait_idle(page)
    won = int((raw.deal_stage == "Won").sum())
    expect(_metric(page, "Deals won")).to_have_text(f"{won:,}")

    page.get_by_role("link", name=re.compile("^Funnel")).first.click()
    _wait_idle(page)
    # The stage counts, read off the page: everyone engaged, `won` of them won.
    expect(page.get_by_text(f"Of {len(raw):,} deals: {won:,} won", exact=False)
           ).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="PNG", exact=True).click()
    png = tmp_path / "funnel.png"
    download.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    assert download.value.suggested_filename == "funnel.png"
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_bad_upload_gives_a_message_and_keeps_the_demo(page, app_url, tmp_path):
    page.goto(f"{app_url}/Data")
    _wait_idle(page)
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 50)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(junk)
    expect(page.get_by_text(re.compile("junk.csv does not look like"))).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_text(re.compile("Loaded:.*Demo company"))).to_be_visible()


def test_close_rate_and_interval_read_off_the_page(page, app_url):
    from tests.test_close_rates import wilson

    deals = pd.read_parquet(DEMO_DIR / "deals.parquet")
    closed = deals[deals.status.isin(["won", "lost"])]
    by_rep = closed.groupby("owner").status.agg(won=lambda s: (s == "won").sum(), n="size")
    bounds = [wilson(w, n) for w, n in zip(by_rep.won, by_rep.n, strict=True)]
    by_rep["low"], by_rep["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    top = by_rep.sort_values("low", ascending=False).iloc[0]
    expected = (f"Most reliably high: {top.name}, {top.won / top.n:.0%} of {int(top.n):,} "
                f"(95% interval {top.low:.0%} to {top.high:.0%}: ranked by its lower end).")
    page.goto(f"{app_url}/Close_rates")
    _wait_idle(page)
    expect(page.get_by_text(expected)).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_whatif_slider_by_keyboard_and_a_shared_link(browser, page, app_url):
    page.goto(f"{app_url}/What_if")
    _wait_idle(page)
    revenue = _metric(page, "Revenue, 8 quarters")
    before = revenue.inner_text().strip()
    thumb = page.get_by_role("slider").first
    thumb.focus()
    for _ in range(10):  # ten steps of 5 points: to joint accountability
        page.keyboard.press("ArrowRight")
    expect(page.get_by_role("slider").first).to_have_attribute("aria-valuetext",
                                                               re.compile("^50%"))
    expect(revenue).not_to_have_text(before, timeout=30_000)
    after = _settled(page, revenue)
    expect(page).to_have_url(re.compile(r"[?&]scenario="), timeout=30_000)  # the address too
    (address,) = parse_qs(urlsplit(page.url).query)["scenario"]
    assert scenarios_ui.decode(address)[0].shares["sale"] == 0.5

    page.get_by_role("tab", name="Scenarios").click()
    _wait_idle(page)
    code = page.locator('[data-testid="stCode"]').filter(has_text="?scenario=")
    expect(code).to_be_visible()
    link = code.inner_text().strip()  # the share link, with its copy button
    assert link.startswith(app_url)
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(link)
    _wait_idle(other)  # the link is applied, then the page drawn again: allow for a busy CI
    expect(other.get_by_role("slider").first).to_have_attribute(
        "aria-valuetext", re.compile("^50%"), timeout=60_000)
    expect(_metric(other, "Revenue, 8 quarters")).to_have_text(after, timeout=60_000)
    assert other.locator('[data-testid="stException"]').count() == 0
    other.context.close()


def _uploaded(browser, url: str, fixture: str):
    """A new person (browser context) who has loaded one fixture file on the Data page."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/Data")
    _wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        FIXTURES / fixture)
    load = page.get_by_role("button", name=re.compile(r"^Load 1 file\(s\)"))
    expect(load).to_be_visible(timeout=60_000)
    load.click()
    expect(page.get_by_text(re.compile(f"Loaded {re.escape(fixture)}"))).to_be_visible()
    return page

"""As an attacker sharing a file, in Chromium: names, headers and values carrying Markdown
images and links, HTML and Vega tooltip HTML are shown as text on every page and tab; the
page fetches nothing from the payload's host, links nowhere, and opens no dialog."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.conftest import _free_port
from tests.test_browser import _wait_idle

pytestmark = pytest.mark.browser

PAGES = {
    "Home": (),
    "Data": (),
    "Funnel": ("Funnel", "Compare periods", "Time to convert", "Trends", "Drill down",
               "Loyalty"),
    "Close rates": ("Ranking", "Compare two", "Sales cycle", "Trend by quarter",
                    "Lead conversion"),
    "Objectives": ("Scorecards", "SMART targets", "Reverse funnel", "Bottlenecks",
                   "CAC by channel"),
    "What if": ("Sensitivity", "Scenarios"),
}


class _Hits(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _Hits.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def payload_host():
    """A server on another port (another origin): what a planted image or link points to."""
    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), _Hits)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hits.hits = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def payloads(host: str) -> dict[str, str]:
    return {
        "image": f"![x]({host}/img.png)",
        "link": f"[Session expired: sign in again]({host}/login)",
        "html": f"<img src={host}/html.png onerror=alert(1)>",
        "script": "<script>alert(1)</script>",
        "tooltip": f"<b onmouseover=alert(2)>tip</b><img src={host}/tip.png>",
    }


def payload_files(host: str) -> list[dict]:
    """A leads file and a deals file whose names, headers and values carry every payload."""
    p = payloads(host)
    rng = np.random.default_rng(7)
    n = 60
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 330, n), unit="D")
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "created_at": created.strftime("%Y-%m-%d"),
        "source": [p["image"], p["link"], p["tooltip"]] * (n // 3),
        "segment": [p["html"], p["script"], "SMB"] * (n // 3),
        "owner": [p["link"], p["image"]] * (n // 2),
        "stage": ["MQL", "SQL", "Customer", f"Lead {p['image']}"] * (n // 4),
        p["image"]: ["x"] * n,  # a header
    })
    # the dates MQLs and SQLs became so, which the What-if's rates are measured by
    reached = leads["stage"].map({"MQL": 1, "SQL": 2, "Customer": 2}).fillna(0)
    for column, rank, days in (("mql_date", 1, 2), ("sql_date", 2, 5)):
        leads[column] = (created + pd.Timedelta(days=days)).strftime("%Y-%m-%d")
        leads[column] = leads[column].where(reached >= rank, "")
    deals = pd.DataFrame({
        "deal_id": [f"D{i}" for i in range(30)],
        "lead_id": [f"L{i}" for i in range(30)],
        "created_at": created[:30].strftime("%Y-%m-%d"),
        "close_date": (created[:30] + pd.Timedelta(days=20)).strftime("%Y-%m-%d"),
        "stage": ["Won", "Lost", f"Negotiation {p['link']}"] * 10,
        "amount": [str(1000 + i) for i in range(29)] + [p["image"]],  # an unreadable amount
        "owner": [p["image"], p["link"], p["html"]] * 10,
        "product": [p["tooltip"], p["script"], p["image"]] * 10,
    })
    return [{"name": f"{p['image']} leads.csv", "mimeType": "text/csv",
             "buffer": leads.to_csv(index=False).encode()},
            {"name": f"deals {p['link']}.csv", "mimeType": "text/csv",
             "buffer": deals.to_csv(index=False).encode()}]


def _shown(page) -> str:
    """The page's text as a reader sees it (the invisible word joiners that keep a URL
    from being linked taken out)."""
    return page.locator("body").inner_text().replace("\u2060", "")


def _until_shown(page, text: str, timeout: float = 60) -> None:
    """Wait until the page's text holds `text`: a page just navigated to clears what the
    last one drew before it draws its own, and an early read sees neither."""
    deadline = time.monotonic() + timeout
    while text not in _shown(page):
        assert time.monotonic() < deadline, f"{text!r} not shown in {_shown(page)!r}"
        page.wait_for_timeout(200)


def _nothing_planted(page, host: str) -> None:
    """No element pointing at the payload's host, and the payloads shown as text."""
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    planted = page.locator(f'img[src^="{host}"], a[href^="{host}"]')
    assert planted.count() == 0, planted.first.evaluate("e => e.outerHTML")
    assert page.locator("script", has_text="alert(").count() == 0
    assert page.locator(f'[src*="{urlsplit(host).netloc}"], [href*="{urlsplit(host).netloc}"]'
                        ).count() == 0


def test_uploaded_markdown_and_html_stay_text_everywhere(browser, app_url, payload_host):
    host = payload_host
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(f"{app_url}/Data")
    _wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        payload_files(host))
    load = page.get_by_role("button", name=re.compile(r"^Load 2 file\(s\)"))
    expect(load).to_be_visible(timeout=60_000)
    image = payloads(host)["image"]
    # before loading: the file names and an unreadable amount, as text
    _nothing_planted(page, host)
    assert f"{image} leads.csv" in _shown(page)
    assert f"deals {payloads(host)['link']}.csv" in _shown(page)
    assert f"for example {image}" in _shown(page)
    load.click()
    expect(page.locator('[data-testid="stAlertContentSuccess"]')).to_be_visible(timeout=60_000)
    assert f"Loaded {image} leads.csv" in _shown(page)  # the message after loading

    for name, tabs in PAGES.items():
        page.locator('[data-testid="stSidebarNav"]').get_by_role(
            "link", name=re.compile(f"^{name}$")).click()
        path = "" if name == "Home" else name.replace(" ", "_")
        page.wait_for_url(re.compile(f"/{re.escape(path)}/?$"))
        _until_shown(page, f"Loaded: {image} leads.csv, deals {payloads(host)['link']}.csv")
        _nothing_planted(page, host)
        for tab in tabs:
            page.get_by_role("tab", name=tab, exact=True).click()
            _nothing_planted(page, host)
            charts = page.locator('[data-testid="stVegaLiteChart"]:visible')
            for i in range(min(charts.count(), 3)):  # tooltips: hover the marks
                box = charts.nth(i).bounding_box()
                if box:
                    for fx in (0.3, 0.5, 0.7):
                        page.mouse.move(box["x"] + box["width"] * fx,
                                        box["y"] + box["height"] * 0.5)
                        page.wait_for_timeout(150)
                        _nothing_planted(page, host)
        if name == "Funnel":
            page.get_by_role("tab", name="Funnel", exact=True).click()
            breakdown = page.locator('[data-testid="stSelectbox"]').filter(has_text="Breakdown")
            breakdown.first.click()
            page.get_by_role("option", name="Source / channel").click()
            _nothing_planted(page, host)

    page.wait_for_timeout(500)
    app = urlsplit(app_url).netloc
    foreign = [u for u in requests
               if urlsplit(u).scheme in ("http", "https", "ws", "wss")
               and urlsplit(u).netloc != app]
    assert foreign == [], foreign
    assert _Hits.hits == []
    assert dialogs == []
    context.close()

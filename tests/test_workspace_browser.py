"""Workspaces in Chromium: the data lives in the workspace, not in a browser session.

Local (no sign-in): a load in one browser context is what a second context (another tab or
member) sees; a refresh and a server restart on the same data directory keep it; restoring
version 1 brings its numbers back. With sign-in (tests/test_auth_browser's provider): a
member's load is what a viewer sees, a viewer gets no load button, and a non-member opening
a link to any page sees only a refusal. Numbers are counted with pandas from the fixtures."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.conftest import FIXTURES, running_app
from tests.test_auth_browser import (
    ALICE,
    BOB,
    _email,
    _signed_in,
    signed_in_app,  # noqa: F401 - the fixture, shared
)
from tests.test_browser import _metric, _uploaded, _wait_idle

pytestmark = pytest.mark.browser
MAVEN, SF = "maven_sales_pipeline_300.csv", "sf_devorg_Opportunity.csv"


def _won(fixture: str) -> int:
    frame = pd.read_csv(FIXTURES / fixture)
    return int((frame.deal_stage == "Won").sum() if "deal_stage" in frame
               else (frame.StageName == "Closed Won").sum())


def _new_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    _wait_idle(page)
    return page


def _home_shows(page, fixture: str) -> None:
    expect(_metric(page, "Deals won")).to_have_text(f"{_won(fixture):,}", timeout=60_000)
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_text(re.compile(f"Loaded:.*{re.escape(fixture)}"))).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_load_is_the_workspace_s_for_every_tab_refresh_and_restart(browser, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("HANDOFF_DATA_DIR", str(tmp_path / "data"))  # this server's own
    with running_app(log=tmp_path / "first.log") as url:
        loader = _uploaded(browser, url, MAVEN)
        other = _new_page(browser, url)  # another member's tab, opened after the load
        _home_shows(other, MAVEN)
        other.reload()
        _wait_idle(other)
        _home_shows(other, MAVEN)
        loader.get_by_role("link", name=re.compile("^Home$")).first.click()
        _wait_idle(loader)
        _home_shows(loader, MAVEN)
        loader.context.close()
        _uploaded(browser, url, SF).context.close()  # version 2
        other.reload()
        _wait_idle(other)
        _home_shows(other, SF)
        other.context.close()
    with running_app(log=tmp_path / "second.log") as url:  # a restart on the same data
        page = _new_page(browser, url)
        _home_shows(page, SF)
        page.goto(f"{url}/Data")
        _wait_idle(page)
        expect(page.get_by_text(re.compile(r"^Version 2 — current"))).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Version 1$"))).to_be_visible()
        restore = page.get_by_role("button", name="Restore")
        expect(restore).to_have_count(1)  # version 1's: the current one has none
        restore.click()
        expect(page.get_by_text("Version 1 is current again")).to_be_visible(timeout=60_000)
        page.goto(url)
        _wait_idle(page)
        _home_shows(page, MAVEN)
        page.context.close()


def test_signed_in_a_member_s_load_is_what_a_viewer_sees_and_only_members_see(
        browser, signed_in_app):  # noqa: F811
    url, _team = signed_in_app
    alice = _signed_in(browser, url, "alice")
    alice.goto(f"{url}/Data?workspace=team")
    _wait_idle(alice)
    alice.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        FIXTURES / SF)
    load = alice.get_by_role("button", name=re.compile(r"^Load 1 file\(s\)"))
    load.click()
    expect(alice.get_by_text(re.compile(f"Loaded {re.escape(SF)}"))).to_be_visible(
        timeout=60_000)

    carol = _signed_in(browser, url, "carol")  # a viewer
    _home_shows(carol, SF)
    carol.goto(f"{url}/Data?workspace=team")
    _wait_idle(carol)
    carol.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        FIXTURES / MAVEN)
    expect(carol.get_by_text(re.compile(r"You are a viewer of this workspace: "
                                        f"{_email(ALICE)} can load data"))).to_be_visible(
        timeout=60_000)
    expect(carol.get_by_role("button", name=re.compile(r"^Load "))).to_have_count(0)
    expect(carol.get_by_role("button", name="Restore")).to_have_count(0)

    bob = _signed_in(browser, url, "bob")  # not a member
    for path in ("Funnel", "Data", "Close_rates"):
        bob.goto(f"{url}/{path}?workspace=team")  # a member's link, opened by a stranger
        _wait_idle(bob)
        expect(bob.get_by_text(re.compile(f"{_email(BOB)} is not a member of workspace "
                                          "'team', so nothing of it is shown\\."))
               ).to_be_visible()
        expect(bob.get_by_test_id("stMetric")).to_have_count(0)
        expect(bob.get_by_text(SF)).to_have_count(0)
        expect(bob.get_by_text("Revenue team")).to_have_count(0)
    for page in (alice, carol, bob):
        assert page.locator('[data-testid="stException"]').count() == 0
        page.context.close()

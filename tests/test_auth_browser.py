"""Sign-in end to end, in Chromium: a local OpenID provider (oidc-provider-mock), the app with
an `[auth]` section in a temporary secrets file, and people signing in as themselves. What
each one sees is decided by their role in the workspace, read from the workspace's file."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from handoff import dataset, ingest, mapping, proposal
from handoff import workspace_versions as wv
from handoff import workspaces as w
from handoff.shared_databases import SharedDatabases
from tests.conftest import _free_port, fixture_bytes, running_app
from tests.test_browser import _wait_idle

pytestmark = pytest.mark.browser

ALICE, BOB, CAROL = "alice@acme.test", "bob@acme.test", "carol@acme.test"


@contextmanager
def oidc_provider(*emails: str) -> Iterator[str]:
    """oidc-provider-mock on a free local port, knowing these people; yields its address."""
    port = _free_port()
    users = [a for e in emails for a in ("--user-claims", json.dumps(
        {"sub": e.split("@")[0], "email": e, "email_verified": True}))]
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port),
                             *users], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/.well-known/openid-configuration",
                                            timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("oidc-provider-mock did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def signed_in_app(tmp_path_factory):
    """The app with sign-in on, over a data directory holding workspace 'team' (Alice owns
    it and loaded the Maven file, Carol views it, Bob is not a member)."""
    tmp = tmp_path_factory.mktemp("auth")
    data = tmp / "data"
    team = w.create_workspace("team", "Revenue team", ALICE, data)
    w.set_member(team, ALICE, CAROL, "viewer")
    raw = ingest.read_upload("maven_sales_pipeline_300.csv",
                             fixture_bytes("maven_sales_pipeline_300.csv"))
    m = proposal.propose_all([raw])[0]
    frame, validation = mapping.apply(raw, m)
    ready = dataset.prepared([dataset.Pending(raw.file_name, m, frame, validation)])
    cache = SharedDatabases()
    wv.save_version(team, ALICE, ready, cache)
    cache.clear()
    with oidc_provider(ALICE, BOB, CAROL) as issuer:
        secrets_file = tmp / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "handoff-test"\n'
            'client_secret = "not-a-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n')
        with pytest.MonkeyPatch.context() as env:
            env.setenv("HANDOFF_DATA_DIR", str(data))  # the app's data: the workspace above
            with running_app("--secrets.files", str(secrets_file),
                             log=tmp / "streamlit.log") as url:
                yield url, team


def _signed_in(browser, url: str, sub: str, path: str = ""):
    """A new person (browser context) who has signed in at the provider as `sub`."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/{path}")
    _wait_idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.get_by_role("button", name=sub, exact=True).click()  # a predefined user
    page.wait_for_url(re.compile(re.escape(url)))
    _wait_idle(page)
    return page


def _sidebar(page):
    return page.get_by_test_id("stSidebar")


def test_signed_out_visitors_see_only_a_sign_in_button(browser, signed_in_app):
    url, _ = signed_in_app
    page = browser.new_context().new_page()
    page.goto(url)
    _wait_idle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Headline numbers")).to_have_count(0)
    expect(page.get_by_text("Revenue team")).to_have_count(0)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.context.close()


def _email(address: str) -> str:
    """A pattern for an e-mail address as the page shows it (a word joiner after the @)."""
    return re.escape(address).replace("@", "@\u2060?")


def test_each_person_sees_what_their_role_in_the_workspace_allows(browser, signed_in_app):
    url, team = signed_in_app
    alice = _signed_in(browser, url, "alice")
    # an e-mail is shown with an invisible word joiner after the @ (so it is not a link)
    expect(_sidebar(alice).get_by_text(re.compile(f"^Signed in as {_email(ALICE)}$"))
           ).to_be_visible()
    expect(_sidebar(alice).get_by_text(re.compile(
        r"Workspace Revenue team — you are an owner\. Current data: version 1 "
        rf"\(maven_sales_pipeline_300\.csv, loaded by {_email(ALICE)} on .*\): 300 deals\.")
    )).to_be_visible()
    assert "workspace=team" in alice.url  # the view is a link
    expect(alice.get_by_text("Headline numbers")).to_be_visible()

    carol = _signed_in(browser, url, "carol")
    expect(_sidebar(carol).get_by_text(re.compile(r"you are a viewer\. Current data: "
                                                  r"version 1 .*: 300 deals\."))).to_be_visible()

    bob = _signed_in(browser, url, "bob")
    expect(bob.get_by_text(re.compile(f"{_email(BOB)} is not a member of any workspace yet"))
           ).to_be_visible()
    expect(bob.get_by_text("Headline numbers")).to_have_count(0)
    expect(bob.get_by_text("300 deals")).to_have_count(0)
    bob.goto(f"{url}/?workspace=team")  # Alice's link, opened by Bob
    _wait_idle(bob)
    expect(bob.get_by_text(re.compile(f"{_email(BOB)} is not a member of workspace 'team', so "
                                      "nothing of it is shown\\."))).to_be_visible()
    expect(bob.get_by_text("Revenue team")).to_have_count(0)
    expect(bob.get_by_text("Headline numbers")).to_have_count(0)
    for page in (alice, carol, bob):
        assert page.locator('[data-testid="stException"]').count() == 0

    # The role lives in the workspace, not in the page: Alice adds Bob, and his reload shows it.
    w.set_member(team, ALICE, BOB, "editor")
    bob.reload()
    _wait_idle(bob)
    expect(_sidebar(bob).get_by_text(re.compile(r"you are an editor\. Current data: "
                                                r"version 1 .*: 300 deals\."))).to_be_visible()
    w.remove_member(team, ALICE, CAROL)
    carol.reload()
    _wait_idle(carol)
    expect(carol.get_by_text(re.compile(f"{_email(CAROL)} is not a member of workspace 'team'"))
           ).to_be_visible()
    expect(carol.get_by_text("300 deals")).to_have_count(0)
    for page in (alice, carol, bob):
        page.context.close()

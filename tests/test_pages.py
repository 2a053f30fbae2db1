"""Every page renders on the demo data and after an upload, with numbers checked by pandas."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from handoff.demo import DEMO_DIR
from handoff.ui import DB_KEY
from tests.conftest import FIXTURES, load_files

PAGES = ["../app.py", "../pages/1_Data.py"]


def _run(script: str, db=None) -> AppTest:
    at = AppTest.from_file(script, default_timeout=60)
    if db is not None:
        at.session_state[DB_KEY] = db
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("script", PAGES)
def test_pages_render_on_demo_data(script):
    at = _run(script)
    assert at.session_state[DB_KEY].name.startswith("Demo")


def test_home_shows_demo_headline_numbers():
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    deals = pd.read_parquet(DEMO_DIR / "deals.parquet")
    at = _run("../app.py")
    assert _metric(at, "Leads") == f"{len(leads):,}"
    assert _metric(at, "Deals won") == f"{(deals.status == 'won').sum():,}"
    won, lost = (deals.status == "won").sum(), (deals.status == "lost").sum()
    assert _metric(at, "Win rate") == f"{won / (won + lost):.1%}"
    revenue = deals.loc[deals.status == "won", "amount"].sum()
    assert _metric(at, "Revenue won") == f"{revenue:,.0f}"


@pytest.mark.parametrize("script", PAGES)
def test_pages_render_after_an_upload(script):
    db = load_files("maven_sales_pipeline_300.csv", "maven_sales_teams.csv")
    at = _run(script, db)
    assert "maven_sales_pipeline_300.csv" in at.session_state[DB_KEY].name


def test_home_after_upload_counts_the_uploaded_deals_and_says_what_is_missing():
    raw = pd.read_csv(FIXTURES / "maven_sales_pipeline_300.csv")
    at = _run("../app.py", load_files("maven_sales_pipeline_300.csv"))
    assert _metric(at, "Deals won") == f"{(raw.deal_stage == 'Won').sum():,}"
    assert any("Lead numbers need a leads" in i.value for i in at.info)
    assert any("Margin is not in the deals file" in c.value for c in at.caption)

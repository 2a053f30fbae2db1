"""As a new user, in Chromium, with each shape of real export: upload, keep the proposed
mapping, press Load, and read the right numbers off Home, Funnel and Close rates."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.conftest import FIXTURES
from tests.test_browser import _metric, _wait_idle
from tests.test_close_rates import wilson

pytestmark = pytest.mark.browser


def _csv(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name, dtype=str, keep_default_na=False, **kwargs)


def _load(page, url: str, files: list, loaded: int | None = None) -> None:
    """Upload the files on the Data page, change nothing, press Load."""
    page.goto(f"{url}/Data")
    _wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(files)
    load = page.get_by_role("button", name=re.compile(
        rf"^Load {loaded or len(files)} file\(s\)"))
    expect(load).to_be_visible(timeout=60_000)
    _wait_idle(page)
    load.click()
    expect(page.get_by_text(re.compile(r"^Loaded .*: "))).to_be_visible(timeout=60_000)
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def _go(page, link: str) -> None:
    page.get_by_role("link", name=re.compile(f"^{link}$")).first.click()
    _wait_idle(page)


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    _wait_idle(page)


def _top(groups: pd.DataFrame) -> str:
    """The ranking's headline, computed here: the group with the highest Wilson lower end."""
    bounds = [wilson(w, n) for w, n in zip(groups.won, groups.n, strict=True)]
    groups = groups.assign(low=[b[0] for b in bounds], high=[b[1] for b in bounds])
    top = groups.sort_values(["low", "n"], ascending=False).iloc[0]
    return (f"Most reliably high: {top.name}, {top.won / top.n:.0%} of {int(top.n):,} "
            f"(95% interval {top.low:.0%} to {top.high:.0%}: ranked by its lower end).")


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_won_only_deals_linked_to_mqls(page, app_url):
    mqls, won = _csv("funnel_mqls.csv"), _csv("funnel_closed_deals.csv")
    _load(page, app_url, [FIXTURES / "funnel_mqls.csv", FIXTURES / "funnel_closed_deals.csv"])
    _go(page, "Home")
    linked = int(won.mql_id.isin(mqls.mql_id).sum())
    expect(_metric(page, "Leads")).to_have_text(f"{len(mqls):,}")
    expect(_metric(page, "MQLs")).to_have_text(f"{len(mqls):,}")
    expect(_metric(page, "Deals won")).to_have_text(f"{len(won):,}")
    expect(_metric(page, "Lead → customer")).to_have_text(f"{linked / len(mqls):.1%}")
    _go(page, "Funnel")
    expect(page.get_by_text(f"({len(mqls) - linked:,} of {len(mqls):,} leads)",
                            exact=False)).to_be_visible()
    _go(page, "Close rates")
    expect(page.get_by_text(re.compile("holds won deals only"))).to_be_visible()
    _tab(page, "Lead conversion")
    origin = mqls.origin.replace("", "(none)")
    groups = mqls.assign(g=origin, won=mqls.mql_id.isin(won.mql_id)).groupby("g").won.agg(
        won="sum", n="size")
    expect(page.get_by_text(_top(groups))).to_be_visible()
    _no_exception(page)


def test_undated_lead_scoring_export(page, app_url):
    raw = _csv("lead_scoring.csv")
    converted = int((raw.Converted == "1").sum())
    _load(page, app_url, [FIXTURES / "lead_scoring.csv"])
    expect(page.get_by_text(re.compile("differ only by case or spaces"))).to_be_visible()
    _go(page, "Home")
    expect(_metric(page, "Leads")).to_have_text(f"{len(raw):,}")
    expect(_metric(page, "Lead → customer")).to_have_text(f"{converted / len(raw):.1%}")
    _go(page, "Funnel")
    expect(page.get_by_text(re.compile("periods cannot be chosen"))).to_be_visible()
    expect(page.get_by_text(f"({len(raw) - converted:,} of {len(raw):,} leads)",
                            exact=False)).to_be_visible()
    _go(page, "Close rates")
    source = raw["Lead Source"].replace("", "(none)").replace("google", "Google")
    groups = raw.assign(g=source, won=raw.Converted == "1").groupby("g").won.agg(
        won="sum", n="size")
    expect(page.get_by_text(_top(groups))).to_be_visible()
    _no_exception(page)


def test_zoho_leads_and_potentials(page, app_url):
    leads, potentials = _csv("zoho_leads.csv"), _csv("zoho_potentials.csv")
    _load(page, app_url, [FIXTURES / "zoho_leads.csv", FIXTURES / "zoho_potentials.csv"])
    kept = leads[leads["Lead Status"] != "Junk Lead"]
    won = potentials[potentials.Stage == "Closed Won"]
    customers = int(kept["Converted Deal"].isin(won["Potential Id"]).sum())
    _go(page, "Home")
    expect(_metric(page, "Leads")).to_have_text(f"{len(kept):,}")
    expect(_metric(page, "Deals won")).to_have_text(f"{len(won):,}")
    expect(_metric(page, "Lead → customer")).to_have_text(f"{customers / len(kept):.1%}")
    _go(page, "Funnel")
    opportunities = int(kept["Converted Deal"].isin(potentials["Potential Id"]).sum())
    expect(page.get_by_text(f"({opportunities - customers:,} of {opportunities:,} leads)",
                            exact=False)).to_be_visible()
    _go(page, "Close rates")
    closed = potentials[potentials.Stage.isin(["Closed Won", "Closed Lost"])]
    groups = closed.assign(won=closed.Stage == "Closed Won").groupby(
        "Potential Owner").won.agg(won="sum", n="size")
    expect(page.get_by_text(_top(groups))).to_be_visible()
    _no_exception(page)


def test_churn_and_tenure_customers_export(page, app_url):
    raw = _csv("telco_churn.csv")
    churned = int((raw.Churn == "Yes").sum())
    tenure = raw.tenure.astype(int)
    ltv = raw.MonthlyCharges.astype(float).mean() * min(1 / (churned / tenure.sum()), 60)
    _load(page, app_url, [FIXTURES / "telco_churn.csv"])
    for link in ("Home", "Funnel"):
        _go(page, link)
        expect(_metric(page, "Retention")).to_have_text(f"{1 - churned / len(raw):.1%}")
        expect(_metric(page, "Churn rate")).to_have_text(f"{churned / len(raw):.1%}")
        expect(_metric(page, "Median tenure")).to_have_text(f"{tenure.median():,.1f} mo")
        expect(_metric(page, "LTV")).to_have_text(f"{ltv:,.0f}")
    expect(page.get_by_text("How long customers stay")).to_be_visible()
    _go(page, "Close rates")
    groups = raw.assign(won=raw.Churn == "No").groupby("Contract").won.agg(won="sum", n="size")
    expect(page.get_by_text(_top(groups))).to_be_visible()
    _no_exception(page)


def test_european_resave_with_date_times_and_decimal_commas(page, app_url):
    raw = _csv("eu_resave_deals.csv", sep=";")
    _load(page, app_url, [FIXTURES / "eu_resave_deals.csv"])
    won = raw[raw.Stage == "Won"]
    amount = won.Amount.str.replace(" €", "").str.replace(".", "").str.replace(",", ".")
    _go(page, "Home")
    expect(_metric(page, "Deals won")).to_have_text(f"{len(won):,}")
    # the currency is inferred from the amounts (€): every money figure carries it
    expect(_metric(page, "Revenue won")).to_have_text(f"€{amount.astype(float).sum():,.0f}")
    closed = int(raw.Stage.isin(["Won", "Lost"]).sum())
    expect(_metric(page, "Win rate")).to_have_text(f"{len(won) / closed:.1%}")
    _go(page, "Funnel")
    expect(page.get_by_text(re.compile(r"^Biggest drop: .* still open there\.$"))).to_be_visible()
    _go(page, "Close rates")
    closed_rows = raw[raw.Stage.isin(["Won", "Lost"])]
    groups = closed_rows.assign(won=closed_rows.Stage == "Won").groupby("Owner").won.agg(
        won="sum", n="size")
    expect(page.get_by_text(_top(groups))).to_be_visible()
    _no_exception(page)


def test_an_unreadable_file_does_not_block_the_others(page, app_url, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 50)
    raw = _csv("lead_scoring.csv")
    _load(page, app_url, [FIXTURES / "lead_scoring.csv", junk], loaded=1)
    expect(page.get_by_text(re.compile(r"Not loaded: junk\.csv \(does not look like"))
           ).to_be_visible()
    _go(page, "Home")
    expect(_metric(page, "Leads")).to_have_text(f"{len(raw):,}")
    _no_exception(page)

"""Shapes of real exports, with the mapping Handoff proposes left unchanged: the key numbers
match an independent pandas computation on the same fixture (see fixtures/generate_shapes.py).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from handoff import (
    close_rates,
    funnel,
    ingest,
    kpis,
    lead_conversion,
    loyalty,
    mapping,
    objectives,
    pipeline,
    proposal,
    summary,
)
from handoff.filters import Filters, filter_options
from tests.conftest import FIXTURES, fixture_bytes, load_files
from tests.test_close_rates import wilson

ALL_TIME = Filters(dt.date(1900, 1, 1), dt.date(2099, 12, 31), all_time=True)


def _proposed(*names: str) -> list[mapping.Mapping]:
    return proposal.propose_all([ingest.read_upload(n, fixture_bytes(n)) for n in names])


def _csv(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name, dtype=str, keep_default_na=False, **kwargs)


# --- 1. a won-only closed-deals file linked to an MQL file ---------------------------------

@pytest.mark.parametrize("order", [("funnel_mqls.csv", "funnel_closed_deals.csv"),
                                   ("funnel_closed_deals.csv", "funnel_mqls.csv")])
def test_won_deals_referencing_mqls_are_proposed_as_deals_linked_by_lead_id(order):
    by_name = dict(zip(order, _proposed(*order), strict=True))
    deals, leads = by_name["funnel_closed_deals.csv"], by_name["funnel_mqls.csv"]
    assert (deals.table, leads.table) == ("deals", "leads")
    assert deals.columns["lead_id"] == "mql_id" and leads.columns["lead_id"] == "mql_id"
    assert deals.columns["won_at"] == "won_date"
    assert deals.columns["deal_id"] == "seller_id"  # unique; mql_id is the link
    assert leads.row_stage == "mql"


def test_won_deals_make_their_leads_customers():
    mqls, won = _csv("funnel_mqls.csv"), _csv("funnel_closed_deals.csv")
    db = load_files("funnel_mqls.csv", "funnel_closed_deals.csv")
    s = summary.home_summary(db)
    linked = won.mql_id.isin(mqls.mql_id).sum()
    assert (s.leads, s.mqls, s.deals, s.won, s.lost, s.open_deals) == (
        len(mqls), len(mqls), len(won), len(won), 0, 0)
    assert s.customers == linked
    assert s.lead_to_customer == pytest.approx(linked / len(mqls))
    # MQL → won per quarter of the MQL date, as the Objectives panel counts it
    p = objectives.periods(db, ALL_TIME, "quarter", (), 168.0)
    quarter = pd.to_datetime(mqls.first_contact_date).dt.to_period("Q").dt.start_time
    expected = mqls.assign(q=quarter, won=mqls.mql_id.isin(won.mql_id)).groupby("q").won.agg(
        ["size", "sum"])
    got = p.set_index("period")[["mqls", "mqls_won"]]
    assert got.loc[expected.index].to_numpy().tolist() == expected.to_numpy().tolist()
    # the won date is the close date: every deal is dated, so Win rate has its column
    assert kpis.missing(db, kpis.KPI_BY_KEY["win_rate"]) is None


def test_conversion_by_origin_keeps_unknown_apart_from_blank():
    mqls, won = _csv("funnel_mqls.csv"), _csv("funnel_closed_deals.csv")
    db = load_files("funnel_mqls.csv", "funnel_closed_deals.csv")
    rates = lead_conversion.lead_conversion(db, ALL_TIME, "source", "customer").set_index("grp")
    origin = mqls.origin.replace("", "(none)")
    expected = mqls.assign(g=origin, won=mqls.mql_id.isin(won.mql_id)).groupby("g").won.agg(
        ["sum", "size"])
    assert {"unknown", "(none)"} <= set(rates.index)  # both kept, as the file has both
    for group, (x, n) in expected.iterrows():
        assert (rates.loc[group, "won"], rates.loc[group, "n"]) == (x, n)
        low, high = wilson(x, n)
        assert rates.loc[group, "ci_low"] == pytest.approx(low)
        assert rates.loc[group, "ci_high"] == pytest.approx(high)


def test_an_id_that_would_drop_most_rows_is_not_proposed():
    rows = "\n".join(f"{i},sdr{i % 3},2024-01-{i % 28 + 1:02d}" for i in range(1, 41))
    raw = ingest.read_upload("leads.csv", f"ticket_no,lead_id,created\n{rows}\n".encode())
    m = mapping.propose(raw)
    assert m.table == "leads" and m.columns["lead_id"] == "ticket_no"
    assert "would drop 37 of 40 rows" in m.note
    _, v = mapping.apply(raw, m)
    assert v.rows_loaded == 40


# --- 2. an undated lead-scoring export with a 0/1 converted column ------------------------

def test_undated_leads_are_counted_over_all_time():
    raw = _csv("lead_scoring.csv")
    db = load_files("lead_scoring.csv")
    converted = int((raw.Converted == "1").sum())
    s = summary.home_summary(db)
    assert (s.leads, s.customers) == (len(raw), converted)
    f = Filters(dt.date(1900, 1, 1), dt.date(2100, 1, 1), all_time=True)
    result = funnel.funnel(db, f, funnel.FunnelRequest())
    assert result.table.set_index("stage").entities.to_dict() == {
        "lead": len(raw), "customer": converted}
    assert any("no dates" in n and "periods cannot be chosen" in n for n in result.notes)
    in_period = funnel.funnel(db, f, funnel.FunnelRequest(view="in_period"))
    assert in_period.table.entities.tolist() == [len(raw), converted]


def test_lead_conversion_by_origin_with_wilson_intervals():
    raw = _csv("lead_scoring.csv")
    db = load_files("lead_scoring.csv")
    rates = lead_conversion.lead_conversion(db, ALL_TIME, "origin").set_index("grp")
    expected = raw.assign(won=raw.Converted == "1").groupby("Lead Origin").won.agg(
        ["sum", "size"])
    assert set(rates.index) == set(expected.index)
    for origin, (x, n) in expected.iterrows():
        assert (rates.loc[origin, "won"], rates.loc[origin, "n"]) == (x, n)
        assert (rates.loc[origin, "ci_low"], rates.loc[origin, "ci_high"]) == pytest.approx(
            wilson(x, n))
    top = rates.sort_values("rank").iloc[0]
    assert top.ci_low == rates.ci_low.max()


def test_select_is_a_placeholder_and_case_variants_are_folded():
    raw = _csv("lead_scoring.csv")
    r = ingest.read_upload("lead_scoring.csv", fixture_bytes("lead_scoring.csv"))
    m = mapping.propose(r)
    frame, v = mapping.apply(r, m)
    segment = next(c for c in v.columns if c.field == "segment")
    assert segment.missing_spellings["Select"] == (raw.Specialization == "Select").sum()
    assert frame.segment.isna().sum() == raw.Specialization.isin(["Select", ""]).sum()
    source = next(c for c in v.columns if c.field == "source")
    assert source.folded == {"google": "Google"}
    assert (frame.source == "Google").sum() == (raw["Lead Source"].str.lower() == "google").sum()
    assert any("differ only by case" in n for n in v.notes)


# --- 3. a CRM's converted flag: Zoho leads and potentials ---------------------------------

def _zoho_amount(text: str) -> float:
    """Independent reading of the potentials' amounts: $1.2M, $141.56K, ($1,200.00)."""
    negative = text.startswith("(")
    body = text.strip("()").lstrip("$").replace(",", "")
    factor = {"K": 1e3, "M": 1e6}.get(body[-1], 1.0)
    value = float(body.rstrip("KM")) * factor
    return -value if negative else value


def test_zoho_converted_means_sql_and_customers_come_from_won_potentials():
    leads, potentials = _csv("zoho_leads.csv"), _csv("zoho_potentials.csv")
    leads_m, deals_m = _proposed("zoho_leads.csv", "zoho_potentials.csv")
    assert leads_m.preset == "Zoho CRM leads" and leads_m.converted_means == "sql"
    assert deals_m.preset == "Zoho CRM potentials (older deals export)"
    assert deals_m.columns["owner"] == "Potential Owner"
    db = load_files("zoho_leads.csv", "zoho_potentials.csv")
    kept = leads[leads["Lead Status"] != "Junk Lead"]  # mapped to '(not a stage)'
    won_ids = set(potentials.loc[potentials.Stage == "Closed Won", "Potential Id"])
    customers = kept["Converted Deal"].isin(won_ids).sum()
    s = summary.home_summary(db)
    assert (s.leads, s.customers) == (len(kept), customers)
    assert s.lead_to_customer == pytest.approx(customers / len(kept))
    flagged = (kept.CONVERTED == "true").mean()
    assert s.lead_to_customer < flagged  # the flag alone would overstate it
    won = potentials[potentials.Stage == "Closed Won"]
    assert s.revenue_won == pytest.approx(won.Amount.map(_zoho_amount).sum())
    assert db.currency == "USD"
    owners = filter_options(db)["owner"]
    assert set(potentials["Potential Owner"]) <= set(owners)


def test_a_generic_yes_no_outcome_stays_customer():
    m = mapping.propose(ingest.read_upload("uci.csv", fixture_bytes("uci_bank_200.csv")))
    assert m.converted_means == "customer"


# --- 4. a customers export with a churn flag and tenure in months -------------------------

def test_churn_flag_and_tenure_give_retention_tenure_and_ltv():
    raw = _csv("telco_churn.csv")
    m = _proposed("telco_churn.csv")[0]
    assert m.table == "customers"
    assert {m.columns[k] for k in ("customer_id", "churned", "tenure_months",
                                   "monthly_revenue", "total_revenue")} == {
        "customerID", "Churn", "tenure", "MonthlyCharges", "TotalCharges"}
    db = load_files("telco_churn.csv")
    s = loyalty.summary(db)
    churned = (raw.Churn == "Yes").sum()
    tenure = raw.tenure.astype(int)
    assert (s.customers, s.churned) == (len(raw), churned)
    assert s.retention == pytest.approx(1 - churned / len(raw))
    assert s.median_tenure_months == pytest.approx(tenure.median())
    lifetime = min(1 / (churned / tenure.sum()), 60)
    assert s.ltv == pytest.approx(raw.MonthlyCharges.astype(float).mean() * lifetime)
    life = objectives.lifetime(db, dt.datetime(2030, 1, 1))
    assert life.ltv == pytest.approx(s.ltv) and life.tenure_months == pytest.approx(
        tenure.median())
    for key in ("retention", "tenure", "ltv"):
        assert kpis.missing(db, kpis.KPI_BY_KEY[key]) is None


def test_tenure_bands_and_retention_by_contract():
    raw = _csv("telco_churn.csv")
    db = load_files("telco_churn.csv")
    bands = loyalty.tenure_distribution(db)
    months = raw.tenure.astype(int)
    expected = raw.assign(band=months // 12 * 12, churned=raw.Churn == "Yes").groupby(
        "band").churned.agg(["size", "sum"])
    got = bands.set_index("months_from")[["customers", "churned"]]
    assert got.to_numpy().tolist() == expected.to_numpy().tolist()
    rates = loyalty.retention_by(db).set_index("grp")
    for contract, group in raw.groupby("Contract"):
        kept = int((group.Churn == "No").sum())
        assert (rates.loc[contract, "won"], rates.loc[contract, "n"]) == (kept, len(group))
        assert rates.loc[contract, "ci_low"] == pytest.approx(wilson(kept, len(group))[0])


def test_blank_total_charges_are_missing_not_unreadable():
    raw = _csv("telco_churn.csv")
    r = ingest.read_upload("t.csv", fixture_bytes("telco_churn.csv"))
    _, v = mapping.apply(r, mapping.propose(r))
    total = next(c for c in v.columns if c.field == "total_revenue")
    assert (total.missing, total.failed) == ((raw.TotalCharges.str.strip() == "").sum(), 0)
    churn = next(c for c in v.columns if c.field == "churned")
    assert churn.failed == 0


# --- 5 and 6. European date-times and amounts ----------------------------------------------

def test_european_resave_dates_and_amounts():
    raw = _csv("eu_resave_deals.csv", sep=";")
    r = ingest.read_upload("eu_resave_deals.csv", fixture_bytes("eu_resave_deals.csv"))
    m = mapping.propose(r)
    frame, v = mapping.apply(r, m)
    created = pd.to_datetime(raw.Created, format="%Y.%m.%d %H:%M")
    assert frame.created_at.tolist() == created.tolist()
    closed = pd.to_datetime(raw["Close Date"].replace("", None), format="%d.%m.%Y %H:%M")
    is_closed = raw.Stage.isin(["Won", "Lost"])
    assert frame.closed_at[is_closed].tolist() == closed[is_closed].tolist()
    reports = {c.field: c for c in v.columns}
    assert reports["created_at"].date_formats == ["YYYY.MM.DD hh:mm"]
    assert reports["closed_at"].date_order == "dmy"
    amount = raw.Amount.str.replace(" €", "").str.replace(".", "").str.replace(",", ".")
    assert frame.amount.tolist() == pytest.approx(amount.astype(float).tolist())
    assert reports["amount"].decimal_comma and reports["amount"].currency == "EUR"


def test_amount_multipliers_negatives_and_currency_reach_the_database():
    db = load_files("zoho_leads.csv", "zoho_potentials.csv")
    r = ingest.read_upload("p.csv", fixture_bytes("zoho_potentials.csv"))
    _, v = mapping.apply(r, mapping.propose(r))
    amount = next(c for c in v.columns if c.field == "amount")
    raw = _csv("zoho_potentials.csv")
    assert amount.multiplied == raw.Amount.str.contains(r"[KM]$").sum()
    assert amount.negatives == raw.Amount.str.startswith("(").sum()
    assert (amount.currency, db.currency) == ("USD", "USD")
    assert load_files("maven_sales_pipeline_300.csv").currency is None  # plain integers


# --- 9. messages say what is the case -------------------------------------------------------

def test_a_mapped_close_date_of_open_deals_is_not_called_missing():
    data = "Deal ID,Stage,Close Date\n1,Proposal,2024-05-01\n2,Negotiation,2024-06-01\n"
    db = pipeline.load_files([("open.csv", data.encode())])
    why = kpis.missing(db, kpis.KPI_BY_KEY["win_rate"])
    assert "is mapped" in why and "every deal is open" in why


@pytest.mark.parametrize(("links", "mapped", "says"), [
    (summary.Links(10, 10, 10), True, ""),
    (summary.Links(10, 0, 0), False, "map the deals file's lead"),
    (summary.Links(10, 0, 0), True, "is mapped, but no deal has a value"),
    (summary.Links(10, 8, 5), True, "3 carry a lead id that is not among the loaded leads "
                                    "(a shorter leads export?) and 2 have no lead id"),
])
def test_the_link_hint_says_what_is_the_case(links, mapped, says):
    hint = summary.link_hint(links, mapped)
    assert (says in hint) if says else hint == ""


def test_close_rates_of_won_only_deals_are_flagged():
    db = load_files("funnel_mqls.csv", "funnel_closed_deals.csv")
    rates = close_rates.close_rates(db, ALL_TIME, "owner")
    assert close_rates.only_won(rates) and (rates.rate == 1).all()
    assert not math.isnan(rates.ci_low.iloc[0])

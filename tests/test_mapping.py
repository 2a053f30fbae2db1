"""Mapping exports to the canonical model: presets, synonyms, stages, statuses, rejections."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from handoff import mapping
from handoff.ingest import read_upload
from tests.conftest import FIXTURES, fixture_bytes


def _mapped(name: str, data: bytes | None = None, table: str | None = None):
    raw = read_upload(name, data if data is not None else fixture_bytes(name))
    m = mapping.propose(raw, table)
    frame, validation = mapping.apply(raw, m)
    return raw, m, frame, validation


def test_maven_pipeline_maps_as_deals_with_outcomes():
    _, m, frame, v = _mapped("maven_sales_pipeline_300.csv")
    expected = pd.read_csv(FIXTURES / "maven_sales_pipeline_300.csv")
    assert m.table == "deals"
    assert m.columns["deal_id"] == "opportunity_id" and m.columns["owner"] == "sales_agent"
    assert v.ok and v.rows_loaded == len(expected) == 300
    won = (expected.deal_stage == "Won").sum()
    lost = (expected.deal_stage == "Lost").sum()
    assert (frame.status == "won").sum() == won
    assert (frame.status == "lost").sum() == lost
    assert frame.amount.sum() == pytest.approx(expected.close_value.sum())
    assert m.stage_order[:2] == ["Prospecting", "Engaging"] or "Prospecting" not in m.stages
    assert frame.stage_order.notna().all()


def test_maven_teams_maps_as_teams():
    _, m, frame, v = _mapped("maven_sales_teams.csv")
    assert m.table == "teams"
    assert m.columns == {"owner": "sales_agent", "manager": "manager", "team": "regional_office"}
    assert len(frame) == 35 and frame.manager.nunique() == 6


def test_salesforce_opportunity_export_is_recognised():
    _, m, frame, v = _mapped("sf_devorg_Opportunity.csv")
    raw = pd.read_csv(FIXTURES / "sf_devorg_Opportunity.csv")
    assert m.preset == "Salesforce opportunities (object export)"
    assert (frame.status == "won").sum() == (raw.StageName == "Closed Won").sum() == 12
    assert (frame.status == "lost").sum() == (raw.StageName == "Closed Lost").sum() == 8
    # Open opportunities' CloseDate is an expected date and is not kept as a close.
    assert frame.loc[frame.status == "open", "closed_at"].isna().all()
    assert any("expected date" in n for n in v.notes)
    close = next(r for r in v.columns if r.column == "CloseDate")
    assert close.ambiguous_dates > 0 and close.date_order == "mdy"
    assert m.stage_order.index("Prospecting") < m.stage_order.index("Negotiation/Review")


def test_flipping_the_date_order_changes_the_dates():
    raw = read_upload("o.csv", fixture_bytes("sf_devorg_Opportunity.csv"))
    m = mapping.propose(raw)
    us, _ = mapping.apply(raw, m)
    m.date_order = {"CloseDate": "dmy"}
    eu, _ = mapping.apply(raw, m)
    first_closed = us.closed_at.first_valid_index()
    assert us.closed_at[first_closed] != eu.closed_at[first_closed]
    assert us.closed_at[first_closed].month == eu.closed_at[first_closed].day


def test_salesforce_bom_export_with_boolean_flags():
    _, m, frame, v = _mapped("sf_datacloud_Opportunity.csv")
    assert m.preset == "Salesforce opportunities (object export)"
    assert (frame.status == "won").sum() == 12 and (frame.status == "lost").sum() == 3
    assert frame.amount.notna().sum() == 50


def test_salesforce_history_and_leads():
    _, m, frame, _ = _mapped("sf_devorg_OpportunityHistory.csv")
    assert m.table == "stage_history" and len(frame) == 48
    assert frame.deal_id.nunique() == 36
    _, m, frame, _ = _mapped("sf_devorg_Lead.csv")
    raw = pd.read_csv(FIXTURES / "sf_devorg_Lead.csv")
    assert m.table == "leads"
    assert (frame.stage == "sql").sum() == (raw.Status == "Closed - Converted").sum()


def test_uci_bank_maps_as_leads_with_yes_no_conversion():
    _, m, frame, v = _mapped("uci_bank_200.csv")
    raw = pd.read_csv(FIXTURES / "uci_bank_200.csv", sep=";")
    assert m.table == "leads" and m.columns["converted"] == "y"
    assert (frame.stage == "customer").sum() == (raw.y == "yes").sum()
    assert frame.lead_id.tolist()[:2] == ["row-1", "row-2"]
    assert any("No id column" in n for n in v.notes)


HUBSPOT = (
    "Record ID,First Name,Create Date,Lifecycle Stage,Original Source,"
    "Became a Lead Date,Became a Marketing Qualified Lead Date,"
    "Became a Sales Qualified Lead Date,Became an Opportunity Date,Became a Customer Date,"
    "Became an Evangelist Date,Contact owner\n"
    "101,Ann,2024-01-05 10:00,Customer,Organic Search,2024-01-05 10:00,2024-01-09 09:00,"
    "2024-01-20 12:00,2024-02-01 08:00,2024-03-01 08:00,,Sam\n"
    "102,Bob,2024-01-06 11:00,Marketing Qualified Lead,Paid Search,2024-01-06 11:00,"
    "2024-01-10 09:00,,,,,Sam\n"
    "103,Cy,2024-01-07 12:00,Subscriber,Direct Traffic,,,,,,,Lee\n"
    "103,Cy again,2024-01-07 12:00,Lead,Direct Traffic,,,,,,,Lee\n"
    ",No id,2024-01-08 12:00,Lead,Direct Traffic,,,,,,,Lee\n"
)


def test_hubspot_contacts_wide_stage_dates():
    _, m, frame, v = _mapped("hubspot.csv", HUBSPOT.encode())
    assert m.preset == "HubSpot contacts"
    assert frame.lead_id.tolist() == ["101", "102", "103"]
    assert frame.stage.tolist() == ["customer", "mql", "lead"]
    assert frame.mql_at.iloc[0] == pd.Timestamp("2024-01-09 09:00")
    reasons = sorted(r.reason for r in v.rejected)
    assert [r.line for r in sorted(v.rejected, key=lambda r: r.line)] == [5, 6]
    assert "repeats lead id '103' of line 4" in reasons
    assert "no lead id" in reasons


def test_pipedrive_prefixes_and_status_column():
    data = ("Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Status,"
            "Deal - Deal created,Deal - Owner\n"
            "1,A,\"1,000\",Proposal Made,won,2024-05-01 10:00:00,Kim\n"
            "2,B,500,Qualified,lost,2024-05-02 10:00:00,Kim\n"
            "3,C,250,Contact Made,open,2024-05-03 10:00:00,Lou\n")
    _, m, frame, v = _mapped("pipedrive.csv", data.encode())
    assert m.preset == "Pipedrive deals"
    assert frame.status.tolist() == ["won", "lost", "open"]
    assert frame.amount.tolist() == [1000.0, 500.0, 250.0]
    assert frame.owner.tolist() == ["Kim", "Kim", "Lou"]


def test_unknown_headers_fall_back_to_synonyms():
    data = "Opportunity,Sales Stage,Deal Value,Rep,Created\nX1,Won,$5,000,Al,2024-01-01\n"
    data = data.replace("$5,000", '"$5,000"')
    _, m, frame, v = _mapped("generic.csv", data.encode())
    assert m.table == "deals" and m.preset is None
    assert m.columns["amount"] == "Deal Value" and m.columns["owner"] == "Rep"
    assert frame.amount.tolist() == [5000.0]
    assert next(r for r in v.columns if r.field == "amount").currency_parsed == 1


def test_mapping_to_a_missing_column_is_a_problem_not_a_crash():
    raw = read_upload("m.csv", fixture_bytes("maven_sales_pipeline_300.csv"))
    m = mapping.propose(raw)
    m.columns["amount"] = "no such column"
    _, v = mapping.apply(raw, m)
    assert not v.ok and "no such column" in v.problems[0]


def test_mapping_json_round_trip_and_bad_json():
    raw = read_upload("m.csv", fixture_bytes("maven_sales_pipeline_300.csv"))
    m = mapping.propose(raw)
    back = mapping.Mapping.from_json(m.to_json())
    assert back == m
    with pytest.raises(ValueError):
        mapping.Mapping.from_json('{"table": "drop table leads"}')
    with pytest.raises(ValueError):
        mapping.Mapping.from_json(io.StringIO("[]").read())


def test_not_a_stage_and_deleted_deals_are_left_out_and_reported():
    data = (b"Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Status,"
            b"Deal - Deal created\n1,A,100,Won,won,2024-01-01\n2,B,100000,Lead In,deleted,"
            b"2024-01-02\n3,C,50,Lead In,open,2024-01-03\n")
    _, _, frame, validation = _mapped("pd.csv", data)
    assert frame.deal_id.tolist() == ["1", "3"]
    assert [r.line for r in validation.rejected] == [3]
    assert "(not a stage)" in validation.rejected[0].reason


def test_a_file_with_one_row_per_deal_is_deals_not_stage_history():
    """deal id, stage and a 'Created Date' read as stage history by their names; a history
    repeats each deal, so unique ids make the file deals."""
    data = ("deal_id,stage,amount,owner,Created Date\n"
            "D1,Won,100,Ann,2025-01-01\nD2,Lost,200,Bob,2025-02-01\nD3,Demo,300,Ann,2025-03-01\n")
    _, m, frame, _ = _mapped("deals.csv", data.encode())
    assert m.table == "deals" and m.columns["created_at"] == "Created Date"
    assert "each 'deal_id' appears once" in m.note
    assert frame.status.tolist() == ["won", "lost", "open"]
    history = data.replace("D2,Lost", "D1,Lost")  # a deal that appears twice: its history
    _, m, _, _ = _mapped("history.csv", history.encode())
    assert m.table == "stage_history"

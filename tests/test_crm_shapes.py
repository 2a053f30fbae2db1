"""Exports as other CRMs write them (Close, Dynamics 365, Pipedrive leads, a Salesforce
report, Zoho's placeholders): the proposal and the headline numbers against pandas."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from handoff import close_rates_ui, pipeline
from handoff.summary import Summary, home_summary


def _load(name: str, frame: pd.DataFrame):
    data = frame.to_csv(index=False).encode()
    raw = pipeline.read(name, data)
    return pipeline.proposed([raw])[0], pipeline.load_files([(name, data)])


def _close(n: int = 90) -> pd.DataFrame:
    rng = random.Random(6)
    rows = []
    for i in range(n):
        label, kind = rng.choice([("Active", "active"), ("Demo Booked", "active"),
                                  ("Won", "won"), ("Lost", "lost"), ("Lost - No Budget", "lost")])
        cents = rng.randint(50, 900) * 10_000
        period = rng.choice(["one_time", "one_time", "monthly"])
        created = pd.Timestamp("2025-03-01") + pd.Timedelta(days=rng.randint(0, 400))
        rows.append({
            "id": f"oppo_{i}", "lead_id": f"lead_{i}", "lead_name": f"Co {i}",
            "status_label": label, "status_type": kind, "value": cents,
            "value_period": period, "value_currency": "USD",
            "value_formatted": f"${cents / 100:,.0f}" + (" monthly" if period == "monthly" else ""),
            "date_created": created.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
            "date_won": (created + pd.Timedelta(days=9)).strftime("%Y-%m-%d")
            if kind == "won" else "", "user_name": rng.choice(["Ellen", "Dana"])})
    return pd.DataFrame(rows)


def test_close_status_type_and_dollars_not_cents():
    frame = _close()
    m, db = _load("Close_opportunities_export.csv", frame)
    assert m.preset == "Close opportunities" and m.columns["amount"] == "value_formatted"
    s = home_summary(db)
    kinds = frame["status_type"].value_counts()
    assert (s.won, s.lost, s.open_deals) == (kinds["won"], kinds["lost"], kinds["active"])
    one_time_won = frame[(frame.status_type == "won") & (frame.value_period == "one_time")]
    assert s.revenue_won == pytest.approx(one_time_won["value"].sum() / 100)  # cents → dollars
    assert db.currency == "USD"


def test_dynamics_est_revenue_and_created_on():
    rng = random.Random(4)
    status = [rng.choice(["Open", "Won", "Lost"]) for _ in range(60)]
    frame = pd.DataFrame({
        "(Do Not Modify) Opportunity": [f"{i:08x}-aaaa" for i in range(60)],
        "Topic": [f"Deal {i}" for i in range(60)], "Status": status,
        "Est. Revenue": [f"${rng.randint(1, 90) * 1000:,}.00" for _ in range(60)],
        "Created On": [f"{rng.randint(13, 28):02d}/{rng.randint(1, 12):02d}/2025 14:22"
                       for _ in range(60)],  # day first: a day over 12 says so
        "Owner": "Sam"})
    m, db = _load("Open Opportunities.csv", frame)
    assert (m.columns["amount"], m.columns["created_at"]) == ("Est. Revenue", "Created On")
    s = home_summary(db)
    won = frame[frame.Status == "Won"]["Est. Revenue"].str.replace(r"[$,]", "", regex=True)
    assert s.revenue_won == pytest.approx(won.astype(float).sum())
    first = pd.to_datetime(frame["Created On"], format="%d/%m/%Y %H:%M").min()
    assert s.first_date == first


def test_pipedrive_leads_export_is_leads():
    frame = pd.DataFrame({"Lead - Title": [f"L{i}" for i in range(40)],
                          "Lead - Value": [100 * i for i in range(40)],
                          "Lead - Source": ["Web", "Event"] * 20,
                          "Lead - Created": ["2026-01-05 10:00:00"] * 40,
                          "Lead - Labels": ["Hot", "Cold"] * 20})
    m, db = _load("leads-6839.csv", frame)
    assert m.table == "leads" and home_summary(db).leads == 40


def test_salesforce_report_stages_in_salesforce_order():
    stages = ["Negotiation/Review", "Id. Decision Makers", "Perception Analysis",
              "Proposal/Price Quote", "Value Proposition", "Prospecting", "Closed Won"]
    frame = pd.DataFrame({"Opportunity Name": [f"O{i}" for i in range(70)],
                          "Stage": stages * 10, "Amount": 100,
                          "Close Date": "3/5/2024", "Created Date": "1/5/2024"})
    m, _ = _load("report1733390000000.csv", frame)
    assert m.preset == "Salesforce opportunity report"
    assert m.stage_order[:6] == ["Prospecting", "Value Proposition", "Id. Decision Makers",
                                 "Perception Analysis", "Proposal/Price Quote",
                                 "Negotiation/Review"]


def test_zoho_none_placeholder_is_missing():
    frame = pd.DataFrame({"Record Id": [f"z{i}" for i in range(30)],
                          "Lead Source": ["-None-", "Web", "Partner"] * 10,
                          "Lead Status": "Contacted", "Created Time": "2025-03-05 14:22:10"})
    _, db = _load("Leads_2026.csv", frame)
    sources = db.connection.execute("select distinct source from leads").fetchall()
    assert sorted((v for (v,) in sources), key=str) == sorted([None, "Web", "Partner"], key=str)


def _summary(deals: int, won: int, lost: int) -> Summary:
    return Summary(leads=0, mqls=0, sqls=0, customers=0, deals=deals, won=won, lost=lost,
                   open_deals=deals - won - lost, revenue_won=0.0, margin_won=None,
                   won_without_margin=0, win_rate=None, lead_to_customer=None,
                   first_date=None, last_date=None)


def test_a_100_percent_close_rate_says_why():
    assert "holds won deals only" in close_rates_ui.only_won_note(_summary(10, 10, 0))
    assert "No loaded deal is lost (4 are still open)" in close_rates_ui.only_won_note(
        _summary(10, 6, 0))
    assert "this period and these filters" in close_rates_ui.only_won_note(_summary(10, 5, 2))


def test_a_salesforce_footer_ending_with_the_org_name_is_stripped():
    body = "".join(f'"O{i}","Acme","Closed Won","$1,000.00","3/5/2024"\n' for i in range(30))
    footer = ('\n"Grand Totals (30 records)"\n\n\n"Acme Generators Inc."\n'
              '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
              '"Confidential Information - Do Not Distribute"\n'
              '"Generated By:  Jane Doe  12/5/2024 9:14 AM"\n"Acme Generators Inc."\n')
    data = ('"Opportunity Name","Account Name","Stage","Amount","Close Date"\n' + body
            + footer).encode()
    raw = pipeline.read("report.csv", data)
    assert len(raw.frame) == 30 and not raw.rejected
    assert any("Removed 6 report footer line(s)" in n for n in raw.notes)
    one_column = pipeline.read("names.csv", b"name\nAnn\nTotal Wine\nBob\n")
    assert one_column.frame["name"].tolist() == ["Ann", "Total Wine", "Bob"]  # data, not footer


def test_title_lines_above_the_header_are_skipped():
    """Google Ads writes the report's name and its date range above the header."""
    rows = "".join(f"Enabled,Brand {i % 3},2026-09-{i % 28 + 1:02d},USD,{10 + i}.50,Search\n"
                   for i in range(40))
    data = ('Campaign report\n"September 1, 2026 - November 30, 2026"\n'
            "Campaign status,Campaign,Day,Currency code,Cost,Campaign type\n" + rows).encode()
    raw = pipeline.read("Campaign report.csv", data)
    assert list(raw.frame.columns)[:3] == ["Campaign status", "Campaign", "Day"]
    assert len(raw.frame) == 40 and not raw.rejected
    assert "Skipped 2 title line(s) above the header, which is on line 3." in raw.notes
    m = pipeline.proposed([raw])[0]
    assert m.table == "spend" and m.columns["amount"] == "Cost"
    assert raw.line_of(0) == 4  # rows keep their file lines


def test_a_report_with_products_and_no_id_counts_each_opportunity_once():
    rng = random.Random(9)
    rows, truth = [], []
    for i in range(50):
        stage = rng.choice(["Closed Won", "Closed Lost", "Prospecting"])
        amount = rng.randint(1, 50) * 1000
        truth.append((stage, amount))
        for line in range(rng.randint(1, 3)):  # one row per product line
            rows.append({"Opportunity Owner": "Sam", "Account Name": f"Acct {i % 7}",
                         "Opportunity Name": f"Deal {i % 20}",  # names repeat across deals
                         "Product Name": f"P{line}", "Total Price": f"USD {amount / 2:,.2f}",
                         "Stage": stage, "Amount": f"USD {amount:,.2f}",
                         "Close Date": f"3/{i % 28 + 1}/2024", "Created Date": "1/5/2024"})
    frame = pd.DataFrame(rows)
    m, db = _load("report1733390000000.csv", frame)
    assert "deal_id" not in m.columns and m.columns["product"] == "Product Name"
    s = home_summary(db)
    assert s.deals == 50 < len(frame)
    assert s.won == sum(stage == "Closed Won" for stage, _ in truth)
    assert s.revenue_won == sum(amount for stage, amount in truth if stage == "Closed Won")


def test_a_deal_naming_several_hubspot_contacts_is_linked_to_the_first():
    contacts = pd.DataFrame({"Record ID": [str(100 + i) for i in range(20)],
                             "Lifecycle Stage": "Lead", "Create Date": "2025-01-05 10:00"})
    deals = pd.DataFrame({"Record ID": [str(900 + i) for i in range(10)],
                          "Deal Name": [f"D{i}" for i in range(10)],
                          "Deal Stage": ["Closed Won", "Closed Lost"] * 5,
                          "Amount": 1000, "Create Date": "2025-02-01 10:00",
                          "Close Date": "2025-03-01 10:00",
                          "Associated Contact IDs": [f"{100 + i};{110 + i}" for i in range(10)]})
    files = [("contacts.csv", contacts.to_csv(index=False).encode()),
             ("deals.csv", deals.to_csv(index=False).encode())]
    raw = pipeline.read(*files[1])
    pending = pipeline.pending(raw, pipeline.proposed([pipeline.read(*files[0]), raw])[1])
    assert pending.frame["lead_id"].tolist() == [str(100 + i) for i in range(10)]
    assert any("10 deal(s) name several contacts" in n for n in pending.validation.notes)
    db = pipeline.load_files(files)
    assert home_summary(db).customers == 5  # the first contact of each won deal


def test_a_narrow_header_is_not_taken_for_a_title():
    """A header of two names above rows of three values is a broken file, not a title:
    the rows are refused for their width, as before, and the header stays."""
    data = b"a,b\n" + b"".join(b"%d,%d,%d\n" % (i, i, i) for i in range(10))
    refused = pipeline.read("narrow.csv", data)
    assert "the header (line 1) has 2 columns" in str(refused)
    kept = pipeline.read("narrow.csv", data + b"7,8\n")  # one row of the header's width
    assert list(kept.frame.columns) == ["a", "b"] and len(kept.rejected) == 10
    assert not any("title line" in n for n in kept.notes)

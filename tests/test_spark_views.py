"""A mapping published as Spark views over a company's own typed table gives the canonical
rows, and the pages' numbers, that the same data gives loaded as a file in DuckDB mode; user
text (table, column and stage names) is checked or carried as data, never run as SQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import asdict, replace
from decimal import Decimal

import pandas as pd
import pytest
import spark_edge

from handoff import dataset, db, ingest, pipeline, proposal, spark_db, spark_views
from handoff.filters import Filters
from handoff.mapping import Mapping
from tests.conftest import fixture_bytes

pytestmark = pytest.mark.timeout(900)

HOSTILE_STAGE = "Won't close'); drop view x; --"


def _raw_text(name: str) -> pd.DataFrame:
    """The export's cells as text, as the company's pipeline would have received them."""
    return pd.read_csv(io.BytesIO(fixture_bytes(name)), dtype=str, keep_default_na=False)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _proposed(name: str, data: bytes) -> Mapping:
    return proposal.propose_all([ingest.read_upload(name, data)])[0]


def _company_mapping(m: Mapping, renamed: dict[str, str]) -> Mapping:
    """The proposed mapping with the company's column names, through its JSON (the file
    the Data page downloads) and the one loader."""
    data = asdict(replace(m, columns={f: renamed[c] for f, c in m.columns.items()}))
    return Mapping.from_json(json.dumps(data))


def _dates(text: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(text.where(text != ""), format=fmt)


def _bools(text: pd.Series) -> pd.Series:
    return text.str.upper().map({"TRUE": True, "FALSE": False}).astype(object)


def _spark_frame(spark, frame: pd.DataFrame, schema: str, name: str) -> None:
    """The company's table, typed, under its own names."""
    out = frame.astype(object).where(frame.notna(), None)
    spark.createDataFrame(out, schema).write.mode("overwrite").saveAsTable(name)


def _same_rows(duck_db, spark_db_, table: str, key: str | list[str]) -> None:
    a = db.table_frame(duck_db, table).sort_values(key).reset_index(drop=True)
    b = spark_db._pandas(spark_db_.session.table(f"{spark_db_.database}.{table}")
                         ).sort_values(key).reset_index(drop=True)
    assert len(a) > 0
    assert spark_edge.differences(a, b, True) == []


def _same_queries(duck_db, spark_db_, calls) -> None:
    for name, params in calls:
        assert spark_edge.differences(db.query(duck_db, name, **params),
                                      db.query(spark_db_, name, **params), True) == [], name


# --- Maven: stages, dates, amounts, owners; blanks, a repeated id, a hostile stage ---------------

MAVEN = {"opportunity_id": "opp_key", "sales_agent": "rep", "product": "product_name",
         "account": "company", "deal_stage": "phase", "engage_date": "engaged_on",
         "close_date": "closed_on", "close_value": "value_usd"}


def _maven_raw() -> pd.DataFrame:
    raw = _raw_text("maven_sales_pipeline_300.csv")
    extra = pd.DataFrame([
        # no id: left out; the id repeated with a later date: the first row kept
        {**raw.iloc[0], "opportunity_id": " "},
        {**raw.iloc[1], "engage_date": "2017-12-30", "close_value": "1"},
        # a stage name that is SQL text: data, in the stage table
        {**raw.iloc[2], "opportunity_id": "HOSTILE1", "deal_stage": HOSTILE_STAGE},
        {**raw.iloc[3], "opportunity_id": "PADDED01", "deal_stage": "  Lost ",
         "account": "N/A", "sales_agent": "unknown"},
    ])
    return pd.concat([raw, extra], ignore_index=True)


def test_deal_views_give_the_rows_and_numbers_a_deals_upload_gives(spark_remote,
                                                                   spark_session, tmp_path,
                                                                   capsys):
    raw = _maven_raw()
    name = "maven_sales_pipeline_300.csv"
    duck = pipeline.load_files([(name, _csv(raw))])
    m = _company_mapping(_proposed(name, _csv(raw)), MAVEN)
    assert m.stages[HOSTILE_STAGE] in ("open", "won", "lost")
    company = raw.rename(columns=MAVEN).assign(
        engaged_on=lambda f: _dates(f.engaged_on, "%Y-%m-%d").dt.date,
        closed_on=lambda f: _dates(f.closed_on, "%Y-%m-%d"),
        value_usd=lambda f: pd.to_numeric(f.value_usd.where(f.value_usd != "")))
    spark_session.sql("CREATE DATABASE IF NOT EXISTS crm")
    _spark_frame(spark_session, company, "opp_key STRING, rep STRING, product_name STRING, "
                 "company STRING, phase STRING, engaged_on DATE, closed_on TIMESTAMP_NTZ, "
                 "value_usd DOUBLE", "crm.opportunities")
    mapping_file = tmp_path / "deals.json"
    mapping_file.write_text(m.to_json())
    assert spark_views.main(["--remote", spark_remote, "--database", "handoff_views",
                             "--mapping", str(mapping_file), "--currency", "USD",
                             "crm.opportunities"]) == 0
    said = capsys.readouterr().out
    assert "published handoff_views.deals over crm.opportunities: 302 deals rows" in said
    spark = spark_db.spark_database(spark_session, "handoff_views")
    try:
        # 300 + the hostile and padded rows; the blank id and the repeat are left out
        assert duck.row_counts["deals"] == spark.row_counts["deals"] == 304 - 2
        assert spark.row_counts == duck.row_counts
        assert spark.fields_present == duck.fields_present
        assert spark.currency == "USD"
        _same_rows(duck, spark, "deals", "deal_id")
        rows = spark_db._pandas(spark_session.table("handoff_views.deals")).set_index(
            "deal_id")
        assert rows.loc[raw.opportunity_id[1], "amount"] != 1  # the first of the repeats
        assert rows.loc["HOSTILE1", "stage"] == HOSTILE_STAGE
        padded = rows.loc["PADDED01"]
        assert (padded.stage, padded.status) == ("Lost", "lost")  # trimmed, then mapped
        assert pd.isna(padded.account) and pd.isna(padded.owner)  # 'N/A', 'unknown'

        # the export's 212 Won deals (the two rows left out were copies of Won rows), and
        # the hostile stage as its map says
        assert (rows.status == "won").sum() == 212 + (m.stages[HOSTILE_STAGE] == "won")
        f = Filters(dt.date(1900, 1, 1), dt.date(2099, 12, 31), all_time=True)
        _same_queries(duck, spark, [
            ("home_summary", {}), ("filter_options", {}),
            ("close_rates", {**f.params(), "by": "owner", "definition": "closed",
                             "sales_sources": [], "include_undated": True})])
    finally:
        duck.close()


# --- Salesforce: won / closed flags over stage names, expected close dates ----------------------

SALESFORCE = {"Id": "opportunity_id", "AccountId": "account_ref", "StageName": "stage_name",
              "Amount": "amount_eur", "CloseDate": "close_day", "LeadSource": "lead_source",
              "IsClosed": "is_closed", "IsWon": "is_won", "CreatedDate": "created_ts"}


def test_flags_and_expected_close_dates_decide_as_an_upload(spark_session):
    raw = _raw_text("sf_devorg_Opportunity.csv")
    raw.loc[0, ["IsClosed", "IsWon"]] = ["TRUE", "FALSE"]  # Qualification, closed: lost
    raw.loc[1, ["IsClosed", "IsWon"]] = ["TRUE", "TRUE"]  # Negotiation, won by the flag
    name = "sf_devorg_Opportunity.csv"
    duck = pipeline.load_files([(name, _csv(raw))])
    proposed = _proposed(name, _csv(raw))
    m = _company_mapping(proposed, {c: SALESFORCE[c] for c in proposed.columns.values()})
    company = raw.rename(columns=SALESFORCE).assign(
        close_day=lambda f: _dates(f.close_day, "%m/%d/%y").dt.date,
        created_ts=lambda f: _dates(f.created_ts, "%m/%d/%y"),
        amount_eur=lambda f: pd.to_numeric(f.amount_eur.where(f.amount_eur != "")),
        is_closed=lambda f: _bools(f.is_closed), is_won=lambda f: _bools(f.is_won))
    columns = list(SALESFORCE.values())
    spark_session.sql("CREATE DATABASE IF NOT EXISTS crm")
    _spark_frame(spark_session, company[columns],
                 "opportunity_id STRING, account_ref STRING, stage_name STRING, amount_eur "
                 "DOUBLE, close_day DATE, lead_source STRING, is_closed BOOLEAN, is_won "
                 "BOOLEAN, created_ts TIMESTAMP_NTZ", "crm.sf_opportunities")
    spark_views.publish(spark_session, m, "crm.sf_opportunities", "handoff_sf")
    spark = spark_db.spark_database(spark_session, "handoff_sf")
    try:
        assert spark.row_counts == duck.row_counts and spark.row_counts["deals"] == 36
        assert spark.fields_present == duck.fields_present
        _same_rows(duck, spark, "deals", "deal_id")
        rows = spark_db._pandas(spark_session.table("handoff_sf.deals")).set_index("deal_id")
        assert rows.loc[raw.Id[0], "status"] == "lost"
        assert rows.loc[raw.Id[1], "status"] == "won"
        open_ = rows[rows.status == "open"]
        assert len(open_) == 16 - 2 and open_.closed_at.isna().all()  # expected dates ignored
        _same_queries(duck, spark, [("home_summary", {})])
    finally:
        duck.close()


# --- Zoho leads: current stage, converted flag, '(not a stage)' ---------------------------------

ZOHO = {"Record Id": "record_id", "Lead Owner": "lead_owner", "Company": "company",
        "Lead Source": "lead_source", "Lead Status": "lead_status", "Industry": "industry",
        "Created Time": "created_time", "CONVERTED": "converted", "Converted Deal": "deal_ref"}


def test_lead_views_rank_stages_as_an_upload(spark_session):
    raw = _raw_text("zoho_leads.csv")
    name = "zoho_leads.csv"
    duck = pipeline.load_files([(name, _csv(raw))])
    proposed = _proposed(name, _csv(raw))
    assert proposed.stages["Junk Lead"] == "(not a stage)"
    m = _company_mapping(proposed, ZOHO)
    company = raw.rename(columns=ZOHO).assign(
        created_time=lambda f: _dates(f.created_time, "%d/%m/%Y %H:%M"),
        converted=lambda f: _bools(f.converted))
    spark_session.sql("CREATE DATABASE IF NOT EXISTS crm")
    _spark_frame(spark_session, company[list(ZOHO.values())],
                 "record_id STRING, lead_owner STRING, company STRING, lead_source STRING, "
                 "lead_status STRING, industry STRING, created_time TIMESTAMP_NTZ, "
                 "converted BOOLEAN, deal_ref STRING", "crm.zoho_leads")
    spark_views.publish(spark_session, m, "crm.zoho_leads", "handoff_zoho")
    spark = spark_db.spark_database(spark_session, "handoff_zoho")
    try:
        junk = int((raw["Lead Status"] == "Junk Lead").sum())
        assert spark.row_counts["leads"] == duck.row_counts["leads"] == len(raw) - junk
        assert spark.fields_present == duck.fields_present
        _same_rows(duck, spark, "leads", "lead_id")
        rows = spark_db._pandas(spark_session.table("handoff_zoho.leads"))
        converted = company.converted[company.lead_status != "Junk Lead"]
        assert (rows.stage == "sql").sum() == converted.sum()  # a converted Zoho lead: SQL
        _same_queries(duck, spark, [("home_summary", {}), ("lead_stages_present", {})])
    finally:
        duck.close()


# --- typed columns of each kind; a status column; a table with no stages ----------------------

DEALS_CSV = """deal_id,stage,status,won,amount,created,closed
1001,Proposal,open,0,100.5,2024-01-05 10:00:00,2024-02-01
1002,Proposal, WON ,0,200,2024-01-06 11:30:00,2024-03-01
1003,Proposal,Deleted,0,300,2024-01-07 00:00:00,2024-03-02
1004,Negotiation,lost,2,400.25,2024-03-10 02:30:00,2024-03-31
1005,Negotiation,,1,,2024-02-29 12:00:00,2024-04-01
1006,Closed Won,n/a,0,600,2024-12-31 23:59:59,9999-12-31
,Closed Won,won,1,700,2024-05-01 00:00:00,2024-05-02
1002,Closed Won,won,1,800,2024-06-01 00:00:00,2024-06-02
"""


def test_a_status_column_integer_ids_flags_and_placeholder_dates(spark_session):
    m = Mapping("deals", {"deal_id": "deal_id", "stage": "stage", "status": "status",
                          "won": "won", "amount": "amount", "created_at": "created",
                          "closed_at": "closed"},
                stages={"Proposal": "open", "Negotiation": "open", "Closed Won": "won"},
                stage_order=["Proposal", "Negotiation", "Closed Won"])
    raw = ingest.read_upload("deals.csv", DEALS_CSV.encode())
    duck = dataset.load([pipeline.pending(raw, m)])
    text = pd.read_csv(io.StringIO(DEALS_CSV), dtype=str, keep_default_na=False)
    company = pd.DataFrame({
        "deal_no": pd.to_numeric(text.deal_id).astype("Int64"), "phase": text.stage,
        "state": text.status, "won_flag": text.won.astype(int),
        "amount_eur": [None if v == "" else Decimal(v) for v in text.amount],
        "created_ts": pd.to_datetime(text.created),
        "closed_day": [dt.date.fromisoformat(v) for v in text.closed]})
    spark_session.sql("CREATE DATABASE IF NOT EXISTS crm")
    _spark_frame(spark_session, company, "deal_no BIGINT, phase STRING, state STRING, "
                 "won_flag INT, amount_eur DECIMAL(12,2), created_ts TIMESTAMP, "
                 "closed_day DATE", "crm.typed_deals")
    renamed = {"deal_id": "deal_no", "stage": "phase", "status": "state", "won": "won_flag",
               "amount": "amount_eur", "created": "created_ts", "closed": "closed_day"}
    published = spark_views.publish(spark_session, _company_mapping(m, renamed),
                                    "crm.typed_deals", "handoff_typed")
    assert published.notes == ("5 status value(s) mapped; a value first seen after "
                               "publishing counts as not given (the stage decides).",)
    spark = spark_db.spark_database(spark_session, "handoff_typed")
    try:
        _same_rows(duck, spark, "deals", "deal_id")
        rows = spark_db._pandas(spark_session.table("handoff_typed.deals")).set_index(
            "deal_id")
        assert sorted(rows.index) == ["1001", "1002", "1004", "1005", "1006"]  # 1003 deleted
        assert rows.status.to_dict() == {"1001": "open", "1002": "won", "1004": "lost",
                                         "1005": "won", "1006": "won"}
        assert rows.amount["1002"] == 200  # the first 1002 kept
        assert pd.isna(rows.closed_at["1001"]) and pd.isna(rows.closed_at["1006"])
        assert pd.isna(rows.won["1004"])  # 2 is neither yes nor no
        assert rows.stage_order.to_dict() == {"1001": 1, "1002": 1, "1004": 2, "1005": 2,
                                              "1006": 3}
    finally:
        duck.close()


def test_a_table_without_stages_is_typed_and_filtered_as_an_upload(spark_session):
    csv = ("month,channel,amount\n2024-01-01,Paid search,100\n2024-01-01, Select ,50\n"
           "2024-02-01,,75.5\n,Events,20\n2024-03-01,Events,\n")
    m = Mapping("spend", {"month": "month", "channel": "channel", "amount": "amount"})
    duck = dataset.load([pipeline.pending(ingest.read_upload("spend.csv", csv.encode()), m)])
    text = pd.read_csv(io.StringIO(csv), dtype=str, keep_default_na=False)
    company = pd.DataFrame({"period": _dates(text.month, "%Y-%m-%d").dt.date,
                            "medium": text.channel,
                            "cost": pd.to_numeric(text.amount.where(text.amount != ""))})
    spark_session.sql("CREATE DATABASE IF NOT EXISTS crm")
    _spark_frame(spark_session, company, "period DATE, medium STRING, cost DOUBLE",
                 "crm.spend")
    spark_views.publish(spark_session, _company_mapping(
        m, {"month": "period", "channel": "medium", "amount": "cost"}), "crm.spend",
        "handoff_spend")
    spark = spark_db.spark_database(spark_session, "handoff_spend")
    try:
        assert spark.row_counts["spend"] == duck.row_counts["spend"] == 3  # month and amount
        _same_rows(duck, spark, "spend", ["month", "amount"])
    finally:
        duck.close()


# --- what is refused -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_source(spark_session):
    spark_session.sql("CREATE DATABASE IF NOT EXISTS crm")
    frame = pd.DataFrame({"id": ["a", "b"], "stage": ["Won", "Lost"],
                          "close_text": ["2024-01-02", "2024-02-03"], "amount": [1.0, 2.0]})
    _spark_frame(spark_session, frame, "id STRING, stage STRING, close_text STRING, "
                 "amount DOUBLE", "crm.plain")
    return "crm.plain"


def _deals(**columns: str) -> Mapping:
    return Mapping("deals", {"deal_id": "id", **columns}, stages={"Won": "won"})


@pytest.mark.parametrize("table", ["crm.plain; drop table crm.plain", "crm.`plain`",
                                   "a.b.c.d", "crm.pla in"])
def test_a_table_name_that_is_not_plain_is_refused(spark_session, hostile_source, table):
    with pytest.raises(ValueError, match="not a plain Spark table name"):
        spark_views.publish(spark_session, _deals(), table, "handoff_refused")
    assert spark_session.catalog.tableExists(hostile_source)


def test_a_view_is_named_only_from_the_canonical_tables():
    hostile = Mapping("deals` as select 1; --", {"deal_id": "id"})
    with pytest.raises(ValueError, match="not a Handoff table"):
        spark_views.publish(None, hostile, "crm.plain", "handoff_refused")  # before Spark


@pytest.mark.parametrize(("column", "said"), [
    ("id` from crm.plain; --", "is not a plain name"),
    ("nope", "is not in crm.plain: map one of its columns (amount, close_text, id, stage)"),
])
def test_a_column_that_is_not_plain_or_not_there_is_refused(spark_session, hostile_source,
                                                            column, said):
    with pytest.raises(ValueError, match=re.escape(f"(mapped to owner) {said}")):
        spark_views.publish(spark_session, _deals(owner=column), hostile_source,
                            "handoff_refused")
    assert not spark_session.catalog.tableExists("handoff_refused.deals")


def test_a_text_date_column_is_refused_with_what_to_do(spark_session, hostile_source):
    with pytest.raises(ValueError, match="column 'close_text' of crm.plain is string, and "
                       "closed_at needs a timestamp or date column: text is not parsed in "
                       "a view, so cast it in the lakehouse, or load files"):
        spark_views.publish(spark_session, _deals(closed_at="close_text"), hostile_source,
                            "handoff_refused")


def test_a_canonical_table_is_not_replaced_by_a_view(spark_session, spark_engines,
                                                     hostile_source):
    with pytest.raises(ValueError, match="handoff_edge.deals is a table, not a view"):
        spark_views.publish(spark_session, _deals(), hostile_source, "handoff_edge")
    assert spark_session.catalog.getTable("handoff_edge.deals").tableType != "VIEW"


def test_the_command_refuses_a_database_name_or_currency_that_is_not_plain(
        spark_remote, hostile_source, tmp_path, capsys):
    mapping_file = tmp_path / "deals.json"
    mapping_file.write_text(_deals().to_json())
    for option, said in ((["--database", "x; drop table crm.plain"], "not a Spark database "
                          "name"), (["--currency", "<b>$</b>"], "not a currency code")):
        assert spark_views.main(["--remote", spark_remote, "--mapping", str(mapping_file),
                                 *option, hostile_source]) == 1
        assert said in capsys.readouterr().err

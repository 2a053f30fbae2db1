"""Defects found in review, each reproduced here so it stays fixed."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from handoff import close_rates, funnel, funnel_stats, ingest, mapping, pipeline
from handoff.db import build_database
from handoff.filters import Filters
from handoff.funnel import FunnelRequest
from handoff.state import DATABASE

ALL = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), all_time=True)


def _db_from(*files: tuple[str, bytes]):
    return pipeline.load_files(files)


@pytest.mark.parametrize("page", ["../pages/2_Funnel.py", "../pages/3_Close_rates.py",
                                  "../pages/4_Objectives.py", "../Home.py"])
@pytest.mark.parametrize("files", [
    [("leads.csv", b"lead_id,created_at,source\n1,2024-01-01,Ads\n2,2024-02-01,SEO\n")],
    [("deals.csv", b"deal_id,stage,amount,close_date,created\n1,Won,10,9999-12-31,2024-01-02\n"
                   b"2,Lost,5,2024-03-01,0001-01-05\n3,Won,7,2024-02-01,2024-01-01\n")],
], ids=["leads-without-stages", "placeholder-dates"])
def test_pages_survive_data_that_used_to_crash_them(page, files):
    at = AppTest.from_file(page, default_timeout=60)
    at.session_state[DATABASE.key] = _db_from(*files)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_cohort_trend_without_later_stages_is_empty_not_an_error():
    db = _db_from(("l.csv", b"lead_id,created_at\n1,2024-01-01\n2,2024-02-01\n"))
    assert funnel_stats.cohort_trend(db, ALL).empty


def test_deal_funnel_with_no_open_deal_keeps_the_lost_ones():
    db = _db_from(("d.csv", b"deal_id,stage,close_date\n1,Won,2024-01-01\n2,Won,2024-01-02\n"
                            b"3,Lost,2024-01-03\n4,Lost,2024-01-04\n"))
    table = funnel.funnel(db, ALL, FunnelRequest(unit="deals")).table
    assert table.label.tolist() == ["All deals", "Won"]
    assert table.entities.tolist() == [4, 2]


def test_in_period_view_leaves_out_stages_without_dates():
    db = _db_from(("l.csv", b"id,created_at,lifecycle stage\n1,2024-01-01,Lead\n"
                            b"2,2024-01-02,MQL\n3,2024-01-03,Customer\n4,2024-01-04,Customer\n"))
    result = funnel.funnel(db, ALL, FunnelRequest(view="in_period"))
    assert result.table.label.tolist() == ["Lead"]
    assert any("left out" in n for n in result.notes)


def test_overlapping_exports_count_each_deal_once():
    q1 = b"deal_id,stage,amount,close_date\n1,Won,100,2024-01-10\n2,Won,100,2024-02-10\n"
    q2 = b"deal_id,stage,amount,close_date\n2,Won,100,2024-02-10\n3,Lost,0,2024-04-10\n"
    db = _db_from(("q1.csv", q1), ("q2.csv", q2))
    assert db.row_counts["deals"] == 3
    assert "1 deals repeated across the files were counted once" in db.notes[0]


def test_not_a_stage_and_deleted_deals_are_left_out_and_reported():
    data = (b"Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Status,"
            b"Deal - Deal created\n1,A,100,Won,won,2024-01-01\n2,B,100000,Lead In,deleted,"
            b"2024-01-02\n3,C,50,Lead In,open,2024-01-03\n")
    raw = ingest.read_upload("pd.csv", data)
    m = mapping.propose(raw)
    frame, validation = mapping.apply(raw, m)
    assert frame.deal_id.tolist() == ["1", "3"]
    assert [r.line for r in validation.rejected] == [3]
    assert "(not a stage)" in validation.rejected[0].reason


def test_close_rates_all_time_count_deals_without_a_close_date():
    deals = pd.DataFrame({"deal_id": ["a", "b", "c"], "status": ["won", "lost", "lost"],
                          "owner": ["X"] * 3})
    db = build_database({"deals": deals}, "undated")
    row = close_rates.close_rates(db, ALL, "owner").iloc[0]
    assert (row.won, row.n) == (1, 3)
    dated = Filters(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert close_rates.close_rates(db, dated, "owner").empty


def test_year_earlier_is_the_calendar_year_and_clamps():
    q1 = Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    earlier = q1.year_earlier()
    assert (earlier.start, earlier.end) == (dt.date(2023, 1, 1), dt.date(2023, 3, 31))
    leap = Filters(dt.date(2024, 2, 29), dt.date(2024, 2, 29)).year_earlier()
    assert leap.start == dt.date(2023, 2, 28)
    far = Filters(dt.date(1900, 1, 1), dt.date(9999, 12, 31))
    assert far.params()["end"] == dt.datetime(2100, 1, 1)
    assert far.previous().start == dt.date(1900, 1, 1)

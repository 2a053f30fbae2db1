"""A Pipedrive deals export as it comes: the stage column holds only pipeline stages (a won or
lost deal keeps the stage it was in), the status column says open / won / lost, and the close
date is in 'Won time' or 'Lost time'. Every number is checked against pandas on the file."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from handoff import funnel, kpis, objectives, pipeline
from handoff.filters import Filters
from handoff.schema import LEAD_STAGES

ALL_TIME = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), all_time=True)
PIPELINE = ["Qualified", "Contact Made", "Proposal Made", "Negotiations Started"]


def _export(n: int = 90, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        status = ["open", "won", "lost"][i % 3]
        created = pd.Timestamp("2024-02-01") + pd.Timedelta(days=rng.randint(0, 250))
        ended = created + pd.Timedelta(days=rng.randint(3, 50))
        rows.append({
            "Deal - ID": i + 1, "Deal - Title": f"Deal {i}", "Deal - Value": rng.randint(500, 9000),
            "Deal - Currency": "EUR", "Deal - Status": status,
            "Deal - Stage": rng.choice(PIPELINE[::-1]),  # file order is not pipeline order
            "Deal - Won time": ended.strftime("%Y-%m-%d %H:%M:%S") if status == "won" else "",
            "Deal - Lost time": ended.strftime("%Y-%m-%d %H:%M:%S") if status == "lost" else "",
            "Deal - Deal created": created.strftime("%Y-%m-%d %H:%M:%S"),
            "Deal - Owner": rng.choice(["Dana", "Eli"])})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return _export()


@pytest.fixture(scope="module")
def raw(export):
    return pipeline.read("pipedrive_deals.csv", export.to_csv(index=False).encode())


@pytest.fixture(scope="module")
def db(export):
    return pipeline.load_files([("pipedrive_deals.csv", export.to_csv(index=False).encode())])


def test_proposed_in_pipedrive_pipeline_order(raw):
    m = pipeline.proposed([raw])[0]
    assert m.preset == "Pipedrive deals"
    assert m.stage_order == PIPELINE
    assert set(m.stages.values()) == {"open"}  # the status column says won and lost


def test_lost_deals_close_on_their_lost_time(raw, export):
    pending = pipeline.pending(raw, pipeline.proposed([raw])[0])
    deals = pending.frame.set_index("deal_id")
    for status, column in (("won", "Deal - Won time"), ("lost", "Deal - Lost time")):
        rows = export[export["Deal - Status"] == status]
        got = deals.loc[rows["Deal - ID"].astype(str), "closed_at"]
        assert (got.to_numpy() == pd.to_datetime(rows[column]).to_numpy()).all(), status
    assert deals.loc[deals.status == "open", "closed_at"].isna().all()
    assert any("30 lost deal(s) without a close date are closed on their 'Deal - Lost time'"
               in n for n in pending.validation.notes)


def test_the_funnel_counts_each_deal_at_its_own_stage(db, export):
    table = funnel.funnel(db, ALL_TIME, funnel.FunnelRequest(unit="deals")).table
    assert table["label"].tolist() == [*PIPELINE, "Won"]  # the won step is not a stage twice
    rank = export["Deal - Stage"].map({s: i for i, s in enumerate(PIPELINE, start=1)})
    reached = rank.where(export["Deal - Status"] != "won", len(PIPELINE) + 1)
    assert table["entities"].tolist() == [int((reached >= k).sum())
                                          for k in range(1, len(PIPELINE) + 2)]
    lost = export["Deal - Status"] == "lost"
    assert table["lost_here"].tolist() == [int((lost & (rank == k)).sum())
                                           for k in range(1, len(PIPELINE) + 2)]
    result = funnel.funnel(db, ALL_TIME, funnel.FunnelRequest(unit="deals"))
    assert result.headline[0].startswith("Of 90 deals: 30 won (33%), 30 lost (33%) and 30 "
                                         "still open (33%).")
    assert not any("dropped after it" in n for n in result.notes)  # no stage is assumed


def test_a_quarter_win_rate_counts_the_deals_lost_in_it(db, export):
    p = objectives.periods(db, ALL_TIME, "quarter", (), kpis.DEFAULT_SLA_HOURS)
    rates = objectives.values(p, objectives.lifetime(db, dt.datetime(2026, 1, 1)), {})
    rates.index = pd.to_datetime(p["period"]).dt.to_period("Q").astype(str).to_numpy()
    closed = pd.to_datetime(export["Deal - Won time"].where(export["Deal - Won time"] != "",
                                                            export["Deal - Lost time"]))
    quarter = closed.dt.to_period("Q").astype(str)
    for q in ("2024Q2", "2024Q3"):
        won = int(((export["Deal - Status"] == "won") & (quarter == q)).sum())
        lost = int(((export["Deal - Status"] == "lost") & (quarter == q)).sum())
        assert won and lost
        assert rates.loc[q, "win_rate"] == pytest.approx(won / (won + lost)), q


def test_a_deals_export_read_as_leads_proposes_lead_stages(raw):
    m = pipeline.proposed([raw], {0: "leads"})[0]
    assert m.table == "leads" and m.stages
    assert set(m.stages.values()) <= set(LEAD_STAGES)


def test_amounts_take_their_currency_from_the_currency_column(db, raw):
    assert db.currency == "EUR"
    notes = pipeline.pending(raw, pipeline.proposed([raw])[0]).validation.notes
    assert "Amounts are in EUR, as the 'Deal - Currency' column says." in notes


def test_several_currencies_are_said_and_none_is_claimed(export):
    mixed = export.assign(**{"Deal - Currency": ["EUR", "USD", "GBP"] * (len(export) // 3)})
    data = mixed.to_csv(index=False).encode()
    raw = pipeline.read("mixed.csv", data)
    notes = pipeline.pending(raw, pipeline.proposed([raw])[0]).validation.notes
    assert any("'Deal - Currency' holds several currencies (EUR, USD, GBP)" in n for n in notes)
    assert pipeline.load_files([("mixed.csv", data)]).currency is None

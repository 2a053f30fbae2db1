"""Every funnel number against an independent pandas computation written here."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from handoff import charts, funnel, pipeline
from handoff.db import build_database
from handoff.demo import DEMO_DIR, demo_database
from handoff.filters import Filters
from handoff.funnel import FunnelRequest
from handoff.schema import LEAD_STAGES

STAGE_DATES = [f"{s}_at" for s in LEAD_STAGES]


def _random_leads(n: int = 600, seed: int = 7) -> pd.DataFrame:
    """Leads with a date per stage reached, random gaps, some stages without a date."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    reached = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.4, 0.25, 0.15, 0.1, 0.07, 0.03])
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": created,
                          "source": rng.choice(["Web", "Referral", "Events"], n),
                          "segment": rng.choice(["SMB", "Enterprise"], n),
                          "owner": rng.choice(["Ann", "Bo"], n),
                          "account": [f"A{i // 3}" for i in range(n)]})
    at = created
    for k, column in enumerate(STAGE_DATES, start=1):
        if k > 1:
            at = at + pd.to_timedelta(rng.integers(1, 120, n), unit="D")
        frame[column] = at.where(reached >= k)
    frame.loc[frame.index % 17 == 0, "sql_at"] = pd.NaT  # a reached stage with no date
    frame["stage"] = [LEAD_STAGES[r - 1] for r in reached]
    return frame


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return _random_leads()


@pytest.fixture(scope="module")
def db(leads):
    return build_database({"leads": leads}, "random leads")


FULL = Filters(dt.date(2024, 1, 1), dt.date(2025, 12, 31), all_time=True)
H1 = Filters(dt.date(2024, 1, 1), dt.date(2024, 6, 30))
ALL_TIME = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), all_time=True)


def _rank(frame: pd.DataFrame) -> pd.Series:
    return frame["stage"].map({s: i for i, s in enumerate(LEAD_STAGES, start=1)})


def _cohort(frame: pd.DataFrame, f: Filters) -> pd.DataFrame:
    start, end = pd.Timestamp(f.start), pd.Timestamp(f.end) + pd.Timedelta(days=1)
    return frame[(frame.created_at >= start) & (frame.created_at < end)]


def _counts(result: funnel.Funnel, grp: str = "All") -> list[int]:
    t = result.table
    return t[t.grp == grp].sort_values("position")["entities"].tolist()


@pytest.mark.parametrize("f", [FULL, H1], ids=["all", "first-half"])
def test_cohort_counts_every_stage_reached(db, leads, f):
    cohort = _cohort(leads, f)
    rank = _rank(cohort)
    expected = [int((rank >= k).sum()) for k in range(1, 7)]
    assert _counts(funnel.funnel(db, f, FunnelRequest())) == expected


def test_conversion_and_drop_columns(db, leads):
    t = funnel.funnel(db, FULL, FunnelRequest()).table
    rank = _rank(leads)
    n = [int((rank >= k).sum()) for k in range(1, 7)]
    assert t.from_previous.tolist()[1:] == pytest.approx([n[k] / n[k - 1] for k in range(1, 6)])
    assert t.from_first.tolist() == pytest.approx([x / n[0] for x in n])
    assert t["drop"].tolist()[1:] == [n[k - 1] - n[k] for k in range(1, 6)]


@pytest.mark.parametrize("window", [30, 90])
def test_conversion_window(db, leads, window):
    def reached(row) -> int:
        r = 1
        for k in range(2, _rank(row.to_frame().T).iloc[0] + 1):
            now, before = row[STAGE_DATES[k - 1]], row[STAGE_DATES[k - 2]]
            if pd.isna(now) or now > before + pd.Timedelta(days=window):
                break
            r = k
        return r

    got = leads.apply(reached, axis=1)
    expected = [int((got >= k).sum()) for k in range(1, 7)]
    assert _counts(funnel.funnel(db, FULL, FunnelRequest(window_days=window))) == expected


def test_in_period_counts_stage_events_in_the_period(db, leads):
    start, end = pd.Timestamp(H1.start), pd.Timestamp(H1.end) + pd.Timedelta(days=1)
    expected = [int(leads[c].between(start, end, inclusive="left").sum()) for c in STAGE_DATES]
    assert _counts(funnel.funnel(db, H1, FunnelRequest(view="in_period"))) == expected


def test_breakdown_by_source_and_filters(db, leads):
    f = Filters(H1.start, H1.end, segments=("SMB",))
    cohort = _cohort(leads, f)
    cohort = cohort[cohort.segment == "SMB"]
    result = funnel.funnel(db, f, FunnelRequest(breakdown="source"))
    for source, group in cohort.groupby("source"):
        rank = _rank(group)
        assert _counts(result, source) == [int((rank >= k).sum()) for k in range(1, 7)]
    assert any("entered the funnel" in n for n in result.notes)


def test_accounts_count_each_company_once(db, leads):
    rank = _rank(leads)
    expected = [leads.loc[rank >= k, "account"].nunique() for k in range(1, 7)]
    assert _counts(funnel.funnel(db, FULL, FunnelRequest(unit="accounts"))) == expected


def test_drill_down_matches_the_counts(db, leads):
    req = FunnelRequest()
    counts = _counts(funnel.funnel(db, H1, req))
    for position in (1, 3, 6):
        reached = funnel.records(db, H1, req, position, "reached")
        dropped = funnel.records(db, H1, req, position, "dropped")
        assert len(reached) == counts[position - 1]
        after = counts[position] if position < 6 else 0
        assert len(dropped) == counts[position - 1] - after
    ids = set(funnel.records(db, H1, req, 5, "reached").lead_id)
    cohort = _cohort(leads, H1)
    assert ids == set(cohort.loc[_rank(cohort) >= 5, "lead_id"])


def test_only_stages_the_data_has_are_shown():
    leads = pd.DataFrame({"lead_id": ["a", "b", "c"], "stage": ["lead", "customer", "lead"],
                          "created_at": pd.to_datetime(["2024-01-01"] * 3)})
    db = build_database({"leads": leads}, "yes/no")
    t = funnel.funnel(db, FULL, FunnelRequest()).table
    assert t.label.tolist() == ["Lead", "Customer"]
    assert t.entities.tolist() == [3, 1]


DEALS = pd.DataFrame({
    "deal_id": [f"D{i}" for i in range(10)],
    "stage": ["Prospecting", "Prospecting", "Engaging", "Engaging", "Engaging", "Won", "Won",
              "Lost", "Lost", "Lost"],
    "stage_order": [1, 1, 2, 2, 2, 3, 3, 4, 4, 4],
    "status": ["open"] * 5 + ["won"] * 2 + ["lost"] * 3,
    "amount": [0, 0, 0, 0, 0, 100.0, 250.0, 0, 0, 0],
    "created_at": [None, None] + ["2024-03-01"] * 8,
    "product": ["A", "B", "A", "B", "A", "B", "A", "B", "A", "B"],
}).assign(created_at=lambda d: pd.to_datetime(d.created_at))


def test_deal_funnel_counts_lost_deals_after_the_chosen_stage():
    db = build_database({"deals": DEALS}, "deals")
    result = funnel.funnel(db, FULL, FunnelRequest(unit="deals"))
    assert result.table.label.tolist() == ["Prospecting", "Engaging", "Won"]
    # all 10 prospected; engaging: 3 open there + 2 won + 3 lost (counted to Engaging); won 2
    assert _counts(result) == [10, 8, 2]
    assert result.table.revenue_won.tolist()[-1] == 350.0
    assert any("dropped after it" in n for n in result.notes)
    early = funnel.funnel(db, FULL, FunnelRequest(unit="deals", lost_after=1))
    assert _counts(early) == [10, 5, 2]
    dated = funnel.funnel(db, H1, FunnelRequest(unit="deals"))  # undated deals left out
    assert _counts(dated) == [8, 8, 2]
    by_product = funnel.funnel(db, FULL, FunnelRequest(unit="deals", breakdown="product"))
    assert _counts(by_product, "A") == [5, 4, 1] and _counts(by_product, "B") == [5, 4, 1]


def test_deal_funnel_uses_stage_history_for_lost_deals():
    history = pd.DataFrame({"deal_id": ["D7", "D7", "D8"],
                            "stage": ["Prospecting", "Engaging", "Prospecting"],
                            "entered_at": pd.to_datetime(["2024-03-01"] * 3)})
    db = build_database({"deals": DEALS, "stage_history": history}, "with history")
    # D7 reached Engaging, D8 only Prospecting, D9 has no history: last open stage.
    assert _counts(funnel.funnel(db, FULL, FunnelRequest(unit="deals"))) == [10, 7, 2]


def test_demo_funnel_matches_pandas_on_the_committed_files():
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    f = Filters(dt.date(2025, 1, 1), dt.date(2025, 6, 30), sources=("Referral", "Paid search"))
    cohort = _cohort(leads, f)
    cohort = cohort[cohort.source.isin(f.sources)]
    rank = _rank(cohort)
    result = funnel.funnel(demo_database(), f, FunnelRequest())
    assert _counts(result) == [int((rank >= k).sum()) for k in range(1, 7)]
    assert result.headline[0].startswith("Biggest drop:")


def test_chart_spec_has_a_bar_per_stage_and_tooltips(db):
    result = funnel.funnel(db, FULL, FunnelRequest(breakdown="segment"))
    spec = charts.funnel_bars(result.table).to_dict()
    encoding = spec["layer"][0]["encoding"]
    assert encoding["y"]["field"] == "label" and encoding["yOffset"]["field"] == "grp"
    assert {t["field"] for t in encoding["tooltip"]} >= {"entities", "from_previous_pct"}
    faceted = charts.funnel_bars(result.table, "small_multiples").to_dict()
    assert faceted["facet"]["field"] == "grp"


def test_deal_funnel_with_no_open_deal_keeps_the_lost_ones():
    db = pipeline.load_files([("d.csv", b"deal_id,stage,close_date\n1,Won,2024-01-01\n"
                                        b"2,Won,2024-01-02\n3,Lost,2024-01-03\n"
                                        b"4,Lost,2024-01-04\n")])
    table = funnel.funnel(db, ALL_TIME, FunnelRequest(unit="deals")).table
    assert table.label.tolist() == ["All deals", "Won"]
    assert table.entities.tolist() == [4, 2]


def test_in_period_view_leaves_out_stages_without_dates():
    db = pipeline.load_files([("l.csv", b"id,created_at,lifecycle stage\n1,2024-01-01,Lead\n"
                                        b"2,2024-01-02,MQL\n3,2024-01-03,Customer\n"
                                        b"4,2024-01-04,Customer\n")])
    result = funnel.funnel(db, ALL_TIME, FunnelRequest(view="in_period"))
    assert result.table.label.tolist() == ["Lead"]
    assert any("left out" in n for n in result.notes)

"""The committed demo dataset: schemas, internal consistency, the five stories, determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TABLE_NAMES = ("leads", "deals", "stage_history", "teams", "spend", "customers", "awareness")
SNAPSHOT = pd.Timestamp("2026-10-31")

T, TS, NUM, INT, BOOL = "text", "datetime64[us]", "float64", "int64", "bool"
LEAD_STAGES = ["lead", "mql", "sql", "opportunity", "customer", "evangelist"]
SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "leads": [("lead_id", T), ("created_at", TS), ("source", T), ("segment", T), ("owner", T),
              ("account", T), ("stage", T), ("converted", BOOL)]
    + [(f"{s}_at", TS) for s in LEAD_STAGES],
    "deals": [("deal_id", T), ("lead_id", T), ("account", T), ("created_at", TS),
              ("closed_at", TS), ("stage", T), ("status", T), ("amount", NUM),
              ("margin", NUM), ("owner", T), ("source", T), ("segment", T), ("product", T)],
    "stage_history": [("deal_id", T), ("stage", T), ("entered_at", TS)],
    "teams": [("owner", T), ("manager", T), ("team", T)],
    "spend": [("month", TS), ("channel", T), ("amount", NUM)],
    "customers": [("customer_id", T), ("lead_id", T), ("account", T), ("segment", T),
                  ("started_at", TS), ("churned_at", TS), ("renewals", INT),
                  ("referrals", INT), ("nps", "Int64")],
    "awareness": [("month", TS), ("channel", T), ("visits", NUM)],
}
ROWS = {"leads": (18_000, 22_000), "deals": (2_500, 3_500), "stage_history": (8_000, 16_000),
        "teams": (12, 16), "spend": (100, 250), "customers": (600, 1_100),
        "awareness": (100, 250)}
SOURCES = {"Organic search", "Paid search", "Email", "Social", "Referral", "Events", "Partner",
           "Outbound"}
DEAL_ORDER = ["Discovery", "Demo", "Proposal", "Negotiation"]


@pytest.fixture(scope="module")
def t() -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(DEMO / f"{name}.parquet") for name in TABLE_NAMES}


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_schema_and_size(t, name):
    frame = t[name]
    assert list(frame.columns) == [c for c, _ in SCHEMAS[name]]
    for col, kind in SCHEMAS[name]:
        if kind == T:
            assert pd.api.types.is_string_dtype(frame[col]), (col, frame[col].dtype)
            assert frame[col].notna().all(), col
        else:
            assert str(frame[col].dtype) == kind, (col, frame[col].dtype)
    lo, hi = ROWS[name]
    assert lo <= len(frame) <= hi


def test_dates_within_period(t):
    leads = t["leads"]
    assert leads["created_at"].min() >= pd.Timestamp("2024-10-01")
    assert leads["created_at"].max() < pd.Timestamp("2026-10-01")
    for name, frame in t.items():
        for col in frame.columns:
            if str(frame[col].dtype) == TS:
                assert frame[col].max() <= SNAPSHOT, (name, col)
    for name in ("spend", "awareness"):
        month = t[name]["month"]
        assert (month == month.dt.to_period("M").dt.to_timestamp()).all()
        assert month.min() == pd.Timestamp("2024-10-01")
        assert month.max() == pd.Timestamp("2026-09-01")
        assert not t[name].duplicated(["month", "channel"]).any()
    assert (t["spend"]["amount"] > 0).all()
    assert (t["awareness"]["visits"] > 0).all()


def test_leads_consistent(t):
    leads = t["leads"]
    assert leads["lead_id"].is_unique
    assert set(leads["source"]) == SOURCES
    assert set(leads["segment"]) == {"SMB", "Mid-market", "Enterprise"}
    assert set(leads["owner"]) <= set(t["teams"].query("team == 'SDR'")["owner"])
    assert (leads["lead_at"] == leads["created_at"]).all()
    cols = [f"{s}_at" for s in LEAD_STAGES]
    for prev, cur in zip(cols, cols[1:], strict=False):
        reached = leads[cur].notna()
        assert leads.loc[reached, prev].notna().all(), cur
        assert (leads.loc[reached, cur] >= leads.loc[reached, prev]).all(), cur
    furthest = leads[cols].notna().sum(axis=1).map(lambda k: LEAD_STAGES[k - 1])
    assert (leads["stage"] == furthest).all()
    assert (leads["converted"] == leads["customer_at"].notna()).all()


def test_deals_consistent(t):
    leads, deals, teams = t["leads"].set_index("lead_id"), t["deals"], t["teams"]
    assert deals["deal_id"].is_unique
    assert deals["lead_id"].isin(leads.index).all()
    lead = leads.loc[deals["lead_id"]].reset_index()
    assert lead["opportunity_at"].notna().all()
    assert (deals["created_at"] >= lead["opportunity_at"]).all()
    for col in ("account", "source", "segment"):
        assert (deals[col] == lead[col]).all(), col
    per_lead = deals.groupby("lead_id").size()
    assert per_lead.max() == 2 and (per_lead == 1).mean() > 0.8
    assert leads["opportunity_at"].notna().sum() == per_lead.size  # every opportunity has one

    stage_of = {"won": {"Closed Won"}, "lost": {"Closed Lost"}, "open": set(DEAL_ORDER)}
    for status, stages in stage_of.items():
        rows = deals[deals["status"] == status]
        assert rows["stage"].isin(stages).all(), status
        assert rows["closed_at"].notna().all() == (status != "open")
        assert rows["closed_at"].isna().all() == (status == "open")
    closed = deals[deals["closed_at"].notna()]
    assert (closed["closed_at"] >= closed["created_at"]).all()
    assert 20 <= (deals["status"] == "open").sum() <= 300

    assert deals["amount"].between(5_000, 150_000).all()
    assert deals["amount"].median() < deals["amount"].mean()  # skewed
    share = (deals["margin"] / deals["amount"]).dropna()
    assert share.between(0.4, 0.8).mean() > 0.9
    assert (share < 0.05).sum() >= 5
    won = deals[deals["status"] == "won"]
    assert 0.01 <= won["margin"].isna().mean() <= 0.06
    assert deals.loc[deals["status"] != "won", "margin"].notna().all()
    assert 3 <= deals["product"].nunique() <= 4
    ae = set(teams.loc[teams["team"] != "SDR", "owner"])
    assert 8 <= len(ae) <= 10 and set(deals["owner"]) == ae
    assert 4 <= (teams["team"] == "SDR").sum() <= 6
    assert teams["owner"].is_unique


def test_funnel_shape(t):
    leads, deals = t["leads"], t["deals"]
    n = len(leads)
    mql, sql = leads["mql_at"].notna().sum(), leads["sql_at"].notna().sum()
    opp = leads["opportunity_at"].notna().sum()
    assert 0.35 <= mql / n <= 0.50
    assert 0.35 <= sql / mql <= 0.50
    assert 0.60 <= opp / sql <= 0.75
    closed = deals[deals["status"] != "open"]
    assert 0.25 <= (closed["status"] == "won").mean() <= 0.35
    lags = (leads["sql_at"] - leads["mql_at"]).dropna().dt.days
    assert 3 <= lags.median() <= 30


def test_won_deals_make_customers(t):
    leads, deals, customers = t["leads"], t["deals"], t["customers"]
    first_win = deals[deals["status"] == "won"].groupby("lead_id")["closed_at"].min()
    converted = leads[leads["converted"]].set_index("lead_id")
    assert set(first_win.index) == set(converted.index)
    assert (converted.loc[first_win.index, "customer_at"] == first_win).all()
    assert set(leads.loc[leads["converted"], "stage"]) <= {"customer", "evangelist"}

    assert customers["customer_id"].is_unique and customers["lead_id"].is_unique
    assert set(customers["lead_id"]) == set(converted.index)
    lead = converted.loc[customers["lead_id"]].reset_index()
    assert (customers["started_at"] == lead["customer_at"]).all()
    for col in ("account", "segment"):
        assert (customers[col] == lead[col]).all()
    churned = customers[customers["churned_at"].notna()]
    tenure = (churned["churned_at"] - churned["started_at"]).dt.days
    assert tenure.between(180, 550).all() and len(churned) > 20
    end = customers["churned_at"].fillna(SNAPSHOT)
    assert (customers["renewals"] == (end - customers["started_at"]).dt.days // 365).all()
    assert customers["nps"].dropna().between(0, 10).all()
    assert (customers["referrals"] >= 0).all()
    evangelist = lead["evangelist_at"].notna()
    assert customers.loc[evangelist, "nps"].mean() >= 9
    assert customers.loc[~evangelist, "nps"].mean() < 8
    assert customers.loc[evangelist, "referrals"].sum() > customers["referrals"].sum() / 2


def test_stage_history_matches_deals(t):
    deals, hist = t["deals"].set_index("deal_id"), t["stage_history"]
    assert set(hist["deal_id"]) == set(deals.index)
    for deal_id, rows in hist.groupby("deal_id", sort=False):
        deal = deals.loc[deal_id]
        stages = list(rows["stage"])
        times = rows["entered_at"]
        assert times.is_monotonic_increasing, deal_id
        assert times.iloc[0] == deal["created_at"], deal_id
        assert stages[-1] == deal["stage"], deal_id
        if deal["status"] == "open":
            body = stages
        else:
            body = stages[:-1]
            assert times.iloc[-1] == deal["closed_at"], deal_id
        assert body == DEAL_ORDER[: len(body)], deal_id
        if deal["status"] == "won":
            assert body == DEAL_ORDER, deal_id


def test_story_referral_closes_best(t):
    leads = t["leads"]
    rate = leads.groupby("source")["converted"].mean()
    overall = leads["converted"].mean()
    assert rate.idxmax() == "Referral"
    assert rate["Referral"] >= 1.5 * overall


def test_story_paid_search_volume_not_quality(t):
    leads = t["leads"]
    assert leads["source"].value_counts().idxmax() == "Paid search"
    mqls = leads[leads["mql_at"].notna()]
    accept = mqls["sql_at"].notna().groupby(mqls["source"]).mean()
    assert accept["Paid search"] < mqls["sql_at"].notna().mean()
    rate = leads.groupby("source")["converted"].mean()
    assert rate["Paid search"] < leads["converted"].mean()


def test_story_one_ae_few_deals_high_win_rate(t):
    closed = t["deals"][t["deals"]["status"] != "open"]
    by_owner = closed.groupby("owner")["status"].agg(
        n="size", win_rate=lambda s: (s == "won").mean())
    star = by_owner["win_rate"].idxmax()
    assert by_owner.loc[star, "n"] < 40
    others = by_owner.drop(star)
    assert (others["n"] >= 150).all()
    assert (others["win_rate"] < by_owner.loc[star, "win_rate"]).all()


def test_story_smb_saturates(t):
    customers = t["customers"]
    month = customers["started_at"].dt.to_period("M")
    first12 = customers[(month >= pd.Period("2024-10")) & (month <= pd.Period("2025-09"))]
    last6 = customers[(month >= pd.Period("2026-04")) & (month <= pd.Period("2026-09"))]
    base = first12.groupby("segment").size() / 12 * 6
    recent = last6.groupby("segment").size()
    assert recent["SMB"] < 0.5 * base["SMB"]
    for seg in ("Mid-market", "Enterprise"):
        assert recent[seg] >= base[seg], seg


def test_story_2025q3_more_mqls_lower_acceptance(t):
    mqls = t["leads"][t["leads"]["mql_at"].notna()]
    quarter = mqls["mql_at"].dt.to_period("Q")
    q2, q3 = mqls[quarter == pd.Period("2025Q2")], mqls[quarter == pd.Period("2025Q3")]
    assert len(q3) > len(q2)
    assert q2["sql_at"].notna().mean() - q3["sql_at"].notna().mean() >= 0.08


def test_generator_is_deterministic(t, tmp_path):
    script = ROOT / "data" / "generate_demo.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), t[name])


def test_the_shared_demo_database_survives_close():
    """Every session without workspace data shows the one demo database: none may close it."""
    from handoff import demo

    db = demo.demo_database(shared=True)
    db.close()
    assert not db.closed
    with db.connection.cursor() as cur:
        assert cur.execute("select count(*) from leads").fetchone()[0] > 0

"""Objective KPIs, targets, reverse funnel and bottlenecks against independent pandas math."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from handoff import funnel_plan, kpis, objectives
from handoff.demo import DEMO_DIR, demo_database
from handoff.filters import Filters
from tests.conftest import load_files

RANGE = Filters(dt.date(2024, 10, 1), dt.date(2026, 10, 31), all_time=True)
AS_OF = dt.datetime(2026, 10, 31)


@pytest.fixture(scope="module")
def demo():
    return demo_database()


@pytest.fixture(scope="module")
def frames():
    return {t: pd.read_parquet(DEMO_DIR / f"{t}.parquet")
            for t in ("leads", "deals", "spend", "customers", "awareness")}


@pytest.fixture(scope="module")
def quarterly(demo):
    return objectives.periods(demo, RANGE, "quarter", ("Outbound",), 168.0)


def _q(series: pd.Series) -> pd.Series:
    return series.dt.to_period("Q").dt.start_time


def test_lead_and_deal_measures_per_quarter(quarterly, frames):
    leads, deals = frames["leads"], frames["deals"]
    p = quarterly.set_index("period")
    assert p.leads.to_dict() == {k: v for k, v in leads.groupby(_q(leads.created_at)).size()
                                 .items() if v} | {pd.Timestamp("2026-10-01"): 0}
    mqls = leads.dropna(subset=["mql_at"])
    by_q = mqls.groupby(_q(mqls.mql_at))
    assert p.mqls.to_dict() == by_q.size().to_dict()
    assert p.mqls_accepted.to_dict() == by_q.sql_at.count().to_dict()
    closed = deals[deals.status.isin(["won", "lost"])]
    won = closed[closed.status == "won"]
    assert p.revenue_won.to_dict() == pytest.approx(
        won.groupby(_q(won.closed_at)).amount.sum().to_dict())
    marketing = won[won.source.notna() & (won.source != "Outbound")]
    assert p.marketing_revenue.to_dict() == pytest.approx(
        marketing.groupby(_q(marketing.closed_at)).amount.sum().reindex(p.index, fill_value=0)
        .to_dict())
    speed = (mqls.sql_at - mqls.mql_at).dt.total_seconds() / 3600
    within = (speed <= 168).groupby(_q(mqls.mql_at)).sum()
    assert p.accepted_within_sla.to_dict() == within.to_dict()


def test_kpi_values_cac_retention_and_win_rate(demo, quarterly, frames):
    life = objectives.lifetime(demo, AS_OF)
    v = objectives.values(quarterly, life, {"revenue_target": 5_000_000})
    spend, leads, customers = frames["spend"], frames["leads"], frames["customers"]
    q = pd.Timestamp("2025-07-01")
    spent = spend[_q(spend.month) == q].amount.sum()
    new = (_q(leads.customer_at.dropna()) == q).sum()
    assert v.loc[q, "cac"] == pytest.approx(spent / new)
    active = customers[(customers.started_at < q)
                       & (customers.churned_at.isna() | (customers.churned_at >= q))]
    churned = active.churned_at.between(q, q + pd.DateOffset(months=3), inclusive="left").sum()
    assert v.loc[q, "retention"] == pytest.approx(1 - churned / len(active))
    deals = frames["deals"]
    closed = deals[deals.status.isin(["won", "lost"]) & (_q(deals.closed_at) == q)]
    assert v.loc[q, "win_rate"] == pytest.approx((closed.status == "won").mean())
    assert v.loc[q, "coverage"] == pytest.approx(
        deals.loc[deals.status == "open", "amount"].sum() / 5_000_000)


def test_lifetime_value_tenure_and_promoters(demo, frames):
    customers, deals = frames["customers"], frames["deals"]
    end = pd.Timestamp(AS_OF)
    months = (customers.churned_at.fillna(end) - customers.started_at).dt.total_seconds() \
        / 86400 / 30.4375
    churn = customers.churned_at.notna().sum() / months.sum()
    won = deals[deals.status == "won"]
    with_margin = won.dropna(subset=["margin"])
    value = with_margin.margin.sum() / with_margin.amount.sum() * won.amount.sum()
    expected = value / months.sum() * min(1 / churn, objectives.MAX_LIFETIME_MONTHS)
    life = objectives.lifetime(demo, AS_OF)
    assert life.ltv == pytest.approx(expected)
    assert life.tenure_months == pytest.approx(months.median())
    rated = customers.nps.dropna()
    assert life.promoters == pytest.approx((rated >= 9).mean())
    assert life.margin_based


def test_default_targets_and_attainment():
    history = pd.DataFrame({"leads": [100.0, 120, 110, 130, 140],
                            "acceptance": [0.4, 0.42, 0.38, 0.41, 0.39],
                            "cac": [1000.0, 1200, 1100, 1300, 900]})
    targets = objectives.default_targets(history)
    assert targets["leads"] == 138.0  # mean of the last four, 125, × 1.1; three figures
    assert targets["acceptance"] == pytest.approx(0.42)  # 0.40 + 2 points
    assert targets["cac"] == 1010.0  # 1125 × 0.9 = 1012.5 (lower is better); three figures
    kpi = kpis.KPI_BY_KEY
    assert objectives.attainment(kpi["leads"], 69.0, 138.0) == pytest.approx(0.5)
    assert objectives.attainment(kpi["cac"], 2000.0, 1000.0) == pytest.approx(0.5)
    assert objectives.attainment(kpi["cac"], 2000.0, None) is None


def test_reverse_funnel_divides_by_each_rate(demo, quarterly, frames):
    table = funnel_plan.reverse_funnel(demo, RANGE, 1_000_000, quarterly).set_index("Stage")
    deals, leads = frames["deals"], frames["leads"]
    won = deals[deals.status == "won"]
    closed = deals[deals.status.isin(["won", "lost"])]
    rank = leads.stage.map({s: i for i, s in enumerate(
        ["lead", "mql", "sql", "opportunity", "customer", "evangelist"], 1)})
    n = {k: (rank >= k).sum() for k in range(1, 7)}
    need = 1_000_000 / (won.amount.sum() / len(won))
    assert table.loc["Deals won", "Needed per period"] == math.ceil(need)
    need /= len(won) / len(closed)
    assert table.loc["Opportunities", "Needed per period"] == math.ceil(need)
    need /= n[4] / n[3]
    need /= n[3] / n[2]
    need /= n[2] / n[1]
    assert table.loc["Leads", "Needed per period"] == math.ceil(need)
    assert table.loc["Leads", "Owner"] == "Marketing" and table.loc["SQLs", "Owner"] == "Shared"


def test_bottlenecks_use_the_best_quartile_across_sources(demo, frames):
    table = funnel_plan.bottlenecks(demo, RANGE, "source")
    leads = frames["leads"]
    rank = leads.stage.map({s: i for i, s in enumerate(
        ["lead", "mql", "sql", "opportunity", "customer", "evangelist"], 1)})
    per_source = pd.DataFrame({"source": leads.source, "rank": rank})
    rates = per_source.groupby("source")["rank"].apply(lambda r: (r >= 2).sum() / len(r))
    row = table.set_index("Step").loc["Lead → MQL"]
    assert row["Best-quartile rate"] == pytest.approx(rates.quantile(0.75))
    assert row["Current rate"] == pytest.approx((rank >= 2).mean())
    assert row.Owner == "Marketing"
    assert table["Revenue gained"].is_monotonic_decreasing


def test_missing_kpis_name_the_file_or_column():
    db = load_files("maven_sales_pipeline_300.csv")
    kpi = kpis.KPI_BY_KEY
    assert kpis.missing(db, kpi["leads"]) == "needs a leads / contacts file"
    assert kpis.missing(db, kpi["margin_won"]) == \
        "needs the 'Margin' column in the deals / opportunities file"
    assert kpis.missing(db, kpi["revenue_won"]) is None


def test_read_targets_round_trip_and_errors():
    from handoff.targets_ui import read_targets

    good = b"KPI,Target,Period\nLeads,2500,2026 Q3\nCAC,\"1,800\",2026 Q3\n"
    assert read_targets("t.csv", good) == ({"leads": 2500.0, "cac": 1800.0}, [])
    assert "needs the columns KPI and Target" in read_targets("t.csv", b"a,b\n1,2\n")


def test_remaining_kpis_per_quarter_match_pandas(demo, quarterly, frames):
    life = objectives.lifetime(demo, AS_OF)
    v = objectives.values(quarterly, life, {})
    leads, deals, awareness = frames["leads"], frames["deals"], frames["awareness"]
    q = pd.Timestamp("2026-04-01")
    in_q = {c: _q(leads[c].dropna()) == q for c in ("mql_at", "evangelist_at", "created_at")}
    mqls = leads.dropna(subset=["mql_at"])[in_q["mql_at"].to_numpy()]
    assert v.loc[q, "visits"] == awareness[_q(awareness.month) == q].visits.sum()
    assert v.loc[q, "mql_to_won"] == pytest.approx(
        mqls.stage.isin(["customer", "evangelist"]).mean())
    hours = (mqls.sql_at - mqls.mql_at).dt.total_seconds() / 3600
    assert v.loc[q, "speed_to_lead"] == pytest.approx(hours.dropna().median())
    assert v.loc[q, "evangelists"] == in_q["evangelist_at"].sum()
    created = leads[_q(leads.created_at) == q]
    assert v.loc[q, "referral_leads"] == created.source.str.contains("Referral").sum()
    made = deals[_q(deals.created_at) == q]
    assert v.loc[q, "marketing_pipeline"] == pytest.approx(
        made[made.source.notna() & (made.source != "Outbound")].amount.sum())
    won = deals[(deals.status == "won") & (_q(deals.closed_at) == q)]
    assert v.loc[q, "margin_won"] == pytest.approx(won.margin.sum())
    assert quarterly.set_index("period").loc[q, "won_without_margin"] == won.margin.isna().sum()
    assert v.loc[q, "avg_deal"] == pytest.approx(won.amount.mean())
    days = (won.closed_at - won.created_at).dt.total_seconds() / 86400
    assert v.loc[q, "cycle_days"] == pytest.approx(days.median())

"""Close rates against pandas counts, textbook Wilson intervals and scipy test p-values."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact, norm

from handoff import close_rates
from handoff.db import build_database
from handoff.filters import Filters
from tests.conftest import FIXTURES, load_files

ALL = Filters(dt.date(2000, 1, 1), dt.date(2100, 1, 1), all_time=True)
Z = norm.ppf(0.975)


def wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


@pytest.fixture(scope="module")
def maven():
    return load_files("maven_sales_pipeline_300.csv", "maven_sales_teams.csv")


@pytest.fixture(scope="module")
def maven_frames():
    deals = pd.read_csv(FIXTURES / "maven_sales_pipeline_300.csv")
    teams = pd.read_csv(FIXTURES / "maven_sales_teams.csv")
    return deals[deals.deal_stage.isin(["Won", "Lost"])], teams


def test_by_rep_counts_and_wilson_intervals(maven, maven_frames):
    closed, _ = maven_frames
    rates = close_rates.close_rates(maven, ALL, "owner").set_index("grp")
    expected = closed.groupby("sales_agent").deal_stage.agg(
        won=lambda s: (s == "Won").sum(), n="size")
    assert set(rates.index) == set(expected.index)
    for agent, row in expected.iterrows():
        got = rates.loc[agent]
        assert (got.won, got.n) == (row.won, row.n)
        assert (got.ci_low, got.ci_high) == pytest.approx(wilson(row.won, row.n), abs=1e-9)
        assert got.small_sample == (row.n < 30)


def test_by_manager_joins_the_teams_file(maven, maven_frames):
    closed, teams = maven_frames
    joined = closed.merge(teams, on="sales_agent")
    expected = joined.groupby("manager").deal_stage.apply(lambda s: (s == "Won").mean())
    rates = close_rates.close_rates(maven, ALL, "manager").set_index("grp")
    assert rates["rate"].to_dict() == pytest.approx(expected.to_dict())


def test_cohort_definition_counts_open_deals_in_n():
    deals = pd.DataFrame({"deal_id": list("abcdef"), "owner": ["A"] * 6,
                          "status": ["won", "won", "lost", "open", "open", "open"],
                          "created_at": pd.to_datetime(["2024-01-05"] * 6),
                          "closed_at": pd.to_datetime(["2024-02-01"] * 3 + [None] * 3)})
    db = build_database({"deals": deals}, "cohort")
    closed = close_rates.close_rates(db, ALL, "owner", "closed").iloc[0]
    cohort = close_rates.close_rates(db, ALL, "owner", "cohort").iloc[0]
    assert (closed.won, closed.n, closed.rate) == (2, 3, pytest.approx(2 / 3))
    assert (cohort.won, cohort.open_deals, cohort.n) == (2, 3, 6)
    assert cohort.rate == pytest.approx(1 / 3)


def _deals(groups: dict[str, tuple[int, int]], column: str = "owner") -> pd.DataFrame:
    rows = []
    for name, (won, lost) in groups.items():
        rows += [{column: name, "status": "won"}] * won + [{column: name, "status": "lost"}] * lost
    frame = pd.DataFrame(rows)
    frame["deal_id"] = [f"D{i}" for i in range(len(frame))]
    frame["created_at"] = pd.Timestamp("2024-01-01")
    frame["closed_at"] = pd.Timestamp("2024-03-01")
    return frame


def test_three_of_three_is_not_the_best():
    db = build_database({"deals": _deals({"Lucky": (3, 0), "Steady": (60, 40),
                                          "Weak": (20, 80)})}, "ranking")
    rates = close_rates.close_rates(db, ALL, "owner")
    assert rates.grp.tolist() == ["Steady", "Lucky", "Weak"]
    lucky = rates.set_index("grp").loc["Lucky"]
    assert lucky.rate == 1.0 and lucky.small_sample
    lines = close_rates.headline(rates, "Rep")
    assert lines[0].startswith("Most reliably high: Steady")
    assert "Lucky has the highest raw rate (100%) but on only 3 deals, so it ranks #2" in lines[1]


def test_the_headline_writes_counts_with_thousands_separators():
    db = build_database({"deals": _deals({"Big": (2_700, 1_904), "Small": (30, 20)})}, "big")
    lines = close_rates.headline(close_rates.close_rates(db, ALL, "owner"), "Rep")
    assert lines[0].startswith("Most reliably high: Big, 59% of 4,604 (95% interval 57% to ")


def test_marketing_versus_sales_sourced():
    frame = _deals({"Web": (30, 70), "Outbound": (5, 45), "Referral": (20, 20)}, "source")
    db = build_database({"deals": frame}, "sourcing")
    assert close_rates.default_sales_sources(["Web", "Outbound", "Cold Call", "Referral"]) == \
        ["Outbound", "Cold Call"]
    rates = close_rates.close_rates(db, ALL, "sourcing", sales_sources=("Outbound",))
    got = rates.set_index("grp")[["won", "n"]].to_dict("index")
    assert got == {"Marketing-sourced": {"won": 50, "n": 140},
                   "Sales-sourced": {"won": 5, "n": 50}}


def test_compare_uses_fisher_for_small_counts_and_z_otherwise():
    small = pd.DataFrame({"grp": ["A", "B"], "won": [3, 10], "n": [3, 30]})
    c = close_rates.compare(small.iloc[0], small.iloc[1])
    assert c.test == "Fisher's exact test"
    assert c.p_value == pytest.approx(fisher_exact([[3, 0], [10, 20]])[1])
    big = pd.DataFrame({"grp": ["A", "B"], "won": [120, 90], "n": [300, 300]})
    c = close_rates.compare(big.iloc[0], big.iloc[1])
    pooled = 210 / 600
    z = (0.4 - 0.3) / math.sqrt(pooled * (1 - pooled) * (2 / 300))
    assert c.test == "two-proportion z-test"
    assert c.p_value == pytest.approx(2 * norm.sf(z))
    assert c.significant and "unlikely to be chance" in c.sentence
    assert "A closes 40% (120 of 300) and B 30% (90 of 300)" in c.sentence


def test_sales_cycle_quantiles(maven):
    raw = pd.read_csv(FIXTURES / "maven_sales_pipeline_300.csv",
                      parse_dates=["engage_date", "close_date"])
    won = raw[raw.deal_stage == "Won"]
    days = (won.close_date - won.engage_date).dt.days
    cycle = close_rates.sales_cycle(maven, ALL, "none").iloc[0]
    assert cycle.won == len(won)
    assert cycle.median_days == pytest.approx(float(np.quantile(days, 0.5)))
    assert cycle.p90_days == pytest.approx(float(np.quantile(days, 0.9)))


def test_unknown_grouping_is_refused(maven):
    with pytest.raises(ValueError):
        close_rates.close_rates(maven, ALL, "owner; drop table deals")


def test_close_rates_all_time_count_deals_without_a_close_date():
    deals = pd.DataFrame({"deal_id": ["a", "b", "c"], "status": ["won", "lost", "lost"],
                          "owner": ["X"] * 3})
    db = build_database({"deals": deals}, "undated")
    row = close_rates.close_rates(db, ALL, "owner").iloc[0]
    assert (row.won, row.n) == (1, 3)
    dated = Filters(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert close_rates.close_rates(db, dated, "owner").empty


def test_deals_closed_before_they_were_created_count_in_the_all_time_view():
    """A re-imported export stamps every CreatedDate with the import day, after the deals
    closed (the Salesforce Data Cloud workshop's Opportunity file): the sidebar's all-time
    range is the data's dates, so it must reach back to the closes."""
    from handoff import pipeline
    from handoff.summary import home_summary

    raw = (b"Id,StageName,Amount,CloseDate,CreatedDate,OwnerId\n"
           b"1,Closed Won,10,2023-02-02,2024-01-22,A\n2,Closed Lost,5,2023-04-26,2024-01-22,A\n"
           b"3,Closed Won,7,2023-11-27,2024-01-22,B\n4,Prospecting,3,2024-06-30,2024-01-22,B\n")
    db = pipeline.load_files([("Opportunity.csv", raw)])
    s = home_summary(db)
    assert (s.first_date.date(), s.last_date.date()) == (dt.date(2023, 2, 2),
                                                          dt.date(2024, 1, 22))
    f = Filters(s.first_date.date(), s.last_date.date(), all_time=True)  # the sidebar's
    rates = close_rates.close_rates(db, f)
    assert (int(rates.won.sum()), int(rates.lost.sum())) == (2, 1)

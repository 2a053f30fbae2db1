"""Period comparison, time to convert, cohort trend and capacity against independent math."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from handoff import funnel_stats, pipeline
from handoff.db import build_database
from handoff.filters import Filters
from handoff.funnel import FunnelRequest
from handoff.schema import LEAD_STAGES
from tests.test_funnel import STAGE_DATES, _random_leads, _rank

FULL = Filters(dt.date(2024, 1, 1), dt.date(2025, 12, 31), all_time=True)
Q2 = Filters(dt.date(2024, 4, 1), dt.date(2024, 6, 30))
ALL_TIME = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), all_time=True)


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return _random_leads(900, seed=11)


@pytest.fixture(scope="module")
def db(leads):
    return build_database({"leads": leads}, "random")


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe (1998) method 10: the hybrid score interval for p1 - p2."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1)
    l2, u2 = _wilson(x2, n2)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _reached(frame: pd.DataFrame, f: Filters) -> list[int]:
    start, end = pd.Timestamp(f.start), pd.Timestamp(f.end) + pd.Timedelta(days=1)
    rank = _rank(frame[(frame.created_at >= start) & (frame.created_at < end)])
    return [int((rank >= k).sum()) for k in range(1, 7)]


def _typical_days(leads: pd.DataFrame) -> list[float]:
    """Days a lead created on a given day typically needs to reach each later stage: the
    medians of each step's own duration, added up (pandas, over all the leads)."""
    out, total = [], 0.0
    for before, after in zip(STAGE_DATES[:-1], STAGE_DATES[1:], strict=True):
        start = leads[before] if before != "lead_at" else leads["lead_at"].fillna(
            leads["created_at"])
        days = ((leads[after] - start).dt.total_seconds() / 86400).dropna()
        total += float(days[days >= 0].median())
        out.append(total)
    return out


def test_compare_periods_counts_and_newcombe_interval(db, leads):
    table = funnel_stats.compare_periods(db, Q2, Q2.previous(), FunnelRequest())
    waited = (leads.created_at.max().date() - Q2.end).days
    maturing = [waited < d for d in _typical_days(leads)]
    assert table.maturing.tolist() == maturing and any(maturing) and not all(maturing)
    assert table.needs_days.tolist() == pytest.approx(_typical_days(leads))
    now, before = _reached(leads, Q2), _reached(leads, Q2.previous())
    assert table.this_n.tolist() == now[:-1] and table.this_x.tolist() == now[1:]
    assert table.other_n.tolist() == before[:-1] and table.other_x.tolist() == before[1:]
    for r in table.itertuples():
        low, high = _newcombe(r.this_x, r.this_n, r.other_x, r.other_n)
        assert (r.ci_low, r.ci_high) == pytest.approx((low, high), abs=1e-9)
        assert r.change == pytest.approx(r.this_x / r.this_n - r.other_x / r.other_n)
        expected = ("still maturing" if r.maturing else "up: more than noise" if low > 0
                    else "down: more than noise" if high < 0 else "within noise")
        assert r.verdict == expected


def test_compare_with_an_empty_period_says_so(db):
    empty = Filters(dt.date(2023, 1, 1), dt.date(2023, 3, 31))  # before any lead
    table = funnel_stats.compare_periods(db, Q2, empty, FunnelRequest())
    assert set(table.verdict[~table.maturing]) == {"not enough data"}


@pytest.mark.parametrize(("a", "b"), [("lead", "mql"), ("mql", "customer"), ("lead", "sql")])
def test_time_to_convert_matches_pandas(db, leads, a, b):
    t = funnel_stats.time_to_convert(db, FULL, a, b)
    ka, kb = LEAD_STAGES.index(a) + 1, LEAD_STAGES.index(b) + 1
    rank = _rank(leads)
    started = leads[rank >= ka]
    days = (started[STAGE_DATES[kb - 1]] - started[STAGE_DATES[ka - 1]]).dt.total_seconds() \
        / 86400
    days = days.dropna()
    assert t.started == len(started)
    assert t.converted == len(days)
    assert t.still_open == int((rank[rank >= ka] < kb).sum())
    assert t.median_days == pytest.approx(float(np.quantile(days, 0.5)))
    assert t.p90_days == pytest.approx(float(np.quantile(days, 0.9)))
    weeks = np.minimum(np.floor(days / 7), 52).astype(int).value_counts().sort_index()
    assert t.weeks.set_index("week")["leads"].to_dict() == weeks.to_dict()


def test_time_to_convert_refuses_a_backward_step(db):
    with pytest.raises(ValueError):
        funnel_stats.time_to_convert(db, FULL, "sql", "mql")


def test_cohort_trend_rates_and_maturing_flags(db, leads):
    trend = funnel_stats.cohort_trend(db, FULL, maturing_days=120)
    month = leads.created_at.dt.to_period("M").dt.to_timestamp()
    rank = _rank(leads)
    step = trend[trend.step == "MQL → SQL"].set_index("month")
    for m, group in rank.groupby(month):
        assert step.loc[m, "rate"] == pytest.approx((group >= 3).sum() / (group >= 2).sum())
    latest = leads.created_at.max()
    expected = {m: (latest - (m + pd.offsets.MonthEnd(0))).days < 120 for m in step.index}
    assert step["maturing"].to_dict() == expected
    assert step["maturing"].any() and not step["maturing"].all()


def test_capacity_is_cumulative_per_segment(db, leads):
    cap = funnel_stats.capacity(db, FULL)
    customers = leads.dropna(subset=["customer_at"])
    for segment, group in customers.groupby("segment"):
        mine = cap[cap.segment == segment].sort_values("month")
        assert mine.cumulative.iloc[-1] == len(group)
        assert mine.cumulative.is_monotonic_increasing


def test_cohort_trend_without_later_stages_is_empty_not_an_error():
    db = pipeline.load_files([("l.csv", b"lead_id,created_at\n1,2024-01-01\n2,2024-02-01\n")])
    assert funnel_stats.cohort_trend(db, ALL_TIME).empty

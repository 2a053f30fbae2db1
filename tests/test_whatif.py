"""Properties the what-if model promises, checked on a fixed baseline and random inputs."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from handoff import whatif
from handoff.whatif import OBJECTIVES, Baseline, Scenario

BASE = Baseline(leads=2000, lead_to_mql=0.45, mql_to_sql=0.4, sql_to_opp=0.7,
                opp_to_won=0.3, deal_size=40_000, margin_ratio=0.55, churn=0.03,
                advocacy=0.05, referrals_per_advocate=0.8, customers=700, advocates=150,
                spend=250_000, measured="2025 Q4 – 2026 Q3")


def test_the_baseline_split_reproduces_the_measured_baseline():
    run = whatif.project(BASE, Scenario())
    first = run.iloc[0]
    leads = BASE.leads + BASE.referrals_per_advocate * BASE.advocates
    won = leads * 0.45 * 0.4 * 0.7 * 0.3
    assert first.leads == pytest.approx(leads)
    assert first.won == pytest.approx(won)
    assert first.revenue == pytest.approx(won * 40_000)
    assert first.margin == pytest.approx(won * 40_000 * 0.55)
    assert first.customers == pytest.approx(700 * (1 - 0.03) + won)
    assert run.churn.eq(0.03).all()
    runs = whatif.compare(BASE, Scenario("Same"))
    pd.testing.assert_frame_equal(
        runs[runs.run == "Baseline"].drop(columns="run").reset_index(drop=True),
        runs[runs.run == "Same"].drop(columns="run").reset_index(drop=True))


@pytest.mark.parametrize("share", [0.0, 0.3, 0.5, 1.0])
def test_effort_is_conserved(share):
    shares = Scenario().with_sale_share(share).shares
    for team in ("marketing", "sales"):
        assert sum(whatif.effort_mix(shares, team).values()) == pytest.approx(1.0)
    assert sum(whatif.company_effort(shares).values()) == pytest.approx(2.0)


def test_monotone_where_the_model_promises_it():
    steps = np.linspace(0, 1, 11)
    no_support = {**whatif.default_assumptions(), "e_support": 0.0}
    top, margin, quality, volume = [], [], [], []
    for s in steps:
        scenario = replace(Scenario(), assumptions=no_support).with_sale_share(float(s))
        run = whatif.project(BASE, scenario)
        top.append(whatif.effort_mix(scenario.shares, "marketing")["top"])
        margin.append(float((run.margin / run.revenue).iloc[0]))
        quality.append(float((run.sqls / run.mqls).iloc[0]))
        volume.append(float((run.leads - run.referral_leads).iloc[-1]))
    assert all(a >= b for a, b in zip(top, top[1:], strict=False))  # less top-of-funnel work
    assert all(a >= b for a, b in zip(margin, margin[1:], strict=False))  # thinner margins
    assert all(a >= b for a, b in zip(quality, quality[1:], strict=False))  # weaker leads
    assert quality[-1] < quality[0] and margin[-1] < margin[0]


def test_no_negative_or_infinite_volumes_for_random_inputs():
    rng = np.random.default_rng(5)
    for _ in range(200):
        shares = dict(zip(OBJECTIVES, rng.uniform(0, 1, 6).tolist(), strict=True))
        assumptions = {a.key: float(rng.uniform(a.low, a.high)) for a in whatif.ASSUMPTIONS}
        run = whatif.project(BASE, Scenario("r", shares, assumptions, 8))
        numbers = run.drop(columns=["quarter"]).astype(float)
        assert np.isfinite(numbers.to_numpy()).all()
        assert (numbers.to_numpy() >= 0).all()


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_stable_at_the_slider_ends(share):
    run = whatif.project(BASE, Scenario(horizon=20).with_sale_share(share))
    assert len(run) == 20 and np.isfinite(run.revenue).all() and run.revenue.gt(0).all()


def test_scorecards_weight_attainment_by_share():
    attainment = {"awareness": 0.8, "consideration": 1.0, "sale": 1.2, "margin": 0.9,
                  "loyalty": 1.1, "advocacy": None}
    shares = {"awareness": 1.0, "consideration": 0.5, "sale": 0.5, "margin": 0.0,
              "loyalty": 0.0, "advocacy": 1.0}
    cards = whatif.scorecards(shares, attainment).set_index("team")
    marketing = (1 * 0.8 + 0.5 * 1.0 + 0.5 * 1.2) / (1 + 0.5 + 0.5)
    sales = (0.5 * 1.0 + 0.5 * 1.2 + 1 * 0.9 + 1 * 1.1) / (0.5 + 0.5 + 1 + 1)
    assert cards.loc["Marketing", "score"] == pytest.approx(marketing)
    assert cards.loc["Sales", "score"] == pytest.approx(sales)
    assert cards.loc["Marketing", "owns"] == "Awareness, Advocacy"
    assert cards.loc["Sales", "joint"] == "Consideration, Sale (revenue)"


def test_sensitivity_ranks_assumptions_by_their_swing():
    table = whatif.sensitivity(BASE, Scenario().with_sale_share(1.0))
    assert table["range"].is_monotonic_decreasing
    assert set(table.assumption) == {a.label for a in whatif.ASSUMPTIONS}
    centre = whatif.project(BASE, Scenario().with_sale_share(1.0)).revenue.sum()
    a = whatif.ASSUMPTION_BY_KEY["e_close"]
    low = replace(Scenario().with_sale_share(1.0),
                  assumptions={**whatif.default_assumptions(), "e_close": a.default * 0.5})
    row = table.set_index("assumption").loc[a.label]
    assert row.low == pytest.approx(whatif.project(BASE, low).revenue.sum() - centre)


def test_scenario_json_round_trip_and_hostile_input():
    scenario = Scenario("Joint", horizon=6).with_sale_share(0.5)
    assert Scenario.from_json(scenario.to_json()) == scenario
    assert len(Scenario.from_json(json.dumps({"name": "x" * 500})).name) == 60
    # anything out of range or unknown is refused, naming the key (nothing is applied)
    for hostile, said in ((
            {"horizon": 10_000}, "horizon must be a whole number of quarters from 1 to 20"),
            ({"shares": {"sale": 7}}, "shares.sale must be a number from 0 to 1, not 7"),
            ({"shares": {"evil": 1}}, "unknown key(s) evil in shares"),
            ({"assumptions": {"e_close": 1e9}}, "assumptions.e_close must be a number from 0"),
            ({"assumptions": {"__class__": "os.system"}}, "unknown key(s) __class__")):
        with pytest.raises(ValueError, match=re.escape(said)):
            Scenario.from_json(json.dumps(hostile))
    for bad in ('{"shares": {"sale": "NaN"}}', '{"shares": {"sale": "drop"}}', "[1]"):
        with pytest.raises(ValueError):
            Scenario.from_json(bad)


def test_baseline_is_measured_from_the_periods():
    periods = pd.DataFrame({
        "period": pd.to_datetime(["2025-01-01", "2025-04-01"]),
        "leads": [1000, 1200], "referral_leads": [100, 100], "mqls": [400, 500],
        "sqls": [200, 210], "deals_created": [150, 160], "won": [40, 50], "lost": [90, 100],
        "revenue_won": [400_000.0, 600_000.0], "margin_won": [200_000.0, 300_000.0],
        "churned": [3, 5], "active_at_start": [300, 320], "evangelists": [6, 10],
        "spend": [50_000.0, 70_000.0]})
    b = whatif.baseline_from(periods, lifetime_customers=330, advocates=40, last_complete=1)
    assert b.leads == pytest.approx((900 + 1100) / 2)
    assert b.lead_to_mql == pytest.approx(900 / 2200)
    assert b.mql_to_sql == pytest.approx(410 / 900)
    assert b.opp_to_won == pytest.approx(90 / 280)
    assert b.deal_size == pytest.approx(1_000_000 / 90)
    assert b.margin_ratio == pytest.approx(0.5)
    assert b.churn == pytest.approx(8 / 620)
    assert b.referrals_per_advocate == pytest.approx(100 / 40)
    assert b.spend == pytest.approx(60_000) and b.measured == "2025 Q1 – 2025 Q2"
    assert not math.isnan(b.advocacy)

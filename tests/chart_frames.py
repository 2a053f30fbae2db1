"""Small frames shaped as the callers in handoff/*_ui.py pass them to the chart builders
(the columns of the query results they draw), for tests/test_charts.py."""

from __future__ import annotations

import pandas as pd

from handoff import funnel


def lead_funnel() -> pd.DataFrame:
    return funnel.with_conversion(pd.DataFrame({
        "grp": ["All"] * 4, "stage": ["lead", "mql", "sql", "customer"],
        "label": ["Lead", "MQL", "SQL", "Customer"], "position": [1, 2, 3, 4],
        "entities": [1000, 400, 150, 3]}))


def grouped_funnel() -> pd.DataFrame:
    return funnel.with_conversion(pd.DataFrame({
        "grp": ["SMB"] * 3 + ["Enterprise"] * 3, "stage": ["lead", "mql", "sql"] * 2,
        "label": ["Lead", "MQL", "SQL"] * 2, "position": [1, 2, 3] * 2,
        "entities": [500, 200, 50, 80, 60, 30]}))


def period_table() -> pd.DataFrame:  # funnel_stats.compare_periods
    return pd.DataFrame({
        "step": ["Lead → MQL", "MQL → SQL", "SQL → Opportunity", "Opportunity → Customer"],
        "this_n": [2400, 1000, 0, 300], "this_x": [1000, 450, 0, 60],
        "other_n": [2500, 1100, 500, 320], "other_x": [1100, 500, 350, 90],
        "this_rate": [0.4167, 0.45, None, 0.2], "other_rate": [0.44, 0.4545, 0.7, 0.28125],
        "change": [-0.0233, -0.0045, None, -0.08125],
        "ci_low": [-0.05, -0.046, None, -0.15], "ci_high": [0.004, 0.037, None, -0.01],
        "needs_days": [3.0, 10.0, 20.0, 45.0], "maturing": [False, False, False, True],
        "verdict": ["within noise", "within noise", None, "still maturing"]})


def weeks_table() -> pd.DataFrame:  # funnel_stats.time_to_convert(...).weeks
    return pd.DataFrame({"week": [0, 1, 2, 5, 52], "leads": [4, 20, 13, 1, 2]})


def trend_table() -> pd.DataFrame:  # funnel_stats.cohort_trend
    months = pd.to_datetime(["2025-11-01", "2025-12-01", "2026-01-01"])
    return pd.DataFrame({"month": list(months) * 2,
                         "step": ["Lead → MQL"] * 3 + ["MQL → SQL"] * 3,
                         "rate": [0.44, 0.43, 0.30, 0.41, 0.40, 0.12],
                         "entered": [850, 900, 640, 370, 390, 200],
                         "maturing": [False, False, True, False, True, True]})


def capacity_table() -> pd.DataFrame:  # funnel_stats.capacity
    months = pd.to_datetime(["2025-12-01", "2026-01-01"])
    return pd.DataFrame({"month": [months[0], months[0], months[1], months[1]],
                         "segment": ["SMB", "Enterprise"] * 2, "new_customers": [3, 0, 2, 1],
                         "cumulative": [3, 0, 5, 1]})


def rates_table() -> pd.DataFrame:  # close_rates.close_rates, ranked by the interval
    return pd.DataFrame({
        "grp": ["Zoe", "Ann", "Max"], "won": [120, 18, 2], "lost": [200, 13, 1],
        "open_deals": [0, 0, 0], "n": [320, 31, 3], "rate": [0.375, 0.5806, 0.6667],
        "ci_low": [0.3236, 0.4077, 0.2077], "ci_high": [0.4293, 0.7358, 0.9385],
        "small_sample": [False, False, True], "rank": [1, 2, 3]})


def quarters_table() -> pd.DataFrame:  # close_rates by quarter, in_time_order
    return pd.DataFrame({
        "grp": ["2025 Q3", "2025 Q4", "2026 Q1", "(no date)"], "won": [30, 40, 10, 5],
        "n": [100, 90, 40, 9], "rate": [0.3, 0.444, 0.25, 0.556],
        "ci_low": [0.22, 0.35, 0.14, 0.27], "ci_high": [0.39, 0.55, 0.40, 0.81],
        "small_sample": [False, False, False, True], "rank": [2, 1, 3, 4]})


def cycle_table() -> pd.DataFrame:  # close_rates.sales_cycle by quarter, out of time order
    return pd.DataFrame({"grp": ["2026 Q1", "2025 Q3", "2025 Q4"], "won": [38, 110, 118],
                         "p25_days": [24.9, 24.6, 27.8], "median_days": [40.0, 20.0, 34.6],
                         "p75_days": [47.1, 40.3, 45.0], "p90_days": [60.8, 54.3, 58.1]})


def runs_table() -> pd.DataFrame:  # whatif.compare: baseline and a scenario, long
    return pd.DataFrame({"quarter": [1, 2, 1, 2], "leads": [2000, 2000, 2300, 2500],
                         "won": [60.0, 61.0, 70.0, 78.0],
                         "revenue": [1.2e6, 1.22e6, 1.4e6, 1.56e6],
                         "run": ["Baseline", "Baseline", "More events", "More events"]})


def sensitivity_table() -> pd.DataFrame:  # whatif.sensitivity, by range
    return pd.DataFrame({"assumption": ["Deal size", "Lead volume", "Churn"],
                         "low": [-500_000.0, -300_000.0, 40_000.0],
                         "high": [500_000.0, 250_000.0, -35_000.0],
                         "range": [1_000_000.0, 550_000.0, 75_000.0]})


def bands_table() -> pd.DataFrame:  # loyalty.tenure_distribution
    return pd.DataFrame({"label": ["0–2", "3–5", "6–11", "12–23", "24+"],
                         "months_from": [0, 3, 6, 12, 24], "months_to": [3, 6, 12, 24, 999],
                         "customers": [89, 101, 119, 60, 7], "retained": [89, 101, 101, 40, 2],
                         "churned": [0, 0, 18, 20, 5],
                         "churn_rate": [0.0, 0.0, 0.151, 0.333, 0.714]})


def kpi_table() -> pd.DataFrame:  # objectives_ui.kpi_rows, the drawn ones of one stage
    return pd.DataFrame({
        "stage": ["sale"] * 4, "kpi": ["Win rate", "Revenue won", "Sales cycle", "Pipeline"],
        "owner": ["Sales"] * 4, "supporting": ["Marketing"] * 4,
        "key": ["win_rate", "revenue_won", "cycle", "pipeline"],
        "label": ["Win rate: 31% of 30% target", "Revenue won: $2.1M of $2.5M target",
                  "Sales cycle: 41 days of 30 days target", "Pipeline: $9M of $4M target"],
        "available": [True] * 4, "attainment": [1.033, 0.93, 0.55, 2.25],
        "status": ["On target", "Within 10% of target", "Behind target", "On target"],
        "text": ["31% of 30% target", "$2.1M of $2.5M target", "41 days of 30 days target",
                 "$9M of $4M target"]})

"""Planning from the funnel: the deals, opportunities, SQLs, MQLs and leads a revenue target
needs (the reverse funnel), and the steps worth fixing first (the bottlenecks).

The lead steps' rates are the Funnel's cohort rates (kpis.MQL_TO_SQL_COHORT); deal size and
win rate come from the deals closed in the chosen periods (queries/kpi_periods.sql).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from handoff import funnel, funnel_stats
from handoff.db import Database
from handoff.filters import Filters
from handoff.kpis import MQL_TO_SQL_COHORT


def reverse_funnel(db: Database, f: Filters, revenue_target: float,
                   p: pd.DataFrame) -> pd.DataFrame:
    """From a revenue target to the deals won, opportunities, SQLs, MQLs and leads needed,
    at the conversion rates of the chosen period range; each with the team that owns it."""
    leads = funnel.funnel(db, f, funnel.FunnelRequest()).table.set_index("stage")
    won, lost = float(p.won.sum()), float(p.lost.sum())
    deal_size = float(p.revenue_won.sum()) / won if won else math.nan
    win_rate = won / (won + lost) if won + lost else math.nan

    def rate(a: str, b: str) -> float:
        if a in leads.index and b in leads.index and leads.entities[a]:
            return float(leads.entities[b] / leads.entities[a])
        return math.nan

    steps = [("Deals won", "Sales", deal_size, "average deal size", p.won),
             ("Opportunities", "Sales", win_rate, "win rate", p.deals_created),
             ("SQLs", "Shared", rate("sql", "opportunity"), "SQL → opportunity", p.sqls),
             ("MQLs", "Marketing", rate("mql", "sql"), MQL_TO_SQL_COHORT.label, p.mqls),
             ("Leads", "Marketing", rate("lead", "mql"), "lead → MQL", p.leads)]
    rows, needed = [], float(revenue_target)
    for name, team, r, basis, actual in steps:
        needed = needed / r if r and not math.isnan(r) else math.nan
        recent = actual.iloc[-4:].mean() if len(actual) else math.nan
        rows.append({"Stage": name, "Needed per period": math.ceil(needed)
                     if math.isfinite(needed) else None, "At rate": basis,
                     "Rate used": r, "Recent average per period": recent, "Owner": team})
    return pd.DataFrame(rows)


STEP_OWNERS = {"lead": "Marketing", "mql": "Shared (the hand-off)", "sql": "Sales",
               "opportunity": "Sales"}


def bottlenecks(db: Database, f: Filters, dimension: str = "source") -> pd.DataFrame:
    """Steps ranked by the revenue gained if each converted at its best-quartile rate
    (across the dimension's groups, or months), with the team that owns the step."""
    if dimension == "month":
        trend = funnel_stats.cohort_trend(db, f, maturing_days=0)
        trend = trend[~trend["maturing"]]
        per_group = trend.rename(columns={"entered": "n"})
    else:
        table = funnel.funnel(db, f, funnel.FunnelRequest(breakdown=dimension)).table
        rows = []
        for _, g in table.groupby("grp"):
            g = g.sort_values("position")
            for a, b in zip(g.iloc[:-1].itertuples(), g.iloc[1:].itertuples(), strict=True):
                rows.append({"step": f"{a.label} → {b.label}", "n": a.entities,
                             "rate": b.entities / a.entities if a.entities else np.nan})
        per_group = pd.DataFrame(rows)
    whole = funnel.funnel(db, f, funnel.FunnelRequest()).table.sort_values("position")
    if per_group.empty or len(whole) < 2:
        return pd.DataFrame()
    revenue = float(whole.revenue_won.max()) if "revenue_won" in whole else 0.0
    customers = whole.set_index("stage").entities.get("customer", 0)
    per_customer = revenue / customers if customers else math.nan
    out = []
    for a, b in zip(whole.iloc[:-1].itertuples(), whole.iloc[1:].itertuples(), strict=True):
        if a.stage not in STEP_OWNERS or not a.entities:
            continue
        step = f"{a.label} → {b.label}"
        groups = per_group[(per_group.step == step) & (per_group.n >= 30)].dropna(
            subset=["rate"])
        if len(groups) < 2:
            continue
        current = b.entities / a.entities
        best = float(groups.rate.quantile(0.75))
        after = whole[whole.position >= b.position].set_index("stage").entities
        to_customer = after.get("customer", 0) / b.entities if b.entities else 0.0
        extra = a.entities * max(best - current, 0.0)
        gained_customers = extra * to_customer
        out.append({"Step": step, "Owner": STEP_OWNERS[a.stage], "Current rate": current,
                    "Best-quartile rate": best, "Extra conversions": round(extra),
                    "Extra customers": round(gained_customers, 1),
                    "Revenue gained": gained_customers * per_customer})
    result = pd.DataFrame(out)
    if result.empty:
        return result
    return result.sort_values("Revenue gained", ascending=False).reset_index(drop=True)

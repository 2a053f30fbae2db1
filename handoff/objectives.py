"""What each team is measured on: KPI definitions, their values per period, SMART targets,
attainment, the reverse funnel from a revenue target, and the bottlenecks worth fixing.

A KPI the data cannot support names the missing file or column instead of showing zero.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from handoff import close_rates, funnel, funnel_stats, metrics, whatif
from handoff.db import Database, query
from handoff.filters import Filters
from handoff.schema import TABLE_LABELS, TABLES

GRAINS = {"month": "Month", "quarter": "Quarter", "year": "Year"}
MAX_LIFETIME_MONTHS = 60.0  # LTV horizon: expected lifetime is capped at five years
TEAMS = ("Marketing", "Sales", "Shared")


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    panel: str  # Marketing | Sales | Shared
    owner: str
    supporter: str
    fmt: str  # count | pct | money | days | hours | ratio | months
    better: str  # higher | lower
    needs: tuple[tuple[str, str], ...]  # (table, field); field "" = any rows
    definition: str


def _k(key, label, panel, owner, supporter, fmt, better, needs, definition) -> Kpi:
    return Kpi(key, label, panel, owner, supporter, fmt, better, tuple(needs), definition)


KPIS: tuple[Kpi, ...] = (
    _k("visits", "Awareness (visits)", "Marketing", "Marketing", "Sales", "count", "higher",
       [("awareness", "")], "Website visits or impressions in the period."),
    _k("leads", "Leads", "Marketing", "Marketing", "Sales", "count", "higher",
       [("leads", "created_at")], "Leads created in the period."),
    _k("mqls", "MQLs", "Marketing", "Marketing", "Sales", "count", "higher",
       [("leads", "mql_at")], "Leads that became marketing-qualified in the period."),
    _k("acceptance", "MQL → SQL acceptance", "Marketing", "Marketing", "Sales", "pct",
       "higher", [("leads", "mql_at"), ("leads", "sql_at")],
       "Share of the period's MQLs that sales accepted (became SQL), so far."),
    _k("mql_to_won", "MQL → won", "Marketing", "Marketing", "Sales", "pct", "higher",
       [("leads", "mql_at")], "Share of the period's MQLs that became customers, so far."),
    _k("marketing_pipeline", "Marketing-sourced pipeline", "Marketing", "Marketing", "Sales",
       "money", "higher", [("deals", "amount"), ("deals", "source"), ("deals", "created_at")],
       "Amount of deals created in the period whose source is marketing's."),
    _k("marketing_revenue", "Marketing-sourced revenue", "Marketing", "Marketing", "Sales",
       "money", "higher", [("deals", "amount"), ("deals", "source"), ("deals", "closed_at")],
       "Revenue won in the period from marketing-sourced deals."),
    _k("cac", "CAC", "Marketing", "Marketing", "Sales", "money", "lower",
       [("spend", ""), ("leads", "customer_at")],
       "Marketing spend in the period ÷ new customers in the period."),
    _k("retention", "Customer retention", "Marketing", "Marketing", "Sales", "pct", "higher",
       [("customers", "started_at")],
       "Share of customers active at the start of the period still active at its end."),
    _k("evangelists", "New evangelists", "Marketing", "Marketing", "Sales", "count", "higher",
       [("leads", "evangelist_at")], "Customers who became evangelists in the period."),
    _k("referral_leads", "Referral leads", "Marketing", "Marketing", "Sales", "count",
       "higher", [("leads", "source")], "Leads created in the period from referrals."),
    _k("promoters", "Promoters (NPS 9–10)", "Marketing", "Marketing", "Sales", "pct",
       "higher", [("customers", "nps")], "Share of surveyed customers scoring 9 or 10 "
       "(whole history: survey dates are not in the data)."),
    _k("revenue_won", "Revenue won", "Sales", "Sales", "Marketing", "money", "higher",
       [("deals", "amount"), ("deals", "closed_at")], "Amount of deals won in the period."),
    _k("margin_won", "Margin won", "Sales", "Sales", "Marketing", "money", "higher",
       [("deals", "margin"), ("deals", "closed_at")],
       "Margin of deals won in the period; won deals without a margin are flagged."),
    _k("win_rate", "Win rate", "Sales", "Sales", "Marketing", "pct", "higher",
       [("deals", "closed_at")], "Won ÷ (won + lost), deals closed in the period."),
    _k("avg_deal", "Average deal size", "Sales", "Sales", "Marketing", "money", "higher",
       [("deals", "amount"), ("deals", "closed_at")], "Revenue won ÷ deals won."),
    _k("cycle_days", "Sales cycle (median days)", "Sales", "Sales", "Marketing", "days",
       "lower", [("deals", "created_at"), ("deals", "closed_at")],
       "Median days from created to won, deals won in the period."),
    _k("coverage", "Pipeline coverage", "Sales", "Sales", "Marketing", "ratio", "higher",
       [("deals", "amount")], "Open pipeline today ÷ the revenue target of the period."),
    _k("revenue_target", "Revenue against target", "Shared", "Sales", "Marketing", "money",
       "higher", [("deals", "amount"), ("deals", "closed_at")],
       "Revenue won in the period, measured against the shared revenue target."),
    _k("ltv", "LTV", "Shared", "Sales", "Marketing", "money", "higher",
       [("customers", "started_at"), ("deals", "amount")],
       "Revenue (margin when known) per customer-month × expected lifetime (1 ÷ monthly "
       "churn, at most 60 months), over all history."),
    _k("ltv_cac", "LTV : CAC", "Shared", "Sales", "Marketing", "ratio", "higher",
       [("customers", "started_at"), ("deals", "amount"), ("spend", ""),
        ("leads", "customer_at")], "LTV ÷ CAC of the period."),
    _k("tenure", "Customer tenure (median months)", "Shared", "Marketing", "Sales", "months",
       "higher", [("customers", "started_at")], "Median months customers have stayed."),
    _k("speed_to_lead", "Speed to lead (median hours)", "Shared", "Sales", "Marketing",
       "hours", "lower", [("leads", "mql_at"), ("leads", "sql_at")],
       "Median hours from MQL to sales acceptance (SQL), MQLs of the period."),
    _k("sla", "MQLs accepted within SLA", "Shared", "Sales", "Marketing", "pct", "higher",
       [("leads", "mql_at"), ("leads", "sql_at")],
       "Share of the period's MQLs accepted within the SLA hours you set."),
)
KPI_BY_KEY = {k.key: k for k in KPIS}

# The funnel stage each KPI belongs to, as the teams speak of them; "shared" holds the
# revenue team's goals and the hand-off between the teams.
STAGES = {"awareness": "Awareness", "consideration": "Consideration", "sale": "Sale",
          "loyalty": "Loyalty", "advocacy": "Advocacy", "shared": "Shared (revenue team)"}
KPI_STAGE = {"visits": "awareness", "leads": "consideration", "mqls": "consideration",
             "acceptance": "consideration", "marketing_pipeline": "consideration",
             "mql_to_won": "sale", "marketing_revenue": "sale", "revenue_won": "sale",
             "margin_won": "sale", "win_rate": "sale", "avg_deal": "sale",
             "cycle_days": "sale", "coverage": "sale", "retention": "loyalty",
             "tenure": "loyalty", "evangelists": "advocacy", "referral_leads": "advocacy",
             "promoters": "advocacy", "revenue_target": "shared", "cac": "shared",
             "ltv": "shared", "ltv_cac": "shared", "speed_to_lead": "shared",
             "sla": "shared"}
# KPIs whose owner follows the what-if split of an objective (the others have a fixed
# owner: marketing-sourced figures are marketing's, the hand-off is shared).
KPI_OBJECTIVE = {"visits": "awareness", "leads": "consideration", "mqls": "consideration",
                 "acceptance": "consideration", "revenue_won": "sale", "win_rate": "sale",
                 "avg_deal": "sale", "cycle_days": "sale", "revenue_target": "sale",
                 "coverage": "sale", "margin_won": "margin", "retention": "loyalty",
                 "tenure": "loyalty", "evangelists": "advocacy", "referral_leads": "advocacy",
                 "promoters": "advocacy"}


def owners(kpi: Kpi, shares: dict[str, float] | None) -> tuple[str, str]:
    """(owner, supporting team) of a KPI under an accountability split: the team holding
    more than half of its objective owns it; at half each, both do."""
    objective = KPI_OBJECTIVE.get(kpi.key)
    if shares is None or objective is None or objective not in shares:
        return kpi.owner, kpi.supporter
    share = shares[objective]
    if share > 0.5:
        return "Marketing", "Sales"
    if share < 0.5:
        return "Sales", "Marketing"
    return "Joint", "—"


# Loyalty KPIs a customers file without dates supports too, over the whole history: a
# churn flag gives retention, tenure in months gives tenure and (with what customers pay
# a month) LTV.
UNDATED_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "retention": (("customers", "churned"),),
    "tenure": (("customers", "tenure_months"),),
    "ltv": (("customers", "tenure_months"), ("customers", "monthly_revenue")),
}


def missing(db: Database, kpi: Kpi) -> str | None:
    """What the data lacks for this KPI, in words, or None when it is supported."""
    undated = UNDATED_NEEDS.get(kpi.key)
    if undated and all(db.has(t, n) for t, n in undated):
        return None
    for table, field_name in kpi.needs:
        if not db.row_counts.get(table):
            return f"needs a {TABLE_LABELS[table].lower()} file"
        if field_name and not db.has(table, field_name):
            label = next(f.label for f in TABLES[table] if f.name == field_name)
            if field_name in db.fields_mapped.get(table, frozenset()):
                return f"the '{label}' column is mapped, but {_why_empty(table, field_name)}"
            return f"needs the '{label}' column in the {TABLE_LABELS[table].lower()} file"
    return None


def _why_empty(table: str, field_name: str) -> str:
    if (table, field_name) == ("deals", "closed_at"):
        return "no deal has closed yet: every deal is open, and an open deal's close date " \
               "is only expected"
    return "none of its values could be read"


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).astype("float64")


SERIES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "visits": lambda p: p.visits.astype("float64"),
    "leads": lambda p: p.leads.astype("float64"),
    "mqls": lambda p: p.mqls.astype("float64"),
    "acceptance": lambda p: _ratio(p.mqls_accepted, p.mqls),
    "mql_to_won": lambda p: _ratio(p.mqls_won, p.mqls),
    "marketing_pipeline": lambda p: p.marketing_pipeline.astype("float64"),
    "marketing_revenue": lambda p: p.marketing_revenue.astype("float64"),
    "cac": lambda p: _ratio(p.spend, p.new_customers),
    "retention": lambda p: 1 - _ratio(p.churned, p.active_at_start),
    "evangelists": lambda p: p.evangelists.astype("float64"),
    "referral_leads": lambda p: p.referral_leads.astype("float64"),
    "revenue_won": lambda p: p.revenue_won.astype("float64"),
    "margin_won": lambda p: p.margin_won.astype("float64"),
    "win_rate": lambda p: _ratio(p.won, p.won + p.lost),
    "avg_deal": lambda p: _ratio(p.revenue_won, p.won),
    "cycle_days": lambda p: p.cycle_days.astype("float64"),
    "revenue_target": lambda p: p.revenue_won.astype("float64"),
    "speed_to_lead": lambda p: p.speed_to_lead_hours.astype("float64"),
    "sla": lambda p: _ratio(p.accepted_within_sla, p.mqls),
}


@dataclass(frozen=True)
class Lifetime:
    ltv: float | None
    tenure_months: float | None
    promoters: float | None
    open_pipeline: float
    margin_based: bool
    active_customers: float  # customers in the customers file not churned by then
    retention: float | None = None  # whole history: share of customers not churned
    monthly_value: float | None = None  # revenue (or margin) per customer-month
    lifetime_months: float | None = None  # expected lifetime used for LTV
    monthly_churn: float | None = None


def periods(db: Database, f: Filters, grain: str, sales_sources: tuple[str, ...],
            sla_hours: float) -> pd.DataFrame:
    """Base measures per period (see queries/kpi_periods.sql), oldest first."""
    if grain not in GRAINS:
        raise ValueError(f"unknown period {grain!r}")
    return query(db, "kpi_periods", **f.params(), grain=grain,
                 sales_sources=list(sales_sources), sla_hours=float(sla_hours))


def lifetime(db: Database, as_of: dt.datetime) -> Lifetime:
    row = query(db, "kpi_lifetime", as_of=as_of).iloc[0]
    months = float(row.customer_months or 0)
    churn = row.churned / months if months else None
    margin_based = pd.notna(row.margin_won) and row.revenue_with_margin > 0
    value = (row.margin_won / row.revenue_with_margin * row.revenue_won) if margin_based \
        else row.revenue_won
    lifetime_months = min(1 / churn, MAX_LIFETIME_MONTHS) if churn else MAX_LIFETIME_MONTHS
    monthly = value / months if months else None
    if months and pd.notna(row.avg_monthly_revenue):  # what customers pay, when the file says
        monthly = float(row.avg_monthly_revenue)
    ltv = monthly * lifetime_months if months else None
    promoters = row.promoters / row.nps_responses if row.nps_responses else None
    tenure = float(row.median_tenure_months) if pd.notna(row.median_tenure_months) else None
    retention = 1 - row.churned / row.customers if row.customers else None
    return Lifetime(ltv, tenure, promoters, float(row.open_pipeline), bool(margin_based),
                    float(row.customers - row.churned), retention,
                    monthly_value=monthly if months else None,
                    lifetime_months=lifetime_months if months else None,
                    monthly_churn=churn)


def period_label(period: pd.Timestamp, grain: str) -> str:
    if grain == "month":
        return f"{period:%b %Y}"
    if grain == "quarter":
        return f"{period.year} Q{(period.month - 1) // 3 + 1}"
    return f"{period.year}"


def period_end(period: pd.Timestamp, grain: str) -> pd.Timestamp:
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    return period + pd.DateOffset(months=months)


def values(p: pd.DataFrame, life: Lifetime, targets: dict[str, float]) -> pd.DataFrame:
    """Every KPI per period (rows: periods; columns: KPI keys)."""
    p = p.set_index("period")
    out = pd.DataFrame({key: fn(p) for key, fn in SERIES.items()}, index=p.index)
    revenue_target = targets.get("revenue_target")
    out["coverage"] = life.open_pipeline / revenue_target if revenue_target else np.nan
    out["ltv"] = life.ltv if life.ltv is not None else np.nan
    out["ltv_cac"] = out["ltv"] / out["cac"].where(out["cac"] > 0)
    out["tenure"] = life.tenure_months if life.tenure_months is not None else np.nan
    if out["retention"].isna().all() and life.retention is not None:
        out["retention"] = life.retention  # no churn dates: the whole history's retention
    out["promoters"] = life.promoters if life.promoters is not None else np.nan
    return out


def default_targets(history: pd.DataFrame) -> dict[str, float]:
    """SMART defaults from history: the mean of up to four earlier periods, 10% better
    (rates: 2 points better, kept between 0 and 1), rounded to a figure people can say."""
    out = {}
    for key, series in history.items():
        kpi = KPI_BY_KEY[key]
        recent = series.dropna().iloc[-4:]
        if recent.empty or key == "coverage":
            out[key] = 3.0 if key == "coverage" else math.nan
            continue
        base = float(recent.mean())
        if kpi.fmt == "pct":
            target = min(base + 0.02, 1.0) if kpi.better == "higher" else max(base - 0.02, 0.0)
            out[key] = round(target, 3)
        else:
            out[key] = _round(base * (1.1 if kpi.better == "higher" else 0.9))
    return out


def _round(x: float) -> float:
    if not math.isfinite(x) or x == 0:
        return x
    digits = 2 - int(math.floor(math.log10(abs(x))))
    return float(round(x, digits if digits > 0 else digits))


def attainment(kpi: Kpi, actual: float | None, target: float | None) -> float | None:
    if actual is None or target is None or pd.isna(actual) or pd.isna(target) or not target:
        return None
    if kpi.better == "lower":
        return target / actual if actual else None
    return actual / target


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
             ("MQLs", "Marketing", rate("mql", "sql"), "MQL → SQL", p.mqls),
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


OBJECTIVE_KPIS = {"awareness": ("visits", "leads"), "consideration": ("mqls", "leads"),
                  "sale": ("revenue_won",), "margin": ("margin_won",),
                  "loyalty": ("retention",), "advocacy": ("evangelists", "referral_leads")}


def whatif_inputs(db: Database, f: Filters) -> tuple[object, dict[str, float | None], str]:
    """The what-if model's baseline (last four complete quarters), each objective's
    attainment against default targets in the last complete quarter, and that quarter."""
    summary = metrics.home_summary(db)
    if summary.last_date is None:
        return None, {}, ""
    sources = metrics.filter_options(db).get("source", [])
    p = periods(db, f, "quarter", tuple(close_rates.default_sales_sources(sources)), 168.0)
    if p.empty:
        return None, {}, ""
    as_of = summary.last_date
    complete = [i for i, x in enumerate(p.period) if period_end(x, "quarter")
                <= as_of + pd.Timedelta(days=1)]
    last = complete[-1] if complete else len(p) - 1
    life = lifetime(db, as_of.to_pydatetime())
    if db.row_counts.get("customers"):
        customers = life.active_customers
    else:
        customers = float(p.new_customers.iloc[: last + 1].sum())
    advocates = float(p.evangelists.iloc[: last + 1].sum())
    baseline = whatif.baseline_from(p, customers, advocates, last)
    v = values(p, life, {})
    targets = default_targets(v.iloc[:last])
    scores: dict[str, float | None] = {}
    for objective, keys in OBJECTIVE_KPIS.items():
        scores[objective] = None
        for key in keys:
            if missing(db, KPI_BY_KEY[key]) is None:
                scores[objective] = attainment(KPI_BY_KEY[key], v[key].iloc[last],
                                               targets.get(key))
                break
    return baseline, scores, period_label(p.period.iloc[last], "quarter")

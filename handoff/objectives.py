"""What each team is measured on, per period: the base measures, the lifetime figures, every
KPI's value (by the formulas in handoff/kpis.py), SMART targets and attainment.

A KPI the data cannot support names the missing file or column instead of showing zero
(kpis.missing).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from handoff.db import Database, query
from handoff.filters import Filters
from handoff.kpis import KPI_BY_KEY, KPIS, MAX_LIFETIME_MONTHS, Kpi, Lifetime, Measures

GRAINS = {"month": "Month", "quarter": "Quarter", "year": "Year"}


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
    """Every KPI per period (rows: periods; columns: KPI keys), each by its formula in
    kpis.KPIS, in that order (a formula may read the KPIs before it)."""
    p = p.set_index("period")
    out = pd.DataFrame(index=p.index)
    for kpi in KPIS:
        out[kpi.key] = kpi.formula(Measures(p, life, targets, out))
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




def unmatched_channels(cac: pd.DataFrame) -> tuple[list[str], list[str]] | None:
    """The spend channels and the customers' sources when none of them meet (Google Ads'
    'Search' against HubSpot's 'Paid Search'), or None when some channel has both."""
    spent = cac.loc[cac["spend"] > 0, "channel"].astype(str).tolist()
    sources = cac.loc[cac["new_customers"] > 0, "channel"].astype(str).tolist()
    if not spent or not sources or set(spent) & set(sources):
        return None
    return spent, sources


def cac_by_channel(db: Database, f: Filters) -> pd.DataFrame:
    """Spend, new customers and CAC per channel over the filter's date range."""
    params = f.params()
    return query(db, "cac_by_channel", start=params["start"], end=params["end"])

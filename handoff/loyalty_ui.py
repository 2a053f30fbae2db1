"""The loyalty view (Home, Funnel, Close rates, Objectives): retention and churn, tenure
and LTV, from whatever the customers file gives (dates, or a churn flag and tenure)."""

from __future__ import annotations

import streamlit as st

from handoff import charts, close_rates, format, loyalty, ui
from handoff.db import Database
from handoff.filters import Filters


def available(db: Database) -> bool:
    """The customers file says who churned (a flag or dates)."""
    return db.has("customers", "churned") or db.has("customers", "started_at")


def headline(db: Database, f: Filters | None = None) -> None:
    """Customers, retention, churn, tenure and LTV as KPI cards (whole history)."""
    if not available(db):
        return
    s: loyalty.Loyalty = ui.computed(db, loyalty.summary, f)
    st.subheader("Loyalty")
    cols = st.columns(5)
    with cols[0]:
        ui.kpi("Customers", f"{s.customers:,}", "Rows of the customers file.")
    with cols[1]:
        ui.kpi("Retention", ui.percent(s.retention),
               f"Share still customers: {s.status_known - s.churned:,} of {s.status_known:,}.")
    with cols[2]:
        ui.kpi("Churn rate", ui.percent(s.churn_rate),
               f"{s.churned:,} of {s.status_known:,} customers churned.")
    with cols[3]:
        ui.kpi("Median tenure", "—" if s.median_tenure_months is None
               else f"{s.median_tenure_months:,.1f} mo", "Median months as a customer.")
    with cols[4]:
        ui.kpi("LTV", ui.money(s.ltv), _ltv_help(s))
    st.caption("Over the whole history of the customers file" + (
        " (it has no dates, so no period can be chosen)." if not db.has(
            "customers", "started_at") else "."))


def _ltv_help(s: loyalty.Loyalty) -> str:
    if s.ltv is None:
        return ("LTV needs what customers pay (monthly or total revenue) and how long they "
                "stay (tenure or dates).")
    return (f"{format.markdown_text(s.value_basis.capitalize())} "
            f"({ui.money(s.monthly_value)}) × expected lifetime "
            f"({s.lifetime_months:,.0f} months = 1 ÷ monthly churn "
            f"{s.monthly_churn or 0:.2%}, at most 60).")


def section(db: Database, f: Filters | None = None) -> None:
    """The loyalty stage in full: the KPIs, the tenure distribution, retention by segment."""
    if not available(db):
        st.info("Loyalty needs a customers file with a churn column (yes/no) or start and "
                "churn dates.")
        return
    headline(db, f)
    bands = ui.computed(db, loyalty.tenure_distribution, f)
    if len(bands):
        st.markdown("**How long customers stay**")
        table = ui.formatted(bands, {"label": ("Months as a customer", "text"),
                                     "customers": ("Customers", "count"),
                                     "retained": ("Still customers", "count"),
                                     "churned": ("Churned", "count"),
                                     "churn_rate": ("Churn rate", "pct")})
        ui.chart_with_downloads(charts.tenure_distribution(bands), table, "tenure",
                                "loyalty.tenure.dl", title="How long customers stay")
    retention_section(db, f)


def retention_section(db: Database, f: Filters | None = None) -> None:
    """Retention per segment with Wilson 95% intervals, ranked as close rates are."""
    if not available(db):
        return
    by = "segment" if db.has("customers", "segment") else "none"
    rates = ui.computed(db, loyalty.retention_by, f, by)
    if rates.empty:
        return
    st.markdown("**Retention by segment**" if by == "segment" else "**Retention**")
    for line in close_rates.headline(rates, "Segment", unit="customers"):
        st.markdown(format.markdown_text(line))
    shown = rates.assign(sample=rates["small_sample"].map({True: "Fewer than 30 customers",
                                                           False: "30 customers or more"}))
    table = ui.formatted(shown, {"rank": ("Rank", "count"), "grp": ("Segment", "text"),
                                 "won": ("Still customers", "count"),
                                 "n": ("Customers (n)", "count"), "rate": ("Retention", "pct"),
                                 "ci_low": ("95% CI from", "pct"),
                                 "ci_high": ("95% CI to", "pct"), "sample": ("Sample", "text")})
    ui.chart_with_downloads(
        charts.close_rate_intervals(rates, measure="Retention", unit="customers",
                                    success="Still customers"),
        table, "retention_by_segment", "loyalty.ret.dl", title="Retention by segment")

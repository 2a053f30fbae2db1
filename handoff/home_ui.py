"""The Home page's numbers: the headline totals, and the last complete quarter against the
one before with its trend."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from handoff import close_rates, format, kpis, objectives, ui
from handoff.db import Database
from handoff.filters import Filters, filter_options
from handoff.mapping import Mapping
from handoff.summary import Summary, home_summary, lead_deal_links


def headline_kpis(db: Database) -> None:
    """The handful of numbers both teams look at first; each says what it needs if absent."""
    s: Summary = ui.computed(db, home_summary)
    st.subheader("Headline numbers")
    st.caption("All the loaded data.")
    cols = st.columns(3)
    with cols[0]:
        if s.leads:
            ui.kpi("Leads", f"{s.leads:,}", "Leads or contacts that entered the funnel.")
            blind = not s.mqls and not _lead_stages_known(db)
            ui.kpi("MQLs", "—" if blind else f"{s.mqls:,}",
                   "Nothing in the leads file says which leads are MQLs: map a stage, a "
                   "converted flag or a 'Became MQL date' column, or say on the Data page "
                   "that every row is an MQL." if blind else
                   "Leads that reached marketing-qualified or beyond.")
            unmeasured = _customers_unmeasured(db, s)
            ui.kpi("Lead → customer", "—" if unmeasured else ui.percent(s.lead_to_customer),
                   unmeasured or "Share of leads that became customers.")
        else:
            st.info("Lead numbers need a leads or contacts file.")
    with cols[1]:
        if s.deals:
            ui.kpi("Deals won", f"{s.won:,}", f"Of {s.deals:,} deals: {s.won:,} won, "
                   f"{s.lost:,} lost, {s.open_deals:,} still open.")
            ui.kpi("Lost · still open", f"{s.lost:,} · {s.open_deals:,}",
                   "Lost deals are closed; open deals may still be won, so they are not "
                   "counted as lost anywhere in Handoff.")
            if s.lost or s.open_deals:
                ui.kpi("Win rate", ui.percent(s.win_rate), "Won ÷ closed (won + lost) deals; "
                       "open deals are left out until they close.")
            else:  # a file of won deals: 100 % by construction says nothing
                ui.kpi("Win rate", "—", "Every deal loaded is won (the file holds won deals "
                       "only), so a win rate would be 100% by construction. Load lost and open "
                       "deals too to see it.")
        else:
            st.info("Deal numbers need a deals or opportunities file.")
    with cols[2]:
        if s.deals and db.has("deals", "amount"):
            ui.kpi("Revenue won", ui.money(s.revenue_won), "Sum of amounts of won deals.")
        elif s.deals:
            st.info("Revenue needs an amount column in the deals file.")
        if s.deals and db.has("deals", "margin"):
            note = (f"{s.won_without_margin:,} won deal(s) have no margin and are left out."
                    if s.won_without_margin else "Sum of margins of won deals.")
            ui.kpi("Margin won", ui.money(s.margin_won), note)
        elif s.deals:
            st.caption("Margin is not in the deals file: revenue is shown without margin.")
    last_quarter(db, s)


_STAGE_FIELDS = frozenset({"stage", "converted", "mql_at", "sql_at", "opportunity_at",
                           "customer_at", "evangelist_at"})


def _lead_stages_known(db: Database) -> bool:
    """Whether any leads file says how far its leads went (a stage, a flag, a stage date,
    or every row at least an MQL), or deals linked to leads do."""
    for source in db.sources:
        if source.table != "leads":
            continue
        if source.mapping is None:  # the demo, or a version kept without its mapping
            return True
        m = Mapping.from_json(source.mapping)
        if _STAGE_FIELDS & set(m.columns) or m.row_stage != "lead":
            return True
    return bool(db.row_counts.get("deals")) and bool(lead_deal_links(db).linked)


def _customers_unmeasured(db: Database, s: Summary) -> str | None:
    """Why no lead can have become a customer here, or None when 0% would be a measure."""
    if s.customers:
        return None
    if not s.deals:
        return ("No lead is a customer, and none can be without deals: customers are the "
                "leads whose deal was won (load a deals file that carries the lead id) or "
                "leads at a stage that means customer.")
    if not lead_deal_links(db).linked:
        return (f"None of the {s.deals:,} deals points to a loaded lead, so no lead can "
                "have become a customer: map the deals' lead id column to the leads' ids.")
    return None


# The quarter's measures: KPIs of the registry (handoff/kpis.py), and the count of deals
# won, a kpi_periods.sql column with no KPI of its own.
DEALS_WON = "won"
QUARTER_MEASURES = ("leads", "mqls", DEALS_WON, "win_rate", "revenue_won")
LEAD_MEASURES = ("leads", "mqls")


def quarter_measure(key: str) -> tuple[str, str]:
    """(label, kind) of a quarter measure, as the registry names and formats it."""
    if key == DEALS_WON:
        return "Deals won", "count"
    kpi = kpis.KPI_BY_KEY[key]
    return kpi.label, kpi.fmt


def quarter_series(p: pd.DataFrame, key: str) -> pd.Series:
    """One measure per quarter, by the registry's formula (the win rate: won ÷ (won + lost))."""
    if key == DEALS_WON:
        return p[DEALS_WON].astype("float64")
    return kpis.period_series(kpis.KPI_BY_KEY[key], p)


def last_quarter(db: Database, s: Summary) -> None:
    """The last complete quarter against the one before, each with its last 8 quarters."""
    if s.first_date is None or s.last_date is None:
        return
    f = Filters(s.first_date.date(), s.last_date.date(), all_time=True)
    sources = ui.computed(db, filter_options).get("source", [])
    p = ui.computed(db, objectives.periods, f, "quarter",
                    tuple(close_rates.default_sales_sources(sources)),
                    kpis.DEFAULT_SLA_HOURS)
    complete = [i for i, x in enumerate(p.period)
                if objectives.period_end(x, "quarter") <= s.complete_through + pd.Timedelta(days=1)]
    if len(complete) < 2:
        return
    i = complete[-1]
    this, before = (format.markdown_text(objectives.period_label(p.period.iloc[k], "quarter"))
                    for k in (i, i - 1))
    st.subheader(f"Last complete quarter: {this}")
    st.caption(f"Change on the quarter before ({before}); the line is the last "
               f"{min(i + 1, 8):d} quarters.")
    shown = [m for m in QUARTER_MEASURES
             if (m in LEAD_MEASURES and s.leads) or (m not in LEAD_MEASURES and s.deals)]
    if not db.has("deals", "amount"):
        shown = [m for m in shown if m != "revenue_won"]
    # A measure the data cannot date (MQLs without the date they became MQLs) says what it
    # needs instead of showing 0 for every quarter.
    lacking = {m: kpis.missing(db, kpis.KPI_BY_KEY[m]) for m in shown if m in kpis.KPI_BY_KEY}
    shown = [m for m in shown if not lacking.get(m)]
    cols = st.columns(3)
    for n, key in enumerate(shown):
        name, kind = quarter_measure(key)
        label = format.markdown_text(name)  # the registry's name, escaped as every label
        series = quarter_series(p, key)
        value, prev = series.iloc[i], series.iloc[i - 1]

        def shown_as(x: object, kind: str = kind) -> str:
            return (format.count(x) if kind == "count" else format.percent(x) if kind == "pct"
                    else ui.money(x))

        delta = None
        if pd.notna(value) and pd.notna(prev) and value != prev:
            delta = (format.points(value - prev) if kind == "pct" else
                     format.money_change(value - prev, ui.currency()) if kind == "money"
                     else f"{value - prev:+,.0f}")
        with cols[n % 3]:
            ui.kpi(f"{label} in {this}", shown_as(value),
                   f"{label} in {this}; {before}: {shown_as(prev)}.",
                   delta=delta, chart_data=series.iloc[max(0, i - 7): i + 1].dropna().tolist(),
                   chart_type="line")
    for key, need in lacking.items():
        if need:
            st.caption(format.markdown_text(f"{quarter_measure(key)[0]} per quarter: {need}."))

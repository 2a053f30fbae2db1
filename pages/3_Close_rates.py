"""Close rates: by rep, team, source, segment, product and quarter, with honest statistics."""

import streamlit as st

from handoff import charts, close_rates, close_rates_ui, format, lead_conversion_ui, loyalty_ui, ui
from handoff.summary import home_summary

st.set_page_config(page_title="Close rates · Handoff", page_icon="🎯", layout="wide")
ui.page_access()  # stops here for a visitor who may not see it
db = ui.session_database()
ui.sidebar(db)
f = ui.filters(db)

st.title("Close rates")
if not db.row_counts.get("deals"):
    st.info("Close rates need a deals or opportunities file: load one on the Data page."
            + (" Below: how the loaded leads convert." if db.row_counts.get("leads") else ""))
    if db.row_counts.get("leads"):
        lead_conversion_ui.section(db, f)
    elif loyalty_ui.available(db):
        st.caption("The customers file shows how customers are kept: retention by segment.")
        loyalty_ui.retention_section(db, f)
    st.stop()
by, definition, sales_sources = close_rates_ui.controls(db)
rates = ui.computed(db, close_rates.close_rates, f, by, definition, sales_sources)
if by in ("owner", "manager"):
    rates = rates.assign(grp=ui.anonymised(rates["grp"], "Rep" if by == "owner" else "Manager"))
if rates.empty:
    st.info("No deals match this period and these filters.")
    st.stop()
label = close_rates.GROUPS[by]
ranked, compare, cycle, trend, leads = st.tabs(
    ["Ranking", "Compare two", "Sales cycle", "Trend by quarter", "Lead conversion"],
    key="cr.tab", on_change="rerun", bind="query-params")
if ranked.open:
    with ranked:
        if close_rates.only_won(rates):
            st.info(close_rates_ui.only_won_note(ui.computed(db, home_summary)))
        for line in close_rates.headline(rates, label):
            st.markdown(f"**{format.markdown_text(line)}**")
        shown = close_rates_ui.in_time_order(rates, by)
        ui.chart_with_downloads(charts.close_rate_intervals(shown),
                                close_rates_ui.display_table(shown, label), "close_rates",
                                "cr.dl", title=f"Close rate by {label.lower()}",
                                context=(f"Close rate = {close_rates.DEFINITIONS[definition]}",))
if compare.open:
    with compare:
        close_rates_ui.compare_section(rates)
if cycle.open:
    with cycle:
        close_rates_ui.cycle_section(db, f, by, sales_sources)
if trend.open:
    with trend:
        quarterly = close_rates_ui.in_time_order(
            ui.computed(db, close_rates.close_rates, f, "quarter", definition, sales_sources),
            "quarter")
        ui.chart_with_downloads(charts.close_rate_trend(quarterly),
                                close_rates_ui.display_table(quarterly, "Quarter"),
                                "close_rate_trend", "cr.trend.dl",
                                title="Close rate by quarter",
                                context=(f"Close rate = {close_rates.DEFINITIONS[definition]}",))
if leads.open:
    with leads:
        if db.row_counts.get("leads"):
            lead_conversion_ui.section(db, f)
        else:
            st.info("Lead conversion needs a leads file: load one on the Data page.")

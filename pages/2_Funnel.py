"""Funnel: the whole relationship from awareness to advocacy, with breakdowns and drill-down."""

import streamlit as st

from handoff import funnel, funnel_ui, loyalty_ui, ui

st.set_page_config(page_title="Funnel · Handoff", page_icon="🔻", layout="wide")
ui.page_access()  # stops here for a visitor who may not see it
db = ui.session_database()
ui.sidebar(db)
f = ui.filters(db)

st.title("Funnel")
if not (db.row_counts.get("leads") or db.row_counts.get("deals")):
    if db.row_counts.get("customers"):  # a retention export: the loyalty stage is the funnel
        loyalty_ui.section(db, f)
    else:
        st.info("The funnel needs a leads or deals file: load one on the Data page.")
    st.stop()
req = funnel_ui.request(db)
result = ui.computed(db, funnel.funnel, f, req)
leads_only = req.unit != "deals" and not req.collapse
main, compare, timing, trends, drill, loyal = st.tabs(
    ["Funnel", "Compare periods", "Time to convert", "Trends", "Drill down", "Loyalty"],
    key="funnel.tab", on_change="rerun", bind="query-params")

if main.open:
    with main:
        funnel_ui.main_section(db, f, req, result)
if compare.open:
    with compare:
        funnel_ui.comparison_section(db, f, req)
if timing.open:
    with timing:
        if leads_only:
            funnel_ui.time_section(db, f)
        else:
            st.info("Time to convert is shown for leads, on the CRM stages.")
if trends.open:
    with trends:
        if leads_only:
            funnel_ui.trend_section(db, f)
        else:
            st.info("Trends are shown for leads, on the CRM stages.")
if drill.open:
    with drill:
        funnel_ui.drill_section(db, f, req, result)
if loyal.open:
    with loyal:
        loyalty_ui.section(db, f)

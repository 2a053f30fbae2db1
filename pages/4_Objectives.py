"""Objectives: marketing's and sales' deliverables side by side, against SMART targets."""

import streamlit as st

from handoff import loyalty_ui, objectives, objectives_ui, state, targets_ui, ui
from handoff.summary import home_summary

st.set_page_config(page_title="Objectives · Handoff", page_icon="🏁", layout="wide")
ui.page_access()  # stops here for a visitor who may not see it
db = ui.session_database()
ui.sidebar(db)
f = ui.filters(db)

st.title("Objectives")
st.caption("Each team's deliverables and the goals they share, on the same data, under the "
           "funnel stage they belong to. Every KPI shows its owner and the team that "
           "supports it.")
grain, sla, sales_sources = objectives_ui.controls(db)
periods = ui.computed(db, objectives.periods, f, grain, sales_sources, sla)
if periods.empty:
    st.info("No dated leads or deals in this range: the period KPIs need data with dates "
            "(load it on the Data page)." + (" The loyalty KPIs below cover the whole history."
                                            if loyalty_ui.available(db) else ""))
    loyalty_ui.headline(db, f)
    st.stop()
summary = ui.computed(db, home_summary)
life = ui.computed(db, objectives.lifetime, summary.last_date.to_pydatetime())
index = objectives_ui.choose_period(periods, grain, summary.complete_through)
label = objectives.period_label(periods.period.iloc[index], grain)
shares = state.SHARES.get()  # who owns what: the What-if page's split
cards, plan, funnel_back, bottleneck, cac = st.tabs(
    ["Scorecards", "SMART targets", "Reverse funnel", "Bottlenecks", "CAC by channel"],
    key="obj.tab", on_change="rerun", bind="query-params")
with plan:
    history = objectives.values(periods.iloc[:index], life, {})
    targets = targets_ui.targets(db, history, label, grain, shares)
values = objectives.values(periods, life, targets)
with cards:
    objectives_ui.panels(db, values, index, targets, periods.iloc[index], life, label, shares)
if funnel_back.open:
    with funnel_back:
        objectives_ui.reverse_funnel_section(db, f, periods, targets)
if bottleneck.open:
    with bottleneck:
        objectives_ui.bottleneck_section(db, f)
if cac.open:
    with cac:
        objectives_ui.cac_section(db, f)

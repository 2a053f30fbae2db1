"""Funnel: the whole relationship from awareness to advocacy, with breakdowns and drill-down."""

import streamlit as st

from handoff import charts, funnel, funnel_ui, ui

st.set_page_config(page_title="Funnel · Handoff", page_icon="🔻", layout="wide")
db = ui.session_database()
ui.sidebar(db)
f = ui.filters(db)

st.title("Funnel")
req = funnel_ui.request(db)
result = ui.computed(db, funnel.funnel, f, req)
for line in result.headline:
    st.markdown(f"**{line}**")
for note in result.notes:
    st.caption(note)
funnel_ui.lost_after_control(result)
layout = "side_by_side"
if result.table["grp"].nunique() > 1:
    layout = st.radio("Layout", ["side_by_side", "small_multiples"], horizontal=True,
                      format_func=lambda v: v.replace("_", " ").capitalize(), key="funnel.layout")
table, config = funnel_ui.display_table(result)
ui.chart_with_downloads(charts.funnel_bars(result.table, layout), table, "funnel", "funnel.dl",
                        column_config=config)

st.subheader("Drill down")
stages = result.table.drop_duplicates("position").sort_values("position")
if req.collapse:
    st.caption("Drill-down works on the CRM stages: switch off the five-stage view.")
else:
    c1, c2 = st.columns(2)
    position = c1.selectbox("Stage", stages.position.tolist(), key=f"funnel.drill.{req.unit}",
                            format_func=dict(zip(stages.position, stages.label, strict=True)).get)
    which = c2.radio("Records", ["reached", "dropped"], horizontal=True, key="funnel.which",
                     format_func={"reached": "Reached this stage",
                                  "dropped": "Stopped at this stage"}.get)
    rows = ui.computed(db, funnel.records, f, req, position, which)
    st.caption(f"{len(rows):,} record(s)" + (" (first 50,000)" if len(rows) >= 50_000 else ""))
    ui.table_with_download(rows, "funnel_records.csv", key="funnel.records", height=320)

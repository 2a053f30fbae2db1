"""What-if: shift accountability between marketing and sales and see both scorecards and an
explicit, illustrative projection of what the shift does to the funnel."""

import streamlit as st

from handoff import objectives, ui, whatif_ui

st.set_page_config(page_title="What-if · Handoff", page_icon="🎚️", layout="wide")
db = ui.session_database()
f = ui.filters(db)
whatif_ui.open_link()
c1, c2 = st.columns([3, 1])
workshop = c2.toggle("Workshop mode", key="whatif.workshop",
                     help="Hides the controls and enlarges the numbers for a room.")
ui.anonymise_toggle(c2)
if workshop:
    whatif_ui.workshop_style()
else:
    ui.sidebar(db)
c1.title("What-if: who is accountable for what?")
baseline, attainment, quarter = ui.computed(db, objectives.whatif_inputs, f)
if baseline is None:
    st.info("The what-if needs dated leads and deals covering at least one quarter.")
    st.stop()
st.caption(f"An illustrative model, not a forecast: it shows the trade-off on your numbers. "
           f"Baseline rates and volumes measured over {baseline.measured}; scorecards judge "
           f"{quarter} against default targets.")
scenario = whatif_ui.controls(workshop)
whatif_ui.scorecards(scenario, attainment, quarter, workshop)
whatif_ui.projection(baseline, scenario, workshop)
if not workshop:  # only the open tab runs: a slider move recomputes what is on screen
    ui.keep_widgets("whatif.name", "whatif.compare")
    sensitivity, scenarios = st.tabs(["Sensitivity", "Scenarios"], key="whatif.tab",
                                     on_change="rerun")
    if sensitivity.open:
        with sensitivity:
            whatif_ui.sensitivity(baseline, scenario)
    if scenarios.open:
        with scenarios:
            whatif_ui.scenarios(baseline, scenario)

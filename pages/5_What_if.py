"""What-if: shift accountability between marketing and sales and see both scorecards and an
explicit, illustrative projection of what the shift does to the funnel."""

import streamlit as st

from handoff import format, scenarios_ui, ui, whatif_ui
from handoff.whatif_inputs import baseline_rates_note, whatif_inputs

st.set_page_config(page_title="What-if · Handoff", page_icon="🎚️", layout="wide")
ui.page_access()  # stops here for a visitor who may not see it
db = ui.session_database()
scenarios_ui.open_link()
c1, c2 = st.columns([3, 1])
workshop = c2.toggle("Workshop mode", key="whatif.workshop",
                     help="Hides the controls and the sidebar and enlarges the numbers for a "
                          "room; the scenarios compared stay on screen.")
if workshop:
    whatif_ui.workshop_style()
else:
    ui.sidebar(db)
f = ui.filters(db)
c1.title("What-if: who is accountable for what?")
inputs = ui.computed(db, whatif_inputs, f)
baseline, attainment, quarter = inputs.baseline, inputs.attainment, inputs.quarter
if baseline is None:
    st.info("The what-if needs dated leads and deals covering at least one quarter"
            + (". Missing here:" if inputs.needs else "."))
    for need in inputs.needs:
        st.caption(format.markdown_text(need))
    st.stop()
st.caption(f"An illustrative model, not a forecast: it shows the trade-off on your numbers. "
           f"Baseline rates and volumes measured over {format.markdown_text(baseline.measured)}, "
           f"among them {format.markdown_text(baseline_rates_note(baseline))}; "
           f"scorecards judge {format.markdown_text(quarter)} against default targets.")


@st.fragment
def what_moves() -> None:
    """The slider and everything it changes: a move reruns only this, not the page (the
    filters and the queries above run again only when they change)."""
    scenario = whatif_ui.controls(workshop)
    scenarios_ui.keep_in_address(scenario)
    whatif_ui.results(baseline, scenario, attainment, quarter, workshop)
    if workshop:
        st.subheader("Scenarios compared")
        scenarios_ui.scenarios(baseline, scenario, workshop=True)
        return
    # only the open tab runs: a slider move recomputes what is on screen
    sensitivity, scenarios = st.tabs(["Sensitivity", "Scenarios"], key="whatif.tab",
                                     on_change="rerun", bind="query-params")
    if sensitivity.open:
        with sensitivity:
            whatif_ui.sensitivity(baseline, scenario)
    if scenarios.open:
        with scenarios:
            scenarios_ui.scenarios(baseline, scenario, workshop=False)


what_moves()

"""Home: what is loaded, the headline numbers, and where to go next."""

import streamlit as st

from handoff import loyalty_ui, ui

st.set_page_config(page_title="Handoff", page_icon="🤝", layout="wide")
db = ui.session_database()
ui.sidebar(db)

st.title("Handoff")
st.caption("One funnel, two teams: marketing tees up the sale, sales closes it. "
           "See the whole relationship on your own exports.")
ui.flash()
ui.loaded_overview(db)
ui.headline_kpis(db)
loyalty_ui.headline(db)

st.subheader("Where to go next")
st.page_link("pages/1_Data.py", label="Data: upload your CRM and marketing exports, map and "
             "check them", icon="📤")

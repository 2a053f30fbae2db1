"""Home: what is loaded, the headline numbers, and where to go next.

The file is called Home.py because Streamlit names the entry page of a `pages/` app after
its file in the navigation. `st.navigation` could rename it, but with a `pages/` folder
Streamlit keeps its own discovery for a page opened by its address (a shared link to
/Funnel showed the old names), and DESIGN records AppTest losing the entry script's
sidebar under `st.navigation`; the built-in discovery works in both.
"""

import streamlit as st

from handoff import home_ui, loyalty_ui, ui, workspace_ui

st.set_page_config(page_title="Handoff", page_icon="🤝", layout="wide")
ui.page_access()  # stops here for a visitor who may not see it
db = ui.session_database()
ui.sidebar(db)

st.title("Handoff")
st.caption("One funnel, two teams: marketing tees up the sale, sales closes it. "
           "See the whole relationship on your own exports.")
ui.flash()
ui.loaded_overview(db)
home_ui.headline_kpis(db)
loyalty_ui.headline(db)
workspace_ui.notes({"page": "Home"})

st.subheader("Where to go next")
st.page_link("pages/1_Data.py", label="Data: upload your CRM and marketing exports, map and "
             "check them", icon="📤")
st.page_link("pages/2_Funnel.py", label="Funnel: awareness to advocacy, where leads drop "
             "and how long each step takes", icon="🔻")

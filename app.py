"""The app's pages, with the first one called Home in the navigation, and the Home page:
what is loaded, the headline numbers, and where to go next.

`st.navigation` names the pages. This script only routes and draws Home; every page still
draws its own sidebar (ui.sidebar), so nothing depends on the entry script's sidebar
surviving a rerun (see DESIGN, "Multipage"), and each page runs on its own in AppTest.
"""

import streamlit as st

from handoff import home_ui, ui


def home() -> None:
    db = ui.session_database()
    ui.sidebar(db)
    st.title("Handoff")
    st.caption("One funnel, two teams: marketing tees up the sale, sales closes it. "
               "See the whole relationship on your own exports.")
    ui.flash()
    ui.loaded_overview(db)
    home_ui.headline_kpis(db)
    st.subheader("Where to go next")
    st.page_link("pages/1_Data.py", label="Data: upload your CRM and marketing exports, map "
                 "and check them", icon="📤")
    st.page_link("pages/2_Funnel.py", label="Funnel: awareness to advocacy, where leads drop "
                 "and how long each step takes", icon="🔻")


st.set_page_config(page_title="Handoff", page_icon="🤝", layout="wide")
st.navigation([
    st.Page(home, title="Home", default=True),
    st.Page("pages/1_Data.py", title="Data", url_path="Data"),
    st.Page("pages/2_Funnel.py", title="Funnel", url_path="Funnel"),
    st.Page("pages/3_Close_rates.py", title="Close rates", url_path="Close_rates"),
    st.Page("pages/4_Objectives.py", title="Objectives", url_path="Objectives"),
    st.Page("pages/5_What_if.py", title="What-if", url_path="What_if"),
]).run()

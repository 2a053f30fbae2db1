"""Data: upload exports, map them to the canonical model, check them, load them."""

import streamlit as st

from handoff import ingest, mapping_ui, ui, versions_ui

st.set_page_config(page_title="Data · Handoff", page_icon="📤", layout="wide")
access = ui.page_access()  # stops here for a visitor who may not see it
db = ui.session_database()
ui.sidebar(db)

st.title("Data")
ui.flash()
ui.loaded_overview(db, compact=True)

uploads = st.file_uploader(
    "Upload CRM or marketing exports: CSV (any separator or encoding), XLSX or Parquet",
    type=list(ingest.ACCEPTED_EXTENSIONS), accept_multiple_files=True, key="data.uploads",
    help="HubSpot, Salesforce, Pipedrive and Zoho exports are recognised; anything else is "
         "matched by column names. A load is saved in the workspace, for every member.")
mapping_ui.forget_removed_files(uploads or [])
pending, left_out = mapping_ui.file_cards(uploads or [])
versions_ui.load_controls(access, db, pending, left_out)

with st.expander("Mapping presets"):
    mapping_ui.preset_upload()
versions_ui.versions_section(access)

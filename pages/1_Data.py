"""Data: upload exports, map them to the canonical model, check them, load them."""

import streamlit as st

from handoff import ingest, mapping_ui, ui

st.set_page_config(page_title="Data · Handoff", page_icon="📤", layout="wide")
db = ui.session_database()
ui.sidebar(db)

st.title("Data")
ui.flash()
ui.loaded_overview(db, compact=True)

uploads = st.file_uploader(
    "Upload CRM or marketing exports: CSV (any separator or encoding), XLSX or Parquet",
    type=list(ingest.ACCEPTED_EXTENSIONS), accept_multiple_files=True, key="data.uploads",
    help="HubSpot, Salesforce, Pipedrive and Zoho exports are recognised; anything else is "
         "matched by column names. Files stay in this browser session only.")
mapping_ui.forget_removed_files(uploads or [])
pending, left_out = mapping_ui.file_cards(uploads or [])
mapping_ui.load_controls(db, pending, left_out)

with st.expander("Mapping presets"):
    mapping_ui.preset_upload()

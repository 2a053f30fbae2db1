"""The Funnel page's controls and tables (the page itself stays a short script)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from handoff import funnel
from handoff.db import Database
from handoff.funnel import Funnel, FunnelRequest


def request(db: Database) -> FunnelRequest:
    """What to count and how, from the controls above the chart."""
    units = [u for u, table in (("leads", "leads"), ("accounts", "leads"), ("deals", "deals"))
             if db.row_counts.get(table)]
    if not units:
        return FunnelRequest()
    collapse = "leads" in units and st.toggle(
        "Show the five stages of the articles", key="funnel.collapse",
        help="Awareness → consideration → sale → loyalty → advocacy, instead of CRM stages.")
    c1, c2, c3, c4 = st.columns(4)
    unit = c1.radio("Count", units, format_func=funnel.UNITS.get, key="funnel.unit",
                    horizontal=True, help="Accounts counts each company once.")
    if unit == "deals":
        breakdown = c2.selectbox("Breakdown", list(funnel.DEAL_BREAKDOWNS),
                                 format_func=funnel.DEAL_BREAKDOWNS.get, key="funnel.dbreak")
        return FunnelRequest(unit="deals", breakdown=breakdown,
                             lost_after=st.session_state.get("funnel.lost_after"))
    if collapse:
        return FunnelRequest(unit=unit, collapse=True)
    view = c2.radio("Way to count", list(funnel.VIEWS), key="funnel.view",
                    format_func=lambda v: funnel.VIEWS[v].split(":")[0], horizontal=True,
                    help="\n\n".join(funnel.VIEWS.values()))
    window = 0
    if view == "cohort":
        window = c3.number_input("Conversion window (days, 0 = none)", 0, 3650, 0, step=30,
                                 key="funnel.window",
                                 help="Count a stage only when reached within this many days "
                                      "of the previous stage.")
    breakdown = c4.selectbox("Breakdown", list(funnel.LEAD_BREAKDOWNS),
                             format_func=funnel.LEAD_BREAKDOWNS.get, key="funnel.lbreak")
    return FunnelRequest(unit=unit, view=view, window_days=int(window), breakdown=breakdown)


def lost_after_control(result: Funnel) -> None:
    """Deals without stage history: which stage lost deals are counted to."""
    stages = result.table.drop_duplicates("position").sort_values("position")
    open_stages = stages.iloc[:-1]
    if len(open_stages) < 2 or not any("no stage history" in n for n in result.notes):
        return
    st.selectbox("Lost deals (no stage history) dropped after", open_stages.position.tolist(),
                 index=len(open_stages) - 1, key="funnel.lost_after",
                 format_func=dict(zip(stages.position, stages.label, strict=True)).get)


def display_table(result: Funnel) -> tuple[pd.DataFrame, dict]:
    """The table behind the chart, with readable headers and formats."""
    t = result.table
    out = pd.DataFrame({"Group": t["grp"], "Stage": t["label"], "Count": t["entities"],
                        "From previous": t["from_previous"], "From first": t["from_first"],
                        "Drop-off": t["drop"], "Drop-off %": t["drop_pct"]})
    if result.has_money:
        if "amount" in t:
            out["Pipeline amount"] = t["amount"]
        out["Revenue won"] = t["revenue_won"]
        if t["margin_won"].notna().any():
            out["Margin won"] = t["margin_won"]
    if t["grp"].nunique() == 1:
        out = out.drop(columns="Group")
    pct = st.column_config.NumberColumn(format="percent")
    money = st.column_config.NumberColumn(format="localized")
    config = {"From previous": pct, "From first": pct, "Drop-off %": pct,
              "Pipeline amount": money, "Revenue won": money, "Margin won": money}
    return out, config

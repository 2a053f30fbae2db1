"""The lead-conversion view (Close rates page): controls, headline, intervals and table."""

from __future__ import annotations

import streamlit as st

from handoff import charts, close_rates, format, lead_conversion, ui
from handoff.db import Database
from handoff.filters import Filters
from handoff.schema import LEAD_STAGE_LABELS


def section(db: Database, f: Filters) -> None:
    stages = lead_conversion.targets(db)
    if not stages:
        st.info("Lead conversion needs leads that reach a later stage (a stage column, a "
                "converted yes/no column, stage dates, or deals linked to the leads).")
        return
    c1, c2 = st.columns(2)
    by = c1.selectbox("Conversion by", lead_conversion.groupings(db),
                      format_func=lead_conversion.GROUPS.get, key="lc.by", persist_state="session")
    to = c2.selectbox("Converted means reaching", stages, format_func=LEAD_STAGE_LABELS.get,
                      key="lc.to", persist_state="session")
    rates = ui.computed(db, lead_conversion.lead_conversion, f, by, to)
    if rates.empty:
        st.info("No leads match this period and these filters.")
        return
    measure = lead_conversion.label(to)
    definition = (f"{measure} = leads that reached {LEAD_STAGE_LABELS[to]} ÷ leads"
                  + (" created in the period." if db.has("leads", "created_at")
                     else " (the leads have no dates: all time)."))
    st.caption(format.markdown_text(definition))
    for line in close_rates.headline(rates, lead_conversion.GROUPS[by], unit="leads"):
        st.markdown(f"**{format.markdown_text(line)}**")
    shown = rates.assign(sample=rates["small_sample"].map({True: "Fewer than 30 leads",
                                                           False: "30 leads or more"}))
    table = ui.formatted(shown, {"rank": ("Rank", "count"),
                                 "grp": (lead_conversion.GROUPS[by], "text"),
                                 "won": ("Converted", "count"), "n": ("Leads (n)", "count"),
                                 "rate": (measure, "pct"), "ci_low": ("95% CI from", "pct"),
                                 "ci_high": ("95% CI to", "pct"), "sample": ("Sample", "text")})
    ui.chart_with_downloads(
        charts.close_rate_intervals(rates, measure=measure, unit="leads", success="Converted"),
        table, "lead_conversion", "lc.dl",
        title=f"{measure} by {lead_conversion.GROUPS[by].lower()}", context=(definition,))

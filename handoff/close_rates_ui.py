"""The Close-rates page's controls and tables."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from handoff import charts, close_rates, metrics, ui
from handoff.db import Database
from handoff.filters import Filters


def controls(db: Database) -> tuple[str, str, tuple[str, ...]]:
    """Grouping, definition and which sources count as sales-sourced."""
    groups = [g for g in close_rates.GROUPS
              if g not in ("manager", "team") or db.row_counts.get("teams")]
    c1, c2 = st.columns(2)
    by = c1.selectbox("Close rate by", groups, format_func=close_rates.GROUPS.get,
                      key="cr.by", help="Manager and team need a teams file (rep → manager).")
    definition = c2.radio("Definition", list(close_rates.DEFINITIONS), horizontal=True,
                          key="cr.definition",
                          format_func=lambda d: close_rates.DEFINITIONS[d].split(",")[0])
    st.caption("Close rate = " + close_rates.DEFINITIONS[definition] + ".")
    sources = ui.computed(db, metrics.filter_options).get("source", [])
    sales: tuple[str, ...] = tuple(close_rates.default_sales_sources(sources))
    if by == "sourcing":
        sales = tuple(st.multiselect(
            "Sources that are sales-sourced (the rest are marketing-sourced)", sources,
            default=list(sales), key="cr.sales_sources"))
    if not db.row_counts.get("teams"):
        st.caption("Load a teams file (rep → manager) on the Data page to see close rates by "
                   "manager and team.")
    return by, definition, sales


def display_table(rates: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    out = pd.DataFrame({"Rank": rates["rank"], "Group": rates["grp"], "Won": rates["won"],
                        "Lost": rates["lost"], "Open": rates["open_deals"], "n": rates["n"],
                        "Close rate": rates["rate"], "95% CI from": rates["ci_low"],
                        "95% CI to": rates["ci_high"],
                        "Small sample (<30)": rates["small_sample"],
                        "Avg deal size": rates["avg_deal_size"],
                        "Median days to win": rates["median_cycle_days"]})
    pct = st.column_config.NumberColumn(format="percent")
    config = {"Close rate": pct, "95% CI from": pct, "95% CI to": pct,
              "Avg deal size": st.column_config.NumberColumn(format="localized"),
              "Median days to win": st.column_config.NumberColumn(format="%.0f")}
    return out, config


def compare_section(rates: pd.DataFrame) -> None:
    groups = rates["grp"].tolist()
    if len(groups) < 2:
        st.info("Only one group here: choose another grouping or a longer period.")
        return
    c1, c2 = st.columns(2)
    a = c1.selectbox("First", groups, index=0, key="cr.cmp.a")
    b = c2.selectbox("Second", groups, index=1, key="cr.cmp.b")
    if a == b:
        st.info("Choose two different groups.")
        return
    result = close_rates.compare(rates.set_index("grp", drop=False).loc[a],
                                 rates.set_index("grp", drop=False).loc[b])
    st.markdown(f"**{result.sentence}**")
    st.caption("Fisher's exact test is used when a group is small (any expected count under "
               "5); otherwise the two-proportion z-test. p < 0.05 is called unlikely to be "
               "chance. To compare periods, group by quarter.")


def cycle_section(db: Database, f: Filters, by: str, sales_sources: tuple[str, ...]) -> None:
    cycle = ui.computed(db, close_rates.sales_cycle, f, by, sales_sources)
    if cycle.empty:
        st.info("No won deals with both a created and a close date in this period.")
        return
    st.caption("Bar: the middle half of won deals; tick: the median; line: up to the 90th "
               "percentile.")
    ui.chart_with_downloads(charts.sales_cycle_box(cycle), cycle, "sales_cycle", "cr.cycle.dl")

"""The Close-rates page's controls and tables."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from handoff import charts, close_rates, format, ui
from handoff.db import Database
from handoff.filters import Filters, filter_options
from handoff.summary import Summary


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
    sources = ui.computed(db, filter_options).get("source", [])
    sales: tuple[str, ...] = tuple(close_rates.default_sales_sources(sources))
    if by == "sourcing":
        sales = tuple(st.multiselect(
            "Sources that are sales-sourced (the rest are marketing-sourced)", sources,
            default=list(sales), key="cr.sales_sources"))
    if not db.row_counts.get("teams"):
        st.caption("Load a teams file (rep → manager) on the Data page to see close rates by "
                   "manager and team.")
    return by, definition, sales


RATE_COLUMNS = {"rank": ("Rank", "count"), "grp": ("Group", "text"), "won": ("Won", "count"),
                "lost": ("Lost", "count"), "open_deals": ("Still open", "count"),
                "n": ("Deals counted (n)", "count"), "rate": ("Close rate", "pct"),
                "ci_low": ("95% CI from", "pct"), "ci_high": ("95% CI to", "pct"),
                "sample": ("Sample", "text"), "avg_deal_size": ("Average deal size", "money"),
                "median_cycle_days": ("Median days to win", "days")}


def display_table(rates: pd.DataFrame, label: str = "Group") -> format.Table:
    shown = rates.assign(sample=rates["small_sample"].map({True: "Fewer than 30 deals",
                                                           False: "30 deals or more"}))
    columns = {**RATE_COLUMNS, "grp": (label, "text")}
    return ui.formatted(shown, columns)


def in_time_order(rates: pd.DataFrame, by: str) -> pd.DataFrame:
    """Quarters read in time order, '(no date)' last; other groupings keep their rank."""
    if by != "quarter":
        return rates
    return rates.assign(undated=rates["grp"].str.startswith("(")).sort_values(
        ["undated", "grp"]).drop(columns="undated").reset_index(drop=True)


def compare_section(rates: pd.DataFrame) -> None:
    groups = rates["grp"].tolist()
    if len(groups) < 2:
        st.info("Only one group here: choose another grouping or a longer period.")
        return
    c1, c2 = st.columns(2)
    ui.seeded("cr.cmp.a", groups, groups[0])
    ui.seeded("cr.cmp.b", groups, groups[1])
    a = c1.selectbox("First", groups, key="cr.cmp.a", persist_state="session")
    b = c2.selectbox("Second", groups, key="cr.cmp.b", persist_state="session")
    if a == b:
        st.info("Choose two different groups.")
        return
    result = close_rates.compare(rates.set_index("grp", drop=False).loc[a],
                                 rates.set_index("grp", drop=False).loc[b])
    result = result.sentence
    st.markdown(f"**{format.markdown_text(result)}**")
    st.caption("Fisher's exact test is used when a group is small (any expected count under "
               "5); otherwise the two-proportion z-test. p < 0.05 is called unlikely to be "
               "chance. To compare periods, group by quarter.")


def cycle_section(db: Database, f: Filters, by: str, sales_sources: tuple[str, ...]) -> None:
    cycle = ui.computed(db, close_rates.sales_cycle, f, by, sales_sources)
    if cycle.empty:
        st.info("No won deals with both a created and a close date in this period.")
        return
    if by in ("owner", "manager"):
        cycle = cycle.assign(grp=ui.anonymised(cycle["grp"],
                                               "Rep" if by == "owner" else "Manager"))
    st.caption("Bar: the middle half of won deals; tick: the median; line: up to the 90th "
               "percentile.")
    label = close_rates.GROUPS[by]
    ui.chart_with_downloads(
        charts.sales_cycle_box(cycle, time_order=by == "quarter"),
        ui.formatted(cycle, {"grp": (label, "text"), "won": ("Won deals", "count"),
                             "p25_days": ("25% within (days)", "days"),
                             "median_days": ("Median days", "days"),
                             "p75_days": ("75% within (days)", "days"),
                             "p90_days": ("90% within (days)", "days")}),
        "sales_cycle", "cr.cycle.dl", title=f"Sales cycle by {label.lower()}",
        context=("Days from created to won, deals won in the period",))


def only_won_note(loaded: Summary) -> str:
    """Why every close rate shown is 100%: a file of won deals, or no lost deal at all."""
    if loaded.won == loaded.deals:
        return ("Every deal here is won (the file holds won deals only), so close rates are "
                "100% by construction. How leads become those deals is under Lead conversion.")
    if not loaded.lost:
        return (f"No loaded deal is lost ({loaded.open_deals:,} are still open), so every close "
                "rate is 100%. If the file says which deals were lost, map that column (a "
                "status or a lost date) on the Data page.")
    return ("No deal counted here (this period and these filters) was lost, so every close "
            "rate is 100%.")

"""Shared Streamlit pieces every page uses: the session's database, the sidebar, downloads.

State shared across pages lives in `st.session_state` under the keys below; everything that
holds a user's data is per session. The only process-wide cache of data is the demo dataset
(immutable); computed results are cached under the data's fingerprint.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit import runtime
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner import get_script_run_ctx

from handoff import demo, export, metrics, sessions
from handoff.db import Database
from handoff.filters import Filters
from handoff.schema import TABLE_LABELS

DB_KEY = "handoff.db"
FLASH_KEY = "handoff.flash"
SWEEP_SECONDS = 15.0
_LOG = get_logger(__name__)


@st.cache_resource(show_spinner=False)
def _demo_database() -> Database:
    """One demo database for the whole process: immutable, and nobody's upload is in it, so
    a room of people opening the app costs one copy of it, not one each."""
    return demo.demo_database(shared=True)


@st.cache_resource(show_spinner=False)
def _uploaded_databases() -> sessions.SessionDatabases | None:
    """The process's uploaded databases, swept when their session ends (no server under
    AppTest: nothing to sweep there)."""
    if not runtime.exists():
        return None
    grace = float(st.get_option("server.disconnectedSessionTTL"))
    held = sessions.SessionDatabases(runtime.get_instance().is_active_session, grace)
    every = max(1.0, min(SWEEP_SECONDS, grace / 2))
    sessions.sweep_forever(held, every, lambda released, left: _LOG.info(
        "released %d ended session database(s); %d held", released, left))
    return held


def session_database() -> Database:
    """This session's database: the shared demo until the user loads files."""
    db = st.session_state.get(DB_KEY)
    if db is not None and db.closed:  # released after its session had gone (see sessions)
        st.warning("This session was away too long and its data was released: showing the "
                   "demo. Load your files again on the Data page.")
        db = None
    if db is None:
        db = _demo_database()
        st.session_state[DB_KEY] = db
    return db


def replace_database(new: Database, message: str) -> None:
    """Swap in a newly built database; the old one is closed only after the swap."""
    old = st.session_state.get(DB_KEY)
    st.session_state[DB_KEY] = new
    st.session_state[FLASH_KEY] = message
    held, ctx = _uploaded_databases(), get_script_run_ctx()
    if held is not None and ctx is not None:
        held.hold(ctx.session_id, new)
    if old is not None and old is not new:
        old.close()


def flash() -> None:
    """Show, once, the message left by the last load."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _computed(fingerprint: str, module: str, name: str, args: tuple, _db: Database) -> object:
    return getattr(importlib.import_module(module), name)(_db, *args)


def computed(db: Database, fn: Callable, *args: object) -> object:
    """fn(db, *args), cached under the data's fingerprint (never a file name) and the args."""
    return _computed(db.fingerprint, fn.__module__, fn.__name__, args, db)


def filters(db: Database) -> Filters:
    """The shared filters in the sidebar; their values survive page switches (not new data)."""
    state = st.session_state
    if state.get("filters.fingerprint") != db.fingerprint:
        for key in [k for k in state if str(k).startswith(("filters.", "w.filters."))]:
            del state[key]
        state["filters.fingerprint"] = db.fingerprint
    summary: metrics.Summary = computed(db, metrics.home_summary)
    options: dict[str, list[str]] = computed(db, metrics.filter_options)
    dated = summary.first_date is not None
    lo = summary.first_date.date() if dated else dt.date(1900, 1, 1)
    hi = summary.last_date.date() if dated else dt.date(2100, 1, 1)
    with st.sidebar:
        st.markdown("**Filters** (shared by every page)")
        if dated:
            chosen = _durable(st.date_input, "range", (lo, hi), "Date range",
                              min_value=lo, max_value=hi)
            start, end = (tuple(chosen) + (hi,))[:2] if chosen else (lo, hi)
        else:
            st.caption("The loaded data has no dates: the date filter is off.")
            start, end = lo, hi
        picks = {field: _durable(st.multiselect, field, [], label, options=options.get(field, []),
                                 placeholder="All")
                 for field, label in (("source", "Source / channel"), ("segment", "Segment"),
                                      ("owner", "Owner"))}
    return Filters(start, end, tuple(picks["source"]), tuple(picks["segment"]),
                   tuple(picks["owner"]), all_time=start <= lo and end >= hi)


def _durable(widget: Callable, name: str, default: object, label: str, **kwargs: object):
    """A widget whose value is kept under a durable key, so another page can restore it."""
    state = st.session_state
    key = f"w.filters.{name}"
    if key not in state:
        state[key] = state.get(f"filters.{name}", default)
    value = widget(label, key=key, **kwargs)
    state[f"filters.{name}"] = value
    return value


def keep_widgets(*keys: str) -> None:
    """Keep these widgets' values while they are not drawn (a tab that is not open).

    Streamlit forgets the state of a widget that a run does not draw; writing the value
    back at the top of the run is its documented way to keep it."""
    state = st.session_state
    for key in keys:
        if key in state:
            state[key] = state[key]


def sidebar(db: Database) -> None:
    with st.sidebar:
        st.markdown(f"**Loaded:** {db.name}")
        rows = [f"{TABLE_LABELS[t]}: {n:,}" for t, n in db.row_counts.items() if n]
        st.caption("  \n".join(rows) if rows else "No rows loaded.")


def kpi(label: str, value: str, help_text: str | None = None) -> None:
    st.metric(label, value, help=help_text, border=True)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def days(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def table_with_download(frame: pd.DataFrame, file_name: str, key: str,
                        height: int | None = None) -> None:
    """A table and its CSV download (cells neutralised against spreadsheet formulas)."""
    st.dataframe(frame, hide_index=True, width="stretch", height=height or "auto")
    st.download_button("Download CSV", lambda: export.safe_csv(frame), file_name=file_name,
                       mime="text/csv", key=key, on_click="ignore")


def guarded(action: Callable[[], object], what: str) -> object | None:
    """Run a step a user's data can break; show a message instead of a traceback."""
    try:
        return action()
    except Exception as e:  # noqa: BLE001 - any failure here must become a message
        st.error(f"{what} failed: {e}. Nothing loaded before was changed.")
        return None


def loaded_overview(db: Database, compact: bool = False) -> None:
    """What is loaded: the files, rows per table, and the dates they span."""
    summary: metrics.Summary = computed(db, metrics.home_summary)
    span = "no dates"
    if summary.first_date is not None and summary.last_date is not None:
        span = f"{summary.first_date:%d %b %Y} to {summary.last_date:%d %b %Y}"
    st.markdown(f"**Loaded:** {db.name} — {span}")
    if compact:
        return
    counts = {TABLE_LABELS[t]: f"{n:,}" for t, n in db.row_counts.items() if n}
    st.dataframe(pd.DataFrame({"Table": list(counts), "Rows": list(counts.values())}),
                 hide_index=True, width="content")
    if db.row_counts["leads"] and db.row_counts["deals"]:
        links: metrics.Links = computed(db, metrics.lead_deal_links)
        hint = metrics.link_hint(links, "lead_id" in db.fields_mapped.get(
            "deals", db.fields_present.get("deals", frozenset())))
        st.caption(f"Lead ↔ deal link: {links.linked:,} of {links.deals:,} deals point to a "
                   f"loaded lead ({links.with_lead_id:,} carry a lead id).{hint}")
    if db.sources and not db.name.startswith("Demo"):
        st.caption("Files: " + "; ".join(
            f"{s.file_name} → {TABLE_LABELS[s.table].lower()} ({s.rows:,} rows"
            + (f", {s.preset}" if s.preset else "") + ")" for s in db.sources))


def headline_kpis(db: Database) -> None:
    """The handful of numbers both teams look at first; each says what it needs if absent."""
    s: metrics.Summary = computed(db, metrics.home_summary)
    st.subheader("Headline numbers")
    cols = st.columns(3)
    with cols[0]:
        if s.leads:
            kpi("Leads", f"{s.leads:,}", "Leads or contacts that entered the funnel.")
            kpi("MQLs", f"{s.mqls:,}", "Leads that reached marketing-qualified or beyond.")
            kpi("Lead → customer", percent(s.lead_to_customer),
                "Share of leads that became customers.")
        else:
            st.info("Lead numbers need a leads or contacts file.")
    with cols[1]:
        if s.deals:
            kpi("Deals won", f"{s.won:,}", f"{s.lost:,} lost, {s.open_deals:,} still open.")
            kpi("Win rate", percent(s.win_rate), "Won ÷ closed (won + lost) deals.")
        else:
            st.info("Deal numbers need a deals or opportunities file.")
    with cols[2]:
        if s.deals and db.has("deals", "amount"):
            kpi("Revenue won", money(s.revenue_won), "Sum of amounts of won deals.")
        elif s.deals:
            st.info("Revenue needs an amount column in the deals file.")
        if s.deals and db.has("deals", "margin"):
            note = (f"{s.won_without_margin:,} won deal(s) have no margin and are left out."
                    if s.won_without_margin else "Sum of margins of won deals.")
            kpi("Margin won", money(s.margin_won), note)
        elif s.deals:
            st.caption("Margin is not in the deals file: revenue is shown without margin.")


def chart_with_downloads(chart, table: pd.DataFrame, name: str, key: str,
                         column_config: dict | None = None) -> None:
    """A chart, the table behind it one click away, and PNG, SVG and CSV downloads."""
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        st.altair_chart(chart, width="stretch")
    with table_tab:
        st.dataframe(table, hide_index=True, width="stretch", column_config=column_config)
    # Files are made only when asked for: a rerun (a slider move, a filter) costs nothing here.
    cols = st.columns([1, 1, 1, 5])
    cols[0].download_button("PNG", lambda: export.png_from_spec(chart.to_json()),
                            file_name=f"{name}.png", mime="image/png", key=f"{key}.png",
                            on_click="ignore")
    cols[1].download_button("SVG", lambda: export.svg_from_spec(chart.to_json()),
                            file_name=f"{name}.svg", mime="image/svg+xml", key=f"{key}.svg",
                            on_click="ignore")
    cols[2].download_button("CSV", lambda: export.safe_csv(table), file_name=f"{name}.csv",
                            mime="text/csv", key=f"{key}.csv", on_click="ignore")


ANONYMISE_KEY = "workshop.anonymise"


def anonymise_toggle(container) -> bool:
    """Workshop option: show reps as 'Rep 1', 'Rep 2', … on every page of this session."""
    state = st.session_state
    if "w.workshop.anonymise" not in state:
        state["w.workshop.anonymise"] = state.get(ANONYMISE_KEY, False)
    on = container.toggle("Anonymise rep names", key="w.workshop.anonymise")
    state[ANONYMISE_KEY] = on
    return on


def anonymised(names: pd.Series) -> pd.Series:
    """Names replaced by 'Rep 1', 'Rep 2', … (in the given order) when asked to."""
    if not st.session_state.get(ANONYMISE_KEY):
        return names
    codes = {name: f"Rep {i}" for i, name in enumerate(dict.fromkeys(names), start=1)}
    return names.map(codes)

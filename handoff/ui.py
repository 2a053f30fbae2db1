"""Shared Streamlit pieces every page uses: the workspace's data, the sidebar, downloads.

The data a session shows is its workspace's current version, one read-only database per
workspace version shared by every member (`handoff.shared_databases`), or the demo while the
workspace has none. A session keeps only its choices, under the slots of `handoff.state`;
computed results are cached under the data's fingerprint.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Callable

import pandas as pd
import streamlit as st

from handoff import (
    auth,
    demo,
    engine,
    export,
    format,
    state,
    view_link,
    workspace_gate,
    workspace_versions,
)
from handoff.db import Database
from handoff.filters import Filters, filter_options
from handoff.schema import TABLE_LABELS
from handoff.summary import Links, Summary, home_summary, lead_deal_links, link_hint
from handoff.workspace_store import WorkspaceError


@st.cache_resource(show_spinner=False)
def _demo_database() -> Database:
    """One default database for the whole process: immutable, and nobody's upload is in it,
    so a room of people opening the app costs one copy of it, not one each. The demo, or in
    Spark mode (HANDOFF_ENGINE=spark) the Spark tables (see handoff/engine.py)."""
    return engine.default_database()


def _default_database() -> Database:
    """The default database; if Spark cannot be reached, the demo, with the reason shown."""
    try:
        return _demo_database()
    except (RuntimeError, ValueError) as e:
        st.error(format.markdown_text(f"{e}. Showing the demo (DuckDB) instead; check "
                                      "HANDOFF_SPARK_REMOTE and HANDOFF_SPARK_DATABASE, then "
                                      "reload."))
        return demo.demo_database(shared=False)


def page_access() -> workspace_gate.Access:
    """Who is looking at which workspace, checked first on every page: a visitor who is not
    signed in, or not a member of the linked workspace, sees a message and the page stops."""
    access = workspace_gate.session_access(auth.require_sign_in())
    state.ACCESS.set(access)
    return access


def session_database() -> Database:
    """The data this session shows: the current version of its workspace, one database
    shared by every member looking at it; the read-only demo while the workspace has no
    data. A damaged version is named in a warning (the last good one is shown); a workspace
    with no readable version says so and shows the demo."""
    access = state.ACCESS.get() or page_access()
    try:
        current = workspace_versions.current_data(access.workspace, access.email)
    except WorkspaceError as e:
        st.error(format.markdown_text(f"{e} Showing the demo meanwhile."))
        current = None
    if current is None:
        db = _default_database()
    else:
        for problem in current.problems:
            st.warning(format.markdown_text(problem))
        db = current.database
    state.SHOWN.set(db)
    return db


def shown_database() -> Database:
    """The database this run shows, without asking the workspace again (for the helpers a
    page calls many times: currency, anonymised names, export captions)."""
    db = state.SHOWN.get()
    return db if db is not None and not db.closed else session_database()


def message(left: tuple[str, str] | None) -> None:
    """Show the (kind, text) message a callback left for this run; its text is plain."""
    if left is None:
        return
    kind, text = left
    if kind == "error":
        st.error(format.markdown_text(text))
    else:
        st.success(format.markdown_text(text))


def flash() -> None:
    """Show, once, the message left by the last load."""
    message = state.FLASH.pop()
    if message:
        st.success(format.markdown_text(message))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _computed(fingerprint: str, module: str, name: str, args: tuple, _db: Database) -> object:
    return getattr(importlib.import_module(module), name)(_db, *args)


def computed(db: Database, fn: Callable, *args: object) -> object:
    """fn(db, *args), cached under the data's fingerprint (never a file name) and the args."""
    return _computed(db.fingerprint, fn.__module__, fn.__name__, args, db)


def filters(db: Database) -> Filters:
    """The shared filters in the sidebar; their values survive page switches (not new data)."""
    if state.FILTERS_FOR.get() != db.fingerprint:  # new data: the filters start afresh
        for key in [k for k in st.session_state if str(k).startswith("filters.")]:
            del st.session_state[key]
        state.FILTERS_FOR.set(db.fingerprint)
    summary: Summary = computed(db, home_summary)
    options: dict[str, list[str]] = computed(db, filter_options)
    dated = summary.first_date is not None
    lo = summary.first_date.date() if dated else dt.date(1900, 1, 1)
    hi = summary.last_date.date() if dated else dt.date(2100, 1, 1)
    dropped = view_link.apply_link(lo, hi, options)
    with st.sidebar:
        st.markdown("**Filters** (shared by every page)")
        if dropped:
            st.warning("This link's filters are not all in the loaded data; left out: "
                       f"{format.markdown_text(', '.join(dropped))}.")
        if dated:
            chosen = _durable(st.date_input, "range", (lo, hi), "Date range",
                              min_value=lo, max_value=hi)
            start, end = (tuple(chosen) + (hi,))[:2] if chosen else (lo, hi)
        else:
            st.caption("The loaded data has no dates: the date filter is off.")
            start, end = lo, hi
        alias = _aliases(db)
        picks = {field: _durable(st.multiselect, field, [], label, options=options.get(field, []),
                                 placeholder="All", **({"format_func": lambda v: alias.get(v, v)}
                                                       if field == "owner" else {}))
                 for field, label in (("source", "Source / channel"), ("segment", "Segment"),
                                      ("owner", "Owner"))}
    f = Filters(start, end, tuple(picks["source"]), tuple(picks["segment"]),
                tuple(picks["owner"]), all_time=start <= lo and end >= hi)
    view_link.keep_in_address(f, anonymised=bool(state.ANONYMISE.get()))
    state.FILTERS.set(f)
    return f


def persistent(widget: Callable, permanent: state.Slot, default: object, *args: object,
               **kwargs: object):
    """A widget drawn on every page whose value lives in the slot `permanent` (never a
    widget key): each page has its own copy of the widget (key `<slot>.widget`), and the
    browser remembers the value a page's copy had when it was last seen, so the value is
    given to every copy before it is drawn and taken back in its callback (Streamlit's
    documented pattern; `persist_state` keeps one page's widget, not copies on every page)."""
    key = f"{permanent.key}.widget"
    st.session_state[key] = permanent.setdefault(lambda: default)

    def store() -> None:
        permanent.set(st.session_state[key])

    return widget(*args, key=key, on_change=store, **kwargs)


def _durable(widget: Callable, name: str, default: object, label: str, **kwargs: object):
    """A sidebar filter: the same value on every page."""
    return persistent(widget, state.filter_slot(name), default, label, **kwargs)


def seeded(key: str, options: list, default: object) -> None:
    """Give a kept widget its default through the state (not `index=`), and a valid one when
    its options changed: a widget given both a default and a state value warns."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def sidebar(db: Database) -> None:
    """What is loaded, and the settings every page and export follows."""
    with st.sidebar:
        st.markdown(f"**Loaded:** {format.markdown_text(db.name)}")
        rows = [f"{TABLE_LABELS[t]}: {n:,}" for t, n in db.row_counts.items() if n]
        st.caption("  \n".join(rows) if rows else "No rows loaded.")
        currency_setting(db)
        anonymise_toggle(st)


def currency_setting(db: Database) -> str | None:
    """The currency every money figure is shown in: inferred from the export's symbols,
    changeable; kept per loaded data (new data starts from what it says)."""
    if state.CURRENCY_FOR.get() != db.fingerprint:  # new data: start from what it says
        state.CURRENCY_FOR.set(db.fingerprint)
        state.CURRENCY.set(db.currency or "")
    options = ["", *format.CURRENCIES]
    if db.currency and db.currency not in options:
        options.append(db.currency)
    if state.CURRENCY.get() not in options:
        state.CURRENCY.set("")
    inferred = (f"{db.currency}, read from the amounts' currency symbols" if db.currency
                else "none: the amounts carry no currency symbol")
    code = persistent(st.selectbox, state.CURRENCY, "", "Currency", options,
                      format_func=lambda c: f"{c} ({format.symbol(c).strip()})" if c
                      else "No currency symbol",
                      help=f"Every money figure and export uses it. Inferred: {inferred}.")
    return code or None


def currency() -> str | None:
    """The session's currency for the loaded data (the inferred one until changed)."""
    db = shown_database()
    if state.CURRENCY_FOR.get() != db.fingerprint:
        return db.currency
    return state.CURRENCY.get() or None


def kpi(label: str, value: str, help_text: str | None = None, **kwargs: object) -> None:
    st.metric(label, value, help=help_text, border=True, **kwargs)


def percent(value: float | None) -> str:
    return format.percent(value)


def days(value: float | None) -> str:
    return format.days(value)


def money(value: float | None) -> str:
    """Money in the session's currency: the one helper every page uses."""
    return format.money(value, currency())


def formatted(frame: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> format.Table:
    """A frame with human headers and a format per column (see handoff.format.table)."""
    return format.table(frame, columns, currency())


def _column_config(table: format.Table) -> dict:
    config = {h: st.column_config.NumberColumn(format=f) for h, f in table.formats().items()}
    config.update({h: st.column_config.Column(alignment="right") for h, k in table.kinds.items()
                   if k in format.NUMBER_KINDS and h not in config})  # numbers with gaps
    config.update({h: st.column_config.LineChartColumn() for h, k in table.kinds.items()
                   if k == "trend"})
    return config


def show_table(table: format.Table, height: int | None = None) -> None:
    st.dataframe(table.display(), hide_index=True, width="stretch", height=height or "auto",
                 column_config=_column_config(table))


def table_with_download(table: format.Table, file_name: str, key: str,
                        height: int | None = None) -> None:
    """A table and its CSV download (human headers; cells neutralised against formulas)."""
    show_table(table, height)
    st.download_button("Download CSV", lambda: export.safe_csv(table.csv_frame()),
                       file_name=file_name, mime="text/csv", key=key, on_click="ignore")


def guarded(action: Callable[[], object], what: str) -> object | None:
    """Run a step a user's data can break; show a message instead of a traceback."""
    try:
        return action()
    except Exception as e:  # noqa: BLE001 - any failure here must become a message
        st.error(format.markdown_text(f"{what} failed: {e}. Nothing loaded before was changed."))
        return None


def loaded_overview(db: Database, compact: bool = False) -> None:
    """What is loaded: the files, rows per table, and the dates they span."""
    summary: Summary = computed(db, home_summary)
    span = "no dates"
    if summary.first_date is not None and summary.last_date is not None:
        span = f"{summary.first_date:%d %b %Y} to {summary.last_date:%d %b %Y}"
    st.markdown(f"**Loaded:** {format.markdown_text(db.name)} — {span}")
    if compact:
        s = engine.settings()
        if s.engine == "spark":  # the Data page: say where an upload goes
            st.info(format.markdown_text(engine.UPLOADS_IN_SPARK_MODE.format(where=s.where)))
        return
    counts = {TABLE_LABELS[t]: f"{n:,}" for t, n in db.row_counts.items() if n}
    st.dataframe(pd.DataFrame({"Table": list(counts), "Rows": list(counts.values())}),
                 hide_index=True, width="content")
    if db.row_counts["leads"] and db.row_counts["deals"]:
        links: Links = computed(db, lead_deal_links)
        hint = link_hint(links, "lead_id" in db.fields_mapped.get(
            "deals", db.fields_present.get("deals", frozenset())))
        st.caption(f"Lead ↔ deal link: {links.linked:,} of {links.deals:,} deals point to a "
                   f"loaded lead ({links.with_lead_id:,} carry a lead id).{hint}")
    if db.sources and not db.name.startswith("Demo"):
        st.caption("Files: " + format.markdown_text("; ".join(
            f"{s.file_name} → {TABLE_LABELS[s.table].lower()} ({s.rows:,} rows"
            + (f", {s.preset}" if s.preset else "") + ")" for s in db.sources)))


def view_lines(extra: tuple[str, ...] = ()) -> list[str]:
    """What an exported chart shows, in words: the chart's own context, the period and
    filters chosen in the sidebar, and the data it comes from."""
    f: Filters | None = state.FILTERS.get()
    lines = list(extra)
    if f is not None:
        alias = _aliases(shown_database())
        picked = [f"{label}: {', '.join(alias.get(v, v) for v in values)}"
                  for label, values in (("Source", f.sources), ("Segment", f.segments),
                                        ("Owner", f.owners)) if values]
        lines.append(f"Period: {f.start:%d %b %Y} – {f.end:%d %b %Y}"
                     + (" (all the data)" if f.all_time else "") + " · Filters: "
                     + ("; ".join(picked) if picked else "none"))
    lines.append(f"Data: {shown_database().name} · Handoff")
    return lines


def chart_with_downloads(chart, table: format.Table, name: str, key: str, title: str,
                         context: tuple[str, ...] = (), on_select: str | None = None,
                         selection: str | None = None,
                         drawn: tuple[dict, pd.DataFrame] | None = None):
    """A chart, the table behind it one click away, and PNG, SVG and CSV downloads.

    Exported charts carry `title`, the context lines, the filters, the period and the
    data source, in the app's colours. With `on_select`, returns the chart's selection.
    `drawn` (a spec without its rows, and the rows) is drawn instead of `chart` when the
    chart is redrawn on every slider move: the spec is built and validated once."""
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    event = None
    with chart_tab:
        if on_select:
            event = st.altair_chart(chart, width="stretch", on_select=on_select,
                                    selection_mode=selection, key=f"{key}.chart")
        elif drawn is not None:
            st.vega_lite_chart(drawn[1], drawn[0], width="stretch")
        else:
            st.altair_chart(chart, width="stretch")
    with table_tab:
        show_table(table)

    lines = view_lines(context)  # read now: a download is made outside this script run

    def spec() -> str:
        return json.dumps(export.presentable(chart.to_dict(), title, lines))

    # Files are made only when asked for: a rerun (a slider move, a filter) costs nothing here.
    cols = st.columns([1, 1, 1, 5])
    cols[0].download_button("PNG", lambda: export.png_from_spec(spec()),
                            file_name=f"{name}.png", mime="image/png", key=f"{key}.png",
                            on_click="ignore")
    cols[1].download_button("SVG", lambda: export.svg_from_spec(spec()),
                            file_name=f"{name}.svg", mime="image/svg+xml", key=f"{key}.svg",
                            on_click="ignore")
    cols[2].download_button("CSV", lambda: export.safe_csv(table.csv_frame()),
                            file_name=f"{name}.csv", mime="text/csv", key=f"{key}.csv",
                            on_click="ignore")
    return event




def anonymise_toggle(container) -> bool:
    """Show people as 'Rep 1', 'Rep 2', … on every page, table and export of this session."""
    return persistent(container.toggle, state.ANONYMISE, False,
                      "Anonymise rep names",
                      help="Reps and managers become Rep 1, Manager 1, … on every page and "
                           "in every download (for a room or a deck).")


def _aliases(db: Database) -> dict[str, str]:
    """Rep name -> 'Rep N', the same on every page (numbered by how often each appears),
    or nothing when names are shown."""
    if not state.ANONYMISE.get():
        return {}
    owners = computed(db, filter_options).get("owner", [])
    return {name: f"Rep {i}" for i, name in enumerate(owners, start=1)}


def anonymised(names: pd.Series, kind: str = "Rep") -> pd.Series:
    """People's names replaced by 'Rep 1', 'Manager 2', … when asked to; the same person
    has the same alias on every page. Placeholders such as '(none)' stay as they are."""
    if not state.ANONYMISE.get():
        return names
    codes = _aliases(shown_database()) if kind == "Rep" else {}
    others = sorted({str(n) for n in names.dropna()} - set(codes))
    codes = {**codes, **{name: f"{kind} {i}" for i, name in
                         enumerate(others, start=len(codes) + 1 if kind == "Rep" else 1)}}
    return names.map(lambda n: n if not isinstance(n, str) or n.startswith("(")
                     else codes.get(n, n))

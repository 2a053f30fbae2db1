"""The sidebar filters in the page's address, so a copied link opens the same view.

The filters live in the session (the same on every page, see `ui.persistent`), so they are not
widgets bound to the address: the address mirrors them after each run, and a link's filters
are applied when they come from outside. A text this session wrote itself is never applied
back: the browser may send the address of a run or two ago while the user moves a filter.
A link is hostile input: unknown values are dropped, dates are clamped to the data, and what
was dropped is said.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from handoff import state
from handoff.filters import Filters

RANGE = "range"
FIELDS = ("source", "segment", "owner")
PARAMS = (RANGE, *FIELDS)


def address_filters() -> dict[str, tuple[str, ...]]:
    """The filter parameters in the address, as given."""
    return {k: tuple(st.query_params.get_all(k)) for k in PARAMS if k in st.query_params}


def _canonical(values: dict[str, tuple[str, ...]]) -> str:
    return "&".join(f"{k}={v}" for k in PARAMS for v in values.get(k, ()))


def range_text(start: dt.date, end: dt.date) -> str:
    return f"{start.isoformat()}..{end.isoformat()}"


def parsed_range(text: str, lo: dt.date, hi: dt.date) -> tuple[dt.date, dt.date] | None:
    """A link's `range=YYYY-MM-DD..YYYY-MM-DD`, clamped to the data's dates; None if unreadable
    or outside the data."""
    try:
        start, end = (dt.date.fromisoformat(part) for part in text.split("..", 1))
    except ValueError:
        return None
    start, end = max(start, lo), min(end, hi)
    return (start, end) if start <= end else None


def apply_link(lo: dt.date, hi: dt.date, options: dict[str, list[str]]) -> list[str]:
    """Set the sidebar filters from the address when it carries filters this session did not
    write (a link someone shared); what could not be applied, for a warning."""
    found = address_filters()
    if not found or _canonical(found) in state.FILTERS_WRITTEN.get([]):
        return []
    state.remember(state.FILTERS_WRITTEN, _canonical(found))
    problems = []
    if RANGE in found:
        picked = parsed_range(found[RANGE][0], lo, hi) if found[RANGE] else None
        if picked is None:
            problems.append(f"the date range '{found[RANGE][0][:40] if found[RANGE] else ''}' "
                            f"(the data runs {range_text(lo, hi)})")
        else:
            state.filter_slot(RANGE).set(picked)
    for field in FIELDS:
        if field not in found:
            continue
        known = set(options.get(field, []))
        kept = list(dict.fromkeys(v for v in found[field] if v in known))
        problems += [f"{field} '{v[:40]}'" for v in found[field] if v not in known][:5]
        state.filter_slot(field).set(kept)
    return problems


def keep_in_address(f: Filters, anonymised: bool) -> None:
    """Write the filters into the address (only what differs from no filter). Owners are left
    out while names are anonymised: the address bar is on the projector too."""
    wanted: dict[str, tuple[str, ...]] = {}
    if not f.all_time:
        wanted[RANGE] = (range_text(f.start, f.end),)
    for field, values in zip(FIELDS, (f.sources, f.segments, f.owners), strict=True):
        if values and not (field == "owner" and anonymised):
            wanted[field] = tuple(values)
    state.remember(state.FILTERS_WRITTEN, _canonical(wanted))
    if wanted == address_filters():
        return
    for key in PARAMS:
        if key in wanted:
            st.query_params[key] = list(wanted[key])
        elif key in st.query_params:
            del st.query_params[key]

"""Every value the app keeps in a browser session, each under one named, typed slot.

Keys read `<area>.<name>`: `data.*` for the workspace shown and the Data page's per-file work,
`filters.*` for the sidebar, `settings.*` for the session's choices, `whatif.*` and
`objectives.*` for their pages. Widgets' own keys follow the same pattern (`funnel.unit`,
`whatif.horizon`); the values the code reads and writes itself go through the slots below,
so a newcomer finds every one of them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import streamlit as st

if TYPE_CHECKING:
    from handoff.db import Database
    from handoff.filters import Filters
    from handoff.workspace_gate import Access

T = TypeVar("T")


@dataclass(frozen=True)
class Slot(Generic[T]):
    """One value in the session, by key."""

    key: str

    def get(self, default: T | None = None) -> T | None:
        return st.session_state.get(self.key, default)

    def set(self, value: T) -> None:
        st.session_state[self.key] = value

    def pop(self) -> T | None:
        return st.session_state.pop(self.key, None)

    def setdefault(self, make: Callable[[], T]) -> T:
        state = st.session_state
        if self.key not in state:
            state[self.key] = make()
        return state[self.key]


# --- whose workspace is shown, and what is loaded in it ------------------------------------
ACCESS: Slot[Access] = Slot("data.access")  # the workspace and role, set by the gate each run
SHOWN: Slot[Database] = Slot("data.shown")  # the workspace database (or demo) this run shows
FLASH: Slot[str] = Slot("data.flash")  # the message of the last load, shown once
PRESET_FILES: Slot[set[str]] = Slot("data.preset_files")  # preset uploads already kept
FILE_WORK: Slot[dict] = Slot("data.file_work")  # per uploaded file: its read, proposal, mapping
VERSIONS_MESSAGE: Slot[tuple[str, str]] = Slot("data.versions_message")  # (kind, text)
NOTE_BODY: Slot[str] = Slot("data.note_body")  # the note being written (a text area's key)
NOTES_MESSAGE: Slot[tuple[str, str]] = Slot("data.notes_message")  # (kind, text)

# --- the sidebar ----------------------------------------------------------------------------
FILTERS: Slot[Filters] = Slot("filters.current")  # the last filters drawn (exports say them)
FILTERS_FOR: Slot[str] = Slot("filters.fingerprint")  # the data the filters were chosen on
# the address's filter texts this session applied or wrote (outside `filters.*`, which new
# data clears: an address written for the old data must not be applied to the new)
FILTERS_WRITTEN: Slot[list[str]] = Slot("data.filters_written")


def remember(slot: Slot[list[str]], text: str, keep: int = 200) -> None:
    """Add `text` to a list of texts this session has seen or written (the newest `keep`)."""
    seen = slot.setdefault(list)
    if text not in seen:
        seen.append(text)
        del seen[:-keep]


def filter_slot(name: str) -> Slot:
    """A sidebar filter's value (range, source, segment, owner), the same on every page."""
    return Slot(f"filters.{name}")


# --- settings -------------------------------------------------------------------------------
CURRENCY_FOR: Slot[str] = Slot("settings.currency")  # the data the currency was chosen for
CURRENCY: Slot[str] = Slot("settings.currency.code")  # the currency widget's value
ANONYMISE: Slot[bool] = Slot("settings.anonymise")  # rep names shown as Rep 1, Rep 2, …

# --- what-if --------------------------------------------------------------------------------
SHARES: Slot[dict[str, float]] = Slot("whatif.current_shares")  # the one source of truth
ASSUMPTIONS: Slot[dict[str, float]] = Slot("whatif.current_assumptions")
SAVED: Slot[dict] = Slot("whatif.saved")  # saved scenarios by name
MESSAGE: Slot[tuple[str, str]] = Slot("whatif.message")  # (kind, text) left by a callback
VERSION: Slot[int] = Slot("whatif.version")  # bumped when the tables must be redrawn
PENDING: Slot[dict[str, float]] = Slot("whatif.pending_shares")  # table edits to apply
LINK_SEEN: Slot[list[str]] = Slot("whatif.link_seen")  # ?scenario= texts applied or written
# widgets the code also sets (from a preset, an import or a link) before they are drawn
SHARE_SLIDER: Slot[float] = Slot("whatif.share")  # marketing's share of sale and margin
SCENARIO_NAME: Slot[str] = Slot("whatif.name")
HORIZON: Slot[int] = Slot("whatif.horizon")
COMPARED: Slot[list[str]] = Slot("whatif.compare")
SCENARIO_FILE: Slot[object] = Slot("whatif.import")  # the scenario file uploader
WIDGET_SLOTS = (SHARE_SLIDER, SCENARIO_NAME, HORIZON, COMPARED, SCENARIO_FILE, NOTE_BODY)

# --- objectives -----------------------------------------------------------------------------
TARGETS_VERSION: Slot[int] = Slot("objectives.version")
LAST_TARGETS_UPLOAD: Slot[str] = Slot("objectives.last_upload")
TARGETS_MESSAGE: Slot[tuple[str, str]] = Slot("objectives.targets_message")  # (kind, text)


def file_work(fid: str, kind: str, *parts: Any, compute: Callable[[], T]) -> T:
    """A step of the Data page's work on one uploaded file or sheet (`<file id>.<sheet>`):
    its read, proposal, applied mapping…, kept while the file stays uploaded, so reruns do
    not redo slow work."""
    work: dict = FILE_WORK.setdefault(dict)
    key = (fid, kind, *parts)
    if key not in work:
        work[key] = compute()
        files = list(dict.fromkeys(k[0] for k in work))
        for old in files[:-MAX_FILES]:  # the oldest files' work goes first
            for k in [k for k in work if k[0] == old]:
                del work[k]
    return work[key]


def forget_files(uploaded: set[str]) -> None:
    """Drop the work on files no longer uploaded (`uploaded`: the uploader's file ids)."""
    work: dict = FILE_WORK.setdefault(dict)
    for k in [k for k in work if k[0].split(".")[0] not in uploaded]:
        del work[k]


MAX_FILES = 8  # the uploads whose work a session keeps

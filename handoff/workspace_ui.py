"""What the session's workspace keeps besides its data, read and written from the pages:
mapping presets, SMART targets, saved scenarios (`handoff.workspaces` items) and notes on the
data. Kept in the workspace, not the browser session, so a refresh, a new tab, another member
and a server restart all see them. A refusal or failure of the store is said on the page, with
what to do, and the page goes on."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from handoff import format, state, workspace_versions, workspaces
from handoff.workspace_gate import Access
from handoff.workspace_store import WorkspaceError
from handoff.workspaces import Item

WHAT = {"mapping_preset": "mapping preset", "targets": "targets", "scenario": "scenario"}


def _access() -> Access | None:
    """The session's workspace and role (set by `ui.page_access` at the top of every page)."""
    return state.ACCESS.get()


def kept_items(kind: str) -> list[Item]:
    """The workspace's saved items of one kind, newest first; none (and a warning) when the
    store cannot be read."""
    access = _access()
    if access is None:
        return []
    try:
        return workspaces.items(access.workspace, access.email, kind)
    except WorkspaceError as e:
        st.warning(format.markdown_text(f"The saved {WHAT.get(kind, kind)}s of this workspace "
                                        f"could not be read: {e} Reload the page to try "
                                        "again."))
        return []


def keep(kind: str, name: str, value: object) -> str | None:
    """Save an item in the workspace; None when saved, otherwise the reason (plain text,
    saying what to do), for the caller to show where it fits."""
    access = _access()
    if access is None:
        return f"There is no workspace to save the {WHAT.get(kind, kind)} in: reload the page."
    try:
        workspaces.save_item(access.workspace, access.email, kind, name, value)
    except WorkspaceError as e:
        return f"The {WHAT.get(kind, kind)} '{name}' was not saved: {e}"
    return None


def notes(about: dict[str, str]) -> None:
    """Notes on this workspace's data: who wrote what when, and a box to add one (any
    member, viewers too). Note text is shown as written: never as Markdown or HTML."""
    access = _access()
    if access is None:
        return
    with st.expander("Notes on this data"):
        try:
            written = workspaces.annotations(access.workspace, access.email)
        except WorkspaceError as e:
            st.warning(format.markdown_text(f"The notes could not be read: {e} Reload the "
                                            "page to try again."))
            return
        if not written:
            st.caption("No notes yet. Write what others should know about this data.")
        for note in reversed(written):  # newest first
            when = datetime.fromisoformat(note.written_at).strftime("%Y-%m-%d %H:%M UTC")
            on = f" · on version {note.version}" if note.version else ""
            st.caption(format.markdown_text(f"{note.written_by} · {when}{on}"))
            st.markdown("  \n".join(format.markdown_text(line)
                                    for line in note.body.splitlines() if line.strip()))
        st.text_area("Add a note", key=state.NOTE_BODY.key, max_chars=10_000,
                     placeholder="e.g. March leads are missing the webinar list")
        st.button("Add note", key="notes.add", on_click=_add_note, args=(access, about))
        left = state.NOTES_MESSAGE.pop()
        if left:
            kind, text = left
            (st.warning if kind == "warning" else st.error)(format.markdown_text(text))


def _add_note(access: Access, about: dict[str, str]) -> None:
    """Store the note typed in the box (a callback: the box is emptied before it is drawn)."""
    body = state.NOTE_BODY.get() or ""
    if not body.strip():
        state.NOTES_MESSAGE.set(("warning", "Write the note in the box first, then press Add "
                                            "note."))
        return
    try:
        workspaces.annotate(access.workspace, access.email, body, about,
                            _current_version(access))
    except WorkspaceError as e:
        state.NOTES_MESSAGE.set(("error", f"The note was not saved: {e}"))
        return
    state.NOTE_BODY.set("")


def _current_version(access: Access) -> str | None:
    """The number of the version the note is about (None while the demo is shown)."""
    try:
        listed = workspace_versions.versions(access.workspace, access.email)
    except WorkspaceError:
        return None
    return next((str(v.number) for v in listed if v.current), None)

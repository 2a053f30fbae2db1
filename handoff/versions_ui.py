"""The Data page's load button and the workspace's versions: loading saves a new version for
every member, and an editor can make an earlier one current again.

Nothing is built for the session alone: a load is prepared from the confirmed files, saved
as the workspace's next version (`handoff.workspace_versions`), and every member's next run
shows it. A viewer gets a sentence saying who can load instead of the button. A failure
(a full disk, a role changed meanwhile) is a message, and the current version stays.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from handoff import dataset, format, state, ui, workspace_versions, workspaces
from handoff.db import Database
from handoff.pipeline import Unloadable
from handoff.schema import TABLE_LABELS
from handoff.workspace_gate import Access
from handoff.workspace_store import WorkspaceError


def load_controls(access: Access, db: Database, pending: list[dataset.Pending],
                  left_out: list[Unloadable] = ()) -> None:
    """The button that saves every file that validates as the workspace's new version;
    files that cannot load are listed with the reason and left out, they do not block the
    others."""
    ready = [p for p in pending if p.validation.ok]
    left = [*left_out, *(Unloadable(p.file_name, "; ".join(p.validation.problems)
                                    or "it has no rows to load")
                         for p in pending if not p.validation.ok)]
    if left and not ready:
        st.warning("No file can be loaded yet: fix the problems shown above for "
                   + format.markdown_text(", ".join(u.file_name for u in left))
                   + ", or skip them.")
        return
    if left:
        st.warning("Left out of the load (the other files load without them):  \n"
                   + "  \n".join(f"**{format.markdown_text(u.file_name)}**: "
                                 f"{format.markdown_text(u.message)}" for u in left))
    if not ready:
        return
    if not access.can_load:
        st.info(f"You are a viewer of this workspace: {format.markdown_text(who_can_load(access))} "
                "can load data. Ask one of them to load these files, or to make you an editor.")
        return
    keep = st.checkbox("Keep the other tables already loaded (for example add a teams file "
                       "to the deals you loaded)", value=False, key="data.keep",
                       disabled=db.name.startswith("Demo"))
    rows = sum(p.validation.rows_loaded for p in ready)
    label = (f"Load {len(ready)} file(s), {rows:,} rows, as the workspace's new version "
             "(for every member)")
    if left:
        label += f" ({len(left)} left out)"
    if st.button(label, type="primary", key="data.load"):
        _save(access, db, ready, left, keep)


def _save(access: Access, db: Database, ready: list[dataset.Pending],
          left: list[Unloadable], keep: bool) -> None:
    try:
        prepared = dataset.prepared(ready, db, keep_current=keep)
        version = workspace_versions.save_version(access.workspace, access.email, prepared)
    except WorkspaceError as e:
        st.error(format.markdown_text(str(e)))
        return
    except Exception as e:  # noqa: BLE001 - a user's data must never end in a traceback
        st.error(format.markdown_text(f"Loading failed: {e}. Nothing loaded before was "
                                      "changed."))
        return
    counts = ", ".join(f"{n:,} {TABLE_LABELS[t].lower()}" for t, n in version.row_counts.items()
                       if n)
    skipped = " ".join(f"Not loaded: {u.file_name} ({u.message})" for u in left)
    state.FLASH.set(f"Loaded {prepared.name}: {counts}. Every member now sees it: "
                    f"{version.label()}. " + " ".join(prepared.notes)
                    + (f" {skipped}" if skipped else ""))
    st.rerun()


def who_can_load(access: Access) -> str:
    """The owners and editors of the workspace, by e-mail."""
    try:
        people = [m.email for m in workspaces.members(access.workspace, access.email)
                  if m.role in ("owner", "editor")]
    except WorkspaceError:
        people = []
    return ", ".join(people) or "its owners and editors"


def versions_section(access: Access) -> None:
    """Every version of the workspace, newest first (number, files, who, when), and a button
    per earlier version to make it current again for everyone (owners and editors)."""
    try:
        listed = workspace_versions.versions(access.workspace, access.email)
    except WorkspaceError as e:
        st.error(format.markdown_text(str(e)))
        return
    st.subheader("Versions")
    if not listed:
        st.caption("Nothing loaded in this workspace yet: every page shows the demo, "
                   "read-only. The first load becomes version 1.")
        return
    ui.message(state.VERSIONS_MESSAGE.pop())
    for v in listed:
        c1, c2 = st.columns([5, 1])
        files = "; ".join(f"{s.file_name} → {TABLE_LABELS[s.table].lower()} ({s.rows:,} rows)"
                          for s in v.sources)
        status = "— current" if v.current else ("— damaged: " + (v.problem or "")
                                                if v.status == "damaged" else "")
        c1.markdown(f"**Version {format.count(v.number)}** {format.markdown_text(status)}  \n"
                    f"{format.markdown_text(files)}  \n"
                    f"Loaded by {format.markdown_text(v.loaded_by)} on "
                    f"{format.markdown_text(_when(v.loaded_at))}")
        for i, s in enumerate(s for s in v.sources if s.mapping):
            c1.download_button(f"Mapping of {format.markdown_text(s.file_name)} (JSON)",
                               s.mapping,
                               file_name=f"{Path(s.file_name).stem}-mapping.json",
                               mime="application/json", key=f"data.mapping.{v.id}.{i}",
                               on_click="ignore", type="tertiary",
                               help="The mapping this file was loaded with: upload it as a "
                                    "preset to map the next export of the same shape alike.")
        if not v.current and access.can_load:
            c2.button("Restore", key=f"data.restore.{v.id}", on_click=_restore,
                      args=(access, v.id, v.number),
                      help="Make this version current again for every member (nothing is "
                           "deleted: the versions after it stay listed).")


def _restore(access: Access, version_id: str, number: int) -> None:
    try:
        workspace_versions.restore_version(access.workspace, access.email, version_id)
    except WorkspaceError as e:
        state.VERSIONS_MESSAGE.set(("error", str(e)))
        return
    state.VERSIONS_MESSAGE.set(("success", f"Version {number} is current again, for every "
                                           "member of the workspace."))


def _when(loaded_at: str) -> str:
    return f"{datetime.fromisoformat(loaded_at):%Y-%m-%d %H:%M} UTC"

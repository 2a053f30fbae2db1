"""The workspace a session looks at, and the refusal a non-member gets instead of it.

The workspace comes from the link (`?workspace=<id>`), so a shared link opens the same one;
without it, the first workspace the person belongs to. A person who is not a member of the
linked workspace sees one clear refusal and nothing else: the page stops before any data is
read. Without sign-in configured there is only the local workspace, owned by the local user.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from handoff import auth, format, workspace_versions, workspaces
from handoff.workspace_store import Workspace, WorkspaceError

PARAM = "workspace"


@dataclass(frozen=True)
class Access:
    """Who is looking at which workspace, as what."""

    workspace: Workspace
    email: str
    role: workspaces.Role

    @property
    def can_load(self) -> bool:
        return self.role in ("owner", "editor")

    @property
    def can_edit_targets(self) -> bool:
        return self.role in ("owner", "editor")


def session_access(email: str) -> Access:
    """The session's workspace and the person's role in it; otherwise a message, and the
    page stops here."""
    if not auth.auth_configured():
        return Access(workspaces.local_workspace(), email, "owner")
    wanted = st.query_params.get(PARAM)
    try:
        if wanted is None:
            mine = workspaces.visible_workspaces(email)
            if not mine:
                _refuse(f"{email} is not a member of any workspace yet. Ask a workspace's "
                        "owner to add you, then reload this page.")
            ws, role = mine[0]
            st.query_params[PARAM] = ws.id
        else:
            ws = workspaces.workspace_handle(wanted)
            role = workspaces.role_of(ws, email)
            if role is None:
                _refuse(str(workspaces.NotAMember(ws.id, email)))
    except WorkspaceError as e:
        _refuse(str(e))
    access = Access(ws, email, role)
    name = format.markdown_text(workspaces.workspace_name(ws, email))
    st.sidebar.caption(f"Workspace **{name}** — you are {'a' if role == 'viewer' else 'an'} "
                       f"{format.markdown_text(role)}. "
                       f"{format.markdown_text(current_summary(access))}")
    return access


def current_summary(access: Access) -> str:
    """One line on what the workspace holds now (for the sidebar and the sign-in proof)."""
    try:
        current = workspace_versions.current_data(access.workspace, access.email)
    except WorkspaceError as e:
        return str(e)
    if current is None:
        return "Nothing loaded in this workspace yet."
    rows = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in current.version.row_counts.items())
    return f"Current data: {current.version.label()}: {rows}."


def _refuse(message: str) -> None:
    st.title("Handoff")
    st.error(format.markdown_text(message))
    st.stop()

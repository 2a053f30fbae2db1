"""Team workspaces: who may see and change what, and what a workspace keeps besides its data.

A workspace has members by e-mail, each an owner, editor or viewer. Every read function takes
the reader's e-mail and refuses a non-member with `NotAMember` before anything of the
workspace is read, so neither a link nor a cache can show it to a stranger. Owners manage
members; owners and editors load data, edit targets and save mapping presets; every member
may save scenarios and write annotations. Loaded data and its versions: see
`handoff.workspace_versions`.

Without sign-in configured there is one workspace, "local", whose only member is the person
at the machine (`LOCAL_USER`, its owner); the app must then listen on localhost only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from handoff.workspace_store import (
    NotAllowed,
    NotAMember,
    SaveFailed,
    Workspace,
    WorkspaceError,
    connection,
    create_files,
    now,
    workspace_handle,
    workspace_ids,
)

__all__ = ["NotAMember", "NotAllowed", "SaveFailed", "Workspace", "WorkspaceError"]

Role = Literal["owner", "editor", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "editor", "viewer")
LOCAL_ID = "local"
LOCAL_USER = "local-user@localhost"
# Who may save each kind of item: the lowest role that may.
ITEM_KINDS: dict[str, Role] = {"mapping_preset": "editor", "targets": "editor",
                               "scenario": "viewer"}
MAX_ITEM_BYTES = 1_000_000
_RANK = {"owner": 3, "editor": 2, "viewer": 1}


@dataclass(frozen=True)
class Member:
    email: str
    role: Role
    added_by: str
    added_at: str


@dataclass(frozen=True)
class Item:
    """A saved mapping preset, SMART targets table or scenario, as JSON, with who saved it."""

    kind: str
    name: str
    value: object
    saved_by: str
    saved_at: str


@dataclass(frozen=True)
class Annotation:
    id: int
    version: str | None
    about: dict
    body: str
    written_by: str
    written_at: str


def normalised(email: str | None) -> str | None:
    """E-mail addresses compare without case or surrounding spaces."""
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


def create_workspace(workspace_id: str, name: str, owner: str,
                     root: Path | None = None) -> Workspace:
    """A new, empty workspace whose only member is `owner`."""
    ws = workspace_handle(workspace_id, root)
    who = normalised(owner)
    if who is None:
        raise WorkspaceError("A workspace needs an owner's e-mail address.")
    create_files(ws, name.strip() or workspace_id, who)
    return ws


def local_workspace(root: Path | None = None) -> Workspace:
    """The one workspace of a Handoff without sign-in, created on first use."""
    ws = workspace_handle(LOCAL_ID, root)
    if not ws.database_path.is_file():
        try:
            create_files(ws, "Local workspace", LOCAL_USER)
        except WorkspaceError:
            if not ws.database_path.is_file():  # not just another process creating it first
                raise
    return ws


def role_of(ws: Workspace, email: str | None) -> Role | None:
    """The member's role, or None for anyone else (and for a workspace that does not exist)."""
    who = normalised(email)
    if who is None or not ws.database_path.is_file():
        return None
    with connection(ws) as con:
        row = con.execute("select role from members where email = ?", (who,)).fetchone()
    return row["role"] if row else None


def can_view(ws: Workspace, email: str | None) -> bool:
    return role_of(ws, email) is not None


def can_load(ws: Workspace, email: str | None) -> bool:
    """Owners and editors load data and restore versions; viewers cannot."""
    return _at_least(role_of(ws, email), "editor")


def can_edit_targets(ws: Workspace, email: str | None) -> bool:
    return _at_least(role_of(ws, email), "editor")


def can_manage_members(ws: Workspace, email: str | None) -> bool:
    return _at_least(role_of(ws, email), "owner")


def require_role(ws: Workspace, email: str | None, least: Role, action: str) -> str:
    """The normalised e-mail of a member with at least `least`; NotAMember / NotAllowed."""
    role = role_of(ws, email)
    if role is None:
        raise NotAMember(ws.id, normalised(email))
    if not _at_least(role, least):
        article = "a" if role == "viewer" else "an"
        raise NotAllowed(f"{normalised(email)} is {article} {role} of workspace '{ws.id}': "
                         f"{action} needs an {'owner' if least == 'owner' else 'editor or owner'}. "
                         "Ask one of its owners to change your role.")
    return normalised(email)  # type: ignore[return-value]


def visible_workspaces(email: str | None, root: Path | None = None
                       ) -> list[tuple[Workspace, Role]]:
    """The workspaces this person is a member of, with their role (broken ones left out:
    opening one says what is wrong with it)."""
    out = []
    for workspace_id in workspace_ids(root):
        ws = workspace_handle(workspace_id, root)
        try:
            role = role_of(ws, email)
        except WorkspaceError:
            continue
        if role:
            out.append((ws, role))
    return out


def workspace_name(ws: Workspace, email: str | None) -> str:
    require_role(ws, email, "viewer", "seeing the workspace")
    with connection(ws) as con:
        return con.execute("select name from workspace").fetchone()["name"]


def members(ws: Workspace, email: str | None) -> list[Member]:
    require_role(ws, email, "viewer", "seeing its members")
    with connection(ws) as con:
        rows = con.execute("select * from members order by email").fetchall()
    return [Member(r["email"], r["role"], r["added_by"], r["added_at"]) for r in rows]


def set_member(ws: Workspace, by: str | None, email: str, role: Role) -> None:
    """Add a member or change their role (owners only; the last owner stays an owner)."""
    if role not in ROLES:
        raise WorkspaceError(f"'{role}' is not a role: choose owner, editor or viewer.")
    who, boss = normalised(email), require_role(ws, by, "owner", "changing members")
    if who is None or "@" not in who:
        raise WorkspaceError(f"'{email}' is not an e-mail address.")
    with connection(ws, write=True) as con:
        _keep_an_owner(ws, con, who, role)
        con.execute("insert into members values (?, ?, ?, ?) on conflict (email) do update "
                    "set role = excluded.role, added_by = excluded.added_by, "
                    "added_at = excluded.added_at", (who, role, boss, now()))


def remove_member(ws: Workspace, by: str | None, email: str) -> None:
    who = normalised(email)
    require_role(ws, by, "owner", "removing members")
    with connection(ws, write=True) as con:
        _keep_an_owner(ws, con, who, None)
        con.execute("delete from members where email = ?", (who,))


def _keep_an_owner(ws: Workspace, con, email: str | None, role: str | None) -> None:
    owners = {r[0] for r in con.execute("select email from members where role = 'owner'")}
    if owners == {email} and role != "owner":
        raise WorkspaceError(f"{email} is the only owner of workspace '{ws.id}': make someone "
                             "else an owner first.")


def save_item(ws: Workspace, email: str | None, kind: str, name: str, value: object) -> Item:
    """Store a preset, targets table or scenario under its name (replacing one so named)."""
    if kind not in ITEM_KINDS:
        raise WorkspaceError(f"'{kind}' is not something a workspace keeps: "
                             f"{', '.join(ITEM_KINDS)}.")
    who = require_role(ws, email, ITEM_KINDS[kind], f"saving a {kind.replace('_', ' ')}")
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if len(text.encode()) > MAX_ITEM_BYTES:
        raise WorkspaceError(f"The {kind.replace('_', ' ')} '{name}' is over "
                             f"{MAX_ITEM_BYTES // 1_000_000} MB as JSON: save a smaller one.")
    at = now()
    with connection(ws, write=True) as con:
        con.execute("insert into items values (?, ?, ?, ?, ?) on conflict (kind, name) do "
                    "update set value = excluded.value, saved_by = excluded.saved_by, "
                    "saved_at = excluded.saved_at", (kind, name, text, who, at))
    return Item(kind, name, value, who, at)


def items(ws: Workspace, email: str | None, kind: str) -> list[Item]:
    """The saved items of one kind, newest first."""
    require_role(ws, email, "viewer", "seeing saved items")
    with connection(ws) as con:
        rows = con.execute("select * from items where kind = ? order by saved_at desc, name",
                           (kind,)).fetchall()
    return [Item(r["kind"], r["name"], json.loads(r["value"]), r["saved_by"], r["saved_at"])
            for r in rows]


def delete_item(ws: Workspace, email: str | None, kind: str, name: str) -> None:
    require_role(ws, email, ITEM_KINDS.get(kind, "owner"), f"deleting a {kind}")
    with connection(ws, write=True) as con:
        con.execute("delete from items where kind = ? and name = ?", (kind, name))


def annotate(ws: Workspace, email: str | None, body: str, about: dict | None = None,
             version: str | None = None) -> Annotation:
    """A note on the data (`about` says where: page, stage, period…), by any member."""
    who = require_role(ws, email, "viewer", "writing an annotation")
    text = json.dumps(about or {}, ensure_ascii=False, allow_nan=False)
    if not body.strip() or len(body) > 10_000 or len(text) > 10_000:
        raise WorkspaceError("An annotation needs some text, at most 10,000 characters.")
    at = now()
    with connection(ws, write=True) as con:
        cur = con.execute("insert into annotations (version, about, body, written_by, "
                          "written_at) values (?, ?, ?, ?, ?)", (version, text, body, who, at))
        new_id = cur.lastrowid
    return Annotation(new_id, version, about or {}, body, who, at)


def annotations(ws: Workspace, email: str | None) -> list[Annotation]:
    """Every annotation, oldest first."""
    require_role(ws, email, "viewer", "reading annotations")
    with connection(ws) as con:
        rows = con.execute("select * from annotations order by id").fetchall()
    return [Annotation(r["id"], r["version"], json.loads(r["about"]), r["body"],
                       r["written_by"], r["written_at"]) for r in rows]


def _at_least(role: str | None, least: Role) -> bool:
    return role is not None and _RANK[role] >= _RANK[least]

"""Where workspaces live on disk, and their metadata database.

Every workspace is one folder under the data directory (`HANDOFF_DATA_DIR`, by default
`.handoff-data/` in the project): `workspace.sqlite` holds its members, versions, saved items
and annotations; `versions/<id>/` holds each loaded version's canonical tables as Parquet.
One SQLite file per workspace, so a damaged or out-of-date workspace never stops the others.
SQLite runs in WAL mode (readers never wait for a writer) with full syncs, and a
`schema_version` table says which layout the file has: a file from an older or newer
Handoff is refused with a message, never guessed at.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA_VERSION = 1
PROJECT_DIR = Path(__file__).resolve().parent.parent
DB_FILE = "workspace.sqlite"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")

_SCHEMA = """
create table schema_version (version integer not null);
create table workspace (
    id text primary key, name text not null, created_by text not null,
    created_at text not null, current_version text);
create table members (
    email text primary key, role text not null check (role in ('owner', 'editor', 'viewer')),
    added_by text not null, added_at text not null);
create table versions (
    seq integer primary key autoincrement, id text not null unique,
    loaded_by text not null, loaded_at text not null, name text not null,
    files text not null, tables text not null, fingerprint text not null,
    currency text, notes text not null,
    status text not null check (status in ('ready', 'damaged')), problem text);
create table switches (
    seq integer primary key autoincrement, version text not null, action text not null,
    by_email text not null, at text not null);
create table items (
    kind text not null, name text not null, value text not null,
    saved_by text not null, saved_at text not null, primary key (kind, name));
create table annotations (
    id integer primary key autoincrement, version text, about text not null,
    body text not null, written_by text not null, written_at text not null);
"""


class WorkspaceError(Exception):
    """A problem with a workspace a person can act on; the message says what to do."""


class NotAMember(WorkspaceError):
    """The person may not see this workspace (or it does not exist: the same answer, so a
    link never tells a stranger which workspaces there are)."""

    def __init__(self, workspace_id: str, email: str | None) -> None:
        who = email or "Someone who is not signed in"
        super().__init__(f"{who} is not a member of workspace '{workspace_id}', so nothing "
                         "of it is shown. Ask one of its owners to add you.")
        self.workspace_id, self.email = workspace_id, email


class NotAllowed(WorkspaceError):
    """A member whose role does not allow this action."""


class SchemaMismatch(WorkspaceError):
    """The workspace's metadata file was written by another version of Handoff."""


class SaveFailed(WorkspaceError):
    """A new version or item could not be stored; what was there before is unchanged."""


@dataclass(frozen=True)
class Workspace:
    """A handle on one workspace's folder; holding one grants nothing (every read checks
    the reader's membership)."""

    id: str
    root: Path

    @property
    def database_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"


def data_dir() -> Path:
    """The data directory: `HANDOFF_DATA_DIR`, else `.handoff-data/` in the project."""
    return Path(os.environ.get("HANDOFF_DATA_DIR") or PROJECT_DIR / ".handoff-data")


def workspace_handle(workspace_id: str, root: Path | None = None) -> Workspace:
    """The handle for a workspace id (checked to be a plain name; it need not exist)."""
    if not isinstance(workspace_id, str) or not _ID.match(workspace_id):
        raise WorkspaceError(f"'{workspace_id}' is not a workspace name: use up to 48 lower-case "
                             "letters, digits, '-' or '_', starting with a letter or digit.")
    return Workspace(workspace_id, (root or data_dir()) / "workspaces" / workspace_id)


def workspace_ids(root: Path | None = None) -> list[str]:
    """The ids of every workspace in the data directory, sorted."""
    folder = (root or data_dir()) / "workspaces"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if _ID.match(p.name) and (p / DB_FILE).is_file())


def now() -> str:
    """The time as stored: UTC, ISO 8601, to the microsecond (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def create_files(ws: Workspace, name: str, owner: str) -> None:
    """The workspace's folder and metadata, built aside and renamed into place whole, so no
    reader ever finds a half-made workspace; WorkspaceError if it exists already."""
    parent = ws.root.parent
    parent.mkdir(parents=True, exist_ok=True)
    if ws.root.exists():
        raise WorkspaceError(f"Workspace '{ws.id}' exists already: choose another name.")
    tmp = parent / f".new-{ws.id}-{secrets.token_hex(4)}"
    try:
        (tmp / "versions").mkdir(parents=True)
        con = sqlite3.connect(tmp / DB_FILE, isolation_level=None)
        try:
            con.execute("pragma journal_mode = wal")
            con.executescript(_SCHEMA)
            con.execute("begin")
            con.execute("insert into schema_version values (?)", (SCHEMA_VERSION,))
            con.execute("insert into workspace (id, name, created_by, created_at) "
                        "values (?, ?, ?, ?)", (ws.id, name, owner, now()))
            con.execute("insert into members values (?, 'owner', ?, ?)", (owner, owner, now()))
            con.execute("commit")
        finally:
            con.close()
        os.rename(tmp, ws.root)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if ws.root.exists():
            raise WorkspaceError(f"Workspace '{ws.id}' exists already: choose another "
                                 "name.") from None
        raise SaveFailed(f"Workspace '{ws.id}' could not be created in {parent}: "
                         f"{e.strerror or e}. Free some space or fix the folder's "
                         "permissions, then try again.") from None


@contextmanager
def connection(ws: Workspace, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the workspace's metadata, its schema checked; with `write`, inside
    one immediate transaction (committed when the block ends without an error)."""
    if not ws.database_path.is_file():
        raise NotAMember(ws.id, None)  # callers that know the reader re-raise with it
    con = sqlite3.connect(ws.database_path, isolation_level=None, timeout=30)
    try:
        con.row_factory = sqlite3.Row
        con.execute("pragma synchronous = full")
        _check_schema(ws, con)
        if not write:
            yield con
            return
        con.execute("begin immediate")
        try:
            yield con
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    except sqlite3.DatabaseError as e:
        raise _sqlite_problem(ws, e) from None
    finally:
        con.close()


def _check_schema(ws: Workspace, con: sqlite3.Connection) -> None:
    try:
        row = con.execute("select max(version) from schema_version").fetchone()
        found = row[0] if row else None
    except sqlite3.OperationalError:
        found = 0  # written before Handoff versioned its workspace files
    if found == SCHEMA_VERSION:
        return
    where = ws.database_path
    if found is None or found < SCHEMA_VERSION:
        raise SchemaMismatch(
            f"Workspace '{ws.id}' was saved by an older Handoff (layout {found or 0}; this "
            f"Handoff reads layout {SCHEMA_VERSION}) and cannot be opened as it is. Nothing "
            f"was changed. Keep {where} as a backup and load the data again into a new "
            "workspace, or run the Handoff version that wrote it.")
    raise SchemaMismatch(
        f"Workspace '{ws.id}' was saved by a newer Handoff (layout {found}; this Handoff "
        f"reads layout {SCHEMA_VERSION}). Nothing was changed. Upgrade this Handoff "
        f"(git pull, then make run) to open it; {where} is left as it is.")


def _sqlite_problem(ws: Workspace, e: sqlite3.DatabaseError) -> WorkspaceError:
    text = str(e)
    if "full" in text:
        return SaveFailed(f"Workspace '{ws.id}': the disk is full, so nothing was saved and "
                          "what was there before is unchanged. Free space on "
                          f"{ws.root.parent} and try again.")
    if isinstance(e, sqlite3.OperationalError) and "locked" in text:
        return SaveFailed(f"Workspace '{ws.id}' is busy (another save took over 30 s); "
                          "nothing was changed. Try again in a moment.")
    return WorkspaceError(f"Workspace '{ws.id}': its metadata file {ws.database_path} cannot "
                          f"be read ({text}). Other workspaces are not affected. Restore the "
                          "file from a backup, or ask whoever runs Handoff to check the disk.")

"""A workspace's loaded data, in versions: each load builds a new version whole, then
switches to it; nothing is ever deleted, and any earlier version can be made current again.

A version is built in a temporary folder beside the others (the same filesystem), every file
synced to disk, its database built from those very files (so a load that is too big fails
here, before anything changes), then renamed into `versions/<id>/` and only then made current
in one SQLite transaction. Two editors loading at once each build their own folder; the last
to commit is current, both are listed, and no reader ever sees half of one. A version whose
files are missing or damaged is marked so, named in a message, and the last good version
before it is shown instead.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from handoff import db as dbm
from handoff import facts
from handoff.dataset import Prepared
from handoff.db import Database, Source
from handoff.shared_databases import SHARED, SharedDatabases
from handoff.workspace_store import SaveFailed, Workspace, WorkspaceError, connection, now
from handoff.workspaces import require_role


@dataclass(frozen=True)
class Version:
    """One load of a workspace: who loaded which files when, and what it holds."""

    number: int  # 1, 2, 3… in the order they were saved
    id: str  # the folder name under versions/
    loaded_by: str
    loaded_at: str
    name: str
    sources: tuple[Source, ...]
    row_counts: dict[str, int]
    fingerprint: str
    status: str  # "ready" or "damaged"
    problem: str | None
    current: bool

    def label(self) -> str:
        """How a person is told which version this is."""
        when = datetime.fromisoformat(self.loaded_at).strftime("%Y-%m-%d %H:%M UTC")
        return f"version {self.number} ({self.name}, loaded by {self.loaded_by} on {when})"


@dataclass(frozen=True)
class Current:
    """What a member sees: the database of the version shown, and any problem to tell them
    (a damaged current version, and which one is shown instead)."""

    database: Database
    version: Version
    problems: tuple[str, ...] = ()


class NoUsableVersion(WorkspaceError):
    """Every version of the workspace is damaged."""


def save_version(ws: Workspace, email: str | None, ready: Prepared,
                 cache: SharedDatabases = SHARED) -> Version:
    """Store prepared data as the workspace's new current version (editors and owners)."""
    who = require_role(ws, email, "editor", "loading data")
    version_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    building = ws.versions_dir / f".building-{version_id}"
    final = ws.versions_dir / version_id
    try:
        building.mkdir(parents=True)
        database, files, present = dbm.written_database(
            ready.tables, building, ready.name, ready.sources, notes=ready.notes,
            currency=ready.currency, fields_mapped=ready.fields_mapped)
        try:
            sums = {table: _synced_sha256(path) for table, path in files.items()}
            _sync_dir(building)
            os.rename(building, final)
            _sync_dir(ws.versions_dir)
        except BaseException:
            database.close()
            raise
    except OSError as e:
        shutil.rmtree(building, ignore_errors=True)
        raise SaveFailed(_os_problem(ws, e)) from None
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    tables = {t: {"rows": database.row_counts[t], "sha256": sums[t],
                  "fields_present": sorted(present[t]),
                  "fields_mapped": sorted(ready.fields_mapped.get(t, ()))} for t in files}
    at = now()
    try:
        with connection(ws, write=True) as con:
            cur = con.execute(
                "insert into versions (id, loaded_by, loaded_at, name, files, tables, "
                "fingerprint, currency, notes, status) values (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "'ready')", (version_id, who, at, ready.name, _sources_json(ready.sources),
                             json.dumps(tables), database.fingerprint, ready.currency,
                             json.dumps(list(ready.notes))))
            number = cur.lastrowid
            con.execute("update workspace set current_version = ?", (version_id,))
            con.execute("insert into switches (version, action, by_email, at) values "
                        "(?, 'loaded', ?, ?)", (version_id, who, at))
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)  # never current, never listed: not kept
        database.close()
        raise
    facts.warm(cache.put((ws.id, database.fingerprint), database))
    cache.retire_others(ws.id, database.fingerprint)
    return Version(number, version_id, who, at, ready.name, ready.sources,
                   {t: database.row_counts[t] for t in files}, database.fingerprint, "ready",
                   None, True)


def versions(ws: Workspace, email: str | None) -> list[Version]:
    """Every version, newest first, with who loaded which files when."""
    require_role(ws, email, "viewer", "seeing its versions")
    with connection(ws) as con:
        current = con.execute("select current_version from workspace").fetchone()[0]
        rows = con.execute("select * from versions order by seq desc").fetchall()
    return [_version(r, current) for r in rows]


def restore_version(ws: Workspace, email: str | None, version_id: str,
                    cache: SharedDatabases = SHARED) -> Current:
    """Make an earlier version current again for everyone (editors and owners); its files
    are checked first, and nothing is deleted."""
    who = require_role(ws, email, "editor", "restoring a version")
    chosen = next((v for v in versions(ws, who) if v.id == version_id), None)
    if chosen is None:
        raise WorkspaceError(f"Workspace '{ws.id}' has no version '{version_id}'.")
    try:
        database = cache.database((ws.id, chosen.fingerprint), lambda: _opened(ws, chosen))
    except _Damaged as e:
        _mark_damaged(ws, chosen, e.reason)
        raise WorkspaceError(f"Workspace '{ws.id}': {chosen.label()} cannot be restored: "
                             f"{e.reason}. The current version is unchanged.") from None
    at = now()
    with connection(ws, write=True) as con:
        con.execute("update versions set status = 'ready', problem = null where id = ?",
                    (chosen.id,))
        con.execute("update workspace set current_version = ?", (chosen.id,))
        con.execute("insert into switches (version, action, by_email, at) values "
                    "(?, 'restored', ?, ?)", (chosen.id, who, at))
    cache.retire_others(ws.id, chosen.fingerprint)
    restored = next(v for v in versions(ws, who) if v.id == chosen.id)
    return Current(database, restored)


def current_data(ws: Workspace, email: str | None,
                 cache: SharedDatabases = SHARED) -> Current | None:
    """The shared database a member sees: the current version's, or, when its files are
    damaged, the most recently loaded good one (with a message saying so). None while the
    workspace has no data; NoUsableVersion when no version can be read."""
    all_versions = versions(ws, email)
    if not all_versions:
        return None
    current = next((v for v in all_versions if v.current), all_versions[0])
    # then the others, the most recently loaded first (a restored version may be older)
    candidates = [current] + [v for v in all_versions if v is not current]
    problems: list[str] = []
    for version in candidates:
        if version.status == "damaged":
            problems.append(f"{version.label()} is damaged ({version.problem}).")
            continue
        try:
            database = cache.database((ws.id, version.fingerprint),
                                      lambda v=version: _opened(ws, v))
        except _Damaged as e:
            _mark_damaged(ws, version, e.reason)
            problems.append(f"{version.label()} is damaged ({e.reason}).")
            continue
        if problems:
            problems.append(f"Showing {version.label()} instead. An editor can load the "
                            "files again, or restore this version to make it current for "
                            "everyone.")
            problems = [f"Workspace '{ws.id}': " + " ".join(problems)]
        cache.retire_others(ws.id, version.fingerprint)
        return Current(database, version, tuple(problems))
    raise NoUsableVersion(f"Workspace '{ws.id}': no version can be read. "
                          + " ".join(problems) + " Load the files again; other workspaces "
                          "are not affected.")


class _Damaged(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _opened(ws: Workspace, version: Version) -> Database:
    """The version's database from its own files, checked against their recorded hashes."""
    folder = ws.versions_dir / version.id
    with connection(ws) as con:
        row = con.execute("select * from versions where id = ?", (version.id,)).fetchone()
    tables = json.loads(row["tables"])
    files = {t: folder / f"{t}.parquet" for t in tables}
    for table, path in files.items():
        if not path.is_file():
            raise _Damaged(f"its file {path.name} is missing")
        if _sha256(path) != tables[table]["sha256"]:
            raise _Damaged(f"its file {path.name} has changed since it was saved")
    present = {t: frozenset(meta["fields_present"]) for t, meta in tables.items()}
    try:
        database = dbm.database_from_parquet(
            files, version.name, version.fingerprint, version.sources, present,
            notes=tuple(json.loads(row["notes"])), currency=row["currency"],
            fields_mapped={t: frozenset(meta["fields_mapped"]) for t, meta in tables.items()})
    except (duckdb.Error, OSError) as e:
        raise _Damaged(f"its files cannot be read: {str(e).splitlines()[0]}") from None
    facts.warm(database)
    return database


def _mark_damaged(ws: Workspace, version: Version, reason: str) -> None:
    try:
        with connection(ws, write=True) as con:
            con.execute("update versions set status = 'damaged', problem = ? where id = ?",
                        (reason, version.id))
    except WorkspaceError:
        pass  # the message still says what is wrong; marking is only a shortcut next time


def _version(row, current: str | None) -> Version:
    sources = tuple(Source(s["file_name"], s["table"], s["rows"], s.get("preset"),
                           s.get("mapping")) for s in json.loads(row["files"]))
    tables = json.loads(row["tables"])
    return Version(row["seq"], row["id"], row["loaded_by"], row["loaded_at"], row["name"],
                   sources, {t: m["rows"] for t, m in tables.items()}, row["fingerprint"],
                   row["status"], row["problem"], row["id"] == current)


def _sources_json(sources: tuple[Source, ...]) -> str:
    return json.dumps([{"file_name": s.file_name, "table": s.table, "rows": s.rows,
                        "preset": s.preset, "mapping": s.mapping} for s in sources])


def _os_problem(ws: Workspace, e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        what = "the disk is full"
        todo = f"Free space on the disk holding {ws.root.parent}, then load again."
    else:
        what = e.strerror or str(e)
        todo = f"Check that {ws.versions_dir} can be written to, then load again."
    return (f"Workspace '{ws.id}': the new version could not be saved ({what}). Nothing "
            f"changed: the version that was current stays current. {todo}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _synced_sha256(path: Path) -> str:
    """The file's hash, after making sure its bytes are on disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
    return _sha256(path)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

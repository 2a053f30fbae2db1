"""Workspaces: members and roles, versions built whole and switched to, restore, damaged and
full-disk states, schema checks, and one shared database per workspace version."""

from __future__ import annotations

import ctypes
import errno
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from handoff import dataset, ingest, mapping, proposal
from handoff import workspace_versions as wv
from handoff import workspaces as w
from handoff.db import Source
from handoff.shared_databases import SharedDatabases
from handoff.workspace_store import SchemaMismatch, workspace_handle
from tests.conftest import ROOT, fixture_bytes

OWNER, EDITOR, VIEWER, STRANGER = ("owner@acme.test", "editor@acme.test", "viewer@acme.test",
                                   "stranger@other.test")


def deals(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    status = rng.choice(["won", "lost", "open"], size=n)
    return pd.DataFrame({"deal_id": [f"d{seed}-{i}" for i in range(n)],
                         "created_at": pd.Timestamp("2026-01-01")
                         + pd.to_timedelta(rng.integers(0, 300, n), "D"),
                         "status": status, "stage": status,
                         "amount": rng.integers(100, 10_000, n).astype(float)})


def prepared(frame: pd.DataFrame, name: str = "deals.csv") -> dataset.Prepared:
    return dataset.Prepared({"deals": frame}, name, (Source(name, "deals", len(frame)),), (),
                            {"deals": frozenset(frame.columns)}, "EUR")


def won(database) -> int:
    return int(query_count(database, "won"))


def query_count(database, status: str) -> int:
    with database.connection.cursor() as cur:
        return cur.execute("select count(*) from deals where status = $s",
                           {"s": status}).fetchone()[0]


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cache():
    shared = SharedDatabases()
    yield shared
    shared.clear()


@pytest.fixture
def team(root):
    ws = w.create_workspace("team", "Revenue team", OWNER.upper(), root)
    w.set_member(ws, OWNER, EDITOR, "editor")
    w.set_member(ws, OWNER, VIEWER, "viewer")
    return ws


# --- members and roles -------------------------------------------------------------------------

def test_roles_decide_who_may_do_what(team):
    assert [w.role_of(team, e) for e in (OWNER, " Editor@ACME.test ", VIEWER, STRANGER, None)
            ] == ["owner", "editor", "viewer", None, None]
    assert [w.can_load(team, e) for e in (OWNER, EDITOR, VIEWER, STRANGER)] == [
        True, True, False, False]
    assert [w.can_edit_targets(team, e) for e in (OWNER, EDITOR, VIEWER, STRANGER)] == [
        True, True, False, False]
    assert [w.can_view(team, e) for e in (OWNER, EDITOR, VIEWER, STRANGER)] == [
        True, True, True, False]
    with pytest.raises(w.NotAllowed, match="editor@acme.test is an editor of workspace 'team': "
                                           "changing members needs an owner"):
        w.set_member(team, EDITOR, STRANGER, "viewer")
    with pytest.raises(w.WorkspaceError, match="only owner"):
        w.set_member(team, OWNER, OWNER, "editor")
    w.set_member(team, OWNER, EDITOR, "owner")
    w.set_member(team, EDITOR, OWNER, "viewer")  # two owners: one may step down
    assert w.role_of(team, OWNER) == "viewer"


def test_a_non_member_is_refused_by_every_read_and_cannot_tell_if_it_exists(team, root, cache):
    wv.save_version(team, EDITOR, prepared(deals(50, 1)), cache)
    reads = [lambda ws: wv.versions(ws, STRANGER), lambda ws: wv.current_data(ws, STRANGER, cache),
             lambda ws: w.items(ws, STRANGER, "scenario"), lambda ws: w.annotations(ws, STRANGER),
             lambda ws: w.members(ws, STRANGER), lambda ws: w.workspace_name(ws, STRANGER),
             lambda ws: wv.restore_version(ws, STRANGER, "x", cache),
             lambda ws: w.save_item(ws, STRANGER, "scenario", "s", {})]
    nowhere = workspace_handle("no-such-team", root)
    for read in reads:
        messages = []
        for ws in (team, nowhere):
            with pytest.raises(w.NotAMember) as refused:
                read(ws)
            messages.append(str(refused.value).replace(ws.id, "<id>"))
        assert messages[0] == messages[1]  # the same answer for a stranger and for no one
        assert "stranger@other.test is not a member of workspace '<id>'" in messages[0]
    assert w.visible_workspaces(STRANGER, root) == []
    assert [(ws.id, role) for ws, role in w.visible_workspaces(VIEWER, root)] == [
        ("team", "viewer")]


def test_a_viewer_cannot_load_restore_or_change_targets_but_may_save_a_scenario(team, cache):
    first = wv.save_version(team, EDITOR, prepared(deals(40, 2)), cache)
    wv.save_version(team, OWNER, prepared(deals(30, 3)), cache)
    with pytest.raises(w.NotAllowed, match="loading data needs an editor or owner"):
        wv.save_version(team, VIEWER, prepared(deals(10, 4)), cache)
    with pytest.raises(w.NotAllowed, match="restoring a version"):
        wv.restore_version(team, VIEWER, first.id, cache)
    with pytest.raises(w.NotAllowed, match="saving a targets"):
        w.save_item(team, VIEWER, "targets", "2026-Q1", [])
    assert len(wv.versions(team, VIEWER)) == 2
    saved = w.save_item(team, VIEWER, "scenario", "joint", {"share": 0.5})
    assert saved.saved_by == VIEWER


def test_targets_scenarios_and_annotations_keep_who_and_when(team):
    targets = [{"kpi": "won_deals", "period": "2026-Q1", "target": 40, "owner": "sales"},
               {"kpi": "mqls", "period": "2026-Q1", "target": 900, "owner": "marketing"}]
    w.save_item(team, EDITOR, "targets", "2026-Q1", targets)
    w.save_item(team, OWNER, "scenario", "joint", {"share": 0.5})
    w.save_item(team, OWNER, "scenario", "joint", {"share": 0.6})  # same name: replaced
    got = w.items(team, VIEWER, "targets")
    assert [(i.name, i.value, i.saved_by) for i in got] == [("2026-Q1", targets, EDITOR)]
    assert [i.value for i in w.items(team, VIEWER, "scenario")] == [{"share": 0.6}]
    note = w.annotate(team, VIEWER, "Q1 dip: the webinar was cancelled",
                      {"page": "Funnel", "stage": "mql"})
    assert [(a.id, a.body, a.written_by, a.about) for a in w.annotations(team, OWNER)] == [
        (note.id, "Q1 dip: the webinar was cancelled", VIEWER, {"page": "Funnel",
                                                                 "stage": "mql"})]
    with pytest.raises(w.WorkspaceError, match="over 1 MB"):
        w.save_item(team, OWNER, "scenario", "huge", "x" * 1_100_000)
    with pytest.raises(w.WorkspaceError, match="not something a workspace keeps"):
        w.save_item(team, OWNER, "secrets", "x", 1)


def test_the_local_workspace_belongs_to_the_local_user(root):
    ws = w.local_workspace(root)
    assert w.local_workspace(root) == ws  # created once
    assert w.role_of(ws, w.LOCAL_USER) == "owner"
    assert w.role_of(ws, "someone@else.test") is None


# --- versions ----------------------------------------------------------------------------------

def test_a_saved_version_holds_what_a_session_load_holds_and_survives_a_restart(team, cache):
    raw = ingest.read_upload("maven_sales_pipeline_300.csv",
                             fixture_bytes("maven_sales_pipeline_300.csv"))
    m = proposal.propose_all([raw])[0]
    frame, validation = mapping.apply(raw, m)
    pending = [dataset.Pending(raw.file_name, m, frame, validation)]
    session_db = dataset.load(pending)  # the existing per-session path
    version = wv.save_version(team, EDITOR, dataset.prepared(pending), cache)
    assert version.fingerprint == session_db.fingerprint
    assert (version.number, version.loaded_by, version.row_counts) == (1, EDITOR, {"deals": 300})
    assert [(s.file_name, s.rows) for s in version.sources] == [
        ("maven_sales_pipeline_300.csv", 300)]
    expected_won = int((pd.read_csv(
        Path(__file__).parent / "fixtures" / "maven_sales_pipeline_300.csv").deal_stage
        == "Won").sum())
    restarted = SharedDatabases()  # a new process: nothing held, everything read from disk
    seen = wv.current_data(team, VIEWER, restarted)
    assert seen.database is not cache.database(("team", version.fingerprint), _no_build)
    assert seen.database.fingerprint == session_db.fingerprint and seen.problems == ()
    assert won(seen.database) == expected_won
    assert seen.database.fields_mapped == session_db.fields_mapped
    assert seen.database.currency == session_db.currency
    total = "select sum(amount) from deals where status = 'won'"
    with seen.database.connection.cursor() as a, session_db.connection.cursor() as b:
        assert a.execute(total).fetchone() == b.execute(total).fetchone()
    restarted.clear()


def _no_build():
    raise AssertionError("should have been held")


def test_restore_makes_an_older_version_current_and_keeps_every_version(team, cache):
    a, b = deals(120, 10), deals(80, 11)
    first = wv.save_version(team, EDITOR, prepared(a, "january.csv"), cache)
    second = wv.save_version(team, OWNER, prepared(b, "february.csv"), cache)
    assert wv.current_data(team, VIEWER, cache).version.id == second.id
    assert won(wv.current_data(team, VIEWER, cache).database) == int((b.status == "won").sum())
    back = wv.restore_version(team, EDITOR, first.id, cache)
    assert won(back.database) == int((a.status == "won").sum())
    listed = wv.versions(team, VIEWER)
    assert [(v.number, v.name, v.loaded_by, v.current) for v in listed] == [
        (2, "february.csv", OWNER, False), (1, "january.csv", EDITOR, True)]
    seen = wv.current_data(team, OWNER, SharedDatabases())
    assert seen.version.id == first.id and won(seen.database) == int((a.status == "won").sum())


def _save_in_thread(team, email, frame, cache, barrier, out):
    barrier.wait()
    out.append(wv.save_version(team, email, prepared(frame, f"{len(frame)}.csv"), cache))


def test_two_editors_loading_at_once_never_leave_a_torn_state(team, cache):
    frames = [deals(2_000 + i, 20 + i) for i in range(6)]
    barrier, out = threading.Barrier(6), []
    threads = [threading.Thread(target=_save_in_thread,
                                args=(team, (EDITOR, OWNER)[i % 2], f, cache, barrier, out))
               for i, f in enumerate(frames)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 6
    listed = wv.versions(team, VIEWER)
    assert sorted(v.row_counts["deals"] for v in listed) == [len(f) for f in frames]
    assert sum(v.current for v in listed) == 1
    current = next(v for v in listed if v.current)
    assert current.number == max(v.number for v in listed)  # the last to commit
    assert not list(team.versions_dir.glob(".building-*"))
    fresh = SharedDatabases()
    for v in listed:  # every version complete and readable on its own
        seen = wv.restore_version(team, OWNER, v.id, fresh)
        frame = next(f for f in frames if len(f) == v.row_counts["deals"])
        assert won(seen.database) == int((frame.status == "won").sum())
    fresh.clear()


_SAVE_IN_PROCESS = """
import sys, time
from pathlib import Path
from handoff import workspace_versions as wv
from handoff.shared_databases import SharedDatabases
from handoff.workspace_store import workspace_handle
from tests.test_workspaces import EDITOR, deals, prepared
root, seed, go = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
while not go.exists():
    time.sleep(0.01)
wv.save_version(workspace_handle("team", root), EDITOR,
                prepared(deals(3_000, seed), f"p{seed}.csv"), SharedDatabases())
"""


def test_two_processes_loading_at_once_both_land_whole(team, root, tmp_path):
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _SAVE_IN_PROCESS, str(root), str(seed),
                               str(go)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
             for seed in (31, 32)]
    time.sleep(3)  # both imported and waiting
    go.touch()  # …then both save at once
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    listed = wv.versions(team, OWNER)
    assert sorted(v.name for v in listed) == ["p31.csv", "p32.csv"]
    seen = wv.current_data(team, OWNER, SharedDatabases())
    seed = int(seen.version.name[1:3])
    assert seen.version.number == 2
    assert won(seen.database) == int((deals(3_000, seed).status == "won").sum())


# --- bad states --------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["missing", "corrupted"])
def test_a_damaged_current_version_falls_back_to_the_last_good_one(team, root, cache, damage):
    other = w.create_workspace("other", "Other team", OWNER, root)
    wv.save_version(other, OWNER, prepared(deals(25, 40)), cache)
    good = deals(60, 41)
    first = wv.save_version(team, EDITOR, prepared(good, "good.csv"), cache)
    second = wv.save_version(team, EDITOR, prepared(deals(70, 42), "bad.csv"), cache)
    path = team.versions_dir / second.id / "deals.parquet"
    if damage == "missing":
        path.unlink()
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    restarted = SharedDatabases()  # the damage is found when the files are next read
    seen = wv.current_data(team, VIEWER, restarted)
    assert seen.version.id == first.id and won(seen.database) == int((good.status == "won").sum())
    (message,) = seen.problems
    assert message.startswith("Workspace 'team': version 2 (bad.csv, loaded by editor@acme.test")
    assert ("deals.parquet is missing" if damage == "missing" else
            "deals.parquet has changed since it was saved") in message
    assert "Showing version 1 (good.csv" in message and "restore this version" in message
    assert [v.status for v in wv.versions(team, OWNER)] == ["damaged", "ready"]
    with pytest.raises(w.WorkspaceError, match="version 2 .* cannot be restored"):
        wv.restore_version(team, OWNER, second.id, restarted)
    assert wv.current_data(other, OWNER, restarted).problems == ()  # others keep working
    (team.versions_dir / first.id / "deals.parquet").unlink()
    with pytest.raises(wv.NoUsableVersion, match="Workspace 'team': no version can be read"):
        wv.current_data(team, VIEWER, SharedDatabases())
    restarted.clear()


@pytest.mark.parametrize("where", ["parquet", "fsync", "rename"])
def test_a_full_disk_leaves_the_previous_version_current(team, cache, monkeypatch, where):
    before = deals(90, 50)
    first = wv.save_version(team, EDITOR, prepared(before), cache)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    target = {"parquet": (pq, "write_table"), "fsync": (wv.os, "fsync"),
              "rename": (wv.os, "rename")}[where]
    with monkeypatch.context() as patch:
        patch.setattr(*target, full)
        with pytest.raises(w.SaveFailed) as failed:
            wv.save_version(team, EDITOR, prepared(deals(95, 51)), cache)
    assert str(failed.value).startswith("Workspace 'team': the new version could not be saved "
                                        "(the disk is full). Nothing changed: the version that "
                                        "was current stays current. Free space")
    assert [v.id for v in wv.versions(team, VIEWER)] == [first.id]
    seen = wv.current_data(team, VIEWER, SharedDatabases())
    assert seen.version.id == first.id and won(seen.database) == int((before.status == "won").sum())
    assert [p.name for p in team.versions_dir.iterdir()] == [first.id]  # nothing half-built


def test_a_full_disk_at_the_metadata_commit_keeps_the_previous_version(team, cache, monkeypatch):
    first = wv.save_version(team, EDITOR, prepared(deals(30, 60)), cache)
    real = wv.connection

    def full_on_write(ws, write=False):
        if write:
            raise w.SaveFailed("Workspace 'team': the disk is full, so nothing was saved")
        return real(ws, write)

    monkeypatch.setattr(wv, "connection", full_on_write)
    with pytest.raises(w.SaveFailed, match="disk is full"):
        wv.save_version(team, EDITOR, prepared(deals(31, 61)), cache)
    monkeypatch.undo()
    assert [v.id for v in wv.versions(team, VIEWER)] == [first.id]
    assert [p.name for p in team.versions_dir.iterdir()] == [first.id]


@pytest.mark.parametrize(("found", "words"), [
    (0, "saved by an older Handoff (layout 0; this Handoff reads layout 1)"),
    (2, "saved by a newer Handoff (layout 2; this Handoff reads layout 1)")])
def test_a_workspace_from_another_handoff_is_refused_with_what_to_do(team, root, found, words):
    other = w.create_workspace("other", "Other", OWNER, root)
    con = sqlite3.connect(team.database_path)
    if found == 0:
        con.execute("drop table schema_version")
    else:
        con.execute("update schema_version set version = 2")
    con.commit()
    con.close()
    with pytest.raises(SchemaMismatch) as refused:
        w.role_of(team, OWNER)
    assert str(refused.value).startswith(f"Workspace 'team' was {words}")
    assert "Nothing was changed" in str(refused.value)
    assert w.role_of(other, OWNER) == "owner"  # the other workspace still opens
    assert [ws.id for ws, _ in w.visible_workspaces(OWNER, root)] == ["other"]


def test_an_unreadable_metadata_file_names_the_workspace(team):
    team.database_path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(w.WorkspaceError, match="Workspace 'team': its metadata file .* cannot be "
                                               "read"):
        w.role_of(team, OWNER)


# --- one shared database per workspace version -------------------------------------------------

def _rss_bytes(trim: bool = False) -> int:
    if trim:  # hand free heap back first: `allocator` keeps up to 512 MB of it for reuse,
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # and a database may fit in what is kept
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_twenty_viewers_share_one_database_and_memory_does_not_grow_per_viewer(
        team, cache, monkeypatch):
    monkeypatch.setattr(wv.facts, "warm", lambda db: None)  # no thread beside the measure
    for i in range(18):
        w.set_member(team, OWNER, f"viewer{i}@acme.test", "viewer")
    viewers = [OWNER, EDITOR] + [f"viewer{i}@acme.test" for i in range(18)]
    frame = deals(200_000, 70)
    version = wv.save_version(team, EDITOR, prepared(frame), SharedDatabases())
    start = _rss_bytes(trim=True)
    first = wv.current_data(team, OWNER, cache)  # built once from the files
    one_database = _rss_bytes() - start
    seen, barrier = [], threading.Barrier(20)

    def view(email):
        barrier.wait()
        seen.append(wv.current_data(team, email, cache).database)

    threads = [threading.Thread(target=view, args=(e,)) for e in viewers]
    before_viewers = _rss_bytes()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    twenty_viewers = _rss_bytes() - before_viewers
    assert len(seen) == 20 and all(db is first.database for db in seen)
    assert cache.builds == 1 and cache.held() == [("team", version.fingerprint)]
    assert one_database > 5_000_000  # the measure can see a database…
    print(f"one database {one_database / 1e6:.1f} MB, 20 viewers {twenty_viewers / 1e6:.1f} MB")
    assert twenty_viewers < one_database / 4, (one_database, twenty_viewers)  # …and none here
    first.database.close()  # a session closing it does nothing: it is shared
    assert won(first.database) == int((frame.status == "won").sum())


def test_an_old_version_is_closed_once_it_has_not_been_current_for_a_while(team):
    clock = [0.0]
    cache = SharedDatabases(grace_seconds=60, clock=lambda: clock[0])
    wv.save_version(team, EDITOR, prepared(deals(20, 80)), cache)
    old = wv.current_data(team, VIEWER, cache).database
    newer = wv.save_version(team, EDITOR, prepared(deals(21, 81)), cache)
    clock[0] = 30
    assert wv.current_data(team, VIEWER, cache).version.id == newer.id
    assert not old.closed  # within the grace period a page may still be using it
    clock[0] = 61
    wv.current_data(team, VIEWER, cache)
    assert old.closed and cache.held() == [("team", newer.fingerprint)]


def test_the_admin_command_creates_workspaces_and_members_through_the_role_checks(
        root, monkeypatch, capsys):
    from handoff.workspace_admin import main

    monkeypatch.setenv("HANDOFF_DATA_DIR", str(root))
    assert main(["create", "sales", "Sales", "Lead@acme.test"]) == 0
    assert main(["member", "sales", EDITOR, "editor", "--as", "lead@acme.test"]) == 0
    assert main(["member", "sales", VIEWER, "viewer", "--as", EDITOR]) == 1  # not an owner
    assert "changing members needs an owner" in capsys.readouterr().err
    ws = workspace_handle("sales", root)
    assert [(m.email, m.role) for m in w.members(ws, EDITOR)] == [
        (EDITOR, "editor"), ("lead@acme.test", "owner")]
    assert main(["show", "sales", "--as", STRANGER]) == 1
    assert "not a member of workspace 'sales'" in capsys.readouterr().err


def test_a_damaged_restored_version_falls_back_to_the_newest_good_one(team, cache):
    first = wv.save_version(team, EDITOR, prepared(deals(33, 90), "old.csv"), cache)
    newer = deals(44, 91)
    second = wv.save_version(team, EDITOR, prepared(newer, "new.csv"), cache)
    wv.restore_version(team, EDITOR, first.id, cache)
    (team.versions_dir / first.id / "deals.parquet").unlink()
    seen = wv.current_data(team, VIEWER, SharedDatabases())
    assert seen.version.id == second.id and won(seen.database) == int((newer.status == "won").sum())
    assert "version 1 (old.csv" in seen.problems[0] and "Showing version 2 (new.csv" in \
        seen.problems[0]


def test_the_facts_of_a_version_are_computed_when_it_is_saved_and_when_it_is_opened(
        team, cache, monkeypatch):
    warmed = []
    monkeypatch.setattr(wv.facts, "warm", lambda db: warmed.append(db.fingerprint))
    version = wv.save_version(team, EDITOR, prepared(deals(500, 81)), cache)
    assert warmed == [version.fingerprint]
    restarted = SharedDatabases()  # a new process: the version is built from its files
    wv.current_data(team, VIEWER, restarted)
    restarted.clear()
    assert warmed == [version.fingerprint] * 2
    wv.current_data(team, VIEWER, cache)  # held already: nothing to compute
    assert len(warmed) == 2

"""One read-only database per workspace version, shared by every member viewing it.

The process keeps each workspace version's database once, keyed by (workspace id, data
fingerprint): twenty members looking at one workspace cost one database, not twenty. A
database is built at most once however many sessions ask at the same moment (the others
wait for it), is marked `shared` so no session closes it, and is closed only after its
version has stopped being current for a grace period, long enough for a session in the
middle of a page to finish with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from handoff.db import Database

Key = tuple[str, str]  # (workspace id, data fingerprint)
GRACE_SECONDS = 120.0


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    db: Database | None = None
    retired_since: float | None = None


class SharedDatabases:
    """The workspace databases this process holds; thread-safe."""

    def __init__(self, grace_seconds: float = GRACE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._grace, self._clock = grace_seconds, clock
        self._entries: dict[Key, _Entry] = {}
        self._lock = threading.Lock()
        self.builds = 0  # how many databases were built (for tests and the server log)

    def database(self, key: Key, build: Callable[[], Database]) -> Database:
        """The database for this workspace version, built by `build` only if not held."""
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
        with entry.lock:  # one builder per key; the others wait here, then share
            if entry.db is None:
                try:
                    db = build()
                except BaseException:
                    with self._lock:
                        if self._entries.get(key) is entry and entry.db is None:
                            del self._entries[key]
                    raise
                entry.db = replace(db, shared=True)  # no session may close it
                self.builds += 1
            entry.retired_since = None
            return entry.db

    def put(self, key: Key, db: Database) -> Database:
        """Hold a database just built elsewhere (by the load that made the version); an
        equal one already held is kept and the new one closed."""
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
        with entry.lock:
            if entry.db is not None and not entry.db.closed:
                if entry.db is not db:
                    _release(db)
            else:
                entry.db = replace(db, shared=True)
            entry.retired_since = None
            return entry.db

    def retire_others(self, workspace_id: str, current: str) -> int:
        """Mark the workspace's other versions as no longer current, and close those that
        have not been current for the grace period; how many were closed."""
        now, closing = self._clock(), []
        with self._lock:
            for key, entry in list(self._entries.items()):
                if key[0] != workspace_id or key[1] == current:
                    continue
                if entry.retired_since is None:
                    entry.retired_since = now
                elif now - entry.retired_since >= self._grace:
                    del self._entries[key]
                    closing.append(entry)
        for entry in closing:  # outside the lock: closing can take a moment
            with entry.lock:
                if entry.db is not None:
                    _release(entry.db)
        return len(closing)

    def held(self, workspace_id: str | None = None) -> list[Key]:
        with self._lock:
            return [k for k, e in self._entries.items()
                    if e.db is not None and (workspace_id is None or k[0] == workspace_id)]

    def clear(self) -> None:
        """Close everything (tests; a process about to exit)."""
        with self._lock:
            entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            if entry.db is not None:
                _release(entry.db)


def _release(db: Database) -> None:
    db.close(shared_too=True)


SHARED = SharedDatabases()

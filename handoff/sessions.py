"""Releasing a session's database when its browser session has ended.

Streamlit keeps a closed tab's session for `server.disconnectedSessionTTL` seconds, so that
a dropped connection can resume, and only forgets it lazily, at the next disconnect; its
DuckDB database, often the biggest thing a session holds, would wait with it. The process
keeps a list of the databases built from uploads, and a sweeper closes the database of any
session that has been gone for longer than that grace period. (The demo database is shared
by every session and never closed.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from handoff.db import Database


@dataclass
class _Held:
    db: Database
    gone_since: float | None = None


class SessionDatabases:
    """The uploaded databases this process holds, by session id; thread-safe."""

    def __init__(self, is_active: Callable[[str], bool], grace_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._is_active, self._grace, self._clock = is_active, grace_seconds, clock
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def hold(self, session_id: str, db: Database) -> None:
        """The session's current database (a replaced one is closed by its owner)."""
        with self._lock:
            self._held[session_id] = _Held(db)

    def sweep(self) -> int:
        """Close the databases of sessions gone longer than the grace period; how many."""
        now, released = self._clock(), []
        with self._lock:
            for session_id, held in list(self._held.items()):
                if self._is_active(session_id):
                    held.gone_since = None
                elif held.gone_since is None:
                    held.gone_since = now
                elif now - held.gone_since > self._grace:
                    released.append(self._held.pop(session_id).db)
        for db in released:  # outside the lock: closing can take a moment
            db.close()
        return len(released)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)


def sweep_forever(held: SessionDatabases, every_seconds: float,
                  report: Callable[[int, int], None]) -> threading.Thread:
    """A daemon thread calling `held.sweep()` every so often; report(released, still held)."""

    def run() -> None:
        while True:
            time.sleep(every_seconds)
            released = held.sweep()
            if released:
                report(released, len(held))

    thread = threading.Thread(target=run, name="handoff-session-sweeper", daemon=True)
    thread.start()
    return thread

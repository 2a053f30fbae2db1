"""Session databases: released once their browser session has been gone past the grace
period; the shared demo database is never closed by a session."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from handoff import demo
from handoff.db import build_database
from handoff.sessions import SessionDatabases
from handoff.state import DATABASE


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _db(name: str):
    return build_database({"deals": pd.DataFrame({"deal_id": ["1"], "status": ["won"]})}, name)


def test_a_database_is_released_only_after_its_session_is_gone_past_the_grace_period():
    active = {"a", "b"}
    clock = Clock()
    held = SessionDatabases(lambda sid: sid in active, grace_seconds=120, clock=clock)
    a, b = _db("a"), _db("b")
    held.hold("a", a)
    held.hold("b", b)
    assert held.sweep() == 0
    active.discard("a")  # tab a closed
    assert held.sweep() == 0 and not a.closed  # first seen gone: the grace period starts
    clock.now = 100
    assert held.sweep() == 0 and not a.closed
    clock.now = 121
    assert held.sweep() == 1
    assert a.closed and not b.closed and len(held) == 1
    with b.connection.cursor() as cur:  # the other session's data is untouched
        assert cur.execute("select count(*) from deals").fetchone() == (1,)


def test_a_session_that_comes_back_within_the_grace_period_keeps_its_data():
    active = {"a"}
    clock = Clock()
    held = SessionDatabases(lambda sid: sid in active, grace_seconds=120, clock=clock)
    a = _db("a")
    held.hold("a", a)
    active.clear()
    held.sweep()
    clock.now = 60
    active.add("a")  # reconnected
    held.sweep()
    active.clear()
    clock.now = 150  # gone again, but only for 0 s of its new absence
    assert held.sweep() == 0 and not a.closed
    clock.now = 271
    assert held.sweep() == 1 and a.closed


def test_the_shared_demo_database_survives_close():
    db = demo.demo_database(shared=True)
    db.close()
    assert not db.closed
    with db.connection.cursor() as cur:
        assert cur.execute("select count(*) from leads").fetchone()[0] > 0


def test_a_released_session_falls_back_to_the_demo_with_a_message():
    released = _db("mine.csv")
    released.close()
    at = AppTest.from_file("../Home.py", default_timeout=60)
    at.session_state[DATABASE.key] = released
    at.run()
    assert not at.exception
    assert at.session_state[DATABASE.key].name.startswith("Demo")
    assert any("Load your files again" in s.value for s in at.warning)

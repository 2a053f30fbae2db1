"""Dataset-wide facts: computed once, right after a load, on a thread; equal to what the
pages compute; asked for twice at once, computed once; never a crash when they fail."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from handoff import db as dbm
from handoff import facts
from handoff.demo import demo_tables
from handoff.summary import Links

NAMES = ("filter_options", "lead_stages_used", "lead_deal_links", "undated_leads")


def _not_computed() -> object:
    raise AssertionError("the fact was not kept")


def _kept(db, name):
    return dbm._FACTS.get(db.fingerprint, name, _not_computed)


@pytest.fixture
def company(request):
    # Facts are kept per content, for the whole process: each test's data is its own
    # (a different lead left out), so no test finds another's facts.
    tables = demo_tables()
    leads = tables["leads"].drop(index=len(request.node.name)).reset_index(drop=True)
    tables["leads"] = leads.assign(  # a few undated leads, a fact to count
        created_at=leads["created_at"].where(leads.index % 97 != 0))
    db = dbm.build_database(tables, "company")
    for name in NAMES:
        with pytest.raises(AssertionError, match="not kept"):
            _kept(db, name)
    yield tables, db
    db.close()


def test_facts_are_kept_at_load_and_equal_an_independent_count(company):
    tables, db = company
    facts.warm(db).join(timeout=60)
    leads, deals = tables["leads"], tables["deals"]
    for field in ("source", "segment", "owner"):  # by frequency, then by value
        values = pd.concat([leads[field], deals[field]]).dropna()
        counts = values.value_counts().reset_index()
        counts.columns = ["value", "n"]
        expected = counts.sort_values(["n", "value"], ascending=[False, True])["value"]
        assert _kept(db, "filter_options")[field] == expected.tolist(), field
    assert _kept(db, "lead_stages_used") == set(leads["stage"].dropna())
    assert _kept(db, "lead_deal_links") == Links(
        len(deals), int(deals["lead_id"].notna().sum()),
        int(deals["lead_id"].isin(leads["lead_id"]).sum()))
    assert _kept(db, "undated_leads") == int(leads["created_at"].isna().sum()) > 0


def test_a_fact_asked_for_while_it_is_computed_is_computed_once():
    started, go, calls, got = threading.Event(), threading.Event(), [], []

    def slow() -> int:
        calls.append(1)
        started.set()
        go.wait(10)
        return 42

    key = f"test-{time.monotonic_ns()}"
    first = threading.Thread(target=lambda: got.append(dbm._FACTS.get(key, "x", slow)))
    first.start()
    started.wait(10)
    second = threading.Thread(target=lambda: got.append(dbm._FACTS.get(key, "x", slow)))
    second.start()
    time.sleep(0.2)  # the second asks while the first computes
    go.set()
    first.join(10)
    second.join(10)
    assert got == [42, 42] and len(calls) == 1


def test_a_failing_fact_is_left_for_the_page_and_a_closed_database_stops_the_thread(
        company, monkeypatch, caplog):
    tables, db = company

    def broken(_db):
        raise RuntimeError("no")

    monkeypatch.setattr(facts, "FACTS", (broken, *facts.FACTS))
    facts.warm(db).join(timeout=60)  # no exception escapes the thread
    assert "not computed at load" in caplog.text
    with pytest.raises(AssertionError, match="not kept"):
        _kept(db, "filter_options")  # the thread stopped at the failure
    monkeypatch.setattr(facts, "FACTS", facts.FACTS[1:])
    db.close()
    facts.warm(db).join(timeout=60)
    with pytest.raises(AssertionError, match="not kept"):
        _kept(db, "filter_options")


def test_closing_a_database_waits_for_the_thread_querying_it(company):
    # DuckDB refuses to close a connection while a cursor of it runs a query: closing
    # waits for the thread beside it, which stops at its next check.
    _, db = company
    started, queries = threading.Event(), []

    def busy() -> None:
        while not db.closed:
            queries.append(len(dbm.query(db, "filter_options")))
            started.set()

    helper = db.beside(busy, "test-helper")
    assert started.wait(30)
    db.close()  # raised ResourceInUseException before it waited
    assert db.closed and not helper.is_alive() and queries

"""Facts about the whole loaded data that no filter changes, computed once, right after a
load: the values the shared filters offer, the lifecycle stages present, how deals link to
leads, and how many leads have no date. Each is kept per content (`Database.fact`), so
every page and every member then finds it ready. They are computed on a thread of their own
while the person reads the load's message: at ten million leads they took 1.1 s of Home's
first visit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from handoff.db import Database
from handoff.filters import filter_options
from handoff.funnel import lead_stages_present, undated_leads
from handoff.summary import lead_deal_links

FACTS: tuple[Callable[[Database], object], ...] = (
    filter_options, lead_stages_present, lead_deal_links, undated_leads)
_log = logging.getLogger(__name__)


def warm(db: Database) -> threading.Thread:
    """Start computing every fact of `db` on a thread beside it (returned, for tests to
    join; closing the database waits for it). A fact that fails is left for the page that
    needs it, which computes it again and says what went wrong; a database closing stops
    the thread before its next fact."""
    def run() -> None:
        for fact in FACTS:
            if db.closed:
                return
            try:
                fact(db)
            except Exception:  # noqa: BLE001 - never a user's problem: the page retries
                _log.warning("fact %s of %s not computed at load", fact.__name__,
                             db.fingerprint, exc_info=True)
                return

    return db.beside(run, "handoff-facts")

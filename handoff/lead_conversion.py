"""Lead conversion by source, origin, segment or owner, with the same honest statistics as
close rates (Wilson 95% intervals, small-sample flags, a rank by what the data vouches for):
a lead-scoring export or a file of MQLs has no deals to close, but its leads convert."""

from __future__ import annotations

import pandas as pd

from handoff import close_rates
from handoff.db import Database, query
from handoff.filters import Filters
from handoff.funnel import lead_stages_present
from handoff.schema import LEAD_STAGE_LABELS, LEAD_STAGE_RANK, LEAD_STAGES

GROUPS = {"source": "Source / channel", "origin": "Origin / entry point", "segment": "Segment",
          "owner": "Owner (SDR)", "none": "All leads"}


def groupings(db: Database) -> list[str]:
    """The groupings the leads support: a field with values, and always all leads."""
    return [g for g in GROUPS if g == "none" or db.has("leads", g)]


def targets(db: Database) -> list[str]:
    """Stages a lead can convert to here, customer first when the data has it."""
    later = [s for s in lead_stages_present(db) if s != "lead"]
    return sorted(later, key=lambda s: (s != "customer", LEAD_STAGES.index(s)))


def lead_conversion(db: Database, f: Filters, by: str = "source",
                    to: str = "customer") -> pd.DataFrame:
    """One row per group: leads (n), those that reached `to` (won), the rate with its
    Wilson interval, a small-sample flag and a rank by the interval's lower end."""
    if by not in GROUPS or to not in LEAD_STAGES:
        raise ValueError(f"unknown grouping {by!r} or stage {to!r}")
    rows = query(db, "lead_conversion", **f.params(), breakdown=by, unit="leads",
                 position=LEAD_STAGE_RANK[to], include_undated=f.all_time)
    return close_rates.ranked_rates(rows)


def label(to: str) -> str:
    name = LEAD_STAGE_LABELS[to]
    return f"Lead → {name if name.isupper() else name.lower()}"  # MQL stays MQL

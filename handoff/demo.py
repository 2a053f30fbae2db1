"""The demo dataset the app opens with: read once per process, shared read-only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from handoff.db import Database, Source, build_database
from handoff.schema import TABLES

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
DEMO_NAME = "Demo company (synthetic)"
DEMO_CURRENCY = "USD"  # the demo company sells in dollars
DEMO_PIPELINE = ("Discovery", "Demo", "Proposal", "Negotiation", "Closed Won", "Closed Lost")


def demo_tables() -> dict[str, pd.DataFrame]:
    """The demo's canonical tables, from the committed Parquet files."""
    tables = {t: pd.read_parquet(DEMO_DIR / f"{t}.parquet") for t in TABLES
              if (DEMO_DIR / f"{t}.parquet").is_file()}
    order = {stage: i for i, stage in enumerate(DEMO_PIPELINE, start=1)}
    tables["deals"] = tables["deals"].assign(stage_order=tables["deals"]["stage"].map(order))
    return tables


def demo_database(shared: bool = False) -> Database:
    """The demo loaded; `shared` when one copy serves every session (it holds no upload)."""
    tables = demo_tables()
    sources = tuple(Source(f"demo/{t}.parquet", t, len(f)) for t, f in tables.items())
    return build_database(tables, DEMO_NAME, sources, currency=DEMO_CURRENCY, shared=shared)

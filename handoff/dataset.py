"""Combining confirmed uploads into the next database for the session."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from handoff.db import Database, Source, build_database
from handoff.mapping import Mapping, Validation
from handoff.schema import TABLES


@dataclass
class Pending:
    """One uploaded file, mapped and validated, waiting for the user to load it."""

    file_name: str
    mapping: Mapping
    frame: pd.DataFrame
    validation: Validation


def load(pending: list[Pending], current: Database | None = None,
         keep_current: bool = False) -> Database:
    """A new database from the pending files (plus, if asked, the current other tables)."""
    if not pending:
        raise ValueError("no files to load")
    tables: dict[str, pd.DataFrame] = {}
    for p in pending:
        frames = [tables[p.mapping.table]] if p.mapping.table in tables else []
        tables[p.mapping.table] = pd.concat([*frames, p.frame], ignore_index=True)
    repeated: dict[str, int] = {}
    for table, key in ID_FIELDS.items():
        if table in tables and sum(p.mapping.table == table for p in pending) > 1:
            dup = tables[table][key].duplicated()
            if dup.any():  # overlapping exports: keep the first file's row
                repeated[table] = int(dup.sum())
                tables[table] = tables[table][~dup].reset_index(drop=True)
    sources = [Source(p.file_name, p.mapping.table, len(p.frame), p.mapping.preset)
               for p in pending]
    if keep_current and current is not None:
        for table, rows in current.row_counts.items():
            if rows and table not in tables:
                with current.connection.cursor() as cur:
                    tables[table] = cur.execute(f'select * from "{_known(table)}"').df()
                sources += [s for s in current.sources if s.table == table]
    name = ", ".join(p.file_name for p in pending)
    db = build_database(tables, name, tuple(sources))
    db.notes = tuple(f"{n:,} {t} repeated across the files were counted once (the first "
                     "file's row kept)." for t, n in repeated.items())
    return db


ID_FIELDS = {"leads": "lead_id", "deals": "deal_id", "customers": "customer_id"}


def _known(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    return table

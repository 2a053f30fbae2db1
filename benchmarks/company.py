"""Datasets for the benchmarks: the demo company at any size, every table in proportion."""

from __future__ import annotations

import pandas as pd

ID_COLUMNS = {"leads": ["lead_id"], "deals": ["deal_id", "lead_id"],
              "stage_history": ["deal_id"], "customers": ["customer_id", "lead_id"]}


def replicated(tables: dict[str, pd.DataFrame], copies: int) -> dict[str, pd.DataFrame]:
    """The demo `copies` times over, ids suffixed so every copy is a distinct company slice:
    the same distributions (so every page has something to show), `copies`× the rows."""
    out = dict(tables)
    for table, columns in ID_COLUMNS.items():
        frame = tables[table]
        copy = pd.Series(range(copies)).repeat(len(frame)).astype("string").to_numpy()
        big = pd.concat([frame] * copies, ignore_index=True)
        for column in columns:
            big[column] = big[column].astype("string") + "-" + copy
        out[table] = big
    return out

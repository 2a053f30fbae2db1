"""Combining confirmed uploads into the next database for the session.

Files loaded together also say things about each other: a lead whose deal was won is a
customer, whatever the lead file says; a lead that names the deal it became links that deal
to it. Those conclusions are drawn here, once every file is in, and each is stated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from handoff.db import Database, Source, build_database, table_frame
from handoff.mapping import Mapping, Validation
from handoff.schema import LEAD_STAGE_RANK, MONEY_FIELDS, STAGE_AT_RANK

ID_FIELDS = {"leads": "lead_id", "deals": "deal_id", "customers": "customer_id"}


@dataclass
class Pending:
    """One uploaded file, mapped and validated, waiting for the user to load it."""

    file_name: str
    mapping: Mapping
    frame: pd.DataFrame
    validation: Validation


@dataclass
class Prepared:
    """Everything a load puts in the next database: the canonical tables and what is said
    about them. A session builds a database from it; a workspace saves it as a version."""

    tables: dict[str, pd.DataFrame]
    name: str
    sources: tuple[Source, ...]
    notes: tuple[str, ...]
    fields_mapped: dict[str, frozenset[str]]
    currency: str | None


def load(pending: list[Pending], current: Database | None = None,
         keep_current: bool = False) -> Database:
    """A new database from the pending files (plus, if asked, the current other tables)."""
    return database(prepared(pending, current, keep_current))


def database(ready: Prepared) -> Database:
    """The locked database holding what was prepared."""
    return build_database(ready.tables, ready.name, ready.sources, notes=ready.notes,
                          fields_mapped=ready.fields_mapped, currency=ready.currency)


def prepared(pending: list[Pending], current: Database | None = None,
             keep_current: bool = False) -> Prepared:
    """The tables and notes the pending files (plus, if asked, the current other tables)
    make, with what the files say about each other drawn."""
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
    sources = [Source(p.file_name, p.mapping.table, len(p.frame), p.mapping.preset,
                      p.mapping.to_json())
               for p in pending]
    mapped = mapped_fields(pending)
    notes: list[str] = []
    if keep_current and current is not None and current.engine != "duckdb":
        # Spark tables may hold tens of millions of rows: they are never copied into a
        # session's DuckDB database. The upload is loaded on its own.
        notes.append("The Spark tables were not combined with these files: uploads are "
                     "loaded into this session's DuckDB database on their own.")
        keep_current = False
    if keep_current and current is not None:
        for table, rows in current.row_counts.items():
            if rows and table not in tables:
                tables[table] = table_frame(current, table)
                sources += [s for s in current.sources if s.table == table]
                mapped[table] = current.fields_mapped.get(
                    table, current.fields_present.get(table, frozenset()))
    notes += [f"{n:,} {t} repeated across the files were counted once (the first file's row "
              "kept)." for t, n in repeated.items()]
    if "leads" in tables and "deals" in tables:
        tables["deals"], linked = deals_linked_by_leads(tables["leads"], tables["deals"])
        if linked:
            notes.append(f"{linked:,} deal(s) are linked to the lead that names them as its "
                         "converted deal.")
        tables["leads"], said = leads_advanced_by_deals(tables["leads"], tables["deals"])
        notes += said
    return Prepared(tables, ", ".join(p.file_name for p in pending), tuple(sources),
                    tuple(notes), {t: frozenset(f) for t, f in mapped.items()},
                    currency(pending) or (current.currency if keep_current and current
                                          else None))


def mapped_fields(pending: list[Pending]) -> dict[str, set[str]]:
    """Per table, the fields a column was mapped to (and those derived from them)."""
    out: dict[str, set[str]] = {}
    for p in pending:
        names = out.setdefault(p.mapping.table, set())
        names |= set(p.mapping.columns)
        if p.mapping.table == "deals" and names & {"won_at", "lost_at"}:
            names.add("closed_at")
        if p.mapping.table == "leads":
            names |= {"stage", "lead_at"} | ({"created_at"} if "lead_at" in names else set())
    return out


def deals_linked_by_leads(leads: pd.DataFrame, deals: pd.DataFrame
                          ) -> tuple[pd.DataFrame, int]:
    """Deals without a lead id get the id of the lead that names them as its deal."""
    if "deal_id" not in leads or not leads["deal_id"].notna().any():
        return deals, 0
    named = leads.dropna(subset=["deal_id"]).drop_duplicates("deal_id")
    owner = deals["deal_id"].map(named.set_index("deal_id")["lead_id"])
    lead_id = deals["lead_id"] if "lead_id" in deals else pd.Series(
        None, index=deals.index, dtype="string")
    filled = lead_id.isna() & owner.notna()
    return deals.assign(lead_id=lead_id.where(~filled, owner)), int(filled.sum())


def leads_advanced_by_deals(leads: pd.DataFrame, deals: pd.DataFrame
                            ) -> tuple[pd.DataFrame, list[str]]:
    """A lead with a deal reached opportunity; with a won deal, customer (at the date the
    deal closed). Stages only move forward: a lead already further keeps its stage."""
    if "lead_id" not in deals or not deals["lead_id"].notna().any():
        return leads, []
    linked = deals[deals["lead_id"].isin(leads["lead_id"])]
    if linked.empty:
        return leads, []
    out = leads.copy()
    rank = out["stage"].map(LEAD_STAGE_RANK).fillna(1)
    notes = []
    won = linked[linked["status"] == "won"]
    for stage, rows, date in (("opportunity", linked, "created_at"),
                              ("customer", won, "closed_at")):
        if rows.empty:
            continue
        position = LEAD_STAGE_RANK[stage]
        when = rows.groupby("lead_id")[date].min() if date in rows else pd.Series(dtype=object)
        has = out["lead_id"].isin(rows["lead_id"])
        raised = has & (rank < position)
        rank = rank.where(~raised, position)
        column = f"{stage}_at"
        current = out[column] if column in out else pd.Series(pd.NaT, index=out.index)
        out[column] = pd.to_datetime(current).where(
            current.notna() | ~has, pd.to_datetime(out["lead_id"].map(when)))
        if stage == "opportunity":
            raised &= ~out["lead_id"].isin(won["lead_id"])  # said below, as customers
        if raised.any():
            notes.append(f"{int(raised.sum()):,} lead(s) with a won deal are counted as "
                         "customers (customer date: the deal's close date)."
                         if stage == "customer" else
                         f"{int(raised.sum()):,} lead(s) with an open or lost deal are "
                         "counted as opportunities.")
    out["stage"] = rank.astype("int64").map(STAGE_AT_RANK)
    return out, notes


def currency(pending: list[Pending]) -> str | None:
    """The ISO code the loaded amounts are in: the deals' amount column's, else the most
    common among the money columns (None when no amount shows a symbol or code)."""
    found: Counter[str] = Counter()
    for table, name in MONEY_FIELDS:
        for p in pending:
            if p.mapping.table != table:
                continue
            for r in p.validation.columns:
                if r.field == name and r.currency:
                    found[r.currency] += r.currency_parsed
        if found:
            return found.most_common(1)[0][0]
    return None

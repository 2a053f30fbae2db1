"""Mappings for files uploaded together: what one file's headers cannot tell, the values the
files share can.

A closed-deals file whose `mql_id` values are the ids of the MQL file beside it references
that file: it holds deals (it carries a won date), `mql_id` is its lead id, and the MQL
file's `mql_id` is the leads' id. Links are found by value overlap between columns across
the files, not by header names, and each proposal is checked on the values (an id under
which most rows would be dropped as repeats is not proposed).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from handoff import mapping
from handoff.ingest import RawTable
from handoff.mapping import Mapping
from handoff.presets import SYNONYMS

_SAMPLE_ROWS = 20_000  # rows of a column looked at to find candidate links
_MAX_KEYS, _MAX_REFERENCES = 6, 40  # columns per file considered as either end of a link
MIN_SHARE = 0.6  # share of a column's distinct values found among another file's ids
# Columns whose presence says a file's rows are deals, not leads: a close, won or lost date,
# an amount, a product, a deal stage.
_DEAL_ONLY = {**{k: SYNONYMS["deals"][k] for k in ("closed_at", "won_at", "lost_at", "amount",
                                                   "margin", "won", "closed")},
              "stage": ("dealstage", "stagename", "salesstage", "pipelinestage")}


@dataclass(frozen=True)
class Link:
    """Rows of one file that point to another file's ids through one column."""

    source: int  # index of the referencing file
    column: str  # its column holding the other file's ids
    target: int  # index of the referenced file
    key: str  # the referenced file's id column
    share: float  # share of the column's distinct values found among the ids
    matched_rows: int  # rows of the referencing file whose value is one of the ids


def propose_all(raws: Sequence[RawTable],
                tables: MappingType[int, str] | None = None) -> list[Mapping]:
    """One mapping per file, proposed with the other files in view. `tables` holds the
    tables the user chose for some files; those are kept, and only their columns follow
    the links."""
    forced = dict(tables or {})
    proposals = [mapping.propose(raw, forced.get(i)) for i, raw in enumerate(raws)]
    if len(raws) < 2:
        return proposals
    for link in sorted(links(raws), key=lambda k: -k.share):
        _follow(link, raws, proposals, forced)
    return proposals


def _follow(link: Link, raws: Sequence[RawTable], proposals: list[Mapping],
            forced: dict[int, str]) -> None:
    """Apply what one link says to the two files' proposals."""
    i, j = link.source, link.target
    src, dst = proposals[i], proposals[j]
    names = (raws[i].file_name, raws[j].file_name)
    points = (f"({link.matched_rows:,} of {len(raws[i].frame):,} rows point to one of its "
              f"'{link.key}')")
    pair = (src.table, dst.table)
    dealish = src.table == "deals" or bool(_deal_columns(raws[i]))
    leadish = dst.table == "leads" or not _deal_columns(raws[j])
    if set(pair) <= {"leads", "deals"} and dealish and leadish:
        if dst.table != "leads" and j not in forced:
            dst = mapping.propose(raws[j], "leads")
        if dst.table != "leads" or not _is_id_of(dst, link.key):
            return
        if src.table != "deals" and i not in forced:
            src = mapping.propose(raws[i], "deals")
            mapping.add_note(src, f"Proposed as deals: its '{link.column}' values are ids of "
                             f"{names[1]} and it carries deal fields.")
        if src.table != "deals":
            return
        proposals[i], proposals[j] = src, dst
        _set(raws[i], src, "lead_id", link.column)
        _set(raws[j], dst, "lead_id", link.key)
        mapping.add_note(src, f"Linked to the leads of {names[1]} by '{link.column}' {points}.")
        return
    if not _is_id_of(dst, link.key):
        return  # the values match a column that is not the other file's id (a company name)
    if pair == ("leads", "deals") and link.column != src.columns.get("lead_id"):
        # a CRM's lead names the deal it was converted to
        _set(raws[i], src, "deal_id", link.column)
        _set(raws[j], dst, "deal_id", link.key)
        mapping.add_note(src, f"Linked to the deals of {names[1]} by '{link.column}' {points}.")
    elif pair == ("customers", "leads"):
        _set(raws[i], src, "lead_id", link.column)
        _set(raws[j], dst, "lead_id", link.key)
    elif pair == ("stage_history", "deals"):
        _set(raws[i], src, "deal_id", link.column)
        _set(raws[j], dst, "deal_id", link.key)


def _is_id_of(m: Mapping, column: str) -> bool:
    """The column is the table's id, or could be (no id is mapped yet)."""
    mapped = m.columns.get(mapping.ID_FIELDS.get(m.table, ""))
    return mapped is None or mapped == column


def _set(raw: RawTable, m: Mapping, field_name: str, column: str) -> None:
    """Map a column to a field (and to no other field), then re-check the file's id."""
    if m.columns.get(field_name) == column:
        return
    for name in [n for n, c in m.columns.items() if c == column]:
        m.columns.pop(name)
    m.columns[field_name] = column
    id_field = mapping.ID_FIELDS.get(m.table)
    if id_field and id_field != field_name:
        mapping.check_id(raw, m, avoid=frozenset({column}))
    m.stages, m.stage_order = mapping.propose_stages(raw, m)


def _deal_columns(raw: RawTable) -> dict[str, str]:
    return mapping.match_headers(list(raw.frame.columns), _DEAL_ONLY)


def links(raws: Sequence[RawTable]) -> list[Link]:
    """Every column of one file whose values are mostly another file's ids (unique values
    of a column there); for two files that point to each other, the stronger direction."""
    texts = [_text_sample(raw) for raw in raws]
    keys = [_key_columns(raw, sample) for raw, sample in zip(raws, texts, strict=True)]
    found: dict[tuple[int, int], Link] = {}
    for i, sample in enumerate(texts):
        for j, key_index in enumerate(keys):
            if i == j:
                continue
            for column in _reference_columns(sample, min(len(raws[i].frame), _SAMPLE_ROWS)):
                values = sample[column]
                for key, index in key_index.items():
                    hits = int((index.get_indexer(values) >= 0).sum())
                    share = hits / len(values)
                    if hits >= min(3, len(values)) and share >= MIN_SHARE and share > getattr(
                            found.get((i, j)), "share", 0):
                        found[(i, j)] = Link(i, column, j, key, share, 0)
    out = []
    for (i, j), link in found.items():
        back = found.get((j, i))
        if back is not None and back.share > link.share:
            continue  # the other file is the one that points
        column = raws[i].frame[link.column].astype("string").str.strip()
        matched = int((keys[j][link.key].get_indexer(column) >= 0).sum())
        out.append(Link(i, link.column, j, link.key, link.share, matched))
    return out


def _text_sample(raw: RawTable) -> dict[str, pd.Index]:
    """Distinct trimmed text values of each column, over the first rows."""
    head = raw.frame.head(_SAMPLE_ROWS)
    out = {}
    for column in head.columns:
        values = head[column].dropna().astype("string").str.strip()
        out[column] = pd.Index(values[values != ""].unique())
    return out


def _key_columns(raw: RawTable, sample: dict[str, pd.Index]) -> dict[str, pd.Index]:
    """Columns that can be this file's id: unique values on (nearly) every row."""
    rows = len(raw.frame)
    candidates = sorted((c for c, v in sample.items() if len(v) >= 0.95 * min(rows, _SAMPLE_ROWS)
                         and len(v) >= 2),
                        key=lambda c: not mapping.looks_like_id(c))[:_MAX_KEYS]
    out = {}
    for column in candidates:
        values = raw.frame[column].dropna().astype("string").str.strip()
        distinct = pd.Index(values[values != ""].unique())
        if len(distinct) >= 0.95 * rows:
            out[column] = distinct
    return out


def _reference_columns(sample: dict[str, pd.Index], rows: int) -> list[str]:
    """Columns that may hold another file's ids: named like an id, or mostly distinct
    (a count such as tenure in months repeats a few values and is left out)."""
    named = [c for c in sample if mapping.looks_like_id(c) and len(sample[c]) >= 2]
    distinct = [c for c, v in sample.items() if c not in named and len(v) >= max(3, rows // 2)]
    return (named + distinct)[:_MAX_REFERENCES]

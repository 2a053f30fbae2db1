"""Applying a mapping: the raw table's mapped columns typed into a canonical table, and the
`Validation` that says, row by row and column by column, what was read and what was not."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from handoff import column_sql, parsing
from handoff.presets import NOT_A_STAGE, deal_status_by_name, normalise
from handoff.raw import RawTable, RejectedRow
from handoff.schema import (
    LEAD_STAGE_RANK,
    LEAD_STAGES,
    MONEY_FIELDS,
    STAGE_AT_RANK,
    Field,
    fields,
    mappable_fields,
)

if TYPE_CHECKING:
    from handoff.mapping import Mapping


_TYPING_THREADS = min(4, os.cpu_count() or 1)


@dataclass
class Validation:
    """What applying a mapping to one file did: the report shown before data is replaced."""

    file_name: str
    table: str
    rows_read: int
    rows_loaded: int
    rejected: list[RejectedRow]
    columns: list[parsing.ColumnReport]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # block loading until fixed

    @property
    def ok(self) -> bool:
        return not self.problems and self.rows_loaded > 0


def apply(raw: RawTable, mapping: Mapping) -> tuple[pd.DataFrame, Validation]:
    """The canonical table for a raw table under a mapping, and the validation report."""
    frame = raw.frame
    out = pd.DataFrame(index=frame.index)
    reports: list[parsing.ColumnReport] = []
    notes: list[str] = [*raw.notes]
    problems: list[str] = []
    if mapping.note:
        notes.append(mapping.note)
    excel = raw.file_kind == "excel"
    mapped = []
    for f in mappable_fields(mapping.table):
        column = mapping.columns.get(f.name)
        if not column:
            continue
        if column not in frame.columns:
            problems.append(f"Field '{f.label}' is mapped to column '{column}', which "
                            f"{raw.file_name} does not have. Choose another column.")
            continue
        mapped.append((f, parsing.ColumnReport(column, f.name, f.kind)))

    # Columns are typed side by side: the work is in Arrow and numpy, which let go of the
    # GIL (ten million deals, seven columns: 2.0-2.2 s on one thread, 0.9-1.3 s on two).
    coded: dict[str, parsing.Coded] = {}  # the rules' columns' codes, found by typing
    with ThreadPoolExecutor(_TYPING_THREADS, thread_name_prefix="handoff-typing") as pool:
        columns = [pool.submit(_typed, frame[report.column], f, report,
                               mapping.date_order.get(report.column), excel)
                   for f, report in mapped]
        for (f, report), typed in zip(mapped, columns, strict=True):
            out[f.name], codes = typed.result()  # in field order; the first failure raised
            if codes is not None:
                coded[f.name] = codes
            reports.append(report)
    notes += value_notes(reports)
    notes += _currency_from_column(raw, mapping.table, reports)
    rejected = list(raw.rejected)
    if not mapping.columns:
        problems.append(f"No column of {raw.file_name} is mapped yet. Map at least an id, a "
                        "date, a stage or an amount.")
    out, dropped = _finish(mapping, out, notes, problems, raw, coded)
    for index, reason in dropped:
        rejected.append(RejectedRow(raw.line_of(int(index)), reason,
                                    ", ".join(str(v) for v in frame.loc[index].tolist())[:200]))
    rejected.sort(key=lambda r: r.line)  # in file order, whichever check refused the row
    validation = Validation(raw.file_name, mapping.table, raw.rows_read, len(out), rejected,
                            reports, notes, problems)
    return out.reset_index(drop=True), validation


def _typed(series: pd.Series, f: Field, report: parsing.ColumnReport, date_order: str | None,
           excel: bool) -> tuple[pd.Series, parsing.Coded | None]:
    """One mapped column read as its field's type, what was read said in `report`, and
    for text read once per distinct value, the codes of its rows (`parse_text_coded`)."""
    if f.kind == "timestamp":
        return parsing.parse_timestamps(series, report, date_order, excel_serials=excel), None
    if f.kind == "number":
        return parsing.parse_numbers(series, report), None
    if f.kind == "integer":
        return parsing.parse_integers(series, report), None
    if f.kind == "boolean":
        return parsing.parse_booleans(series, report), None
    fold, keep_unknown = f.name in CATEGORIES, f.name in CHANNELS
    if f.name in RULE_COLUMNS:
        return parsing.parse_text_coded(series, report, fold=fold, keep_unknown=keep_unknown)
    return parsing.parse_text(series, report, fold=fold, keep_unknown=keep_unknown), None


_CURRENCY_HEADERS = ("currency", "currencyisocode", "currencycode", "isocurrencycode")


def _currency_from_column(raw: RawTable, table: str,
                          reports: list[parsing.ColumnReport]) -> list[str]:
    """Amounts written without a symbol take their currency from a currency column of the
    file when it names one ISO code (Pipedrive 'Deal - Currency', Salesforce
    CurrencyIsoCode); several codes are said, since amounts are summed without conversion."""
    plain = [r for r in reports if (table, r.field) in MONEY_FIELDS and r.currency is None]
    column = next((c for c in raw.frame.columns
                   if normalise(str(c)).endswith(_CURRENCY_HEADERS)), None)
    if not plain or column is None:
        return []
    values = raw.frame[column].dropna().astype("string").str.strip().str.upper()
    codes = [str(c) for c in values[values != ""].unique()[:20]]
    if len(codes) == 1 and len(codes[0]) == 3 and codes[0].isalpha():
        for r in plain:
            r.currency = codes[0]
        return [f"Amounts are in {codes[0]}, as the '{column}' column says."]
    if len(codes) > 1:
        return [f"'{column}' holds several currencies ({', '.join(codes[:5])}"
                f"{'…' if len(codes) > 5 else ''}): amounts are added up as they are, "
                "without conversion."]
    return []


def value_notes(reports: list[parsing.ColumnReport]) -> list[str]:
    """What was done to values on the way in, in words: merged spellings, kept unknowns."""
    notes = []
    for r in reports:
        if r.folded:
            shown = ", ".join(f"'{k}' → '{v}'" for k, v in list(r.folded.items())[:4])
            notes.append(f"'{r.column}': values that differ only by case or spaces are "
                         f"counted as one ({shown}{'…' if len(r.folded) > 4 else ''}; "
                         f"{r.folded_cells:,} cells).")
        if r.kept_unknown:
            spelled = ", ".join(f"'{k}'" for k in r.kept_unknown)
            notes.append(f"'{r.column}': {spelled} is kept as a value of its own "
                         f"({sum(r.kept_unknown.values()):,} rows), apart from the "
                         f"{r.missing:,} blank ones.")
    return notes


def _finish(mapping: Mapping, out: pd.DataFrame, notes: list[str], problems: list[str],
            raw: RawTable, coded: dict[str, parsing.Coded] | None = None
            ) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Table-specific rules: ids, stages, statuses; returns rows dropped with reasons.

    Each rule marks rows on the whole table and the rows kept are taken once, at the end:
    a ten-million-row table is copied once, not once per rule."""
    table = mapping.table
    dropped: list[tuple[int, str]] = []
    index = out.index.to_numpy()
    keep = np.ones(len(out), dtype=bool)

    def drop(rows: np.ndarray, reason) -> None:
        """Rows (a mask) not yet dropped leave, each with `reason(position)`."""
        newly = np.flatnonzero(rows & keep)
        dropped.extend((index[p], reason(p)) for p in newly.tolist())
        keep[newly] = False

    id_field = next((f.name for f in fields(table) if f.name.endswith("_id") and f.required),
                    None)
    if id_field and id_field not in out:
        out[id_field] = [f"row-{i + 1}" for i in range(len(out))]
        notes.append(f"No id column mapped: rows are numbered (row-1, row-2, …), so files "
                     f"cannot be linked by {id_field}.")
        if table == "deals" and "product" in out:
            firsts = _product_lines(mapping, raw)
            drop(firsts >= 0, lambda p: f"another product line of the deal on line "
                                        f"{raw.line_of(int(index[firsts[p]]))} (same name, "
                                        "stage, amount and dates)")
    elif id_field:
        said = id_field.replace("_", " ")
        drop(out[id_field].isna().to_numpy(dtype=bool), lambda p: f"no {said}")
        if table in ("leads", "deals", "customers"):  # missing ids never repeat
            positions, firsts = _repeated_ids(raw, mapping.columns[id_field], out[id_field])
            ids, first_of = out[id_field].array, dict(zip(positions.tolist(), firsts.tolist(),
                                                          strict=True))
            repeats = np.zeros(len(out), dtype=bool)
            repeats[positions] = True
            drop(repeats, lambda p: f"repeats {said} '{ids[p]}' of line "
                                    f"{raw.line_of(int(index[first_of[p]]))}")
    for f in fields(table):
        if f.required and f.name not in out and f.name != id_field:
            problems.append(f"'{f.label}' is required for {table.replace('_', ' ')}: map a "
                            "column to it.")
        elif f.required and f.name != id_field and f.name in out:
            drop(out[f.name].isna().to_numpy(dtype=bool), lambda p, f=f: f"no value for {f.label}")
    factors = {name: (coded or {}).get(name) or pd.factorize(out[name])
               for name in RULE_COLUMNS if name in out}
    if table in ("leads", "deals"):
        stages = out["stage"].array if "stage" in out else None
        drop(_not_a_stage(mapping, factors, len(out)),
             lambda p: f"stage '{stages[p] if stages is not None else ''}' is marked "
                       "'(not a stage)'")
    if not keep.all():
        out = out[keep]
        factors = {name: (codes[keep], uniques) for name, (codes, uniques) in factors.items()}
    if table == "leads":
        out = _finish_leads(mapping, out, notes, factors)
    elif table == "deals":
        out = _finish_deals(mapping, out, notes, factors)
    # A field no column gave stays absent: `db` stores it as nulls without building them.
    return out[[f.name for f in fields(table) if f.name in out]], dropped


_DEAL_NAMES = ("opportunityname", "dealname", "potentialname", "name", "title", "topic")
# Fields a deal has once, whatever its products: equal on these and the name, one deal
_DEAL_LEVEL = frozenset({"account", "stage", "status", "amount", "created_at", "closed_at",
                         "owner", "won", "closed"})


def _product_lines(mapping: Mapping, raw: RawTable) -> np.ndarray:
    """Without an id, a report 'with products' (Salesforce's default has no Opportunity
    ID) lists each deal once per product: rows equal on the deal's name, account, stage,
    amount, dates and owner are one deal. Per row, the position of the first row of its deal
    when it repeats one, else -1."""
    names = [c for c in raw.frame.columns if normalise(str(c)) in _DEAL_NAMES]
    if not names:
        return np.full(len(raw.frame), -1)
    key = [*names[:1], *(c for f, c in mapping.columns.items() if f in _DEAL_LEVEL)]
    codes = raw.frame[list(dict.fromkeys(key))].astype("string").fillna("\x00")
    group = codes.groupby(list(codes.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(group))).groupby(group).transform("min").to_numpy()
    return np.where(first < np.arange(len(group)), first, -1)


def _repeated_ids(raw: RawTable, column: str, ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """`column_sql.repeated_rows` of the typed ids. When the file's column repeats no value
    (counted while proposing) and typing changed no id (it may only have made some missing),
    no id can repeat: ten million ids are not hashed a second time."""
    if raw.holds_unique(column) and _same_where_given(ids, raw.frame[column]):
        none = np.empty(0, dtype=np.int64)
        return none, none
    return column_sql.repeated_rows(ids)


def _same_where_given(typed: pd.Series, source: pd.Series) -> bool:
    """Every non-missing typed value equals the file's cell in its row."""
    try:
        a = pa.array(typed.array, from_pandas=True)
        b = pa.array(source.array, from_pandas=True)
        same = pc.equal(a, b if b.type == a.type else b.cast(a.type))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return False  # values Arrow cannot hold or compare: the ids are hashed instead
    return pc.all(same).as_py() is not False  # null: no id given at all


Factors = dict[str, tuple[np.ndarray, object]]  # column -> (codes, values), row-aligned, as
# pd.factorize gives them, save that a value may be listed twice (`parse_text_coded`)


def _per_value(factors: tuple[np.ndarray, object], fn, missing: object,
               dtype: str = "object") -> np.ndarray | pd.api.extensions.ExtensionArray:
    """fn applied once per distinct value and mapped back: exports repeat a few values
    over millions of rows, so this is fast where a per-row function is not. The values
    come back typed (`dtype`), so no column of ten million Python objects is built."""
    codes, uniques = factors
    results = pd.array([fn(v) for v in uniques] + [missing], dtype=dtype)
    return results.take(codes)  # code -1 (a missing cell) takes `missing`, the last


def _not_a_stage(mapping: Mapping, factors: Factors, rows: int) -> np.ndarray:
    """Rows the user excluded (a mask): a stage mapped to '(not a stage)', or a deleted
    deal."""
    excluded = np.zeros(rows, dtype=bool)
    if "stage" in factors:
        excluded |= np.asarray(_per_value(
            factors["stage"], lambda v: mapping.stages.get(v) == NOT_A_STAGE, False, "bool"))
    if mapping.table == "deals" and "status" in factors and mapping.columns.get("status"):
        excluded |= np.asarray(_per_value(
            factors["status"], lambda v: normalise(str(v)) in ("deleted", "removed"), False,
            "bool"))
    return excluded


def _finish_leads(mapping: Mapping, out: pd.DataFrame, notes: list[str],
                  factors: Factors) -> pd.DataFrame:
    rank = pd.Series(0, index=out.index, dtype="int64")
    if "stage" in out:
        rank = pd.Series(_per_value(factors["stage"], lambda v: LEAD_STAGE_RANK[mapping.stages[v]]
                                    if mapping.stages.get(v) in LEAD_STAGES else 0, 0, "int64"),
                         index=out.index)
        if mapping.columns.get("stage") and not any(f"{s}_at" in out for s in LEAD_STAGES[1:]):
            notes.append("Only the current stage is known: a lead at a later stage is counted "
                         "as having passed every earlier stage.")
    for s, i in LEAD_STAGE_RANK.items():
        if f"{s}_at" in out:
            rank = rank.where(~(out[f"{s}_at"].notna() & (rank < i)), i)
    if "converted" in out:
        means = LEAD_STAGE_RANK[mapping.converted_means]
        rank = rank.where(~(out["converted"].fillna(False).astype(bool) & (rank < means)),
                          means)
    floor = LEAD_STAGE_RANK[mapping.row_stage]
    rank = rank.where(rank >= floor, floor)  # every row is at least a lead (or an MQL…)
    out["stage"] = rank.map(STAGE_AT_RANK)
    if "lead_at" not in out and "created_at" in out:
        out["lead_at"] = out["created_at"]
    if "created_at" not in out and "lead_at" in out:
        out["created_at"] = out["lead_at"]
    for s in LEAD_STAGES[1:floor]:  # a file of MQLs: each became one when it was created
        if f"{s}_at" not in out and "created_at" in out:
            out[f"{s}_at"] = out["created_at"]
    if "converted" not in out:
        out["converted"] = rank >= 5
    return out


def _finish_deals(mapping: Mapping, out: pd.DataFrame, notes: list[str],
                  factors: Factors) -> pd.DataFrame:
    def by_stage(v: object) -> str:
        status = mapping.stages.get(v, "open")
        return status if status in ("open", "won", "lost") else "open"

    status = (pd.Series(_per_value(factors["stage"], by_stage, "open", "string"),
                        index=out.index) if "stage" in out
              else pd.Series("open", index=out.index, dtype="string"))
    if "status" in out and mapping.columns.get("status"):
        given = pd.Series(_per_value(factors["status"],
                                     lambda v: deal_status_by_name(normalise(str(v))), None,
                                     "string"), index=out.index)
        status = given.fillna(status)
    if "closed" in out:  # Salesforce IsClosed/IsWon outrank stage names when they are filled
        status = status.where(~out["closed"].fillna(False).astype(bool) | (status != "open"),
                              "lost")
    if "won" in out:
        status = status.where(~out["won"].fillna(False).astype(bool), "won")
    for outcome in ("won", "lost"):  # a won (lost) date decides what nothing else did
        if f"{outcome}_at" not in out:
            continue
        column = mapping.columns[f"{outcome}_at"]
        dated = out[f"{outcome}_at"].notna()
        decided = dated & (status == "open")
        if decided.any():
            status = status.where(~decided, outcome)
            notes.append(f"{int(decided.sum()):,} deal(s) are {outcome} by their "
                         f"'{column}' date, closed on that date.")
        # A deal won (lost) by its stage or status closes on that date when nothing else
        # gives its close date (Pipedrive: the close date is 'Won time' or 'Lost time').
        closed = out["closed_at"] if "closed_at" in out else pd.Series(
            pd.NaT, index=out.index, dtype="datetime64[us]")
        fill = dated & (status == outcome) & closed.isna()
        if fill.any():
            out["closed_at"] = closed.where(~fill, out[f"{outcome}_at"])
            if (fill & ~decided).any():
                notes.append(f"{int((fill & ~decided).sum()):,} {outcome} deal(s) without a "
                             f"close date are closed on their '{column}' date.")
    out["status"] = status
    if "lead_id" in out and mapping.columns.get("lead_id"):
        out["lead_id"], several = _first_of_several(out["lead_id"])
        if several:
            notes.append(f"{several:,} deal(s) name several contacts in "
                         f"'{mapping.columns['lead_id']}' (separated by ';'): each deal is "
                         "linked to the first one.")
    if "stage" in out:
        order = stage_rank_order(mapping)
        out["stage_order"] = pd.Series(_per_value(factors["stage"], order.get, None, "Int64"),
                                       index=out.index)
    if "closed_at" in out:
        expected = (out["status"] == "open") & out["closed_at"].notna()
        if expected.any():
            notes.append(f"{int(expected.sum()):,} open deal(s) carry a close date; it is an "
                         "expected date, so it is ignored until the deal closes.")
            out.loc[expected, "closed_at"] = pd.NaT
    if "amount" in out:
        negative = int((out["amount"] < 0).sum())
        if negative:
            notes.append(f"{negative:,} deal(s) have a negative amount; they are kept as given.")
    return out


def _first_of_several(ids: pd.Series) -> tuple[pd.Series, int]:
    """HubSpot's 'Associated Contact IDs' holds `id1;id2` for a deal with two contacts: the
    first id, and how many cells held several."""
    if not isinstance(ids.dtype, pd.StringDtype):
        return ids, 0
    several = ids.str.contains(";", regex=False).fillna(False)
    if not several.any():
        return ids, 0
    first = ids.str.split(";", n=1).str[0].str.strip()
    return ids.where(~several, first.where(first != "")), int(several.sum())


# Fields the rules read once per value (stage meanings, deleted statuses)
RULE_COLUMNS = ("stage", "status")
# Fields whose values are categories a person typed or picked: `Google` and `google` are
# one source. Channels also keep `unknown` apart from blank when a column has both.
CATEGORIES = frozenset({"source", "origin", "segment", "owner", "product", "channel", "team",
                        "manager"})
CHANNELS = frozenset({"source", "origin", "channel"})


def stage_rank_order(mapping: Mapping) -> dict[str, int]:
    """Deals: raw stage -> its 1-based position in the pipeline."""
    return {s: i for i, s in enumerate(mapping.stage_order, start=1)}

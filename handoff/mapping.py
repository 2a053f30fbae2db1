"""From an export's columns and stage names to the canonical model, with presets for known CRMs.

`propose` recognises an export (HubSpot, Salesforce, Pipedrive, Zoho) or falls back to header
synonyms; the user edits the proposal; `apply` turns the raw table into a canonical table and a
`Validation` that says, row by row and column by column, what was read and what was not.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from handoff import parsing, untrusted
from handoff.ingest import RawTable, RejectedRow
from handoff.presets import (
    CRM_CONVERSION_HEADERS,
    NOT_A_STAGE,
    SYNONYMS,
    Preset,
    normalise,
    recognise,
)
from handoff.schema import (
    LEAD_STAGE_RANK,
    LEAD_STAGES,
    STAGE_AT_RANK,
    TABLES,
    fields,
    mappable_fields,
)

__all__ = ["NOT_A_STAGE", "Mapping", "Validation", "apply", "normalise", "propose"]


@dataclass
class Mapping:
    """How one raw table maps to one canonical table; editable by the user, saveable."""

    table: str
    columns: dict[str, str]  # canonical field -> source column
    stages: dict[str, str] = field(default_factory=dict)  # raw stage value -> canonical
    stage_order: list[str] = field(default_factory=list)  # deals: pipeline order of raw stages
    date_order: dict[str, str] = field(default_factory=dict)  # source column -> mdy | dmy
    preset: str | None = None
    note: str = ""
    # leads: the stage a yes/no "converted" column means (a CRM's flag means sales accepted
    # the lead; a campaign's outcome means it bought), and the stage every row has reached
    # at least (a file of MQLs: mql)
    converted_means: str = "customer"
    row_stage: str = "lead"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Mapping:
        """A preset a user uploads: untrusted, so size, nesting and every type are checked.
        Raises ValueError naming the part that is wrong."""
        data = untrusted.parse_json(text, limit=PRESET_LIMIT, max_depth=4, what="a preset")
        if not isinstance(data, dict) or data.get("table") not in TABLES:
            raise ValueError("not a Handoff mapping preset (no known 'table')")
        known = {f.name for f in fields(data["table"])}
        columns = _text_dict(data, "columns")
        stage_order = data.get("stage_order", [])
        if not isinstance(stage_order, list) or not all(
                isinstance(s, str | int | float) for s in stage_order):
            raise ValueError("'stage_order' must be a list of stage names")
        preset = data.get("preset")
        return cls(table=data["table"],
                   columns={k: v for k, v in columns.items() if k in known},
                   stages=_text_dict(data, "stages"),
                   stage_order=[str(s) for s in stage_order],
                   date_order={k: v for k, v in _text_dict(data, "date_order").items()
                               if v in ("mdy", "dmy")},
                   preset=preset if isinstance(preset, str) else None,
                   note=str(data.get("note", ""))[:500],
                   converted_means=_stage_or(data.get("converted_means"), "customer"),
                   row_stage=_stage_or(data.get("row_stage"), "lead"))


PRESET_LIMIT = 256 * 1024  # a mapping of a few hundred columns and stages is ~20 KB


def _text_dict(data: dict, key: str) -> dict[str, str]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float) for v in value.values()):
        raise ValueError(f"'{key}' must map names to names")
    return {str(k): str(v) for k, v in value.items()}


def _stage_or(value: object, default: str) -> str:
    return value if value in LEAD_STAGES else default


def propose(raw: RawTable, table: str | None = None) -> Mapping:
    """A first mapping for a raw table: a preset when recognised, else header synonyms."""
    headers = list(raw.frame.columns)
    preset = recognise(headers)
    if preset is not None and table in (None, preset.table):
        columns = match_headers(headers, preset.columns)
        for name, synonyms in SYNONYMS[preset.table].items():  # fill what the preset lacks
            if name not in columns:
                hit = match_headers(headers, {name: synonyms}, exclude=set(columns.values()))
                columns.update(hit)
        mapping = Mapping(preset.table, columns, preset=preset.name, note=preset.note)
    else:
        chosen = table or best_table(headers)
        mapping = Mapping(chosen, match_headers(headers, SYNONYMS[chosen]))
    if mapping.table == "leads":
        _propose_lead_meanings(raw, mapping, preset)
    check_id(raw, mapping)
    mapping.stages, mapping.stage_order = propose_stages(raw, mapping, preset)
    return mapping


def _propose_lead_meanings(raw: RawTable, mapping: Mapping, preset: Preset | None) -> None:
    """What a converted flag means here, and whether every row is already an MQL."""
    keys = {normalise(h) for h in raw.frame.columns}
    if "converted" in mapping.columns:
        if preset is not None and preset.table == "leads":
            mapping.converted_means = preset.converted_means
        elif keys & CRM_CONVERSION_HEADERS:
            mapping.converted_means = "sql"
            add_note(mapping, f"'{mapping.columns['converted']}' is a CRM's conversion flag "
                      "(the lead became a contact or deal, not a customer): a converted lead "
                      "counts as SQL; customers come from won deals.")
    id_key = normalise(mapping.columns.get("lead_id", ""))
    named = re.search(r"(^|[^a-z])mqls?([^a-z]|$)|marketing.?qualified",
                      raw.file_name.lower())
    if "mql" in id_key or named:
        mapping.row_stage = "mql"
        what = f"its id column is '{mapping.columns['lead_id']}'" if "mql" in id_key \
            else f"the file is called {raw.file_name}"
        add_note(mapping, f"Every row is counted as a marketing-qualified lead ({what}), "
                  "from its created date.")


def add_note(mapping: Mapping, note: str) -> None:
    mapping.note = f"{mapping.note} {note}".strip()


def looks_like_id(column: str) -> bool:
    """A header that names an id (`mql_id`, `Prospect ID`, `Lead Number`, `uuid`)."""
    text = column.strip()
    return bool(_ID_WORD.search(text) or _ID_CAMEL.search(text))


ID_FIELDS = {"leads": "lead_id", "deals": "deal_id", "customers": "customer_id"}
_ID_WORD = re.compile(r"(?:^|[\s_\-./#])(?:id|number|no|nr|key|code|uuid|guid)\.?$",
                      re.IGNORECASE)
_ID_CAMEL = re.compile(r"[a-z](?:Id|ID|Number|Key|Code|Uuid|UUID)$")


def check_id(raw: RawTable, mapping: Mapping, avoid: frozenset[str] = frozenset()) -> None:
    """Keep the proposed id only if the values bear it out: an id under which most rows
    would be dropped as repeats is not the id. Then (or when none was matched) propose a
    column named like an id whose values are unique, or leave rows numbered."""
    id_field = ID_FIELDS.get(mapping.table)
    if id_field is None or not len(raw.frame):
        return
    column = mapping.columns.get(id_field)
    if column in avoid:
        column = None
    if column is not None and _kept_share(raw.frame[column]) >= 0.5:
        return
    taken = set(mapping.columns.values()) | set(avoid)
    candidates = [c for c in raw.frame.columns if c not in taken and c != column
                  and looks_like_id(c)]
    best = max(candidates, key=lambda c: _kept_share(raw.frame[c]), default=None)
    if best is not None and _kept_share(raw.frame[best]) < 0.95:
        best = None
    if column is not None:
        dropped = len(raw.frame) - round(_kept_share(raw.frame[column]) * len(raw.frame))
        instead = f"'{best}' (unique per row) is proposed instead" if best else \
            "rows are numbered instead"
        add_note(mapping, f"'{column}' repeats: as the id it would drop {dropped:,} of "
                  f"{len(raw.frame):,} rows as duplicates, so {instead}.")
        mapping.columns.pop(id_field)
    if best is not None:
        mapping.columns[id_field] = best


def _kept_share(series: pd.Series) -> float:
    """Share of rows an id column keeps: distinct non-missing values per row."""
    return series.dropna().nunique() / max(len(series), 1)


def best_table(headers: list[str]) -> str:
    """The canonical table these headers fit best (leads when nothing fits)."""
    scores = {}
    for table, synonyms in SYNONYMS.items():
        matched = match_headers(headers, synonyms)
        required = [f.name for f in fields(table) if f.required]
        scores[table] = len(matched) + 2 * sum(r in matched for r in required) \
            - 3 * sum(r not in matched for r in required if table not in ("leads", "deals"))
    if scores.get("deals", 0) >= scores.get("leads", 0) and _has_any(headers, SYNONYMS[
            "deals"], ("stage", "amount", "closed_at")):
        scores["deals"] += 1
    return max(scores, key=lambda t: (scores[t], t in ("leads", "deals")))


def _has_any(headers: list[str], synonyms: dict, names: tuple[str, ...]) -> bool:
    return any(name in match_headers(headers, synonyms) for name in names)


def match_headers(headers: list[str], wanted: dict[str, tuple[str, ...]],
           exclude: set[str] | None = None) -> dict[str, str]:
    """Canonical field -> the first header that matches one of its synonyms."""
    by_key: dict[str, str] = {}
    for h in headers:
        by_key.setdefault(normalise(h), h)
    taken = set(exclude or ())
    out: dict[str, str] = {}
    for name, synonyms in wanted.items():
        for s in synonyms:
            h = by_key.get(s)
            if h is not None and h not in taken:
                out[name] = h
                taken.add(h)
                break
    return out


def stage_values(raw: RawTable, mapping: Mapping) -> list[str]:
    """Distinct values of the mapped stage (or status) column, most frequent first."""
    column = mapping.columns.get("stage")
    if column is None or column not in raw.frame:
        return []
    values = parsing.parse_text(raw.frame[column], parsing.ColumnReport(column, "stage", "text"))
    return values.dropna().value_counts().head(200).index.tolist()


def propose_stages(raw: RawTable, mapping: Mapping, preset: Preset | None = None
                   ) -> tuple[dict[str, str], list[str]]:
    """Canonical meaning and pipeline order of each raw stage value, by preset or by name."""
    values = stage_values(raw, mapping)
    known = preset.stages if preset else {}
    stages: dict[str, str] = {}
    for v in values:
        key = normalise(v)
        if key in known:
            stages[v] = known[key]
        elif mapping.table == "leads":
            stages[v] = _lead_stage_by_name(key)
        else:
            stages[v] = _deal_status_by_name(key)
    order: list[str] = []
    if mapping.table == "deals":
        ranked = {s: i for i, s in enumerate(preset.stage_order)} if preset else {}
        open_first = sorted(values, key=lambda v: (
            {"open": 0, "won": 1, "lost": 2}.get(stages[v], 3),
            ranked.get(normalise(v), len(ranked)), _stage_hint(v)))
        order = open_first
    return stages, order


def _lead_stage_by_name(key: str) -> str:
    for needle, stage in (("evangelist", "evangelist"), ("advocate", "evangelist"),
                          ("customer", "customer"), ("won", "customer"),
                          ("opportunit", "opportunity"), ("salesqualified", "sql"),
                          ("sql", "sql"), ("salesaccepted", "sql"),
                          ("marketingqualified", "mql"), ("mql", "mql"),
                          ("qualified", "mql"), ("lead", "lead"), ("subscriber", "lead")):
        if needle in key:
            return stage
    return "lead"


def _deal_status_by_name(key: str) -> str:
    if "won" in key or key in ("closedwon", "win", "signed", "booked"):
        return "won"
    if "lost" in key or key in ("closedlost", "lose", "dead", "disqualified", "churned"):
        return "lost"
    return "open"


def _stage_hint(value: str) -> int:
    """A stage's position from words in its name, for ordering an unknown pipeline."""
    key = normalise(value)
    for i, words in enumerate((("prospect", "new", "lead"), ("qualif", "discover", "engag"),
                               ("demo", "presentation", "analysis", "meeting"),
                               ("proposal", "quote", "value"),
                               ("negotiat", "contract", "decision", "commit"))):
        if any(w in key for w in words):
            return i
    return 5


# --- applying a mapping ---------------------------------------------------------------------

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
    for f in mappable_fields(mapping.table):
        column = mapping.columns.get(f.name)
        if not column:
            continue
        if column not in frame.columns:
            problems.append(f"Field '{f.label}' is mapped to column '{column}', which "
                            f"{raw.file_name} does not have. Choose another column.")
            continue
        report = parsing.ColumnReport(column, f.name, f.kind)
        series = frame[column]
        if f.kind == "timestamp":
            out[f.name] = parsing.parse_timestamps(series, report, mapping.date_order.get(column),
                                                   excel_serials=excel)
        elif f.kind == "number":
            out[f.name] = parsing.parse_numbers(series, report)
        elif f.kind == "integer":
            out[f.name] = parsing.parse_integers(series, report)
        elif f.kind == "boolean":
            out[f.name] = parsing.parse_booleans(series, report)
        else:
            out[f.name] = parsing.parse_text(series, report, fold=f.name in CATEGORIES,
                                             keep_unknown=f.name in CHANNELS)
        reports.append(report)
    notes += value_notes(reports)
    rejected = list(raw.rejected)
    if not mapping.columns:
        problems.append(f"No column of {raw.file_name} is mapped yet. Map at least an id, a "
                        "date, a stage or an amount.")
    out, dropped = _finish(mapping, out, notes, problems, raw)
    for index, reason in dropped:
        rejected.append(RejectedRow(raw.line_of(int(index)), reason,
                                    ", ".join(str(v) for v in frame.loc[index].tolist())[:200]))
    validation = Validation(raw.file_name, mapping.table, raw.rows_read, len(out), rejected,
                            reports, notes, problems)
    return out.reset_index(drop=True), validation


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
            raw: RawTable) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Table-specific rules: ids, stages, statuses; returns rows dropped with reasons."""
    table = mapping.table
    dropped: list[tuple[int, str]] = []
    id_field = next((f.name for f in fields(table) if f.name.endswith("_id") and f.required),
                    None)
    if id_field and id_field not in out:
        out[id_field] = [f"row-{i + 1}" for i in range(len(out))]
        notes.append(f"No id column mapped: rows are numbered (row-1, row-2, …), so files "
                     f"cannot be linked by {id_field}.")
    elif id_field:
        missing = out[id_field].isna()
        dropped += [(i, f"no {id_field.replace('_', ' ')}") for i in out.index[missing]]
        out = out[~missing]
        if table in ("leads", "deals", "customers"):
            dup = out[id_field].duplicated()
            if dup.any():  # only then look up where each repeated id first appeared
                repeated = out[id_field][out[id_field].isin(set(out.loc[dup, id_field]))]
                first_line = {v: i for i, v in reversed(list(repeated.items()))}
                dropped += [(i, f"repeats {id_field.replace('_', ' ')} '{v}' of line "
                                f"{raw.line_of(int(first_line[v]))}")
                            for i, v in out.loc[dup, id_field].items()]
            out = out[~dup]
    for f in fields(table):
        if f.required and f.name not in out and f.name != id_field:
            problems.append(f"'{f.label}' is required for {table.replace('_', ' ')}: map a "
                            "column to it.")
        elif f.required and f.name != id_field and f.name in out:
            missing = out[f.name].isna()
            dropped += [(i, f"no value for {f.label}") for i in out.index[missing]]
            out = out[~missing]
    if table in ("leads", "deals"):
        excluded = _not_a_stage(mapping, out)
        dropped += [(i, f"stage '{out.at[i, 'stage'] if 'stage' in out else ''}' is marked "
                        "'(not a stage)'") for i in out.index[excluded]]
        out = out[~excluded]
    if table == "leads":
        out = _finish_leads(mapping, out, notes)
    elif table == "deals":
        out = _finish_deals(mapping, out, notes)
    for f in fields(table):
        if f.name not in out:
            out[f.name] = pd.Series(None, index=out.index, dtype=_dtype(f.kind))
    return out[[f.name for f in fields(table)]], dropped


def _per_value(series: pd.Series, fn, missing: object) -> pd.Series:
    """fn applied once per distinct value and mapped back: exports repeat a few values
    over millions of rows, so this is fast where a per-row function is not."""
    codes, uniques = pd.factorize(series)
    results = np.array([fn(v) for v in uniques] + [missing], dtype=object)
    return pd.Series(results[codes], index=series.index, dtype=object)


def _not_a_stage(mapping: Mapping, out: pd.DataFrame) -> pd.Series:
    """Rows the user excluded: a stage mapped to '(not a stage)', or a deleted deal."""
    excluded = pd.Series(False, index=out.index)
    if "stage" in out:
        excluded |= _per_value(out["stage"], lambda v: mapping.stages.get(v) == NOT_A_STAGE,
                               False).astype(bool)
    if mapping.table == "deals" and "status" in out and mapping.columns.get("status"):
        excluded |= _per_value(out["status"],
                               lambda v: normalise(str(v)) in ("deleted", "removed"),
                               False).astype(bool)
    return excluded


def _finish_leads(mapping: Mapping, out: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    rank = pd.Series(0, index=out.index, dtype="int64")
    if "stage" in out:
        rank = _per_value(out["stage"], lambda v: LEAD_STAGE_RANK[mapping.stages[v]]
                          if mapping.stages.get(v) in LEAD_STAGES else 0, 0)
        rank = rank.astype("int64")
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


def _finish_deals(mapping: Mapping, out: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    status = pd.Series("open", index=out.index, dtype="object")
    if "stage" in out:
        status = _per_value(out["stage"], lambda v: mapping.stages.get(v, "open"), "open")
        status = status.where(status.isin(["open", "won", "lost"]), "open")
    if "status" in out and mapping.columns.get("status"):
        given = _per_value(out["status"], lambda v: _deal_status_by_name(normalise(str(v))),
                           None)
        status = given.fillna(status)
    if "closed" in out:  # Salesforce IsClosed/IsWon outrank stage names when they are filled
        status = status.where(~out["closed"].fillna(False).astype(bool) | (status != "open"),
                              "lost")
    if "won" in out:
        status = status.where(~out["won"].fillna(False).astype(bool), "won")
    for outcome in ("won", "lost"):  # a won (lost) date decides what nothing else did
        if f"{outcome}_at" not in out:
            continue
        dated = out[f"{outcome}_at"].notna() & (status == "open")
        if dated.any():
            status = status.where(~dated, outcome)
            closed = out["closed_at"] if "closed_at" in out else pd.Series(
                pd.NaT, index=out.index, dtype="datetime64[us]")
            out["closed_at"] = closed.where(~dated | closed.notna(), out[f"{outcome}_at"])
            notes.append(f"{int(dated.sum()):,} deal(s) are {outcome} by their "
                         f"'{mapping.columns[f'{outcome}_at']}' date, closed on that date.")
    out["status"] = status
    if "stage" in out:
        out["stage_order"] = out["stage"].map(stage_rank_order(mapping)).astype("Int64")
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


# Fields whose values are categories a person typed or picked: `Google` and `google` are
# one source. Channels also keep `unknown` apart from blank when a column has both.
CATEGORIES = frozenset({"source", "origin", "segment", "owner", "product", "channel", "team",
                        "manager"})
CHANNELS = frozenset({"source", "origin", "channel"})


def _dtype(kind: str) -> str:
    return {"text": "string", "timestamp": "datetime64[us]", "number": "float64",
            "integer": "Int64", "boolean": "boolean"}[kind]


def stage_rank_order(mapping: Mapping) -> dict[str, int]:
    """Deals: raw stage -> its 1-based position in the pipeline."""
    return {s: i for i, s in enumerate(mapping.stage_order, start=1)}

"""From an export's columns and stage names to the canonical model, with presets for known CRMs.

`propose` recognises an export (HubSpot, Salesforce, Pipedrive, Zoho) or falls back to header
synonyms; the user edits the proposal; `apply` (in `validation`, re-exported here) turns the raw
table into a canonical table and a `Validation` that says, row by row and column by column,
what was read and what was not.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from handoff import parsing, untrusted
from handoff.column_report import counts_by_code
from handoff.presets import (
    CRM_CONVERSION_HEADERS,
    CRM_PREFIX,
    NOT_A_STAGE,
    SYNONYMS,
    Preset,
    deal_status_by_name,
    normalise,
    recognise,
)
from handoff.raw import RawTable
from handoff.schema import LEAD_STAGES, TABLES, fields
from handoff.validation import (
    CATEGORIES,
    CHANNELS,
    Validation,
    apply,
    stage_rank_order,
    value_notes,
)

__all__ = ["CATEGORIES", "CHANNELS", "NOT_A_STAGE", "Mapping", "Validation", "apply",
           "deal_status_by_name", "normalise", "propose", "stage_rank_order", "value_notes"]


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
        if table is None and chosen == "stage_history" and _one_row_per_deal(raw, mapping):
            mapping = Mapping("deals", match_headers(headers, SYNONYMS["deals"]))
            add_note(mapping, f"Proposed as deals, not stage history: each "
                     f"'{mapping.columns['deal_id']}' appears once, so a row is a deal, not "
                     "one of its stage changes.")
    if mapping.table == "leads":
        _propose_lead_meanings(raw, mapping, preset)
    check_id(raw, mapping)
    mapping.stages, mapping.stage_order = propose_stages(raw, mapping, preset)
    return mapping


def _one_row_per_deal(raw: RawTable, history: Mapping) -> bool:
    """A file read as stage history whose deal ids never repeat, and which reads as deals
    too (an id and a stage): a history has several rows per deal."""
    column = history.columns.get("deal_id")
    deals = match_headers(list(raw.frame.columns), SYNONYMS["deals"])
    return (column is not None and len(raw.frame) > 1 and {"deal_id", "stage"} <= set(deals)
            and raw.holds_unique(column))


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
    if column is not None and _kept_share(raw, column) >= 0.5:
        return
    taken = set(mapping.columns.values()) | set(avoid)
    candidates = [c for c in raw.frame.columns if c not in taken and c != column
                  and looks_like_id(c)]
    best = max(candidates, key=lambda c: _kept_share(raw, c), default=None)
    if best is not None and _kept_share(raw, best) < 0.95:
        best = None
    if column is not None:
        dropped = len(raw.frame) - round(_kept_share(raw, column) * len(raw.frame))
        instead = f"'{best}' (unique per row) is proposed instead" if best else \
            "rows are numbered instead"
        add_note(mapping, f"'{column}' repeats: as the id it would drop {dropped:,} of "
                  f"{len(raw.frame):,} rows as duplicates, so {instead}.")
        mapping.columns.pop(id_field)
    if best is not None:
        mapping.columns[id_field] = best


def _kept_share(raw: RawTable, column: str) -> float:
    """Share of rows an id column keeps: distinct non-missing values per row."""
    return raw.distinct_count(column) / max(len(raw.frame), 1)


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
    prefixed = _PREFIX_TABLE.get(_header_prefix(headers))
    if prefixed:  # Pipedrive writes 'Lead - Title', 'Deal - Title': the prefix says it
        scores[prefixed] += 5
    return max(scores, key=lambda t: (scores[t], t in ("leads", "deals")))


_PREFIX_TABLE = {"deal": "deals", "opportunity": "deals", "lead": "leads", "person": "leads",
                 "contact": "leads"}


def _header_prefix(headers: list[str]) -> str | None:
    """The CRM prefix most headers carry ('Lead - Title' → 'lead'), if most carry one."""
    found = [m.group(1).lower() for h in headers if (m := CRM_PREFIX.match(str(h).strip()))]
    if len(found) * 2 <= len(headers):
        return None
    return max(set(found), key=found.count)


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
    report = parsing.ColumnReport(column, "stage", "text")
    values, coded = parsing.parse_text_coded(raw.frame[column], report)
    if coded is None:
        return values.dropna().value_counts().head(200).index.tolist()
    # A long column read once per value: its rows are counted by code, not counted again.
    # Ties keep the order values first appear in, as value_counts does.
    return counts_by_code(*coded).head(200).index.tolist()


def propose_stages(raw: RawTable, mapping: Mapping, preset: Preset | None = None
                   ) -> tuple[dict[str, str], list[str]]:
    """Canonical meaning and pipeline order of each raw stage value, by preset or by name."""
    values = stage_values(raw, mapping)
    if preset is not None and preset.table != mapping.table:
        preset = None  # a deals export read as leads: its deal statuses are no lead stages
    known = preset.stages if preset else {}
    stages: dict[str, str] = {}
    for v in values:
        key = normalise(v)
        if key in known:
            stages[v] = known[key]
        elif mapping.table == "leads":
            stages[v] = _lead_stage_by_name(key)
        else:
            stages[v] = deal_status_by_name(key)
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

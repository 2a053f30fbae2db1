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

from handoff import parsing
from handoff.ingest import RawTable, RejectedRow
from handoff.schema import LEAD_STAGES, TABLES, fields, mappable_fields

NOT_A_STAGE = "(not a stage)"


def normalise(header: str) -> str:
    """Header key for matching: lower-case letters and digits only, CRM prefixes removed."""
    h = re.sub(r"^(deal|lead|person|organization|contact|opportunity) - ", "", header.strip(),
               flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]", "", h.lower())


# Header synonyms per canonical field, already normalised. Order is preference.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "leads": {
        "lead_id": ("leadid", "recordid", "contactid", "id", "vid", "personid", "customerid"),
        "created_at": ("createdate", "createddate", "createdtime", "createdat", "created",
                       "datecreated", "leadcreated", "addtime", "creationdate", "leaddate"),
        "source": ("originalsource", "leadsource", "source", "channel", "originalsourcetype",
                   "utmsource", "sourcechannel", "contact", "acquisitionchannel"),
        "segment": ("segment", "customersegment", "industry", "companysize", "tier", "job"),
        "owner": ("contactowner", "leadowner", "owner", "ownerid", "hubspotowner", "sdr",
                  "ownername", "assignedto"),
        "account": ("company", "companyname", "associatedcompany", "account", "accountname",
                    "organization"),
        "stage": ("lifecyclestage", "leadstatus", "status", "stage", "funnelstage"),
        "converted": ("converted", "becamecustomer", "won", "subscribed", "y", "outcome"),
        "lead_at": ("becamealeaddate", "leaddate"),
        "mql_at": ("becameamarketingqualifiedleaddate", "mqldate", "becameanmqldate",
                   "marketingqualifieddate"),
        "sql_at": ("becameasalesqualifiedleaddate", "sqldate", "convertedddate",
                   "converteddate", "salesqualifieddate"),
        "opportunity_at": ("becameanopportunitydate", "opportunitydate"),
        "customer_at": ("becameacustomerdate", "customerdate", "wondate"),
        "evangelist_at": ("becameanevangelistdate", "evangelistdate"),
    },
    "deals": {
        "deal_id": ("dealid", "opportunityid", "recordid", "id", "opportunity18digitid",
                    "opportunityid18"),
        "lead_id": ("leadid", "contactid", "associatedcontactid", "convertedleadid", "personid"),
        "account": ("account", "accountname", "company", "associatedcompany", "organization",
                    "organizationname", "accountid", "customer"),
        "created_at": ("createdate", "createddate", "createdtime", "dealcreated", "createdat",
                       "opportunitycreateddate", "engagedate", "addtime", "startdate"),
        "closed_at": ("closedate", "closingdate", "closedat", "dealclosedon", "closeddate",
                      "wontime", "actualclosedate"),
        "stage": ("dealstage", "stage", "stagename", "salesstage", "pipelinestage"),
        "status": ("status", "dealstatus", "outcome", "result"),
        "amount": ("amount", "value", "dealvalue", "closevalue", "amountusd", "revenue",
                   "totalamount", "opportunityamount", "dealamount", "expectedrevenue"),
        "margin": ("margin", "grossmargin", "profit", "grossprofit", "marginamount"),
        "owner": ("dealowner", "opportunityowner", "owner", "ownerid", "salesagent", "salesrep",
                  "rep", "accountexecutive", "ownername", "assignedto"),
        "source": ("leadsource", "source", "originalsource", "originalsourcetype", "channel",
                   "sourceorigin", "sourcechannel", "dealsource"),
        "segment": ("segment", "customersegment", "industry", "sector", "tier"),
        "product": ("product", "productname", "productc", "productline", "products",
                    "productinterest"),
        "won": ("iswon", "won"),
        "closed": ("isclosed", "closed"),
    },
    "stage_history": {
        "deal_id": ("opportunityid", "dealid", "parentid", "recordid"),
        "stage": ("stagename", "stage", "tostage", "newvalue", "dealstage"),
        "entered_at": ("createddate", "changedate", "entereddate", "enteredat", "date",
                       "updatetime", "timestamp"),
    },
    "teams": {
        "owner": ("salesagent", "owner", "rep", "salesrep", "name", "username", "fullname"),
        "manager": ("manager", "managername", "reportsto", "teamlead"),
        "team": ("team", "regionaloffice", "region", "office", "territory", "group"),
    },
    "spend": {
        "month": ("month", "date", "period", "day", "week"),
        "channel": ("channel", "source", "campaigntype", "medium"),
        "amount": ("spend", "cost", "amount", "amountspent", "budget", "actualcost"),
    },
    "customers": {
        "customer_id": ("customerid", "accountid", "id", "recordid"),
        "lead_id": ("leadid", "contactid"),
        "account": ("account", "accountname", "company"),
        "segment": ("segment", "industry", "tier"),
        "started_at": ("startedat", "startdate", "customersince", "becameacustomerdate",
                       "signupdate", "contractstart"),
        "churned_at": ("churnedat", "churndate", "enddate", "cancelledat", "contractend"),
        "renewals": ("renewals", "renewalcount", "numberofrenewals"),
        "referrals": ("referrals", "referralcount", "numberofreferrals"),
        "nps": ("nps", "npsscore", "score", "likelihoodtorecommend"),
    },
    "awareness": {
        "month": ("month", "date", "period", "day", "week"),
        "channel": ("channel", "source", "medium", "defaultchannelgroup"),
        "visits": ("visits", "sessions", "impressions", "users", "pageviews", "reach"),
    },
}


@dataclass(frozen=True)
class Preset:
    """A known export: how to recognise it and how its columns and stages map."""

    name: str
    table: str
    signature: tuple[str, ...]  # normalised headers that must all be present
    columns: dict[str, tuple[str, ...]]  # field -> candidate headers (normalised)
    stages: dict[str, str]  # normalised stage value -> canonical stage / status
    stage_order: tuple[str, ...] = ()
    note: str = ""


_HUBSPOT_LIFECYCLE = {
    "subscriber": "lead", "lead": "lead", "marketingqualifiedlead": "mql", "mql": "mql",
    "salesqualifiedlead": "sql", "sql": "sql", "opportunity": "opportunity",
    "customer": "customer", "evangelist": "evangelist", "other": NOT_A_STAGE,
}

PRESETS: tuple[Preset, ...] = (
    Preset("HubSpot contacts", "leads", ("recordid", "lifecyclestage"),
           {"lead_id": ("recordid", "contactid"), "created_at": ("createdate",),
            "source": ("originalsource", "originalsourcetype"),
            "owner": ("contactowner", "hubspotowner"),
            "account": ("associatedcompany", "companyname"), "stage": ("lifecyclestage",),
            "lead_at": ("becamealeaddate",),
            "mql_at": ("becameamarketingqualifiedleaddate",),
            "sql_at": ("becameasalesqualifiedleaddate",),
            "opportunity_at": ("becameanopportunitydate",),
            "customer_at": ("becameacustomerdate",),
            "evangelist_at": ("becameanevangelistdate",)},
           _HUBSPOT_LIFECYCLE,
           note="HubSpot's 'Became a … Date' columns give the date each lifecycle stage was "
                "reached; Subscriber counts as Lead."),
    Preset("HubSpot deals", "deals", ("dealname", "dealstage"),
           {"deal_id": ("recordid", "dealid"), "created_at": ("createdate",),
            "closed_at": ("closedate",), "stage": ("dealstage",), "amount": ("amount",),
            "owner": ("dealowner", "hubspotowner"), "account": ("associatedcompany",),
            "source": ("originalsourcetype", "originalsource"), "product": ("product",)},
           {"closedwon": "won", "closedlost": "lost"},
           ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
            "decisionmakerboughtin", "contractsent", "closedwon", "closedlost")),
    Preset("Salesforce opportunities (object export)", "deals", ("id", "stagename"),
           {"deal_id": ("id",), "account": ("accountid",), "created_at": ("createddate",),
            "closed_at": ("closedate",), "stage": ("stagename",), "amount": ("amount",),
            "owner": ("ownerid",), "source": ("leadsource",), "won": ("iswon",),
            "closed": ("isclosed",), "product": ("productc",), "segment": ("type",)},
           {"closedwon": "won", "closedlost": "lost"},
           ("prospecting", "qualification", "discovery", "needsanalysis", "valueproposition",
            "iddecisionmakers", "perceptionanalysis", "proposalpricequote", "proposalquote",
            "negotiationreview", "negotiation", "closedwon", "closedlost"),
           note="Salesforce's CloseDate of an open opportunity is the expected date; it is "
                "ignored until the deal closes."),
    Preset("Salesforce opportunity report", "deals", ("opportunityname", "stage"),
           {"deal_id": ("opportunityid",), "account": ("accountname",),
            "created_at": ("createddate",), "closed_at": ("closedate",), "stage": ("stage",),
            "amount": ("amount",), "owner": ("opportunityowner",),
            "source": ("leadsource",), "product": ("productname",), "segment": ("type",)},
           {"closedwon": "won", "closedlost": "lost"}),
    Preset("Salesforce leads (object export)", "leads", ("id", "status", "isconverted"),
           {"lead_id": ("id",), "created_at": ("createddate",), "source": ("leadsource",),
            "owner": ("ownerid",), "account": ("company",), "segment": ("industry",),
            "stage": ("status",), "sql_at": ("converteddate",)},
           {"opennotcontacted": "lead", "workingcontacted": "lead", "open": "lead",
            "new": "lead", "working": "lead", "nurturing": "lead", "qualified": "sql",
            "closedconverted": "sql", "converted": "sql",
            "closednotconverted": "lead", "unqualified": "lead"},
           note="A converted Salesforce lead is counted as sales-accepted (SQL); its "
                "opportunity is in the Opportunity export."),
    Preset("Salesforce opportunity history", "stage_history",
           ("opportunityid", "stagename", "createddate"),
           {"deal_id": ("opportunityid",), "stage": ("stagename",),
            "entered_at": ("createddate",)}, {}),
    Preset("Pipedrive deals", "deals", ("title", "stage", "status", "dealcreated"),
           {"deal_id": ("id",), "created_at": ("dealcreated",),
            "closed_at": ("dealclosedon", "wontime", "losttime", "closetime"),
            "stage": ("stage",), "status": ("status",), "amount": ("value",),
            "owner": ("owner", "creator"), "account": ("organization",),
            "lead_id": ("contactperson",), "source": ("sourceorigin", "source", "channel"),
            "product": ("product", "products")},
           {"won": "won", "lost": "lost", "open": "open", "deleted": NOT_A_STAGE},
           note="Pipedrive's 'Deal - …' prefix is ignored when matching columns."),
    Preset("Zoho CRM deals", "deals", ("dealname", "stage", "closingdate"),
           {"deal_id": ("recordid", "id"), "created_at": ("createdtime",),
            "closed_at": ("closingdate",), "stage": ("stage",), "amount": ("amount",),
            "owner": ("dealowner",), "account": ("accountname",), "source": ("leadsource",),
            "segment": ("type",)},
           {"closedwon": "won", "closedlost": "lost", "closedlosttocompetition": "lost"},
           ("qualification", "needsanalysis", "valueproposition", "identifydecisionmakers",
            "proposalpricequote", "negotiationreview", "closedwon", "closedlost",
            "closedlosttocompetition"),
           note="Zoho's Closing Date of an open deal is the expected date; it is ignored "
                "until the deal closes."),
    Preset("Zoho CRM leads", "leads", ("leadowner", "leadstatus"),
           {"lead_id": ("recordid", "id"), "created_at": ("createdtime",),
            "source": ("leadsource",), "owner": ("leadowner",), "account": ("company",),
            "segment": ("industry",), "stage": ("leadstatus",)},
           {"prequalified": "mql", "contacted": "lead", "notcontacted": "lead",
            "attemptedtocontact": "lead", "contactinfuture": "lead", "notqualified": "lead",
            "junklead": NOT_A_STAGE, "lostlead": "lead"}),
)


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

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Mapping:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("table") not in TABLES:
            raise ValueError("not a Handoff mapping preset (no known 'table')")
        columns = data.get("columns", {})
        if not isinstance(columns, dict):
            raise ValueError("'columns' must map canonical fields to column names")
        known = {f.name for f in fields(data["table"])}
        return cls(table=data["table"],
                   columns={str(k): str(v) for k, v in columns.items() if k in known},
                   stages={str(k): str(v) for k, v in dict(data.get("stages", {})).items()},
                   stage_order=[str(s) for s in data.get("stage_order", [])],
                   date_order={str(k): str(v) for k, v in dict(data.get("date_order",
                                                                        {})).items()},
                   preset=data.get("preset"), note=str(data.get("note", "")))


def recognise(headers: list[str]) -> Preset | None:
    """The known export these headers come from, if any (the most specific match)."""
    keys = {normalise(h) for h in headers}
    matches = [p for p in PRESETS if set(p.signature) <= keys]
    return max(matches, key=lambda p: len(p.signature), default=None)


def propose(raw: RawTable, table: str | None = None) -> Mapping:
    """A first mapping for a raw table: a preset when recognised, else header synonyms."""
    headers = list(raw.frame.columns)
    preset = recognise(headers)
    if preset is not None and table in (None, preset.table):
        columns = _match(headers, preset.columns)
        for name, synonyms in SYNONYMS[preset.table].items():  # fill what the preset lacks
            if name not in columns:
                hit = _match(headers, {name: synonyms}, exclude=set(columns.values()))
                columns.update(hit)
        mapping = Mapping(preset.table, columns, preset=preset.name, note=preset.note)
    else:
        chosen = table or best_table(headers)
        mapping = Mapping(chosen, _match(headers, SYNONYMS[chosen]))
    mapping.stages, mapping.stage_order = propose_stages(raw, mapping, preset)
    return mapping


def best_table(headers: list[str]) -> str:
    """The canonical table these headers fit best (leads when nothing fits)."""
    scores = {}
    for table, synonyms in SYNONYMS.items():
        matched = _match(headers, synonyms)
        required = [f.name for f in fields(table) if f.required]
        scores[table] = len(matched) + 2 * sum(r in matched for r in required) \
            - 3 * sum(r not in matched for r in required if table not in ("leads", "deals"))
    if scores.get("deals", 0) >= scores.get("leads", 0) and _has_any(headers, SYNONYMS[
            "deals"], ("stage", "amount", "closed_at")):
        scores["deals"] += 1
    return max(scores, key=lambda t: (scores[t], t in ("leads", "deals")))


def _has_any(headers: list[str], synonyms: dict, names: tuple[str, ...]) -> bool:
    return any(name in _match(headers, synonyms) for name in names)


def _match(headers: list[str], wanted: dict[str, tuple[str, ...]],
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
            out[f.name] = parsing.parse_text(series, report)
        reports.append(report)
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
        rank = _per_value(out["stage"], lambda v: LEAD_STAGES.index(mapping.stages[v]) + 1
                          if mapping.stages.get(v) in LEAD_STAGES else 0, 0)
        rank = rank.astype("int64")
        if mapping.columns.get("stage") and not any(f"{s}_at" in out for s in LEAD_STAGES[1:]):
            notes.append("Only the current stage is known: a lead at a later stage is counted "
                         "as having passed every earlier stage.")
    for i, s in enumerate(LEAD_STAGES, start=1):
        if f"{s}_at" in out:
            rank = rank.where(~(out[f"{s}_at"].notna() & (rank < i)), i)
    if "converted" in out:
        rank = rank.where(~(out["converted"].fillna(False).astype(bool) & (rank < 5)), 5)
    rank = rank.where(rank > 0, 1)  # every row is at least a lead
    out["stage"] = rank.map(dict(enumerate(LEAD_STAGES, start=1)))
    if "lead_at" not in out and "created_at" in out:
        out["lead_at"] = out["created_at"]
    if "created_at" not in out and "lead_at" in out:
        out["created_at"] = out["lead_at"]
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


def _dtype(kind: str) -> str:
    return {"text": "string", "timestamp": "datetime64[us]", "number": "float64",
            "integer": "Int64", "boolean": "boolean"}[kind]


def stage_rank_order(mapping: Mapping) -> dict[str, int]:
    """Deals: raw stage -> its 1-based position in the pipeline."""
    return {s: i for i, s in enumerate(mapping.stage_order, start=1)}

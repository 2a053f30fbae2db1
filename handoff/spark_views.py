"""Publish a mapping as Spark views over a company's own table, so Spark mode reads the
company's data in place, with no copy into the canonical shape.

    python -m handoff.spark_views --mapping deals.json crm.opportunities
    python -m handoff.spark_views --database acme --currency USD --mapping leads.json crm.leads

The mapping is the JSON the Data page downloads per file (`Mapping.from_json`); its columns
name the source table's columns. `publish` creates the view `<database>.<table>` (e.g.
`handoff.deals`) that gives the rows `mapping.apply` gives for the same data, for typed
columns: timestamps and dates, numbers, booleans and text.

SQL is bound, never formatted. A view cannot hold parameter markers, so what depends on a
value (a stage name's meaning, status and pipeline position; the spellings of "missing";
a lead stage's name at its rank) is a small table written with `createDataFrame` and
joined in the view. Identifiers (the source table and its columns) are user text: each is
accepted only when it is plain (letters, digits, _; table names part by part) and, for a
column, is in the source table's schema as Spark reports it, and is then quoted. The only
literals in the SQL text are Handoff's own: its status words and the bounds it applies.

Done as the upload does: text trimmed, blank and the missing spellings as NULL; rows with
no id dropped, one row kept per id, rows missing a required field dropped, stages marked
'(not a stage)' (and deleted deals) left out; deal status from the stage map, a status
column, the won/closed flags and won/lost dates, the close date of an open deal ignored;
stage_order from `mapping.stage_order`; a lead's stage and rank from its current stage,
its per-stage dates, its converted flag and the stage every row has reached.

Not done (say so to whoever publishes): no per-row report of the rows left out; no parsing
of text into dates, numbers or booleans (such a column is refused: cast it in the lakehouse
or load files with `handoff.spark_load`); of rows repeating an id, the one kept is the
earliest created (ties broken by the other mapped values), not the first in a file (a table
has no row order); spellings that differ only by case are not merged into one, and
`unknown` in a source column is always missing (an upload keeps it as a value when the
column also has blanks); status values that first appear after publishing count as not
given (the stage decides); a lead and a deal view do not advance or link each other as
files loaded together do; a table without an id column is refused (an upload numbers its
rows). The app computes its fingerprint when it first connects: restart it after the
source changes.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from handoff import spark_db
from handoff.column_report import MISSING_SPELLINGS
from handoff.dates import EARLIEST, LATEST
from handoff.mapping import ID_FIELDS as mapping_ids
from handoff.mapping import Mapping
from handoff.parsing import LARGEST_EXACT
from handoff.presets import NOT_A_STAGE, deal_status_by_name, normalise
from handoff.schema import DEAL_STATUSES, LEAD_STAGE_RANK, LEAD_STAGES, TABLES, fields
from handoff.validation import stage_rank_order

_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ID_FIELDS = {**mapping_ids, "stage_history": "deal_id"}  # a view needs an id on each
DEDUPLICATED = ("leads", "deals", "customers")  # one row per id, as validation keeps
MISSING = "handoff_missing_spellings"
LEAD_STAGE_NAMES = "handoff_lead_stages"
# Which source column types a canonical field of each kind reads (the source kinds below)
ACCEPTS = {"text": ("string", "integer"), "timestamp": ("timestamp",),
           "number": ("integer", "number"), "integer": ("integer", "number"),
           "boolean": ("boolean", "integer")}
_TRIM = r"regexp_replace({c}, '(?U)^\\s+|\\s+$', '')"  # Python's strip(): any white space
_MAX_STATUS_VALUES = 1000


@dataclass(frozen=True)
class Published:
    """What `publish` made: the view, the source it reads, and what to know about it."""

    view: str
    source: str
    notes: tuple[str, ...]


def checked_table(name: str) -> str:
    """A source table name (`table`, `db.table` or `catalog.db.table`) as a quoted
    identifier; refused unless every part is letters, digits and _."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(_PART.match(p) for p in parts):
        raise ValueError(f"not a plain Spark table name: {name!r} (letters, digits and _ "
                         "in each part, as db.table or catalog.db.table): give the table "
                         "under such a name, or publish a plainly named view of it first")
    return ".".join(f"`{p}`" for p in parts)


def source_kind(data_type: Any) -> str | None:
    """string | integer | number | boolean | timestamp for a Spark column type; None for
    any other (arrays, maps, structs, binary, intervals)."""
    from pyspark.sql import types as T

    if isinstance(data_type, (T.StringType, T.VarcharType, T.CharType)):
        return "string"
    if isinstance(data_type, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        return "integer"
    if isinstance(data_type, T.DecimalType):
        return "integer" if data_type.scale == 0 else "number"
    if isinstance(data_type, (T.FloatType, T.DoubleType)):
        return "number"
    if isinstance(data_type, T.BooleanType):
        return "boolean"
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType, T.DateType)):
        return "timestamp"
    return None


def checked_columns(mapping: Mapping, source: str, schema: Any) -> dict[str, tuple[str, str]]:
    """Canonical field → (quoted source column, its kind), every mapped column checked:
    a plain name, in the source's schema, of a type the field reads. Raises ValueError
    naming the column and what to do."""
    have = {f.name: source_kind(f.dataType) for f in schema.fields}
    types = {f.name: f.dataType.simpleString() for f in schema.fields}
    out: dict[str, tuple[str, str]] = {}
    for f in fields(mapping.table):
        column = mapping.columns.get(f.name)
        if not column or f.derived:
            continue
        if not _PART.match(column):
            raise ValueError(f"column {column!r} (mapped to {f.name}) is not a plain name "
                             "(letters, digits and _): rename it in the lakehouse or publish "
                             f"a view of {source} with plain names, and map that")
        if column not in have:
            raise ValueError(f"column {column!r} (mapped to {f.name}) is not in {source}: "
                             "map one of its columns (" + ", ".join(sorted(have))[:300] + ")")
        kind = have[column]
        if kind not in ACCEPTS[f.kind]:
            what = {"timestamp": "a timestamp or date", "number": "a numeric",
                    "integer": "a numeric", "boolean": "a boolean (or 0/1)",
                    "text": "a string or integer"}[f.kind]
            raise ValueError(f"column {column!r} of {source} is {types[column]}, and "
                             f"{f.name} needs {what} column: text is not parsed in a view, so "
                             "cast it in the lakehouse, or load files with "
                             "`python -m handoff.spark_load` instead")
        out[f.name] = (f"`{column}`", kind)
    return out


def _value(field_kind: str, column: str, kind: str) -> str:
    """The canonical value of a checked, quoted source column, as SQL."""
    if field_kind == "text":
        if kind == "integer":
            return f"cast({column} as string)"
        trimmed = _TRIM.format(c=column)
        return (f"case when array_contains(handoff_missing.spellings, lower({trimmed})) "
                f"then null else {trimmed} end")
    if field_kind == "timestamp":  # placeholder dates (0001-01-01, 9999-12-31) are missing
        ts = f"cast({column} as timestamp_ntz)"
        return (f"case when year({ts}) between {int(EARLIEST.year)} and "
                f"{int(LATEST.year) - 1} then {ts} end")
    if field_kind in ("number", "integer"):
        number = (f"case when abs(cast({column} as double)) < {float(LARGEST_EXACT)!r}D "
                  f"then cast({column} as double) end")
        # numpy rounds half to even, as bround does
        return number if field_kind == "number" else f"cast(bround({number}) as bigint)"
    if kind == "integer":
        return f"case when {column} = 1 then true when {column} = 0 then false end"
    return column


def _write(spark: Any, frame: pd.DataFrame, schema: str, name: str) -> None:
    """A small lookup table, written from data (never as SQL text)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spark.createDataFrame(frame, schema).write.mode("overwrite").saveAsTable(name)


def stage_map(mapping: Mapping) -> pd.DataFrame:
    """Per raw stage value: its deal status, lead rank, pipeline position and whether the
    user left it out; what validation looks up per value, as rows."""
    order = stage_rank_order(mapping)
    values = list(dict.fromkeys([*mapping.stages, *mapping.stage_order]))
    meaning = [mapping.stages.get(v) for v in values]
    return pd.DataFrame({
        "value": values,
        "status": [m if m in DEAL_STATUSES else "open" for m in meaning],
        "lead_rank": [LEAD_STAGE_RANK.get(m, 0) if m else 0 for m in meaning],
        "position": [order.get(v) for v in values],
        "excluded": [m == NOT_A_STAGE for m in meaning],
    }, dtype=object)


STAGE_MAP_SCHEMA = ("value STRING, status STRING, lead_rank BIGINT, position BIGINT, "
                    "excluded BOOLEAN")


def status_map(values: list[str]) -> pd.DataFrame:
    """Per value of a deal status column: open, won or lost, and whether it marks a
    deleted deal (both as validation reads them)."""
    return pd.DataFrame({"value": values,
                         "status": [deal_status_by_name(normalise(v)) for v in values],
                         "excluded": [normalise(v) in ("deleted", "removed") for v in values]},
                        dtype=object)


def publish(spark: Any, mapping: Mapping, source: str, database: str = "handoff",
            currency: str | None = None) -> Published:
    """Create (or replace) the view `<database>.<mapping.table>` over `source`, with the
    lookup tables it joins; the amounts' currency in `handoff_meta` when given. Other
    canonical tables are left as they are (a missing one counts as empty in Spark mode).
    Raises ValueError naming what is refused and what to do."""
    database = spark_db.checked_name(database)
    quoted_source = checked_table(source)
    if currency is not None and not spark_db.CURRENCY_CODE.match(currency):
        raise ValueError(f"not a currency code: {currency!r} (three capital letters, as USD)")
    table = mapping.table
    if table not in TABLES:  # the view's name: from the schema's allow-list only
        raise ValueError(f"not a Handoff table: {table!r} (one of {', '.join(TABLES)})")
    id_field = ID_FIELDS.get(table)
    if id_field and not mapping.columns.get(id_field):
        raise ValueError(f"map a column to {id_field}: a view cannot number rows as an "
                         "upload does (a table has no row order)")
    missing = [f.name for f in fields(table) if f.required and not mapping.columns.get(f.name)]
    if missing:
        raise ValueError(f"{', '.join(missing)} is required for {table}: map a column to it")
    if not spark.catalog.tableExists(source):
        raise ValueError(f"no table {source} in the Spark catalog: name an existing table")
    columns = checked_columns(mapping, source, spark.table(source).schema)
    view = f"{database}.{table}"
    if spark.catalog.tableExists(view) and spark.catalog.getTable(view).tableType != "VIEW":
        raise ValueError(f"{view} is a table, not a view (loaded by handoff.spark_load?): "
                         f"drop it first (DROP TABLE {view}) or publish into another "
                         "database with --database")
    spark.sql("CREATE DATABASE IF NOT EXISTS IDENTIFIER(:name)", args={"name": database})
    _write(spark, pd.DataFrame({"spelling": sorted(MISSING_SPELLINGS)}, dtype=object),
           "spelling STRING", f"{database}.{MISSING}")
    notes: list[str] = []
    if table in ("leads", "deals") and "stage" in columns:
        _write(spark, stage_map(mapping), STAGE_MAP_SCHEMA, f"{database}.handoff_stages_{table}")
    if table == "deals" and "status" in columns:
        values = _status_values(spark, columns["status"], quoted_source, _quoted(database))
        _write(spark, status_map(values), "value STRING, status STRING, excluded BOOLEAN",
               f"{database}.handoff_status_{table}")
        notes.append(f"{len(values):,} status value(s) mapped; a value first seen after "
                     "publishing counts as not given (the stage decides).")
    if table == "leads":
        _write(spark, pd.DataFrame({"rank": list(LEAD_STAGE_RANK.values()),
                                    "stage": list(LEAD_STAGE_RANK)}, dtype=object),
               "rank BIGINT, stage STRING", f"{database}.{LEAD_STAGE_NAMES}")
    spark.sql(f"CREATE OR REPLACE VIEW {_quoted(database)}.`{table}` AS "
              + view_sql(mapping, columns, quoted_source, database))
    if currency is not None:
        _write(spark, pd.DataFrame({"key": ["currency"], "value": [currency]}, dtype=object),
               "key STRING, value STRING", f"{database}.{spark_db.META}")
    return Published(view, source, tuple(notes))


def _quoted(database: str) -> str:
    return ".".join(f"`{p}`" for p in database.split("."))


def view_sql(mapping: Mapping, columns: dict[str, tuple[str, str]], source: str,
             database: str) -> str:
    """The view's query: checked, quoted identifiers and Handoff's own words only (every
    value the mapping holds is in a lookup table `publish` writes)."""
    table, db = mapping.table, _quoted(database)
    id_field = ID_FIELDS.get(table)
    names = _names(table, columns)
    typed = ", ".join(f"{_value(f.kind, *columns[f.name])} as `{f.name}`"
                      for f in fields(table) if f.name in columns)
    steps = [f"typed as (select {typed} from {source} cross join (select "
             f"collect_set(spelling) as spellings from {db}.`{MISSING}`) handoff_missing)"]
    current = "typed"
    if id_field:  # no id: left out; then one row per id
        first = [n for n in ("created_at", "started_at") if n in names]
        order = ", ".join(f"`{n}`" for n in first + [n for n in names if n not in first])
        steps.append(f"ided as (select *, row_number() over (partition by `{id_field}` "
                     f"order by {order}) as handoff_n from typed where `{id_field}` is not "
                     "null)")
        current = "ided"
    where = ["r.handoff_n = 1"] if table in DEDUPLICATED else []
    where += [f"r.`{f.name}` is not null" for f in fields(table)
              if f.required and f.name != id_field]
    lookups, extra = [], []
    if table in ("leads", "deals") and "stage" in columns:
        lookups.append(f"left join {db}.`handoff_stages_{table}` st on r.`stage` = st.value")
        where.append("not coalesce(st.excluded, false)")
        extra += ["st.status as handoff_stage_status", "st.lead_rank as handoff_lead_rank",
                  "st.position as handoff_position"]
    if table == "deals" and "status" in columns:
        lookups.append(f"left join {db}.`handoff_status_{table}` sm on r.`status` = sm.value")
        where.append("not coalesce(sm.excluded, false)")
        extra.append("sm.status as handoff_given_status")
    steps.append(f"kept as (select {', '.join([f'r.`{n}`' for n in names] + extra)} from "
                 f"{current} r {' '.join(lookups)}"
                 + (f" where {' and '.join(where)}" if where else "") + ")")
    if table == "deals":
        final = _deal_columns(mapping, columns, steps)
    elif table == "leads":
        final = _lead_columns(mapping, columns, steps, db)
    else:
        final = {n: f"`{n}`" for n in names}
        steps.append("finished as (select * from kept)")
    select = ", ".join(
        f"cast({final.get(f.name, 'null')} as {spark_db.SPARK_TYPES[f.kind]}) as `{f.name}`"
        for f in fields(table))
    return f"with {', '.join(steps)} select {select} from finished"


def _names(table: str, columns: dict[str, tuple[str, str]]) -> list[str]:
    return [f.name for f in fields(table) if f.name in columns]


def _status_values(spark: Any, column: tuple[str, str], source: str, db: str) -> list[str]:
    """The distinct (trimmed, non-missing) values of the deal status column, now."""
    value = _value("text", *column)
    rows = spark.sql(f"select distinct {value} as v from {source} cross join (select "
                     f"collect_set(spelling) as spellings from {db}.`{MISSING}`) "
                     f"handoff_missing limit {_MAX_STATUS_VALUES + 1}").collect()
    values = sorted(r["v"] for r in rows if r["v"] is not None)
    if len(values) > _MAX_STATUS_VALUES:
        raise ValueError(f"the status column {column[0]} has more than "
                         f"{_MAX_STATUS_VALUES:,} values: map a status column (open / won / "
                         "lost), or none")
    return values


def _deal_columns(mapping: Mapping, columns: dict[str, tuple[str, str]],
                  steps: list[str]) -> dict[str, str]:
    """Deals: status and close date as `validation._finish_deals` derives them, as steps
    appended to `steps`; canonical field → its expression over the last step."""
    names = _names("deals", columns)
    status = "coalesce(handoff_stage_status, 'open')" if "stage" in columns else "'open'"
    if "status" in columns:
        status = f"coalesce(handoff_given_status, {status})"
    if "closed" in columns:  # flags outrank stage names when filled
        status = f"case when coalesce(`closed`, false) and {status} = 'open' then 'lost' " \
                 f"else {status} end"
    if "won" in columns:
        status = f"case when coalesce(`won`, false) then 'won' else {status} end"
    closed = "`closed_at`" if "closed_at" in columns else "cast(null as timestamp_ntz)"
    carried = [f"`{n}`" for n in names if n != "closed_at"]
    if "stage" in columns:
        carried.append("handoff_position")
    steps.append(f"s0 as (select {', '.join(carried)}, {closed} as `closed_at`, {status} "
                 "as handoff_status from kept)")
    last = "s0"
    for outcome in ("won", "lost"):  # a won (lost) date decides what nothing else did
        if f"{outcome}_at" not in columns:
            continue
        dated = f"(`{outcome}_at` is not null and handoff_status = 'open')"
        step = f"s_{outcome}"
        steps.append(f"{step} as (select {', '.join(carried)}, case when {dated} then "
                     f"coalesce(`closed_at`, `{outcome}_at`) else `closed_at` end as "
                     f"`closed_at`, case when {dated} then '{outcome}' else handoff_status "
                     f"end as handoff_status from {last})")
        last = step
    steps.append(f"finished as (select * from {last})")
    out = {n: f"`{n}`" for n in names}
    out["status"] = "handoff_status"
    # an open deal's close date is an expected date: ignored until it closes
    out["closed_at"] = "case when handoff_status = 'open' then null else `closed_at` end"
    if "stage" in columns:
        out["stage_order"] = "handoff_position"
    return out


def _lead_columns(mapping: Mapping, columns: dict[str, tuple[str, str]], steps: list[str],
                  db: str) -> dict[str, str]:
    """Leads: stage and rank as `validation._finish_leads` derives them; canonical field →
    its expression over the last step (the stage's name from a table of the six)."""
    names = _names("leads", columns)
    rank = "coalesce(handoff_lead_rank, 0)" if "stage" in columns else "0"
    for s, i in LEAD_STAGE_RANK.items():
        if f"{s}_at" in columns:
            rank = f"greatest({rank}, case when `{s}_at` is not null then {int(i)} else 0 end)"
    if "converted" in columns:
        means = int(LEAD_STAGE_RANK[mapping.converted_means])
        rank = f"greatest({rank}, case when coalesce(`converted`, false) then {means} " \
               "else 0 end)"
    floor = LEAD_STAGE_RANK[mapping.row_stage]
    rank = f"greatest({rank}, {int(floor)})"  # every row is at least a lead (or an MQL…)
    carried = ", ".join(f"k.`{n}`" for n in names if n != "stage")
    steps.append(f"ranked as (select {carried}{', ' if carried else ''}{rank} as "
                 "handoff_rank from kept k)")
    steps.append(f"finished as (select r.*, n.stage as handoff_stage from ranked r join "
                 f"{db}.`{LEAD_STAGE_NAMES}` n on r.handoff_rank = n.rank)")
    out = {n: f"`{n}`" for n in names}
    out["stage"], out["stage_rank"] = "handoff_stage", "handoff_rank"
    created = "`created_at`" if "created_at" in columns else None
    if "lead_at" not in columns and created:
        out["lead_at"] = created
    if not created and "lead_at" in columns:
        out["created_at"] = created = "`lead_at`"
    for s in LEAD_STAGES[1:floor]:  # a file of MQLs: each became one when it was created
        if f"{s}_at" not in columns and created:
            out[f"{s}_at"] = created
    if "converted" not in columns:
        out["converted"] = "handoff_rank >= 5"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the company's table, as db.table or catalog.db.table")
    parser.add_argument("--mapping", type=Path, required=True,
                        help="the mapping JSON the Data page downloads for a file")
    parser.add_argument("--remote", default="sc://127.0.0.1:15002",
                        help="Spark Connect address (default: %(default)s)")
    parser.add_argument("--database", default="handoff", help="default: %(default)s")
    parser.add_argument("--currency", help="the amounts' ISO currency code, such as USD")
    args = parser.parse_args(argv)
    try:
        mapping = Mapping.from_json(args.mapping.read_bytes())
        spark = spark_db.session(args.remote)
        published = publish(spark, mapping, args.source, args.database, args.currency)
        opened = spark_db.spark_database(spark, args.database)
    except (OSError, ValueError) as e:
        print(f"not published: {e}", file=sys.stderr)
        return 1
    print(f"published {published.view} over {published.source}: "
          f"{opened.row_counts[mapping.table]:,} {mapping.table} rows")
    for note in published.notes:
        print(f"  {note}")
    print(f"run the app on it: HANDOFF_ENGINE=spark HANDOFF_SPARK_REMOTE={args.remote} "
          f"HANDOFF_SPARK_DATABASE={args.database} make run")
    return 0


if __name__ == "__main__":
    sys.exit(main())

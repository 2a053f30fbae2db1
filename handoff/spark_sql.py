"""The queries' DuckDB SQL as Spark SQL: one source, transpiled with a pinned sqlglot.

sqlglot turns DuckDB SQL into Spark SQL; what it turns into different numbers on Spark 4
(ANSI mode) is rewritten here, each rule with the difference it removes. `portability_problems`
names what neither sqlglot nor these rules carry, so a query using it fails a test before it
can give other numbers on Spark.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark

from handoff.db import sql_text

EPOCH = "1970-01-01 00:00:00"
# DuckDB date_trunc units that Spark's trunc(date, unit) computes without a time zone.
DATE_UNITS = {"year", "quarter", "month", "week"}
# Aggregates whose order or tie-breaking is not defined the same way on both engines, and
# functions whose numbers differ on Spark with no rewrite here. (name, what to do instead)
NOT_CARRIED: dict[type[exp.Expression], str] = {
    exp.DayOfWeek: "dayofweek() counts from Sunday = 0 in DuckDB, 1 in Spark: use isodow "
                   "arithmetic in Python, or date_trunc('week', …)",
    exp.DayOfWeekIso: "isodow() has no Spark twin here: use date_trunc('week', …)",
    exp.AnyValue: "any_value() picks a different row on each engine: use min() or max()",
    exp.Length: "len() of a list is character length on Spark: use array_length()",
    exp.IntDiv: "// on Spark rounds toward zero, in DuckDB toward minus infinity: use floor(a / b)",
    exp.Mod: "% of a negative number differs: avoid it",
    exp.Median: "median() interpolates differently: use quantile_cont(x, 0.5)",
    exp.Mode: "mode() breaks ties differently: count and order explicitly",
    exp.PercentileDisc: "quantile_disc() picks different rows: use quantile_cont",
    exp.TimeToStr: "strftime() formats differ: format in Python",
    exp.TimeToUnix: "epoch() depends on Spark's session time zone: use date_diff('second', …)",
}
NOT_CARRIED_NAMES = {
    "date_part": "date_part('dow', …) and friends differ: use date_trunc",
    "list_sort": "list functions with an order have no Spark form here",
    "list_aggregate": "list functions with an order have no Spark form here",
    "arg_min": "arg_min() breaks ties differently: order explicitly",
    "arg_max": "arg_max() breaks ties differently: order explicitly",
}


class HandoffSpark(Spark):
    """Spark SQL as sqlglot writes it, with decimal literals written as doubles: DuckDB divides
    `x / 86400.0` in floating point, Spark in DECIMAL (which rounds at the 6th decimal)."""

    class Generator(Spark.Generator):
        def literal_sql(self, expression: exp.Literal) -> str:
            text = super().literal_sql(expression)
            if not expression.is_string and any(c in text for c in ".eE"):
                return f"{text}D"
            return text


@lru_cache(maxsize=256)
def spark_text(name: str, tables: tuple[tuple[str, str], ...] = ()) -> str:
    """The Spark SQL run for queries/<name>.sql (parameters stay named: `:name`), each
    canonical table read from where `tables` says (canonical name → qualified name)."""
    return to_spark(sql_text(name), dict(tables))


def to_spark(duckdb_sql: str, tables: dict[str, str] | None = None) -> str:
    """One DuckDB statement as Spark SQL that gives the same numbers (see the rules below).
    `tables` qualifies the canonical tables (`leads` → `acme.crm.leads`), so two databases
    on one Spark session never read each other's tables; the names come from the schema's
    allow-list and `spark_db.checked_name`, never from a query's text."""
    problems = portability_problems(duckdb_sql)
    if problems:
        raise ValueError("not portable to Spark: " + "; ".join(problems))
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    tree = tree.transform(_rewrite)
    if tables:
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        tree = tree.transform(lambda node: _qualified(node, tables, ctes))
    return tree.sql(dialect=HandoffSpark, comments=False)


def _qualified(node: exp.Expression, tables: dict[str, str], ctes: set[str]) -> exp.Expression:
    if (isinstance(node, exp.Table) and not node.db and node.name in tables
            and node.name not in ctes):
        where = exp.to_table(tables[node.name])
        where.set("alias", node.args.get("alias") or exp.TableAlias(
            this=exp.to_identifier(node.name)))
        return where
    return node


def portability_problems(duckdb_sql: str) -> list[str]:
    """What in this DuckDB statement would not carry to Spark with the same numbers."""
    try:
        trees = sqlglot.parse(duckdb_sql, read="duckdb")
    except sqlglot.errors.ParseError as e:
        return [f"sqlglot cannot parse it: {str(e).splitlines()[0]}"]
    if len([t for t in trees if t is not None]) != 1:
        return ["not exactly one statement"]
    tree = trees[0]
    found: list[str] = []
    for node in tree.walk():
        for kind, why in NOT_CARRIED.items():
            if type(node) is kind:
                found.append(why)
        if isinstance(node, exp.Anonymous) and node.name.lower() in NOT_CARRIED_NAMES:
            found.append(NOT_CARRIED_NAMES[node.name.lower()])
        if isinstance(node, (exp.ArrayAgg, exp.GroupConcat)) and isinstance(
                node.this, exp.Order):
            found.append(f"{node.sql('duckdb')[:40]}…: an aggregate with its own order has "
                         "no Spark form that keeps it (collect_list has no order)")
        if isinstance(node, exp.DateDiff) and node.unit and node.unit.name.lower() != "second":
            found.append(f"date_diff('{node.unit.name.lower()}', …) counts boundaries in DuckDB "
                         "and whole units in Spark: use date_diff('second', …) / a length")
        if isinstance(node, exp.Extract):
            found.append(f"extract({node.this.name.lower()} …) differs: use date_trunc")
        if isinstance(node, exp.Div) and not _safe_denominator(node.expression):
            found.append(f"{node.sql('duckdb')[:60]}: a denominator that may be zero gives inf "
                         "in DuckDB and an error on Spark: wrap it in nullif(…, 0)")
        if _is_histogram(node) and len(node.expressions) != 1:
            found.append("histogram() with more than one argument")
    return found


def _safe_denominator(node: exp.Expression) -> bool:
    """A non-zero number, or nullif(…, 0): never a division by zero."""
    if isinstance(node, exp.Paren):
        return _safe_denominator(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        return float(node.this) != 0
    if isinstance(node, exp.Nullif):
        zero = node.expression
        return isinstance(zero, exp.Literal) and not zero.is_string and float(zero.this) == 0
    return False


def _rewrite(node: exp.Expression) -> exp.Expression:
    """One node of the DuckDB tree as Spark needs it for the same result."""
    if isinstance(node, exp.PercentileCont):
        # quantile_cont(x, p) → percentile(x, p): the same linear interpolation; Spark's
        # percentile_cont takes only WITHIN GROUP.
        return exp.Anonymous(this="PERCENTILE", expressions=[_t(node.this),
                                                             _t(node.expression)])
    if isinstance(node, exp.ToDays):
        # to_days(n) → make_dt_interval(n): n days of 24 hours (naive timestamps have no DST)
        return exp.Anonymous(this="MAKE_DT_INTERVAL", expressions=[_t(node.this)])
    if isinstance(node, exp.DateDiff) and node.unit and node.unit.name.lower() == "second":
        # DuckDB counts second boundaries crossed (0.9 s → 1.1 s is 1); Spark's timestampdiff
        # counts whole seconds elapsed (0). Boundaries: the difference of floored epochs.
        return exp.Paren(this=exp.Sub(this=_epoch_seconds(_t(node.this)),
                                      expression=_epoch_seconds(_t(node.expression))))
    if isinstance(node, exp.TimestampTrunc):
        return _truncated(node)
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        # DuckDB's list[i] is NULL out of range; Spark's a[i] raises (ANSI): try_element_at
        return exp.Anonymous(this="TRY_ELEMENT_AT",
                             expressions=[_t(node.this), _one_based(_t(node.expressions[0]))])
    if isinstance(node, exp.Filter) and _is_histogram(node.this):
        return _histogram(_t(node.this.expressions[0]), _t(node.expression))
    if _is_histogram(node) and not isinstance(node.parent, exp.Filter):
        return _histogram(_t(node.expressions[0]), None)
    return node


def _t(node: exp.Expression) -> exp.Expression:
    """A replaced node's parts, rewritten too (sqlglot does not descend into a replacement)."""
    return node.transform(_rewrite)


def _epoch_seconds(value: exp.Expression) -> exp.Expression:
    micros = exp.Anonymous(this="TIMESTAMPDIFF", expressions=[
        exp.var("MICROSECOND"),
        exp.Cast(this=exp.Literal.string(EPOCH), to=exp.DataType.build("TIMESTAMP_NTZ",
                                                                       dialect="spark")),
        value.copy()])
    return exp.Cast(this=exp.Floor(this=exp.Div(this=micros,
                                                expression=exp.Literal.number("1000000.0"))),
                    to=exp.DataType.build("BIGINT"))


def _truncated(node: exp.TimestampTrunc) -> exp.Expression:
    """date_trunc as a naive timestamp: Spark's date_trunc returns a zoned timestamp in the
    session's time zone; trunc(date) does not look at a time zone at all."""
    unit = node.args.get("unit")
    ntz = exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
    unit_sql = unit.copy() if isinstance(unit, exp.Placeholder) else exp.Literal.string(
        unit.name.lower())
    if isinstance(unit, exp.Placeholder) or unit.name.lower() in DATE_UNITS:
        day = exp.Cast(this=_t(node.this), to=exp.DataType.build("DATE"))
        return exp.Cast(this=exp.Anonymous(this="TRUNC", expressions=[day, unit_sql]), to=ntz)
    return exp.Cast(this=exp.Anonymous(this="DATE_TRUNC", expressions=[unit_sql,
                                                                       _t(node.this)]),
                    to=ntz)


def _one_based(index: exp.Expression) -> exp.Expression:
    """sqlglot stores DuckDB's 1-based index as `i + -1`; try_element_at wants `i`."""
    if isinstance(index, exp.Literal) and not index.is_string:
        return exp.Literal.number(int(index.this) + 1)
    if isinstance(index, exp.Add) and isinstance(index.expression, exp.Neg) and (
            index.expression.this == exp.Literal.number(1)):
        return index.this.copy()
    return exp.Add(this=index.copy(), expression=exp.Literal.number(1))


def _is_histogram(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() == "histogram"


def _histogram(value: exp.Expression, where: exp.Expression | None) -> exp.Expression:
    """histogram(x) (a map of value → count, NULL over no rows) from collect_list: each
    distinct value with the number of times it occurs."""
    collected: exp.Expression = exp.Anonymous(this="COLLECT_LIST", expressions=[value.copy()])
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
    k, v = exp.to_identifier("k"), exp.to_identifier("v")

    def call(name: str, *args: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=list(args))

    counted = call("SIZE", call("FILTER", collected.copy(), exp.Lambda(
        this=exp.EQ(this=exp.column(v), expression=exp.column(k)), expressions=[v])))
    entries = call("MAP_FROM_ENTRIES", call("TRANSFORM", call(
        "ARRAY_SORT", call("ARRAY_DISTINCT", collected.copy())), exp.Lambda(
        this=call("STRUCT", exp.column(k), counted), expressions=[k])))
    return exp.Case(ifs=[exp.If(this=exp.GT(this=call("SIZE", collected),
                                            expression=exp.Literal.number(0)),
                                true=entries)])

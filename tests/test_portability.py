"""The portability lint: every query file carries to Spark, and the lint catches what does not.

No Spark here (test_spark_parity.py runs the queries on both engines): this is the fast check
that a new query does not use a construct known to break or change numbers on Spark.
"""

from __future__ import annotations

import pytest
import sqlglot

from handoff import db, spark_sql


@pytest.mark.parametrize("name", db.query_names())
def test_every_query_is_portable(name):
    assert spark_sql.portability_problems(db.sql_text(name)) == [], name


@pytest.mark.parametrize("name", db.query_names())
def test_every_query_transpiles_to_one_spark_statement_with_the_same_parameters(name):
    text = spark_sql.spark_text(name)
    statements = sqlglot.parse(text, read="spark")
    assert len(statements) == 1
    named = {p.name for p in statements[0].find_all(sqlglot.exp.Placeholder)}
    duckdb = {p.name for p in sqlglot.parse_one(db.sql_text(name), read="duckdb")
              .find_all(sqlglot.exp.Placeholder)}
    assert named == duckdb and db.declared_params(name) <= named
    assert "$" not in text  # every DuckDB $param became a Spark :param


BAD = {
    "histogram with two arguments": "select histogram(x, 2) from t",
    "histogram with two arguments, filtered": "select histogram(x, 2) filter (where y) from t",
    "an ordered list aggregate": "select list(x order by y) from t",
    "an ordered string_agg": "select string_agg(x, ',' order by y) from t",
    "array_agg with an order": "select array_agg(x order by y) from t",
    "dayofweek": "select dayofweek(created_at) from leads",
    "isodow": "select isodow(created_at) from leads",
    "date_part dow": "select date_part('dow', created_at) from leads",
    "extract": "select extract(dow from created_at) from leads",
    "date_diff in days": "select date_diff('day', created_at, closed_at) from deals",
    "an unguarded division": "select won / (won + lost) from t",
    "a division by a parameter": "select x / $n from t",
    "a division by zero": "select x / 0 from t",
    "len of a list": "select len([1, 2]) from t",
    "any_value": "select any_value(owner) from deals",
    "integer division": "select x // 2 from t",
    "median": "select median(x) from t",
    "two statements": "select 1; select 2",
    "not SQL": "select from where (",
}


@pytest.mark.parametrize("label", BAD)
def test_the_lint_fails_a_construct_that_does_not_carry(label):
    problems = spark_sql.portability_problems(BAD[label])
    assert problems, label
    with pytest.raises(ValueError, match="not portable to Spark"):
        spark_sql.to_spark(BAD[label])


GOOD = [
    "select won / nullif(won + lost, 0) from t",
    "select date_diff('second', a, b) / 86400.0 from t",
    "select quantile_cont(x, 0.5), quantile_cont(x, [0.25, 0.75]) from t",
    "select histogram(floor(x / 7)) filter (where x is not null) from t",
    "select date_trunc('month', created_at), created_at + to_days(3) from leads",
]


@pytest.mark.parametrize("sql", GOOD)
def test_the_lint_passes_what_the_dialect_rewrites(sql):
    assert spark_sql.portability_problems(sql) == []
    assert spark_sql.to_spark(sql)


def test_the_rewrites_are_the_ones_that_keep_the_numbers():
    spark = spark_sql.to_spark(
        "select quantile_cont(x, 0.5) as q, date_diff('second', a, b) / 86400.0 as d, "
        "a + to_days(cast($n as integer)) as w, date_trunc($grain, a) as p, l[2] as e, "
        "histogram(k) as h from t")
    assert "PERCENTILE(x, 0.5D)" in spark  # not percentile_cont(x, p), not a DECIMAL 0.5
    assert "/ 86400.0D" in spark  # a double division, as DuckDB's, not DECIMAL
    assert "TIMESTAMPDIFF(MICROSECOND" in spark and "FLOOR" in spark  # second boundaries
    assert "MAKE_DT_INTERVAL(CAST(:n AS INT))" in spark
    assert "CAST(TRUNC(CAST(a AS DATE), :grain) AS TIMESTAMP_NTZ)" in spark
    assert "TRY_ELEMENT_AT(l, 2)" in spark  # 1-based, NULL out of range as in DuckDB
    assert "MAP_FROM_ENTRIES" in spark and "COLLECT_LIST(k)" in spark
    assert "QUANTILE_CONT" not in spark.upper() and "HISTOGRAM" not in spark.upper()

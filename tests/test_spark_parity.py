"""Every query file, with the parameters the pages use, on DuckDB and on Spark (local, through
Spark Connect), on edge-case data: the results must be equal (floats to 1e-9 relative,
types normalised; see spark_edge.py). The closing lines of the run say how many queries were
identical."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import spark_edge
import sqlglot
from conftest import SPARK_PARITY

from handoff import db, spark_db, spark_sql
from handoff.filters import Filters

# Setting up runs every call on Spark (about a minute on 2 quiet cores): more than the
# suite's 5-minute default when the machine is busy.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def parity(spark_engines) -> dict[str, list[str]]:
    """Per query name, how its calls differed between the engines (empty: identical)."""
    duck, spark = spark_engines
    found: dict[str, list[str]] = {name: [] for name in db.query_names()}
    for name, params in spark_edge.calls():
        expected = db.query(duck, name, **params)
        try:
            got = db.query(spark, name, **params)
        except Exception as e:  # noqa: BLE001 - a Spark error is a difference to report
            found[name].append(f"{params}: Spark failed: {str(e).splitlines()[0]}")
            continue
        ordered = sqlglot.parse_one(db.sql_text(name), read="duckdb").args.get("order")
        found[name] += [f"{params}: {d}" for d in
                        spark_edge.differences(expected, got, ordered is not None)]
    for name, differences in found.items():
        SPARK_PARITY[name] = not differences
    return found


def test_every_query_file_is_called():
    assert {name for name, _ in spark_edge.calls()} == set(db.query_names())


def test_every_call_binds_what_its_query_declares():
    """A query's parameters change with the pages: a call that binds a stale set would make
    both engines fail alike and be counted identical."""
    wrong = {name: sorted(set(params) ^ db.declared_params(name))
             for name, params in spark_edge.calls() if set(params) != db.declared_params(name)}
    assert wrong == {}


def test_the_spark_benchmark_binds_what_its_queries_declare():
    """`benchmarks/spark.py` times the pages' calls: a stale one would fail there only, after
    minutes of loading."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "spark.py"
    spec = importlib.util.spec_from_file_location("benchmark_spark", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    f = Filters(dt.date(2024, 1, 1), dt.date(2026, 12, 31), all_time=True)
    calls = [c for page in bench.page_calls(f).values() for c in page]
    wrong = {name: sorted(set(params) ^ db.declared_params(name))
             for name, params in calls if set(params) != db.declared_params(name)}
    assert calls and wrong == {}


@pytest.mark.parametrize("name", db.query_names())
def test_query_gives_the_same_result_on_spark(parity, name):
    assert parity[name] == [], "\n".join(parity[name][:5])


def test_the_edge_data_has_its_edges(spark_engines):
    """The comparison means something only if the data reaches the cases it is meant to."""
    duck, spark = spark_engines
    row = db.query(duck, "home_summary").iloc[0]
    assert row.leads == 240 and 0 < row.won < row.deals
    steps = db.query(duck, "time_to_convert", **{**_all_time(), "from_position": 2,
                                                  "to_position": 3})
    assert steps.converted.iloc[0] > 0
    # an empty range: zero rows, or zero counts with NULL rates, on both
    empty = db.query(duck, "close_rates", **_all_time(start="2030-01-01", end="2030-02-01"),
                     by="owner", definition="closed", sales_sources=[], include_undated=False)
    assert empty.empty
    assert spark.row_counts == duck.row_counts
    assert spark.fields_present == duck.fields_present


def test_differences_are_found_when_there_are_some():
    """The comparison itself: a changed number, a changed order and a type change."""
    a = pd.DataFrame({"x": [1.0, 2.0], "t": pd.to_datetime(["2024-02-29", "2024-03-01"])})
    assert spark_edge.differences(a, a.assign(x=[1.0, 2.0 + 1e-12]), True) == []
    assert spark_edge.differences(a, a.assign(x=[1.0, 2.001]), True)
    assert spark_edge.differences(a, a.iloc[::-1], True)
    assert spark_edge.differences(a, a.iloc[::-1], False) == []
    assert spark_edge.differences(a, a.assign(x=pd.array([1, 2], dtype="Int64")), True) == []
    assert spark_edge.differences(a, a.assign(x=[1.0, None]), True)


def test_a_missing_table_is_empty_and_a_missing_column_is_named(spark_session):
    spark = spark_session
    tables = spark_edge.edge_tables()
    spark.sql("CREATE DATABASE IF NOT EXISTS handoff_partial")
    frame = spark_db.canonical_frame("teams", tables["teams"])
    spark.createDataFrame(spark_db._records(frame), spark_db.struct_type("teams")) \
        .write.mode("overwrite").saveAsTable("handoff_partial.teams")
    partial = spark_db.spark_database(spark, "handoff_partial")
    assert partial.row_counts["teams"] == 5 and partial.row_counts["leads"] == 0
    assert any("no leads table" in n for n in partial.notes)
    assert db.query(partial, "home_summary").iloc[0].leads == 0
    spark.createDataFrame([("x",)], "manager STRING").write.mode("overwrite") \
        .saveAsTable("handoff_partial.teams")
    with pytest.raises(ValueError, match=r"handoff_partial.teams lacks the column\(s\) owner"):
        spark_db.spark_database(spark, "handoff_partial")


def test_spark_sql_is_cached_per_query_name():
    assert spark_sql.spark_text("home_summary") is spark_sql.spark_text("home_summary")


def _all_time(start: str = "1900-01-01", end: str = "2100-01-01") -> dict[str, object]:
    return {"start": pd.Timestamp(start).to_pydatetime(), "end": pd.Timestamp(end)
            .to_pydatetime(), "sources": [], "segments": [], "owners": []}

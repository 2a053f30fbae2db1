"""Spark mode as a user meets it: the engine setting, pages rendered on Spark showing the
numbers they show on DuckDB for the same data, and where an upload goes."""

from __future__ import annotations

import pandas as pd
import pytest
import spark_edge
from streamlit.testing.v1 import AppTest

from handoff import dataset, engine, ingest, mapping, proposal, spark_db, ui
from tests.conftest import fixture_bytes, into_workspace, shown

pytestmark = pytest.mark.timeout(900)


def test_the_setting_chooses_the_engine():
    assert engine.settings({}).engine == "duckdb"
    s = engine.settings({"HANDOFF_ENGINE": "Spark", "HANDOFF_SPARK_REMOTE": "sc://h:1",
                         "HANDOFF_SPARK_DATABASE": "acme"})
    assert (s.engine, s.remote, s.database) == ("spark", "sc://h:1", "acme")
    with pytest.raises(ValueError, match="HANDOFF_ENGINE='sparkle' is not one of duckdb, spark"):
        engine.settings({"HANDOFF_ENGINE": "sparkle"})
    with pytest.raises(ValueError, match="must be a Spark Connect address"):
        engine.settings({"HANDOFF_ENGINE": "spark", "HANDOFF_SPARK_REMOTE": "http://h:1"})
    with pytest.raises(ValueError, match="not a Spark database name"):
        spark_db.checked_name("x; drop table leads")


def test_spark_mode_opens_on_the_spark_database(spark_remote, spark_engines):
    _, spark = spark_engines
    s = engine.Settings("spark", spark_remote, "handoff_edge")
    opened = engine.default_database(s)
    try:
        assert opened.engine == "spark" and opened.shared
        assert opened.fingerprint == spark.fingerprint  # same tables, same fingerprint
        assert opened.row_counts == spark.row_counts
        assert opened.currency == spark.currency == "EUR"  # kept beside the tables
    finally:
        opened.session.stop()
    with pytest.raises(RuntimeError, match="cannot be reached"):
        engine.default_database(engine.Settings("spark", "sc://127.0.0.1:9", "handoff"))


def _shown(script: str, db, monkeypatch) -> tuple[dict[str, str], list[pd.DataFrame]]:
    """The page's metrics (label → value) and tables, as rendered with `db` as the default
    database (what an empty workspace shows: the Spark tables in Spark mode)."""
    monkeypatch.setattr(ui, "_default_database", lambda: db)
    at = AppTest.from_file(script, default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return {m.label: m.value for m in at.metric}, [d.value for d in at.dataframe]


@pytest.mark.parametrize("script", ["../Home.py", "../pages/2_Funnel.py",
                                    "../pages/3_Close_rates.py", "../pages/4_Objectives.py",
                                    "../pages/5_What_if.py"])
def test_a_page_shows_the_same_numbers_on_spark(spark_engines, script, monkeypatch):
    duck, spark = spark_engines
    metrics, tables = _shown(script, duck, monkeypatch)
    assert metrics or any(len(t) for t in tables), "the page shows no numbers to compare"
    if script == "../Home.py":  # money in the data's currency on both engines
        assert any(v.startswith("€") for v in metrics.values()), metrics
    on_spark = _shown(script, spark, monkeypatch)
    assert on_spark[0] == metrics
    assert len(on_spark[1]) == len(tables)
    for a, b in zip(tables, on_spark[1], strict=True):
        assert spark_edge.differences(a.reset_index(), b.reset_index(), True) == []


def test_an_upload_in_spark_mode_becomes_a_duckdb_version_of_the_workspace(spark_engines,
                                                                           monkeypatch):
    _, spark = spark_engines
    monkeypatch.setenv("HANDOFF_ENGINE", "spark")
    monkeypatch.setenv("HANDOFF_SPARK_DATABASE", "handoff_edge")
    monkeypatch.setattr(ui, "_default_database", lambda: spark)
    at = AppTest.from_file("../pages/1_Data.py", default_timeout=300)
    at.run()
    assert not at.exception
    said = shown(" ".join(i.value for i in at.info))
    assert "a version of the workspace in DuckDB" in said and "handoff_edge" in said

    name = "maven_sales_pipeline_300.csv"
    raw = ingest.read_upload(name, fixture_bytes(name))
    m = proposal.propose_all([raw])[0]
    frame, validation = mapping.apply(raw, m)
    loaded = dataset.load([dataset.Pending(name, m, frame, validation)], spark,
                          keep_current=True)
    assert loaded.engine == "duckdb" and loaded.connection is not None
    assert loaded.row_counts["deals"] == len(frame) > 0
    assert loaded.row_counts["customers"] == 0  # the Spark tables were not copied in
    assert any("not combined" in n for n in loaded.notes)
    again = spark_db.spark_database(spark.session, "handoff_edge")
    assert again.fingerprint == spark.fingerprint  # the Spark tables are untouched
    into_workspace(loaded)  # saved as the workspace's version, the Home page shows it
    home = AppTest.from_file("../Home.py", default_timeout=300)
    home.run()
    assert not home.exception
    won = {m.label: m.value for m in home.metric}["Deals won"]
    assert won == f"{int((frame.status == 'won').sum()):,}"  # the upload's, not Spark's


def test_spark_load_puts_files_in_the_catalog_as_an_upload_maps_them(spark_remote, capsys):
    from handoff import db, spark_load
    from tests.conftest import FIXTURES, load_files

    name = "maven_sales_pipeline_300.csv"
    assert spark_load.main(["--remote", spark_remote, "--database", "handoff_files",
                            str(FIXTURES / name)]) == 0
    assert "loaded into handoff_files" in capsys.readouterr().out
    uploaded = load_files(name)
    spark = spark_db.spark_database(spark_db.session(spark_remote), "handoff_files")
    try:
        assert spark.row_counts == uploaded.row_counts
        assert spark.currency == uploaded.currency
        assert spark.fields_present == uploaded.fields_present
        for query in ("home_summary", "filter_options"):
            assert spark_edge.differences(db.query(uploaded, query),
                                          db.query(spark, query), True) == []
    finally:
        spark.session.stop()
        uploaded.close()
    assert spark_load.main(["--remote", spark_remote, "--database", "x; drop",
                            str(FIXTURES / name)]) == 1
    assert "not a Spark database name" in capsys.readouterr().err


def test_a_currency_that_is_not_a_code_is_not_shown(spark_session):
    """`handoff_meta` is a table anyone with write access may change: what it holds is
    checked before it reaches a page."""
    tables = spark_edge.edge_tables()
    spark_db.write_tables(spark_session, "handoff_meta_check", tables, currency="USD")
    assert spark_db.spark_database(spark_session, "handoff_meta_check").currency == "USD"
    spark_db.write_tables(spark_session, "handoff_meta_check", tables,
                          currency="<b>$</b>")
    assert spark_db.spark_database(spark_session, "handoff_meta_check").currency is None

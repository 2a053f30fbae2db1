"""The session database: canonical tables, queries by name with bound parameters, lockdown."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from handoff import db as dbm
from handoff.fingerprint import value_bytes
from handoff.schema import TABLES, field_names
from tests.conftest import FIXTURES


def test_every_canonical_table_exists_even_when_empty(maven_db):
    assert maven_db.row_counts["deals"] == 300
    for table in TABLES:
        with maven_db.connection.cursor() as cur:
            cols = [r[0] for r in cur.execute(f'describe "{table}"').fetchall()]
        assert cols == field_names(table)
    assert maven_db.row_counts["leads"] == 0
    assert maven_db.has("deals", "amount") and not maven_db.has("deals", "margin")


@pytest.mark.parametrize("statement", [
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/hostname')",
    "copy deals to '/tmp/handoff-leak.csv'",
    "attach '/tmp/handoff-x.db'",
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "set memory_limit = '20GB'",
    "select * from read_parquet('https://example.com/x.parquet')",
])
def test_lockdown_refuses_files_extensions_and_settings(maven_db, statement):
    with pytest.raises(duckdb.Error), maven_db.connection.cursor() as cur:
        cur.execute(statement)
    with maven_db.connection.cursor() as cur:  # and the data is still there
        assert cur.execute("select count(*) from deals").fetchone()[0] == 300


def test_each_query_declares_exactly_the_parameters_it_binds():
    con = duckdb.connect()
    for name in dbm.query_names():
        statements = con.extract_statements(dbm.sql_text(name))
        assert len(statements) == 1, f"{name}.sql must hold one statement"
        assert set(statements[0].named_parameters) == dbm.declared_params(name), name


def test_every_staging_piece_is_used_and_declares_what_it_binds():
    used = {p for name in dbm.query_names() for p in dbm.staging_pieces(dbm.sql_text(name))}
    assert used == set(dbm.staging_names())
    for piece in dbm.staging_names():
        text = (dbm.STAGING_DIR / f"{piece}.sql").read_text()
        header, body = dbm._split_header(text)
        declared = set(re.findall(r"\$([a-z_][a-z0-9_]*)", header))
        bound = set(re.findall(r"\$([a-z_][a-z0-9_]*)", body))
        assert bound <= declared, piece


def test_staging_pieces_come_before_the_query_and_in_dependency_order():
    text = dbm.sql_text("funnel_leads_cohort")
    assert text.index("chosen_leads as (") < text.index("cohort_leads as (") \
        < text.index("cohort as (")
    with pytest.raises(ValueError):
        dbm.sql_text("../staging/chosen_leads")


@pytest.mark.parametrize("name", ["../secret", "home_summary; drop table deals", "Home", ""])
def test_query_names_are_an_allow_list(name):
    with pytest.raises(ValueError):
        dbm.sql_text(name)


def test_fingerprint_follows_content_not_names():
    a = pd.DataFrame({"deal_id": ["1", "2"], "amount": [1.0, 2.0]})
    c = a.assign(amount=[1.0, 3.0])
    first = dbm.build_database({"deals": a}, "one name")
    same = dbm.build_database({"deals": a.copy()}, "another name")
    other = dbm.build_database({"deals": c}, "one name")
    assert first.fingerprint == same.fingerprint != other.fingerprint
    assert len(first.fingerprint) == 32


def test_fingerprint_is_the_same_for_tables_built_again_and_differs_for_any_cell(tmp_path):
    # Built twice from frames made afresh (as a session load and a saved version are), the
    # fingerprint must agree, so no byte it hashes may depend on chance; one cell changed in
    # any type, a value made missing, or a column renamed must change it.
    first = dbm.build_database({"deals": _awkward_deals(20_000)}, "a")
    again, files, _ = dbm.written_database({"deals": _awkward_deals(20_000)}, tmp_path, "b")
    assert first.fingerprint == again.fingerprint and files["deals"].is_file()
    seen = {first.fingerprint}
    for column, value in [("deal_id", "D0 "), ("stage", "Won"), ("owner", pd.NA),
                          ("created_at", pd.Timestamp("2024-01-01")), ("amount", 0.5),
                          ("won", pd.NA), ("stage_order", 3)]:
        changed = _awkward_deals(20_000)
        row = int(changed[column].isna().idxmax()) if value is not pd.NA else \
            int(changed[column].notna().idxmax())
        assert changed.at[row, column] is not value
        changed.at[row, column] = value
        fingerprint = dbm.build_database({"deals": changed}, "a").fingerprint
        assert fingerprint not in seen, column
        seen.add(fingerprint)
    changed = _awkward_deals(20_000)  # the last row: in the stage column's second chunk
    changed.at[19_999, "stage"] = "other" if changed.at[19_999, "stage"] == "Won" else "Won"
    assert dbm.build_database({"deals": changed}, "a").fingerprint not in seen
    renamed = _awkward_deals(20_000).rename(columns={"owner": "product"})
    assert dbm.build_database({"deals": renamed}, "a").fingerprint not in seen


@pytest.mark.parametrize("values", [
    pa.array([f"value {i}" if i % 7 else None for i in range(100_000)], pa.large_string()),
    pa.array([f"v{i}" for i in range(100_000)], pa.string()),
    pa.array(np.arange(100_000, dtype="int64")), pa.array(np.linspace(0, 1, 100_000)),
    pa.array(np.arange(100_000) % 3 == 0),
    pa.array(np.arange(100_000).astype("datetime64[us]"), pa.timestamp("us"))])
def test_a_slice_hashes_only_the_bytes_its_values_use(values):
    # Columns arrive as slices of longer arrays sharing their buffers: the fingerprint
    # must read only a slice's own bytes, or it hashes the parent once per slice.
    piece = values.slice(40_000, 1_000)
    used = sum(len(part) for part in value_bytes(piece))
    assert 0 < used < values.nbytes / 50
    if not pa.types.is_boolean(values.type):  # bits: a slice need not start on a byte
        same = pa.array(piece.to_pylist(), values.type)  # the values in buffers of their own
        assert bytes(value_bytes(piece)[-1]) == bytes(value_bytes(same)[-1])


def test_hostile_text_is_stored_as_data(tmp_path):
    evil = pd.DataFrame({"deal_id": ["'; drop table deals; --", "../../etc/passwd"],
                         "stage": ["=HYPERLINK(\"http://x\")", "+cmd"], "status": ["won", "lost"]})
    db = dbm.build_database({"deals": evil}, "evil")
    with db.connection.cursor() as cur:
        got = cur.execute("select deal_id, stage from deals order by deal_id").fetchall()
    assert got == sorted(zip(evil.deal_id, evil.stage, strict=True))
    summary = dbm.query(db, "home_summary")
    assert (summary.won.iloc[0], summary.lost.iloc[0]) == (1, 1)


def test_home_summary_matches_pandas_on_maven(maven_db):
    raw = pd.read_csv(FIXTURES / "maven_sales_pipeline_300.csv")
    row = dbm.query(maven_db, "home_summary").iloc[0]
    won, lost = (raw.deal_stage == "Won").sum(), (raw.deal_stage == "Lost").sum()
    assert (row.won, row.lost, row.deals) == (won, lost, 300)
    assert row.win_rate == pytest.approx(won / (won + lost))
    assert row.revenue_won == pytest.approx(raw.loc[raw.deal_stage == "Won", "close_value"].sum())
    assert row.leads == 0


def test_lead_deal_links_count_only_loaded_leads():
    from handoff import summary

    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"]})
    deals = pd.DataFrame({"deal_id": ["D1", "D2", "D3", "D4"],
                          "lead_id": ["L1", "L1", "L9", None]})
    db = dbm.build_database({"leads": leads, "deals": deals}, "links")
    assert summary.lead_deal_links(db) == summary.Links(deals=4, with_lead_id=3, linked=2)


def test_data_too_big_for_a_session_gets_a_message_not_a_duckdb_error():
    leads = pd.DataFrame({"lead_id": [f"lead-{i:09d}-{'x' * 40}" for i in range(300_000)]})
    with pytest.raises(ValueError, match=r"300,000 leads rows\) needs more memory than one "
                                         r"session may use \(16MB\)"):
        dbm.build_database({"leads": leads}, "big", memory_limit="16MB")


def _awkward_deals(n: int) -> pd.DataFrame:
    """Deals in every canonical type with the values a scan gets wrong first: nulls of each
    type, text long and short, non-ASCII, empty, several Arrow chunks, old and far dates."""
    rng = np.random.default_rng(7)
    words = ["Won", "", "Ünïcode ✓ étape", "a" * 40, "Lost", "Négociation — long text here"]
    text = pd.Series(rng.choice(words, n), dtype="string")
    text[rng.random(n) < 0.1] = pd.NA
    chunked = pd.concat([text[: n // 3], text[n // 3:]], ignore_index=True)  # two chunks
    when = pd.Series(pd.to_datetime("1969-12-31 23:59:59.999999")
                     + pd.to_timedelta(rng.integers(0, 10**15, n), unit="us"))
    when[rng.random(n) < 0.2] = pd.NaT
    amount = pd.Series(rng.normal(0, 1e9, n))
    amount[rng.random(n) < 0.1] = np.nan
    flag = pd.Series(rng.random(n) < 0.5, dtype="boolean")
    flag[rng.random(n) < 0.3] = pd.NA
    order = pd.Series(rng.integers(-(2**53), 2**53, n), dtype="Int64")
    order[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame({"deal_id": [f"D{i}" for i in range(n)], "stage": chunked,
                         "owner": text, "created_at": when.astype("datetime64[us]"),
                         "closed_at": when.astype("datetime64[ns]"), "amount": amount,
                         "won": flag, "stage_order": order})


def test_tables_loaded_from_arrow_equal_their_parquet_files_read_back(tmp_path):
    # The upload loads DuckDB from Arrow while the files a workspace keeps are written; a
    # stored version is read back from those files. Both must hold the same cells.
    tables = {"deals": _awkward_deals(300_000),
              "spend": pd.DataFrame({"month": pd.to_datetime(["2024-01-01", None]),
                                     "channel": ["Ads", None], "amount": [1.5, None]})}
    loaded, files, present = dbm.written_database(tables, tmp_path, "x")
    read = dbm.database_from_parquet(files, "x", loaded.fingerprint, fields_present=present)
    assert loaded.row_counts == read.row_counts and loaded.row_counts["deals"] == 300_000
    assert loaded.fields_present == read.fields_present
    assert loaded.fields_present["deals"] == frozenset(tables["deals"].columns)
    for table in TABLES:
        a, b = dbm.table_frame(loaded, table), dbm.table_frame(read, table)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    deals = dbm.table_frame(loaded, "deals")  # and both hold what was given
    given = tables["deals"]
    assert deals["stage"].isna().sum() == given["stage"].isna().sum() > 0
    assert (deals["stage"].fillna("?") == given["stage"].fillna("?")).all()
    assert deals["amount"].sum() == pytest.approx(given["amount"].sum())
    assert (deals["created_at"].dropna() == given["created_at"].dropna()).all()
    assert deals["won"].sum() == given["won"].sum()
    assert (deals["stage_order"].fillna(0) == given["stage_order"].fillna(0)).all()

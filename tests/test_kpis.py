"""The KPI registry (handoff/kpis.py) against the SQL it names and the pages that read it:
every column a KPI names exists, every column of kpi_periods.sql has a reader, a formula
reads only the columns it names, and the three MQL → SQL rates carry different names."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from handoff import kpis, objectives, whatif_inputs
from handoff.demo import DEMO_DIR
from handoff.filters import Filters
from tests.conftest import shown

ALL_TIME = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), all_time=True)


@pytest.fixture(scope="module")
def quarterly(demo_db) -> pd.DataFrame:
    return objectives.periods(demo_db, ALL_TIME, "quarter", ("Outbound",),
                              kpis.DEFAULT_SLA_HOURS)


def test_every_named_column_is_a_kpi_periods_column_and_every_column_is_read(quarterly):
    returned = set(quarterly.columns)
    named = {c for k in kpis.KPIS for c in k.columns}
    assert named <= returned, named - returned
    elsewhere = set(kpis.PERIOD_COLUMNS_ELSEWHERE)
    assert returned == named | elsewhere, returned ^ (named | elsewhere)
    for column, (module, _why) in kpis.PERIOD_COLUMNS_ELSEWHERE.items():
        source = inspect.getsource(importlib.import_module(f"handoff.{module}"))
        assert f".{column}" in source or f'"{column}"' in source, (column, module)


def test_a_formula_reads_only_the_columns_it_names(demo_db, quarterly):
    life = objectives.lifetime(demo_db, dt.datetime(2026, 10, 31))
    targets = {"revenue_target": 5_000_000.0}
    full = objectives.values(quarterly, life, targets)
    p = quarterly.set_index("period")
    for kpi in kpis.KPIS:
        done = {k.key: full[k.key] for k in kpis.KPIS[: kpis.KPIS.index(kpi)]}
        value = kpi.formula(kpis.Measures(p[list(kpi.columns)], life, targets, done))
        expected = full[kpi.key]
        got = value if isinstance(value, pd.Series) else pd.Series(value, index=p.index)
        pd.testing.assert_series_equal(got.astype("float64"), expected, check_names=False,
                                       obj=kpi.key)


def test_registry_entries_are_whole():
    assert len(kpis.KPI_BY_KEY) == len(kpis.KPIS)
    labels = [k.label for k in kpis.KPIS]
    assert len(set(labels)) == len(labels)
    for k in kpis.KPIS:
        assert k.stage in kpis.STAGES and k.panel in ("Marketing", "Sales", "Shared")
        assert k.fmt in ("count", "pct", "money", "days", "hours", "ratio", "months")
        assert k.better in ("higher", "lower") and k.definition.endswith(".")
        assert k.objective is None or k.objective in kpis.OBJECTIVE_KPIS
    for keys in kpis.OBJECTIVE_KPIS.values():
        assert set(keys) <= set(kpis.KPI_BY_KEY)


def test_a_targets_file_with_a_former_label_still_finds_its_kpi():
    from handoff.targets_ui import read_targets

    old = b"KPI,Target\nMQL \xe2\x86\x92 SQL acceptance,0.5\n"
    new = "KPI,Target\nMQL → SQL acceptance (MQLs of the period),0.5\n".encode()
    assert read_targets("t.csv", old) == ({"acceptance": 0.5}, [])
    assert read_targets("t.csv", new) == ({"acceptance": 0.5}, [])


def test_the_three_mql_to_sql_rates_differ_on_the_demo_and_say_which_they_are(demo_db):
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    names = {r.label for r in kpis.MQL_TO_SQL.values()}
    assert len(names) == 3 and all(n.startswith("MQL → SQL") for n in names)
    # Funnel (cohort, all the data): of the leads that reached MQL, the share that reached SQL
    cohort = leads.sql_at.notna().sum() / leads.mql_at.notna().sum()
    assert round(cohort, 3) == 0.419
    # What-if baseline: SQLs ÷ MQLs dated in its four quarters (not the same leads)
    got = whatif_inputs.whatif_inputs(demo_db, ALL_TIME)
    assert got.baseline.measured == "2025 Q4 – 2026 Q3" and got.quarter == "2026 Q3"
    start, end = pd.Timestamp("2025-10-01"), pd.Timestamp("2026-10-01")
    sqls = leads.sql_at.between(start, end, inclusive="left").sum()
    mqls = leads.mql_at.between(start, end, inclusive="left").sum()
    assert got.baseline.mql_to_sql == pytest.approx(sqls / mqls)
    assert round(sqls / mqls, 3) == 0.439
    # Objectives: of the quarter's MQLs, the share that became SQL so far
    q = leads[leads.mql_at.between(pd.Timestamp("2026-04-01"), pd.Timestamp("2026-07-01"),
                                   inclusive="left")]
    assert round(q.sql_at.notna().mean(), 3) == 0.430
    assert "2025 Q4 – 2026 Q3" in whatif_inputs.baseline_rates_note(got.baseline)


def _texts(at: AppTest) -> list[str]:
    return [shown(e.value) for e in (*at.caption, *at.markdown)]


def test_pages_name_the_mql_to_sql_they_show():
    funnel = AppTest.from_file("../pages/2_Funnel.py", default_timeout=60).run()
    assert not funnel.exception
    assert any(kpis.MQL_TO_SQL_COHORT.label in t for t in _texts(funnel))
    whatif = AppTest.from_file("../pages/5_What_if.py", default_timeout=60).run()
    assert not whatif.exception
    assert any(kpis.MQL_TO_SQL_IN_PERIOD.over("2025 Q4 – 2026 Q3") + " at 43.9%" in t
               for t in _texts(whatif))
    objectives_page = AppTest.from_file("../pages/4_Objectives.py", default_timeout=60)
    objectives_page.session_state["obj.tab"] = "Reverse funnel"
    objectives_page.run()
    assert not objectives_page.exception
    frames = [t.value for t in objectives_page.dataframe]
    kpi_table = next(f for f in frames if "KPI" in f.columns)
    assert kpis.MQL_TO_SQL_ACCEPTANCE.label in set(kpi_table.KPI)
    reverse = next(f for f in frames if "At" in f.columns)
    assert kpis.MQL_TO_SQL_COHORT.label in set(reverse.At)

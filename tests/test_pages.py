"""Every page renders on the demo data and after an upload, with numbers checked by pandas."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from handoff import export, pipeline, ui
from handoff.demo import DEMO_DIR
from tests.conftest import FIXTURES, into_workspace, load_files, shown

PAGES = ["../Home.py", "../pages/1_Data.py", "../pages/2_Funnel.py",
         "../pages/3_Close_rates.py", "../pages/4_Objectives.py", "../pages/5_What_if.py"]


def _run(script: str, db=None) -> AppTest:
    at = AppTest.from_file(script, default_timeout=60)
    if db is not None:
        into_workspace(db)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("script", PAGES)
def test_pages_render_on_demo_data(script):
    at = _run(script)
    assert any("Loaded:** Demo" in shown(m.value) for m in at.markdown)


TABS = {"../pages/2_Funnel.py": ("funnel.tab", ["Compare periods", "Time to convert", "Trends",
                                                "Drill down"]),
        "../pages/3_Close_rates.py": ("cr.tab", ["Compare two", "Sales cycle",
                                                 "Trend by quarter"]),
        "../pages/4_Objectives.py": ("obj.tab", ["Reverse funnel", "Bottlenecks",
                                                 "CAC by channel"]),
        "../pages/5_What_if.py": ("whatif.tab", ["Scenarios"])}


def _open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Click a tab: only the open tab's content runs."""
    at.session_state[key] = label
    at.run()
    assert not at.exception, (label, [e.value for e in at.exception])
    return at


@pytest.mark.parametrize("script", list(TABS))
@pytest.mark.parametrize("data", ["demo", "upload"])
def test_every_tab_renders(script, data):
    db = None if data == "demo" else load_files("maven_sales_pipeline_300.csv",
                                                "maven_sales_teams.csv")
    at = _run(script, db)
    if data == "upload" and script.endswith("What_if.py"):  # deals only: no what-if tabs
        assert any("needs dated leads and deals" in i.value for i in at.info)
        return
    key, labels = TABS[script]
    for label in labels:
        _open_tab(at, key, label)
        drawn = {t.label: len(t.children) for t in at.tabs if t.label in labels}
        assert drawn[label] > 0, label  # the open tab has its content
        assert not any(n for other, n in drawn.items() if other != label), drawn  # others not


def test_a_choice_inside_a_tab_survives_a_visit_to_another_tab():
    at = _open_tab(_run("../pages/2_Funnel.py"), "funnel.tab", "Compare periods")
    at.radio(key="funnel.compare").set_value("year").run()
    _open_tab(at, "funnel.tab", "Trends")
    assert not any(r.key == "funnel.compare" for r in at.radio)  # not drawn: not computed
    _open_tab(at, "funnel.tab", "Compare periods")
    assert at.radio(key="funnel.compare").value == "year"


def test_home_shows_demo_headline_numbers():
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    deals = pd.read_parquet(DEMO_DIR / "deals.parquet")
    at = _run("../Home.py")
    assert _metric(at, "Leads") == f"{len(leads):,}"
    assert _metric(at, "Deals won") == f"{(deals.status == 'won').sum():,}"
    won, lost = (deals.status == "won").sum(), (deals.status == "lost").sum()
    assert _metric(at, "Win rate") == f"{won / (won + lost):.1%}"
    revenue = deals.loc[deals.status == "won", "amount"].sum()
    assert _metric(at, "Revenue won") == f"${revenue:,.0f}"  # the demo sells in dollars
    assert _metric(at, "Lost · still open") == \
        f"{(deals.status == 'lost').sum():,} · {(deals.status == 'open').sum():,}"


@pytest.mark.parametrize("script", PAGES)
def test_pages_render_after_an_upload(script):
    db = load_files("maven_sales_pipeline_300.csv", "maven_sales_teams.csv")
    at = _run(script, db)
    assert any("maven_sales_pipeline_300.csv" in shown(m.value) for m in at.markdown)


def test_home_after_upload_counts_the_uploaded_deals_and_says_what_is_missing():
    raw = pd.read_csv(FIXTURES / "maven_sales_pipeline_300.csv")
    at = _run("../Home.py", load_files("maven_sales_pipeline_300.csv"))
    assert _metric(at, "Deals won") == f"{(raw.deal_stage == 'Won').sum():,}"
    assert any("Lead numbers need a leads" in i.value for i in at.info)
    assert any("Margin is not in the deals file" in c.value for c in at.caption)


def _funnel_counts(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Count" in d.value.columns)


def test_funnel_page_interactions_change_the_numbers():
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    at = _run("../pages/2_Funnel.py")
    base = _funnel_counts(at)
    assert base["Count"].iloc[0] == len(leads)

    at.selectbox(key="funnel.lbreak").select("source").run()
    assert not at.exception
    by_source = _funnel_counts(at)
    lead_rows = by_source[by_source.Stage == "Lead"].set_index("Group")["Count"]
    assert lead_rows.to_dict() == leads.source.value_counts().to_dict()

    at.number_input(key="funnel.window").set_value(30).run()
    windowed = _funnel_counts(at)
    assert windowed[windowed.Stage == "Customer"]["Count"].sum() < \
        by_source[by_source.Stage == "Customer"]["Count"].sum()

    start, end = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31")
    at.date_input(key="filters.range.widget").set_value((start.date(), end.date())).run()
    assert not at.exception
    period = _funnel_counts(at)
    in_range = leads[(leads.created_at >= start) & (leads.created_at < end + pd.Timedelta("1D"))]
    assert period[period.Stage == "Lead"]["Count"].sum() == len(in_range)


def test_funnel_page_on_an_uploaded_deals_file():
    raw = pd.read_csv(FIXTURES / "maven_sales_pipeline_300.csv")
    at = _run("../pages/2_Funnel.py", load_files("maven_sales_pipeline_300.csv"))
    table = _funnel_counts(at)
    assert table.Stage.tolist() == ["Engaging", "Won"]
    assert table.Count.tolist() == [len(raw), int((raw.deal_stage == "Won").sum())]
    assert any("dropped after it" in c.value for c in at.caption)


def test_funnel_period_comparison_names_the_q3_acceptance_drop():
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    at = _open_tab(_run("../pages/2_Funnel.py"), "funnel.tab", "Compare periods")
    q3 = (pd.Timestamp("2025-07-01").date(), pd.Timestamp("2025-09-30").date())
    at.date_input(key="filters.range.widget").set_value(q3).run()
    assert not at.exception

    def acceptance(start: str, end: str) -> tuple[int, int]:
        cohort = leads[(leads.created_at >= start) & (leads.created_at < end)]
        return int(cohort.mql_at.notna().sum()), int(cohort.sql_at.notna().sum())

    mql3, sql3 = acceptance("2025-07-01", "2025-10-01")
    mql2, sql2 = acceptance("2025-03-31", "2025-07-01")  # the 92 days just before
    line = next(_plain(m.value) for m in at.markdown
                if _plain(m.value).startswith("**MQL → SQL:"))
    assert f"{sql3 / mql3:.1%} against {sql2 / mql2:.1%}" in line
    assert "down: more than noise" in line


def _plain(markdown: str) -> str:
    """Markdown as it reads on screen: user text is shown with its punctuation escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _kpi(at: AppTest, label: str) -> pd.Series:
    """A KPI's row in the Objectives page's table of every KPI."""
    table = next(d.value for d in at.dataframe if "Against target" in d.value.columns)
    return table.set_index("KPI").loc[label]


def test_objectives_show_actuals_and_a_changed_target_changes_attainment():
    deals = pd.read_parquet(DEMO_DIR / "deals.parquet")
    at = _run("../pages/4_Objectives.py")
    won = deals[(deals.status == "won") & (deals.closed_at >= "2026-07-01")
                & (deals.closed_at < "2026-10-01")]
    assert _kpi(at, "Revenue won").Actual == f"${won.amount.sum():,.0f}"  # 2026 Q3: complete
    type_target(at, "Revenue won", won.amount.sum() / 2)
    row = _kpi(at, "Revenue won")
    assert row.Attainment == pytest.approx(200.0) and row["Against target"] == "On target"
    type_target(at, "Revenue won", won.amount.sum() * 4)
    row = _kpi(at, "Revenue won")
    assert row.Attainment == pytest.approx(25.0) and row["Against target"] == "Behind target"


def type_target(at: AppTest, kpi: str, value: float) -> AppTest:
    """Type a target into the SMART targets table, as a person does, and run the page."""
    editor = next(d for d in at.data_editor if d.key and d.key.startswith("obj.targets."))
    row = editor.value["KPI"].tolist().index(kpi)
    at.session_state[editor.key] = {"edited_rows": {row: {"Target": value}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_objectives_name_what_an_upload_lacks():
    at = _run("../pages/4_Objectives.py", load_files("maven_sales_pipeline_300.csv"))
    assert _kpi(at, "MQLs")["To judge it"].startswith("not available: needs a leads")
    assert "needs the 'Margin' column" in _kpi(at, "Margin won")["To judge it"]


def test_whatif_slider_moves_scorecards_and_projection():
    at = _run("../pages/5_What_if.py")
    revenue = _metric(at, "Revenue, 8 quarters")
    marketing = _metric(at, "Marketing scorecard (2026 Q3)")
    at.select_slider(key="whatif.share").set_value(1.0).run()
    assert not at.exception
    assert _metric(at, "Revenue, 8 quarters") != revenue
    assert _metric(at, "Marketing scorecard (2026 Q3)") != marketing
    delta = next(m.delta for m in at.metric if m.label == "Revenue, 8 quarters")
    assert delta.startswith("-") and delta.endswith("vs baseline")


def test_whatif_save_and_compare_scenarios():
    at = _open_tab(_run("../pages/5_What_if.py"), "whatif.tab", "Scenarios")
    at.select_slider(key="whatif.share").set_value(0.5).run()
    at.text_input(key="whatif.name").set_value("Joint plan").run()
    at.button(key="whatif.save").click().run()
    assert "Joint plan" in at.session_state["whatif.saved"]
    at.multiselect(key="whatif.compare").set_value(
        ["Joint plan", "Marketing owns revenue"]).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Customers at the end" in d.value.columns)
    table = table.set_index("Scenario")
    assert list(table.index) == ["Joint plan", "Marketing owns revenue"]
    assert table.loc["Joint plan", "Revenue"] != table.loc["Marketing owns revenue", "Revenue"]


def test_whatif_advanced_tables_are_drawn_only_while_open_and_keep_their_values():
    def advanced_tables(at: AppTest) -> list[str]:
        return [d.value.columns[1] for d in at.dataframe
                if d.value.columns[0] in ("Objective", "Assumption")
                and d.value.columns[1] in ("Marketing's share (%)", "Value")]

    at = _run("../pages/5_What_if.py")
    assert advanced_tables(at) == []
    assert not [n for n in at.number_input if n.key == "whatif.horizon"]
    at.session_state["whatif.advanced"] = True  # the expander opened
    at.run()
    assert advanced_tables(at) == ["Marketing's share (%)", "Value"]
    at.number_input(key="whatif.horizon").set_value(6).run()
    assert any(m.label == "Revenue, 6 quarters" for m in at.metric)
    at.session_state["whatif.advanced"] = False  # closed again: the horizon stays
    at.run()
    assert not at.exception
    assert any(m.label == "Revenue, 6 quarters" for m in at.metric)
    at.select_slider(key="whatif.share").set_value(0.5).run()
    assert any(m.label == "Revenue, 6 quarters" for m in at.metric)


def test_whatif_link_reopens_the_scenario():
    from handoff import whatif
    from handoff.scenarios_ui import encode

    scenario = whatif.Scenario("From the room", horizon=6).with_sale_share(0.75)
    at = AppTest.from_file("../pages/5_What_if.py", default_timeout=60)
    at.query_params["scenario"] = encode(scenario)
    at.run()
    assert not at.exception
    assert at.select_slider(key="whatif.share").value == 0.75
    assert any(m.label == "Revenue, 6 quarters" for m in at.metric)
    bad = AppTest.from_file("../pages/5_What_if.py", default_timeout=60)
    bad.query_params["scenario"] = "not-a-scenario"
    bad.run()
    assert not bad.exception
    assert any("could not be read" in w.value for w in bad.warning)


@pytest.mark.parametrize("page", ["../pages/2_Funnel.py", "../pages/3_Close_rates.py",
                                  "../pages/4_Objectives.py", "../Home.py"])
@pytest.mark.parametrize("files", [
    [("leads.csv", b"lead_id,created_at,source\n1,2024-01-01,Ads\n2,2024-02-01,SEO\n")],
    [("deals.csv", b"deal_id,stage,amount,close_date,created\n1,Won,10,9999-12-31,2024-01-02\n"
                   b"2,Lost,5,2024-03-01,0001-01-05\n3,Won,7,2024-02-01,2024-01-01\n")],
], ids=["leads-without-stages", "placeholder-dates"])
def test_pages_survive_data_that_used_to_crash_them(page, files):
    _run(page, pipeline.load_files(files))  # asserts the page raised nothing


def test_comparing_with_a_period_that_holds_no_records_says_so_and_draws_no_chart():
    """The sidebar covers all the data, so the period just before it is empty: no step can
    be compared, and an empty chart (which cannot even be exported) is not drawn."""
    at = _open_tab(_run("../pages/2_Funnel.py"), "funnel.tab", "Compare periods")
    at.selectbox(key="funnel.compare.this.True").set_value("sidebar").run()
    at.radio(key="funnel.compare").set_value("previous").run()
    assert not at.exception
    assert any("Not enough data in one of the two periods" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")
    at.selectbox(key="funnel.compare.this.True").set_value("quarter").run()
    assert at.get("vega_lite_chart")  # a quarter against the one before: drawn


def test_every_chart_on_the_demo_exports_as_png_and_svg(monkeypatch):
    """Downloads are made outside the script run, where a failure is only a log line: each
    chart a page draws is rendered here as its PNG and SVG buttons would."""
    drawn: dict[str, tuple[object, str]] = {}
    original = ui.chart_with_downloads

    def spy(chart, table, name, key, title, *args, **kwargs):
        drawn[name] = (chart, title)
        return original(chart, table, name, key, title, *args, **kwargs)

    monkeypatch.setattr(ui, "chart_with_downloads", spy)
    for script, (key, labels) in TABS.items():
        at = _run(script)
        for label in labels:
            _open_tab(at, key, label)
    assert {"funnel", "funnel_period_change", "close_rates", "whatif_projection"} <= set(drawn)
    for name, (chart, title) in drawn.items():
        spec = json.dumps(export.presentable(chart.to_dict(), title, ["Data: demo"]))
        assert export.png_from_spec(spec)[:8] == b"\x89PNG\r\n\x1a\n", name
        assert title in export.svg_from_spec(spec), name

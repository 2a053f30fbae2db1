"""How numbers, tables, charts and exports read: one money helper, human tables, exported
charts that carry their context in the app's colours, and the wording of the pages."""

from __future__ import annotations

import datetime as dt
import io
import json
import tomllib

import pandas as pd
import pytest

from handoff import charts, close_rates, export, format, funnel, funnel_stats, kpis
from handoff.filters import Filters
from handoff.whatif import BASELINE_SHARES
from tests.conftest import ROOT

ALL = Filters(dt.date(2016, 1, 1), dt.date(2026, 12, 31), all_time=True)


def test_money_in_the_chosen_currency_and_dashes_for_nothing():
    assert format.money(34172.2026, "USD") == "$34,172"
    assert format.money(-1200, "EUR") == "-€1,200"
    assert format.money(57188.889, None) == "57,189"
    assert format.money(1200, "SEK") == "SEK 1,200"
    assert format.money(float("nan"), "USD") == format.money(None, "USD") == "—"
    assert format.money_change(-300, "GBP") == "-£300"
    assert format.percent(0.02254460168129233) == "2.3%"
    assert format.points(0.0321) == "+3.2 pts"
    assert format.p_value(0.0000004) == "p < 0.001" and format.p_value(0.0412) == "p = 0.041"


def test_a_table_has_human_headers_formats_and_a_csv_with_units():
    raw = pd.DataFrame({"new_customers": [3, None], "rate": [0.02254460168129233, 0.5],
                        "revenue": [34172.2026, 57188.889], "grp": ["A", None],
                        "change": [0.031, -0.02]})
    t = format.table(raw, {"grp": ("Segment", "text"), "new_customers": ("New customers", "count"),
                           "rate": ("Close rate", "pct"), "revenue": ("Revenue", "money"),
                           "change": ("Change", "points"), "missing": ("Absent", "count")},
                     "USD")
    assert list(t.frame.columns) == ["Segment", "New customers", "Close rate", "Revenue",
                                     "Change"]
    assert t.frame["Segment"].tolist() == ["A", "—"]  # never 'None'
    assert t.formats() == {"Close rate": "%.1f%%", "Revenue": "$%,.0f",
                           "Change": "%+.1f pts"}
    # a number column with a gap is shown as text: the grid would write 'None' in the gap
    assert t.display()["New customers"].tolist() == ["3", "—"]
    assert t.display()["Close rate"].tolist() == [2.254460168129233, 50.0]  # as it reads
    csv = t.csv_frame()
    assert list(csv.columns) == ["Segment", "New customers", "Close rate (%)",
                                 "Revenue (USD)", "Change (points)"]
    assert csv["Close rate (%)"].tolist() == [2.25, 50.0]
    assert csv["Revenue (USD)"].tolist() == [34172.2, 57188.89]
    assert csv["Change (points)"].tolist() == [3.1, -2.0]
    body = export.safe_csv(csv).decode("utf-8-sig")
    assert body.splitlines()[0] == "Segment,New customers,Close rate (%),Revenue (USD)," \
                                   "Change (points)"
    # counts are whole numbers in the file (3, not 3.0); a missing one is an empty cell
    assert [line.split(",")[1] for line in body.splitlines()[1:]] == ["3", ""]


def test_markdown_text_cannot_make_links_images_or_formulas():
    shown = format.markdown_text("![x](http://e/p.png) $1 and $2 :red[x] <b>")
    assert "![" not in shown and "](" not in shown
    assert r"\$1" in shown and r"\:red\[" in shown and r"\<b\>" in shown


def test_an_exported_chart_carries_title_context_and_the_app_colours():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    table = pd.DataFrame({"grp": ["All"] * 3, "label": ["Lead", "MQL", "Won"],
                          "position": [1, 2, 3], "entities": [100, 40, 3]})
    chart = charts.funnel_bars(funnel.with_conversion(table))
    lines = ["Counting: leads, cohort", "Period: 01 Jan 2026 – 31 Mar 2026 · Filters: "
             "Source: Email", "Data: Demo company (synthetic) · Handoff"]
    spec = export.presentable(chart.to_dict(), "Funnel", lines)
    assert spec["title"]["text"] == "Funnel" and spec["title"]["subtitle"] == lines
    assert spec["config"]["range"]["category"] == theme["chartCategoricalColors"]
    assert spec["config"]["mark"]["color"] == theme["primaryColor"]
    assert spec["config"]["font"] == theme["font"] and spec["background"] == "white"
    svg = export.svg_from_spec(json.dumps(spec))
    for text in ("Funnel", "Counting: leads, cohort", "Source: Email", "Demo company"):
        assert text in svg
    assert theme["primaryColor"] in svg  # the bars are drawn in the app's blue


def _texts(spec: dict) -> list[str]:
    """The labels a chart writes beside its bars (from the data it carries)."""
    return [r["text"] for rows in spec.get("datasets", {}).values() for r in rows
            if r.get("text")]


def test_the_funnel_chart_writes_conversion_and_drop_off_and_splits_lost_from_open():
    deals = pd.DataFrame({"grp": ["All"] * 3, "stage": ["Demo", "Proposal", "Won"],
                          "label": ["Demo", "Proposal", "Won"], "position": [1, 2, 3],
                          "entities": [300, 120, 12], "lost_here": [150, 90, 0],
                          "open_here": [30, 18, 0]})
    t = funnel.with_conversion(deals)
    segments = charts.funnel_segments(t)
    proposal = segments[segments.label == "Proposal"].set_index("part")
    assert proposal.loc["Reached", "n"] == 120
    assert (proposal.loc["Lost", "n"], proposal.loc["Still open", "n"]) == (150, 30)
    assert "Did not reach" not in set(segments.part)  # an open deal is never 'dropped'
    texts = set(_texts(charts.funnel_bars(t).to_dict()))
    assert "120 · 40% of previous · 150 lost, 30 open" in texts
    assert "12 · 10% of previous · 90 lost, 18 open" in texts  # a tiny last bar, labelled


def test_a_lead_funnel_chart_says_who_did_not_reach_and_clicks_select_a_stage():
    leads = pd.DataFrame({"grp": ["All"] * 2, "label": ["Lead", "MQL"], "position": [1, 2],
                          "entities": [19_693, 8_823]})
    spec = charts.funnel_bars(funnel.with_conversion(leads), selectable=True).to_dict()
    assert "8,823 · 45% of previous · 10,870 did not reach" in _texts(spec)
    stage = next(p for p in spec["params"] if p["name"] == "stage")
    assert stage["select"] == {"type": "point", "fields": ["position"], "on": "click"}
    assert stage["views"] == [spec["layer"][0]["name"]]  # on the bars


def test_breakdown_labels_have_room_and_the_five_stage_view_keeps_the_breakdown(demo_db):
    result = funnel.funnel(demo_db, ALL, funnel.FunnelRequest(collapse=True,
                                                              breakdown="segment"))
    assert set(result.table.grp) == {"Enterprise", "Mid-market", "SMB"}
    assert result.table.groupby("grp")["stage"].apply(list).iloc[0] == [
        "consideration", "sale", "loyalty", "advocacy"]  # visits have no segment
    leads = pd.read_parquet(ROOT / "data" / "demo" / "leads.parquet")
    smb = result.table[(result.table.grp == "SMB") & (result.table.stage == "consideration")]
    assert int(smb.entities.iloc[0]) == int((leads.segment == "SMB").sum())
    spec = charts.funnel_bars(result.table, "side_by_side").to_dict()
    assert spec["height"] == {"step": 18}  # a row per group, 18 px each: labels do not overlap
    by_source = funnel.funnel(demo_db, ALL, funnel.FunnelRequest(collapse=True,
                                                                 breakdown="source"))
    assert "awareness" in set(by_source.table.stage)  # visits split by their channel


def test_legends_say_maturing_and_month_axes_show_the_year(demo_db):
    trend = funnel_stats.cohort_trend(demo_db, ALL)
    spec = charts.cohort_trend(trend).to_dict()
    opacity = spec["layer"][1]["encoding"]["opacity"]
    assert opacity["scale"]["domain"] == ["Mature", "Still maturing"]
    assert spec["layer"][0]["encoding"]["x"]["axis"]["format"] == "%b %Y"
    cap = funnel_stats.capacity(demo_db, ALL)
    assert charts.capacity(cap).to_dict()["encoding"]["x"]["axis"]["format"] == "%b %Y"


def test_quarters_read_in_time_order(demo_db):
    from handoff.close_rates_ui import in_time_order

    rates = close_rates.close_rates(demo_db, ALL, "quarter")
    assert rates.grp.tolist() != sorted(rates.grp)  # ranked by the interval's lower end
    ordered = in_time_order(rates, "quarter")
    assert ordered.grp.tolist() == sorted(rates.grp)
    spec = charts.close_rate_trend(ordered).to_dict()
    assert spec["layer"][0]["encoding"]["x"]["sort"] == sorted(rates.grp)


def test_comparison_wording():
    a = pd.Series({"grp": "Ann", "won": 900, "n": 1000})
    b = pd.Series({"grp": "Bo", "won": 100, "n": 1000})
    sentence = close_rates.compare(a, b).sentence
    assert "p < 0.001" in sentence and "is unlikely to be chance" in sentence
    c = pd.Series({"grp": "Cy", "won": 5, "n": 10})
    d = pd.Series({"grp": "Di", "won": 6, "n": 10})
    sentence = close_rates.compare(c, d).sentence
    assert "The difference could well be chance" in sentence and "is could" not in sentence


def test_no_page_or_module_speaks_of_the_articles():
    for path in [*ROOT.glob("handoff/*.py"), *ROOT.glob("pages/*.py"), ROOT / "Home.py",
                 ROOT / "README.md"]:
        text = path.read_text()
        assert "of the articles" not in text and "the articles'" not in text, path


def test_owners_follow_the_whatif_split():
    revenue = kpis.KPI_BY_KEY["revenue_won"]
    assert kpis.owners(revenue, BASELINE_SHARES) == ("Sales", "Marketing")
    assert kpis.owners(revenue, {**BASELINE_SHARES, "sale": 1.0}) == ("Marketing",
                                                                           "Sales")
    assert kpis.owners(revenue, {**BASELINE_SHARES, "sale": 0.5}) == ("Joint", "—")
    sla = kpis.KPI_BY_KEY["sla"]  # the hand-off keeps its owner
    assert kpis.owners(sla, {**BASELINE_SHARES, "sale": 1.0}) == (sla.owner,
                                                                       sla.supporter)
    assert all(k.stage in kpis.STAGES for k in kpis.KPIS)  # every KPI under a stage


@pytest.mark.parametrize("currency", ["USD", "EUR", None])
def test_the_csv_download_of_a_money_table_names_the_currency(currency):
    t = format.table(pd.DataFrame({"amount": [1.239]}), {"amount": ("Spend", "money")},
                     currency)
    header = pd.read_csv(io.BytesIO(export.safe_csv(t.csv_frame()))).columns[0]
    assert header.lstrip("\ufeff") == ("Spend" if currency is None else f"Spend ({currency})")

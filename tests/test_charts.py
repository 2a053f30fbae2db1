"""Chart builders' Vega-Lite specs: marks, encodings, axes, sort orders and the data carried,
each built from a small frame shaped as its caller in handoff/*_ui.py passes it.

Already checked elsewhere, not repeated here: the exported funnel's title, subtitle and theme
colours, its lost/open split and the label on a tiny last bar, click selection and the
side-by-side row height (test_presentation.py); the cohort trend's maturing legend, month axes
with the year and quarters in time order on the demo data (test_presentation.py); the
breakdown's y/yOffset and the small multiples' facet (test_funnel.py).
"""

from __future__ import annotations

import colorsys
import tomllib

import pandas as pd
import pytest

from handoff import charts, funnel
from tests.chart_frames import (
    bands_table,
    capacity_table,
    cycle_table,
    grouped_funnel,
    kpi_table,
    lead_funnel,
    period_table,
    quarters_table,
    rates_table,
    runs_table,
    sensitivity_table,
    trend_table,
    weeks_table,
)
from tests.conftest import ROOT


def _units(spec: dict) -> list[dict]:
    """The single-view specs inside a chart: its layers, inside a facet if faceted."""
    inner = spec.get("spec", spec)
    return inner.get("layer", [inner])


def _rows(spec: dict, unit: dict) -> pd.DataFrame:
    """The rows a view draws: its own data or the chart's, after its filter on `layer`."""
    name = unit.get("data", spec.get("data"))["name"]
    rows = pd.DataFrame(spec["datasets"][name])
    for t in unit.get("transform", []):
        kept = t["filter"].split("'")[1]  # "(datum.layer === 'bar')"
        rows = rows[rows["layer"] == kept]
    return rows.reset_index(drop=True)


def _marks(spec: dict) -> list[str]:
    return [u["mark"]["type"] for u in _units(spec)]


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The spec's rows are the input's, none dropped or invented, values as given."""
    pd.testing.assert_frame_equal(got[list(expected.columns)].reset_index(drop=True),
                                  expected.reset_index(drop=True), check_dtype=False)


# --- the funnel -----------------------------------------------------------------------------

def test_funnel_stages_read_in_funnel_order_whatever_the_row_order():
    table = lead_funnel().sample(frac=1, random_state=3)  # rows shuffled
    assert table["label"].tolist() != ["Lead", "MQL", "SQL", "Customer"]
    spec = charts.funnel_bars(table).to_dict()
    for unit in _units(spec):
        assert unit["encoding"]["y"]["sort"] == ["Lead", "MQL", "SQL", "Customer"]
    assert _marks(spec) == ["bar", "text"]


def test_funnel_bars_draw_each_stage_and_who_did_not_reach_it_exactly():
    table = lead_funnel()
    spec = charts.funnel_bars(table).to_dict()
    bars, text = (_rows(spec, u) for u in _units(spec))
    reached = bars[bars.part == "Reached"]
    assert reached["n"].tolist() == reached["x1"].tolist() == [1000, 400, 150, 3]
    gone = bars[bars.part == "Did not reach"]
    assert gone["label"].tolist() == ["MQL", "SQL", "Customer"]
    assert gone["n"].tolist() == [600, 250, 147]
    assert gone["x0"].tolist() == [400, 150, 3]  # drawn after the stage's own bar
    assert set(bars.part) == {"Reached", "Did not reach"}
    # one label per stage, at the end of what is drawn for it: outside the bar
    assert text["label"].tolist() == ["Lead", "MQL", "SQL", "Customer"]
    assert text["x1"].tolist() == [1000, 1000, 400, 150]
    encoding = _units(spec)[1]["encoding"]
    assert (encoding["x"]["field"], encoding["text"]["field"]) == ("x1", "text")
    x = _units(spec)[0]["encoding"]["x"]
    assert x["scale"]["domain"] == [0, 1000 * 1.45]  # room for the longest label
    formats = {t["field"]: t.get("format") for t in encoding["tooltip"]}
    assert formats["from_previous_pct"] == formats["from_first_pct"] == ".1%"


def test_funnel_draws_no_drop_off_where_nobody_dropped():
    # in-period counts: a stage may hold as many as the one before, or more
    table = funnel.with_conversion(pd.DataFrame({
        "grp": ["All"] * 4, "stage": ["lead", "mql", "sql", "customer"],
        "label": ["Lead", "MQL", "SQL", "Customer"], "position": [1, 2, 3, 4],
        "entities": [100, 100, 120, 30]}))
    spec = charts.funnel_bars(table).to_dict()
    bars = _rows(spec, _units(spec)[0])
    gone = bars[bars.part != "Reached"]
    assert gone[["label", "n"]].to_dict("records") == [{"label": "Customer", "n": 90}]
    assert (bars["x1"] > bars["x0"]).all()  # no empty or backwards segment


def test_funnel_legend_names_only_the_parts_drawn():
    spec = charts.funnel_bars(lead_funnel()).to_dict()
    color = _units(spec)[0]["encoding"]["color"]
    assert color["scale"]["domain"] == ["Reached", "Did not reach"]
    assert color["legend"]["orient"] == "bottom"
    one = charts.funnel_bars(lead_funnel().head(1)).to_dict()
    assert _units(one)[0]["encoding"]["color"]["legend"] is None  # nothing to tell apart


def test_funnel_breakdown_side_by_side_colours_groups_and_labels_beside_each_bar():
    table = grouped_funnel()
    spec = charts.funnel_bars(table, "side_by_side").to_dict()
    bars, text = _units(spec)
    assert bars["encoding"]["color"]["field"] == "grp"
    assert text["encoding"]["yOffset"] == {"field": "grp", "type": "nominal",
                                           "bandPosition": 0.5}
    drawn = _rows(spec, bars)
    _same(drawn, table[["grp", "label", "entities"]])
    # grouped labels are short: count and conversion, without the drop-off
    assert drawn["text"].tolist()[:3] == ["500", "200 · 40% of previous",
                                          "50 · 25% of previous"]
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 500 * 1.25]


def test_funnel_small_multiples_start_each_group_afresh():
    spec = charts.funnel_bars(grouped_funnel(), "small_multiples").to_dict()
    assert spec["columns"] == 3
    bars, _ = _units(spec)
    drawn = _rows(spec, bars)
    enterprise = drawn[drawn.grp == "Enterprise"]
    # the group's first stage has no drop-off from the other group's last one
    assert enterprise[enterprise.label == "Lead"]["part"].tolist() == ["Reached"]
    assert enterprise[enterprise.part == "Did not reach"]["n"].tolist() == [20, 30]


# --- funnel statistics ----------------------------------------------------------------------

def test_period_change_in_points_with_a_zero_line_and_only_steps_with_a_change():
    table = period_table()
    spec = charts.period_change(table).to_dict()
    assert _marks(spec) == ["rule", "point", "rule"]
    interval, dot, zero = _units(spec)
    kept = table[table["change"].notna()]
    _same(_rows(spec, interval), kept)
    assert interval["encoding"]["y"]["sort"] == kept["step"].tolist()  # the funnel's order
    assert interval["encoding"]["x"]["axis"]["format"] == "+%"
    assert (interval["encoding"]["x"]["field"], interval["encoding"]["x2"]["field"]) == (
        "ci_low", "ci_high")
    assert dot["encoding"]["x"]["field"] == "change"
    assert dot["encoding"]["shape"]["field"] == "verdict"
    assert "still maturing" in dot["encoding"]["opacity"]["condition"]["test"]
    assert _rows(spec, zero).to_dict("records") == [{"x": 0}]
    change = next(t for t in dot["encoding"]["tooltip"] if t["field"] == "change")
    assert change["format"] == "+.1%"


def test_time_to_convert_is_one_bar_per_week_as_given():
    weeks = weeks_table()
    spec = charts.time_to_convert_weeks(weeks).to_dict()
    assert _marks(spec) == ["bar"]
    _same(_rows(spec, spec), weeks)
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert (x["field"], x["type"], y["field"], y["type"]) == ("week", "ordinal", "leads",
                                                              "quantitative")
    assert "52 = a year or more" in x["title"]


def test_cohort_trend_says_mature_or_still_maturing_not_true_or_false():
    trend = trend_table()
    spec = charts.cohort_trend(trend).to_dict()
    assert _marks(spec) == ["line", "point"]
    line, point = _units(spec)
    drawn = _rows(spec, line)
    assert drawn["cohort"].tolist() == ["Mature", "Mature", "Still maturing",
                                        "Mature", "Still maturing", "Still maturing"]
    assert point["encoding"]["opacity"]["field"] == "cohort"
    assert point["encoding"]["opacity"]["scale"]["range"] == [1.0, 0.3]  # maturing faded
    assert pd.to_datetime(drawn["month"]).tolist() == trend["month"].tolist()
    _same(drawn, trend[["step", "rate", "entered"]])
    enc = line["encoding"]
    assert (enc["x"]["type"], enc["y"]["axis"]["format"], enc["color"]["field"]) == (
        "temporal", "%", "step")
    month = next(t for t in enc["tooltip"] if t["field"] == "month")
    assert month["format"] == "%b %Y"


def test_capacity_is_a_line_per_segment_of_cumulative_customers():
    cap = capacity_table()
    spec = charts.capacity(cap).to_dict()
    assert spec["mark"] == {"type": "line", "point": True}
    drawn = _rows(spec, spec)
    assert pd.to_datetime(drawn["month"]).tolist() == cap["month"].tolist()
    _same(drawn, cap[["segment", "new_customers", "cumulative"]])
    enc = spec["encoding"]
    assert (enc["y"]["field"], enc["color"]["field"]) == ("cumulative", "segment")
    month = next(t for t in enc["tooltip"] if t["field"] == "month")
    assert month["format"] == "%b %Y"


# --- close rates ----------------------------------------------------------------------------

def test_close_rate_intervals_keep_the_ranking_on_a_percent_axis():
    rates = rates_table()
    spec = charts.close_rate_intervals(rates).to_dict()
    assert _marks(spec) == ["rule", "point"]
    rule, dot = _units(spec)
    assert rule["encoding"]["y"]["sort"] == ["Zoe", "Ann", "Max"]  # ranked, not alphabetical
    x = rule["encoding"]["x"]
    assert (x["axis"]["format"], x["scale"]["domain"]) == ("%", [0, 1])
    assert x["title"] == "Close rate (95% interval)"
    drawn = _rows(spec, rule)
    _same(drawn, rates)
    assert drawn["sample"].tolist() == ["30 deals or more", "30 deals or more",
                                        "Fewer than 30 deals"]
    assert dot["encoding"]["shape"]["field"] == "sample"


def test_close_rate_intervals_speak_of_what_is_measured():
    spec = charts.close_rate_intervals(rates_table(), measure="Retention", unit="customers",
                                       success="Still customers").to_dict()
    rule, _ = _units(spec)
    titles = [t["title"] for t in rule["encoding"]["tooltip"]]
    assert {"Retention", "Still customers", "Customers (n)"} <= set(titles)
    assert "Won" not in titles and "Deals (n)" not in titles
    assert set(_rows(spec, rule)["sample"]) == {"30 customers or more",
                                                "Fewer than 30 customers"}


def test_sales_cycle_quarters_in_time_order_other_groups_by_median():
    cycle = cycle_table()
    spec = charts.sales_cycle_box(cycle, time_order=True).to_dict()
    assert _marks(spec) == ["bar", "rule", "tick"]
    box, whisker, tick = _units(spec)
    assert box["encoding"]["y"]["sort"] == ["2025 Q3", "2025 Q4", "2026 Q1"]
    assert (box["encoding"]["x"]["field"], box["encoding"]["x2"]["field"]) == ("p25_days",
                                                                               "p75_days")
    assert (whisker["encoding"]["x"]["field"], whisker["encoding"]["x2"]["field"]) == (
        "p75_days", "p90_days")
    assert tick["encoding"]["x"]["field"] == "median_days"
    assert box["encoding"]["x"]["title"] == "Days from created to won"
    _same(_rows(spec, box), cycle)
    by_median = charts.sales_cycle_box(cycle).to_dict()
    assert _units(by_median)[0]["encoding"]["y"]["sort"] == {"field": "median_days"}


def test_close_rate_trend_leaves_out_undated_deals_and_draws_the_interval_as_a_band():
    quarters = quarters_table()
    spec = charts.close_rate_trend(quarters).to_dict()
    assert [u["mark"] for u in _units(spec)] == [{"type": "area", "opacity": 0.2},
                                                 {"type": "line", "point": True}]
    band, line = _units(spec)
    dated = quarters[quarters["grp"] != "(no date)"]
    _same(_rows(spec, band), dated)
    assert band["encoding"]["x"]["sort"] == ["2025 Q3", "2025 Q4", "2026 Q1"]
    y = band["encoding"]["y"]
    assert (y["field"], band["encoding"]["y2"]["field"], y["axis"]["format"]) == (
        "ci_low", "ci_high", "%")
    assert line["encoding"]["y"]["field"] == "rate"


# --- what-if --------------------------------------------------------------------------------

@pytest.mark.parametrize(("measure", "title"), [("revenue", "Revenue (USD)"),
                                                ("won", "Deals won")])
def test_projection_draws_the_chosen_measure_with_the_baseline_dashed(measure, title):
    runs = runs_table()
    spec = charts.projection(runs, measure, title).to_dict()
    assert spec["mark"] == {"type": "line", "point": True}
    _same(_rows(spec, spec), runs)
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("quarter", "ordinal")
    assert (enc["y"]["field"], enc["y"]["title"]) == (measure, title)
    assert enc["color"]["field"] == "run"
    dash = enc["strokeDash"]
    assert "Baseline" in dash["condition"]["test"] and dash["condition"]["value"] == [4, 4]
    assert dash["value"] == [1, 0]  # scenarios solid
    shown = next(t for t in enc["tooltip"] if t["field"] == measure)
    assert (shown["title"], shown["format"]) == (title, ",.0f")


@pytest.mark.parametrize("measure", ["revenue", "won", "cac"])
def test_the_projection_spec_drawn_on_a_move_is_the_chart_s_without_its_rows(measure):
    """What-if draws the projection from a spec built once and the rows of the move: it
    must be exactly the chart Altair builds, less its data and Altair's 300×300 view."""
    built = charts.projection(runs_table(), measure, "Title").to_dict()
    for key in ("data", "datasets"):
        built.pop(key)
    view = built.get("config", {}).get("view", {})
    assert view == {"continuousWidth": 300, "continuousHeight": 300}  # what is left out
    built.pop("config")
    spec = charts.projection_spec(measure, "Title")
    assert spec == built
    spec["mark"] = "bar"  # a caller's change does not reach the next move's spec
    assert charts.projection_spec(measure, "Title") == built


def test_sensitivity_is_a_bar_each_way_per_assumption_largest_range_first():
    table = sensitivity_table()
    spec = charts.sensitivity(table).to_dict()
    assert _marks(spec) == ["bar"]
    drawn = _rows(spec, spec)
    assert len(drawn) == 2 * len(table)
    for r in table.itertuples():
        mine = drawn[drawn.assumption == r.assumption].set_index("side")["change"]
        assert mine.to_dict() == {"Assumption 50% lower": r.low,
                                  "Assumption 50% higher": r.high}
    assert spec["encoding"]["y"]["sort"] == ["Deal size", "Lead volume", "Churn"]
    assert spec["encoding"]["x"]["field"] == "change"


# --- loyalty and objectives -----------------------------------------------------------------

def test_tenure_bands_stack_retained_and_churned_in_band_order():
    bands = bands_table()
    spec = charts.tenure_distribution(bands).to_dict()
    assert _marks(spec) == ["bar"]
    enc = spec["encoding"]
    assert enc["x"]["sort"] == ["0–2", "3–5", "6–11", "12–23", "24+"]  # not alphabetical
    assert enc["y"]["stack"] is True
    assert enc["color"]["sort"] == ["Still a customer", "Churned"]
    drawn = _rows(spec, spec)
    wide = drawn.pivot(index="label", columns="status", values="count").loc[bands["label"]]
    assert wide["Still a customer"].tolist() == bands["retained"].tolist()
    assert wide["Churned"].tolist() == bands["churned"].tolist()


def _hue(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def test_attainment_bars_are_capped_coloured_by_status_and_labelled():
    kpis = kpi_table()
    spec = charts.attainment(kpis).to_dict()
    assert _marks(spec) == ["bar", "rule", "text"]
    bars, target, text = _units(spec)
    drawn = _rows(spec, bars)
    assert drawn["drawn"].tolist() == [1.033, 0.93, 0.55, 1.5]  # 225% drawn at the cap
    assert drawn["pct"].tolist() == ["103%", "93%", "55%", "225%"]  # the label says it all
    assert bars["encoding"]["y"]["sort"] == kpis["label"].tolist()
    x = bars["encoding"]["x"]
    assert (x["axis"]["format"], x["axis"]["values"]) == ("%", [0, 0.5, 1, 1.5])
    assert _rows(spec, target).to_dict("records") == [{"x": 1.0}]  # the 100% line
    assert text["encoding"]["text"]["field"] == "pct"
    scale = bars["encoding"]["color"]["scale"]
    assert scale["domain"] == ["On target", "Within 10% of target", "Behind target"]
    palette = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"][
        "chartCategoricalColors"]
    on, near, behind = scale["range"]
    assert {on, near, behind} <= set(palette) and len({on, near, behind}) == 3
    assert 90 < _hue(on) < 180 and 15 < _hue(near) < 50  # green, orange
    assert _hue(behind) < 15 or _hue(behind) > 340  # red


def test_an_attainment_without_a_value_is_drawn_empty_not_as_zero_percent():
    kpis = kpi_table().head(2).assign(attainment=[None, 0.5], status=["No target",
                                                                      "Behind target"])
    spec = charts.attainment(kpis).to_dict()
    drawn = _rows(spec, _units(spec)[0])
    assert drawn["pct"].tolist() == ["", "50%"] and drawn["drawn"].tolist() == [0, 0.5]


# --- every chart: tooltips are plain fields of the data drawn --------------------------------

CHARTS = {
    "funnel": lambda: charts.funnel_bars(lead_funnel()),
    "funnel_grouped": lambda: charts.funnel_bars(grouped_funnel()),
    "funnel_multiples": lambda: charts.funnel_bars(grouped_funnel(), "small_multiples"),
    "period_change": lambda: charts.period_change(period_table()),
    "time_to_convert": lambda: charts.time_to_convert_weeks(weeks_table()),
    "cohort_trend": lambda: charts.cohort_trend(trend_table()),
    "capacity": lambda: charts.capacity(capacity_table()),
    "close_rates": lambda: charts.close_rate_intervals(rates_table()),
    "sales_cycle": lambda: charts.sales_cycle_box(cycle_table()),
    "close_rate_trend": lambda: charts.close_rate_trend(quarters_table()),
    "projection": lambda: charts.projection(runs_table(), "revenue", "Revenue"),
    "sensitivity": lambda: charts.sensitivity(sensitivity_table()),
    "tenure": lambda: charts.tenure_distribution(bands_table()),
    "attainment": lambda: charts.attainment(kpi_table()),
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_tooltips_are_plain_fields_of_the_data_drawn(name):
    spec = CHARTS[name]().to_dict()
    with_tooltips = [u for u in _units(spec) if "tooltip" in u.get("encoding", {})]
    assert with_tooltips, "a chart without tooltips"
    for unit in _units(spec):
        assert "tooltip" not in unit["mark"]  # no 'all fields' or HTML tooltip content
    for unit in with_tooltips:
        rows = _rows(spec, unit)
        for t in unit["encoding"]["tooltip"]:
            assert set(t) <= {"field", "type", "title", "format"}, t
            assert t["field"] in rows.columns, (t, list(rows.columns))
            assert "<" not in str(t.get("title", ""))
            values = rows[t["field"]].dropna().astype(str)
            assert not values.str.contains("<").any()  # no HTML built into a value

"""Pure chart builders: DataFrame in, `alt.Chart` out. Colours and fonts come from the theme."""

from __future__ import annotations

import functools
import json

import altair as alt
import pandas as pd

from handoff import export

PARTS = ("Reached", "Lost", "Still open", "Did not reach")
# Month axes say the year: "Jan 2026", not "January" beside "October".
MONTH_AXIS = alt.Axis(format="%b %Y", labelAngle=0, labelOverlap=True)


def funnel_segments(table: pd.DataFrame) -> pd.DataFrame:
    """Long form of a funnel for drawing: each stage's bar (those that reached it) and,
    after it, those of the stage before who did not get here, split into lost and still
    open when the table knows (deals), so an open deal is never drawn as a dropped one."""
    rows = []
    for _, g in table.sort_values(["grp", "position"]).groupby("grp", sort=False):
        previous = None
        for r in g.itertuples():
            base = {"grp": r.grp, "label": r.label, "position": r.position,
                    "entities": r.entities}
            rows.append({**base, "part": "Reached", "x0": 0, "x1": r.entities,
                         "n": r.entities})
            if previous is not None and previous.entities > r.entities:
                lost = int(getattr(previous, "lost_here", 0) or 0)
                still = int(getattr(previous, "open_here", 0) or 0)
                gone = previous.entities - r.entities
                parts = [("Lost", lost), ("Still open", still)] if lost + still == gone \
                    and "lost_here" in g else [("Did not reach", gone)]
                start = r.entities
                for part, n in parts:
                    if n:
                        rows.append({**base, "part": part, "x0": start, "x1": start + n, "n": n})
                        start += n
            previous = r
    return pd.DataFrame(rows, columns=["grp", "label", "position", "entities", "part", "x0",
                                       "x1", "n"])


def _stage_texts(data: pd.DataFrame, short: bool) -> list[str]:
    """'8,823 · 45% of previous · 10,870 did not reach' (deals: '· 47 lost, 41 open')."""
    out = []
    for _, g in data.groupby("grp", sort=False):
        previous = None
        for r in g.sort_values("position").itertuples():
            text = f"{int(r.entities):,}"
            if previous is not None and pd.notna(r.from_previous):
                text += f" · {r.from_previous:.0%} of previous"
                gone = int(previous.entities - r.entities)
                lost = int(getattr(previous, "lost_here", 0) or 0)
                still = int(getattr(previous, "open_here", 0) or 0)
                if not short and gone > 0:
                    text += (f" · {lost:,} lost, {still:,} open" if "lost_here" in g
                             and lost + still == gone else f" · {gone:,} did not reach")
            out.append((r.Index, text))
            previous = r
    return [t for _, t in sorted(out)]


def funnel_bars(table: pd.DataFrame, layout: str = "side_by_side",
                selectable: bool = False) -> alt.Chart:
    """Bars per stage with the count and conversion written at the end of each bar, and the
    drop-off drawn after it (lost and still open apart for deals). Labels sit outside the
    bars, so a tiny last stage stays readable. A breakdown shows side by side (one bar per
    group) or as small multiples. `selectable`: a click on a stage selects it (drill-down)."""
    data = table.assign(from_first_pct=table["from_first"].fillna(1.0),
                        from_previous_pct=table["from_previous"])
    grouped = data["grp"].nunique() > 1
    data = data.reset_index(drop=True)
    data["text"] = _stage_texts(data, short=grouped)
    order = data.drop_duplicates("position").sort_values("position")["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=0))
    tooltip = [alt.Tooltip("label:N", title="Stage"), alt.Tooltip("grp:N", title="Group"),
               alt.Tooltip("entities:Q", title="Count", format=","),
               alt.Tooltip("from_previous_pct:Q", title="From previous stage", format=".1%"),
               alt.Tooltip("from_first_pct:Q", title="From first stage", format=".1%")]
    stage = alt.selection_point(name="stage", fields=["position"], on="click")
    room = float(data["entities"].max() or 1) * (1.25 if grouped and layout ==
                                                 "side_by_side" else 1.45)
    x_scale = alt.Scale(domain=[0, room], nice=False)
    if grouped and layout == "side_by_side":
        base = alt.Chart(data).encode(y=y, yOffset=alt.YOffset("grp:N"), tooltip=tooltip)
        bars = base.mark_bar().encode(x=alt.X("entities:Q", title="Count", scale=x_scale),
                                      color=alt.Color("grp:N", title=None))
        text = base.mark_text(align="left", dx=4, fontSize=11).encode(
            x="entities:Q", text="text:N",
            yOffset=alt.YOffset("grp:N", bandPosition=0.5))  # beside its bar, not above
        if selectable:
            bars = bars.add_params(stage)
        return (bars + text).properties(height=alt.Step(18))
    segments = funnel_segments(data)
    ends = segments.groupby(["grp", "position"], as_index=False)["x1"].max()
    labels = data.merge(ends, on=["grp", "position"])[
        ["grp", "label", "position", "entities", "text", "x1", "from_previous_pct",
         "from_first_pct"]]
    # one frame for both layers (a faceted layer chart needs its data at the top)
    both = pd.concat([segments.assign(layer="bar"), labels.assign(layer="text", part="")],
                     ignore_index=True)
    seg_tooltip = [alt.Tooltip("label:N", title="Stage"), alt.Tooltip("grp:N", title="Group"),
                   alt.Tooltip("part:N", title="Part"), alt.Tooltip("n:Q", title="Count",
                                                                   format=",")]
    present = [p for p in PARTS if p in set(segments["part"])]
    base = alt.Chart(both)
    bars = base.transform_filter(alt.datum.layer == "bar").mark_bar().encode(
        y=y, x=alt.X("x0:Q", title="Count", scale=x_scale), x2="x1:Q",
        color=alt.Color("part:N", title=None, sort=present, scale=alt.Scale(domain=present),
                        legend=alt.Legend(orient="bottom") if len(present) > 1 else None),
        opacity=alt.condition(alt.datum.part == "Reached", alt.value(1.0), alt.value(0.45)),
        tooltip=seg_tooltip)
    if selectable:
        bars = bars.add_params(stage)
    text = base.transform_filter(alt.datum.layer == "text").mark_text(
        align="left", dx=4, fontSize=12).encode(y=y, x="x1:Q", text="text:N", tooltip=tooltip)
    if grouped:
        return (bars + text).properties(width=260, height=alt.Step(26)).facet(
            facet=alt.Facet("grp:N", title=None), columns=3)
    return (bars + text).properties(height=alt.Step(40))


def period_change(table: pd.DataFrame) -> alt.Chart:
    """Change in conversion per step, in points, with its 95% interval and a zero line."""
    data = table.dropna(subset=["change"])
    tooltip = [alt.Tooltip("step:N", title="Step"),
               alt.Tooltip("this_rate:Q", title="This period", format=".1%"),
               alt.Tooltip("other_rate:Q", title="Compared period", format=".1%"),
               alt.Tooltip("change:Q", title="Change", format="+.1%"),
               alt.Tooltip("ci_low:Q", title="95% CI from", format="+.1%"),
               alt.Tooltip("ci_high:Q", title="95% CI to", format="+.1%"),
               alt.Tooltip("verdict:N", title="Verdict")]
    order = data["step"].tolist()
    y = alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=0))
    faded = alt.condition(alt.datum.verdict == "still maturing", alt.value(0.3),
                          alt.value(1.0))
    bars = alt.Chart(data).mark_rule(strokeWidth=3).encode(
        y=y, x=alt.X("ci_low:Q", title="Change in conversion (points)",
                     axis=alt.Axis(format="+%")), x2="ci_high:Q", opacity=faded,
        tooltip=tooltip)
    dots = alt.Chart(data).mark_point(filled=True, size=90).encode(
        y=y, x="change:Q", shape=alt.Shape("verdict:N", title=None), opacity=faded,
        tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (bars + dots + zero).properties(height=alt.Step(40))


def time_to_convert_weeks(weeks: pd.DataFrame) -> alt.Chart:
    """How many leads took each number of weeks (the last bar is a year or more)."""
    return alt.Chart(weeks).mark_bar().encode(
        x=alt.X("week:O", title="Weeks taken (52 = a year or more)"),
        y=alt.Y("leads:Q", title="Leads"),
        tooltip=[alt.Tooltip("week:O", title="Weeks"),
                 alt.Tooltip("leads:Q", title="Leads", format=",")]).properties(height=260)


def cohort_trend(trend: pd.DataFrame) -> alt.Chart:
    """Conversion of each step by entry month; still-maturing cohorts drawn faded."""
    trend = trend.assign(cohort=trend["maturing"].map({True: "Still maturing",
                                                       False: "Mature"}))
    tooltip = [alt.Tooltip("month:T", title="Cohort", format="%b %Y"),
               alt.Tooltip("step:N", title="Step"),
               alt.Tooltip("rate:Q", title="Conversion", format=".1%"),
               alt.Tooltip("entered:Q", title="Entered the step", format=","),
               alt.Tooltip("cohort:N", title="Cohort")]
    base = alt.Chart(trend).encode(
        x=alt.X("month:T", title="Month the leads entered", axis=MONTH_AXIS),
        y=alt.Y("rate:Q", title="Conversion", axis=alt.Axis(format="%")),
        color=alt.Color("step:N", title=None, legend=alt.Legend(labelLimit=0)),
        tooltip=tooltip)
    maturing = alt.Opacity("cohort:N", title=None,
                           scale=alt.Scale(domain=["Mature", "Still maturing"],
                                           range=[1.0, 0.3]))
    return (base.mark_line(opacity=0.6) + base.mark_point(size=45, filled=True).encode(
        opacity=maturing)).properties(height=320)


def capacity(cap: pd.DataFrame) -> alt.Chart:
    """Cumulative new customers per segment: a flattening line is a saturating segment."""
    return alt.Chart(cap).mark_line(point=True).encode(
        x=alt.X("month:T", title=None, axis=MONTH_AXIS),
        y=alt.Y("cumulative:Q", title="Cumulative new customers"),
        color=alt.Color("segment:N", title=None),
        tooltip=[alt.Tooltip("month:T", title="Month", format="%b %Y"),
                 alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("new_customers:Q", title="New that month", format=","),
                 alt.Tooltip("cumulative:Q", title="Cumulative", format=",")],
    ).properties(height=320)


def close_rate_intervals(rates: pd.DataFrame, measure: str = "Close rate",
                         unit: str = "deals", success: str = "Won") -> alt.Chart:
    """Each group's rate with its 95% interval, in the order given (ranked by what the
    data vouches for, or quarters in time order)."""
    data = rates.assign(sample=rates["small_sample"].map({True: f"Fewer than 30 {unit}",
                                                          False: f"30 {unit} or more"}))
    order = data["grp"].tolist()
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("rank:Q", title="Rank"),
               alt.Tooltip("rate:Q", title=measure, format=".1%"),
               alt.Tooltip("ci_low:Q", title="95% CI from", format=".1%"),
               alt.Tooltip("ci_high:Q", title="95% CI to", format=".1%"),
               alt.Tooltip("won:Q", title=success, format=","),
               alt.Tooltip("n:Q", title=f"{unit.capitalize()} (n)", format=",")]
    y = alt.Y("grp:N", sort=order, title=None, axis=alt.Axis(labelLimit=0))
    rule = alt.Chart(data).mark_rule(strokeWidth=3, opacity=0.6).encode(
        y=y, x=alt.X("ci_low:Q", title=f"{measure} (95% interval)",
                     axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2="ci_high:Q", tooltip=tooltip)
    dot = alt.Chart(data).mark_point(filled=True, size=80).encode(
        y=y, x="rate:Q", shape=alt.Shape("sample:N", title=None), tooltip=tooltip)
    return (rule + dot).properties(height=alt.Step(26))


def sales_cycle_box(cycle: pd.DataFrame, time_order: bool = False) -> alt.Chart:
    """Days to win per group: the middle half as a bar, the median as a tick (groups by
    median, or quarters in time order)."""
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("won:Q", title="Won deals"),
               alt.Tooltip("p25_days:Q", title="25%", format=".0f"),
               alt.Tooltip("median_days:Q", title="Median", format=".0f"),
               alt.Tooltip("p75_days:Q", title="75%", format=".0f"),
               alt.Tooltip("p90_days:Q", title="90%", format=".0f")]
    y = alt.Y("grp:N", title=None, axis=alt.Axis(labelLimit=0),
              sort=sorted(cycle["grp"]) if time_order else alt.EncodingSortField("median_days"))
    box = alt.Chart(cycle).mark_bar(opacity=0.5, height=14).encode(
        y=y, x=alt.X("p25_days:Q", title="Days from created to won"), x2="p75_days:Q",
        tooltip=tooltip)
    whisker = alt.Chart(cycle).mark_rule().encode(y=y, x="p75_days:Q", x2="p90_days:Q",
                                                  tooltip=tooltip)
    tick = alt.Chart(cycle).mark_tick(thickness=3, size=18).encode(y=y, x="median_days:Q",
                                                                   tooltip=tooltip)
    return (box + whisker + tick).properties(height=alt.Step(26))


def close_rate_trend(rates: pd.DataFrame) -> alt.Chart:
    """Close rate by quarter with its 95% interval as a band."""
    tooltip = [alt.Tooltip("grp:N", title="Quarter"),
               alt.Tooltip("rate:Q", title="Close rate", format=".1%"),
               alt.Tooltip("ci_low:Q", title="95% CI from", format=".1%"),
               alt.Tooltip("ci_high:Q", title="95% CI to", format=".1%"),
               alt.Tooltip("n:Q", title="Deals (n)", format=",")]
    rates = rates[~rates["grp"].str.startswith("(")]
    x = alt.X("grp:O", title=None, sort=sorted(rates["grp"].tolist()),
              axis=alt.Axis(labelAngle=0))
    band = alt.Chart(rates).mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("ci_low:Q", title="Close rate", axis=alt.Axis(format="%")),
        y2="ci_high:Q", tooltip=tooltip)
    line = alt.Chart(rates).mark_line(point=True).encode(x=x, y="rate:Q", tooltip=tooltip)
    return (band + line).properties(height=300)


def projection(runs: pd.DataFrame, measure: str, title: str) -> alt.Chart:
    """One measure per quarter: each scenario against the baseline."""
    tooltip = [alt.Tooltip("run:N", title="Scenario"), alt.Tooltip("quarter:O", title="Quarter"),
               alt.Tooltip(f"{measure}:Q", title=title, format=",.0f")]
    return alt.Chart(runs).mark_line(point=True).encode(
        x=alt.X("quarter:O", title="Quarters ahead"),
        y=alt.Y(f"{measure}:Q", title=title),
        color=alt.Color("run:N", title=None, legend=alt.Legend(labelLimit=0, orient="bottom")),
        strokeDash=alt.condition(alt.datum.run == "Baseline", alt.value([4, 4]),
                                 alt.value([1, 0])),
        tooltip=tooltip).properties(height=320)


@functools.lru_cache(maxsize=64)
def _projection_spec(measure: str, title: str) -> str:
    chart = projection(pd.DataFrame({"run": pd.Series(dtype=str),
                                     "quarter": pd.Series(dtype="int64"),
                                     measure: pd.Series(dtype="float64")}), measure, title)
    # validated against the Vega-Lite schema, once; its config is only Altair's default
    # 300×300 view, which Streamlit leaves out when it draws an Altair chart
    spec = chart.to_dict()
    return json.dumps({k: v for k, v in spec.items() if k not in ("data", "datasets", "config")})


def projection_spec(measure: str, title: str) -> dict:
    """`projection`'s Vega-Lite spec without its rows, built and validated once per measure:
    a slider move then sends only the new rows, instead of a chart Altair builds and checks
    against the schema again (a sixth of a move's server time)."""
    return json.loads(_projection_spec(measure, title))


def sensitivity(table: pd.DataFrame) -> alt.Chart:
    """Tornado: change in projected revenue with each assumption 50% lower or higher."""
    long = table.melt(id_vars=["assumption", "range"], value_vars=["low", "high"],
                      var_name="side", value_name="change")
    long["side"] = long["side"].map({"low": "Assumption 50% lower",
                                     "high": "Assumption 50% higher"})
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("assumption:N", sort=table["assumption"].tolist(), title=None,
                axis=alt.Axis(labelLimit=0)),
        x=alt.X("change:Q", title="Change in projected revenue over the horizon"),
        color=alt.Color("side:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("assumption:N", title="Assumption"),
                 alt.Tooltip("side:N", title="Variation"),
                 alt.Tooltip("change:Q", title="Revenue change", format=",.0f")],
    ).properties(height=alt.Step(22))


def tenure_distribution(bands: pd.DataFrame) -> alt.Chart:
    """Customers per band of months as a customer, split into those still customers and
    those who churned."""
    long = bands.melt(id_vars=["label", "months_from"], value_vars=["retained", "churned"],
                      var_name="status", value_name="count")
    long["status"] = long["status"].map({"retained": "Still a customer", "churned": "Churned"})
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("label:N", sort=bands["label"].tolist(), title="Months as a customer"),
        y=alt.Y("count:Q", title="Customers", stack=True),
        color=alt.Color("status:N", title=None, sort=["Still a customer", "Churned"]),
        tooltip=[alt.Tooltip("label:N", title="Months"), alt.Tooltip("status:N", title=""),
                 alt.Tooltip("count:Q", title="Customers", format=",")]).properties(height=260)


STATUSES = ("On target", "Within 10% of target", "Behind target", "No target")
# Which of the theme's categorical colours (.streamlit/config.toml) each status takes:
# green, orange, red, slate.
STATUS_COLOURS = (2, 1, 4, 7)


def _status_scale(present: list[str]) -> alt.Scale:
    colours = list(export.theme().get("chartCategoricalColors") or [])
    if len(colours) < 8:
        return alt.Scale(domain=present)
    pick = dict(zip(STATUSES, (colours[i] for i in STATUS_COLOURS), strict=True))
    return alt.Scale(domain=present, range=[pick[s] for s in present])


def attainment(kpis: pd.DataFrame) -> alt.Chart:
    """Each KPI's attainment against its target, coloured by how it stands against the
    target (not by the change on the last period). The axis says each KPI's actual and
    target; the bar ends with the attainment."""
    data = kpis.assign(drawn=kpis["attainment"].fillna(0).clip(0, 1.5),
                       pct=kpis["attainment"].map(lambda a: "" if pd.isna(a) else f"{a:.0%}"))
    present = [s for s in STATUSES if s in set(data["status"])]
    y = alt.Y("label:N", sort=data["label"].tolist(), title=None,
              axis=alt.Axis(labelLimit=0, labelFontSize=12))
    tooltip = [alt.Tooltip("kpi:N", title="KPI"), alt.Tooltip("text:N", title="Actual"),
               alt.Tooltip("attainment:Q", title="Attainment", format=".0%"),
               alt.Tooltip("status:N", title="Against target"),
               alt.Tooltip("owner:N", title="Owner")]
    bars = alt.Chart(data).mark_bar(height=16).encode(
        y=y, x=alt.X("drawn:Q", title=None, scale=alt.Scale(domain=[0, 1.6]),
                     axis=alt.Axis(format="%", values=[0, 0.5, 1, 1.5])),
        color=alt.Color("status:N", title=None, sort=present, scale=_status_scale(present),
                        legend=alt.Legend(orient="right")),
        tooltip=tooltip)
    target = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3]).encode(x="x:Q")
    text = alt.Chart(data).mark_text(align="left", dx=4, fontSize=11).encode(
        y=y, x="drawn:Q", text="pct:N", tooltip=tooltip)
    return (bars + target + text).properties(height=alt.Step(26))

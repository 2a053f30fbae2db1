"""Pure chart builders: DataFrame in, `alt.Chart` out. Colours and fonts come from the theme."""

from __future__ import annotations

import altair as alt
import pandas as pd


def funnel_bars(table: pd.DataFrame, layout: str = "side_by_side") -> alt.Chart:
    """Horizontal bars per stage; a breakdown shows side by side or as small multiples."""
    data = table.assign(from_first_pct=table["from_first"].fillna(1.0),
                        from_previous_pct=table["from_previous"])
    grouped = data["grp"].nunique() > 1
    order = data.drop_duplicates("position").sort_values("position")["label"].tolist()
    tooltip = [alt.Tooltip("label:N", title="Stage"), alt.Tooltip("grp:N", title="Group"),
               alt.Tooltip("entities:Q", title="Count", format=","),
               alt.Tooltip("from_previous_pct:Q", title="From previous stage", format=".1%"),
               alt.Tooltip("from_first_pct:Q", title="From first stage", format=".1%")]
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort=order, title=None),
        x=alt.X("entities:Q", title="Count"),
        tooltip=tooltip)
    bars = base.mark_bar()
    text = base.mark_text(align="left", dx=4).encode(text=alt.Text("entities:Q", format=","))
    if grouped and layout == "side_by_side":
        bars = bars.encode(color=alt.Color("grp:N", title=None), yOffset="grp:N")
        return (bars + text.encode(yOffset="grp:N")).properties(height=alt.Step(14))
    if grouped:
        return (bars + text).properties(width=220, height=alt.Step(22)).facet(
            facet=alt.Facet("grp:N", title=None), columns=3).resolve_scale(x="independent")
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
    y = alt.Y("step:N", sort=order, title=None)
    bars = alt.Chart(data).mark_rule(strokeWidth=3).encode(
        y=y, x=alt.X("ci_low:Q", title="Change in conversion (points)",
                     axis=alt.Axis(format="+%")), x2="ci_high:Q", tooltip=tooltip)
    dots = alt.Chart(data).mark_point(filled=True, size=90).encode(
        y=y, x="change:Q", shape=alt.Shape("verdict:N", title=None), tooltip=tooltip)
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
    tooltip = [alt.Tooltip("month:T", title="Cohort", format="%b %Y"),
               alt.Tooltip("step:N", title="Step"),
               alt.Tooltip("rate:Q", title="Conversion", format=".1%"),
               alt.Tooltip("entered:Q", title="Entered the step", format=","),
               alt.Tooltip("maturing:N", title="Still maturing")]
    base = alt.Chart(trend).encode(
        x=alt.X("month:T", title="Month the leads entered"),
        y=alt.Y("rate:Q", title="Conversion", axis=alt.Axis(format="%")),
        color=alt.Color("step:N", title=None), tooltip=tooltip)
    maturing = alt.Opacity("maturing:N", title="Still maturing",
                           scale=alt.Scale(domain=[False, True], range=[1.0, 0.3]))
    return (base.mark_line(opacity=0.6) + base.mark_point(size=45, filled=True).encode(
        opacity=maturing)).properties(height=320)


def capacity(cap: pd.DataFrame) -> alt.Chart:
    """Cumulative new customers per segment: a flattening line is a saturating segment."""
    return alt.Chart(cap).mark_line(point=True).encode(
        x=alt.X("month:T", title=None),
        y=alt.Y("cumulative:Q", title="Cumulative new customers"),
        color=alt.Color("segment:N", title=None),
        tooltip=[alt.Tooltip("month:T", title="Month", format="%b %Y"),
                 alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("new_customers:Q", title="New that month", format=","),
                 alt.Tooltip("cumulative:Q", title="Cumulative", format=",")],
    ).properties(height=320)


def close_rate_intervals(rates: pd.DataFrame, measure: str = "Close rate",
                         unit: str = "deals", success: str = "Won") -> alt.Chart:
    """Each group's rate with its 95% interval, ordered by what the data vouches for."""
    data = rates.assign(sample=rates["small_sample"].map({True: f"Fewer than 30 {unit}",
                                                          False: f"30 {unit} or more"}))
    order = data["grp"].tolist()
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("rank:Q", title="Rank"),
               alt.Tooltip("rate:Q", title=measure, format=".1%"),
               alt.Tooltip("ci_low:Q", title="95% CI from", format=".1%"),
               alt.Tooltip("ci_high:Q", title="95% CI to", format=".1%"),
               alt.Tooltip("won:Q", title=success, format=","),
               alt.Tooltip("n:Q", title=f"{unit.capitalize()} (n)", format=",")]
    y = alt.Y("grp:N", sort=order, title=None)
    rule = alt.Chart(data).mark_rule(strokeWidth=3, opacity=0.6).encode(
        y=y, x=alt.X("ci_low:Q", title=f"{measure} (95% interval)",
                     axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2="ci_high:Q", tooltip=tooltip)
    dot = alt.Chart(data).mark_point(filled=True, size=80).encode(
        y=y, x="rate:Q", shape=alt.Shape("sample:N", title=None), tooltip=tooltip)
    return (rule + dot).properties(height=alt.Step(26))


def sales_cycle_box(cycle: pd.DataFrame) -> alt.Chart:
    """Days to win per group: the middle half as a bar, the median as a tick."""
    tooltip = [alt.Tooltip("grp:N", title="Group"), alt.Tooltip("won:Q", title="Won deals"),
               alt.Tooltip("p25_days:Q", title="25%", format=".0f"),
               alt.Tooltip("median_days:Q", title="Median", format=".0f"),
               alt.Tooltip("p75_days:Q", title="75%", format=".0f"),
               alt.Tooltip("p90_days:Q", title="90%", format=".0f")]
    y = alt.Y("grp:N", title=None, sort=alt.EncodingSortField("median_days"))
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
    x = alt.X("grp:O", title=None, sort=sorted(rates["grp"].tolist()))
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
        color=alt.Color("run:N", title=None),
        strokeDash=alt.condition(alt.datum.run == "Baseline", alt.value([4, 4]),
                                 alt.value([1, 0])),
        tooltip=tooltip).properties(height=320)


def sensitivity(table: pd.DataFrame) -> alt.Chart:
    """Tornado: change in projected revenue with each assumption 50% lower or higher."""
    long = table.melt(id_vars=["assumption", "range"], value_vars=["low", "high"],
                      var_name="side", value_name="change")
    long["side"] = long["side"].map({"low": "Assumption 50% lower",
                                     "high": "Assumption 50% higher"})
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("assumption:N", sort=table["assumption"].tolist(), title=None),
        x=alt.X("change:Q", title="Change in projected revenue over the horizon"),
        color=alt.Color("side:N", title=None),
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

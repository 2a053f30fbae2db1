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

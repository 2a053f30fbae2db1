"""The Funnel page's controls and tables (the page itself stays a short script)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from handoff import charts, funnel, funnel_stats, ui
from handoff.db import Database
from handoff.filters import Filters
from handoff.funnel import Funnel, FunnelRequest
from handoff.schema import LEAD_STAGE_LABELS


def request(db: Database) -> FunnelRequest:
    """What to count and how, from the controls above the chart."""
    units = [u for u, table in (("leads", "leads"), ("accounts", "leads"), ("deals", "deals"))
             if db.row_counts.get(table)]
    if not units:
        return FunnelRequest()
    collapse = "leads" in units and st.toggle(
        "Show the five stages of the articles", key="funnel.collapse",
        help="Awareness → consideration → sale → loyalty → advocacy, instead of CRM stages.")
    c1, c2, c3, c4 = st.columns(4)
    unit = c1.radio("Count", units, format_func=funnel.UNITS.get, key="funnel.unit",
                    horizontal=True, help="Accounts counts each company once.")
    if unit == "deals":
        breakdown = c2.selectbox("Breakdown", list(funnel.DEAL_BREAKDOWNS),
                                 format_func=funnel.DEAL_BREAKDOWNS.get, key="funnel.dbreak")
        return FunnelRequest(unit="deals", breakdown=breakdown,
                             lost_after=st.session_state.get("funnel.lost_after"))
    if collapse:
        return FunnelRequest(unit=unit, collapse=True)
    view = c2.radio("Way to count", list(funnel.VIEWS), key="funnel.view",
                    format_func=lambda v: funnel.VIEWS[v].split(":")[0], horizontal=True,
                    help="\n\n".join(funnel.VIEWS.values()))
    window = 0
    if view == "cohort":
        window = c3.number_input("Conversion window (days, 0 = none)", 0, 3650, 0, step=30,
                                 key="funnel.window",
                                 help="Count a stage only when reached within this many days "
                                      "of the previous stage.")
    breakdown = c4.selectbox("Breakdown", list(funnel.LEAD_BREAKDOWNS),
                             format_func=funnel.LEAD_BREAKDOWNS.get, key="funnel.lbreak")
    return FunnelRequest(unit=unit, view=view, window_days=int(window), breakdown=breakdown)


def lost_after_control(result: Funnel) -> None:
    """Deals without stage history: which stage lost deals are counted to."""
    stages = result.table.drop_duplicates("position").sort_values("position")
    open_stages = stages.iloc[:-1]
    if len(open_stages) < 2 or not any("no stage history" in n for n in result.notes):
        return
    st.selectbox("Lost deals (no stage history) dropped after", open_stages.position.tolist(),
                 index=len(open_stages) - 1, key="funnel.lost_after",
                 format_func=dict(zip(stages.position, stages.label, strict=True)).get)


def display_table(result: Funnel) -> tuple[pd.DataFrame, dict]:
    """The table behind the chart, with readable headers and formats."""
    t = result.table
    out = pd.DataFrame({"Group": t["grp"], "Stage": t["label"], "Count": t["entities"],
                        "From previous": t["from_previous"], "From first": t["from_first"],
                        "Drop-off": t["drop"], "Drop-off %": t["drop_pct"]})
    if "lost_here" in t:
        out["Lost here"] = t["lost_here"].astype("int64")
        out["Still open here"] = t["open_here"].astype("int64")
    if result.has_money:
        if "amount" in t:
            out["Pipeline amount"] = t["amount"]
        out["Revenue won"] = t["revenue_won"]
        if t["margin_won"].notna().any():
            out["Margin won"] = t["margin_won"]
    if t["grp"].nunique() == 1:
        out = out.drop(columns="Group")
    pct = st.column_config.NumberColumn(format="percent")
    money = st.column_config.NumberColumn(format="localized")
    config = {"From previous": pct, "From first": pct, "Drop-off %": pct,
              "Pipeline amount": money, "Revenue won": money, "Margin won": money}
    return out, config


def comparison_section(db: Database, f: Filters, req: FunnelRequest) -> None:
    """This period against another, per step, with a verdict a room can trust."""
    choice = st.radio("Compare with", ["previous", "year", "custom"], horizontal=True,
                      key="funnel.compare",
                      format_func={"previous": "The period just before",
                                   "year": "The same period a year earlier",
                                   "custom": "A period I choose"}.get)
    other = f.previous() if choice == "previous" else f.year_earlier()
    if choice == "custom":
        picked = st.date_input("Compared period", (other.start, other.end),
                               key="funnel.compare.range")
        if isinstance(picked, tuple) and len(picked) == 2:
            other = Filters(picked[0], picked[1], f.sources, f.segments, f.owners)
    st.caption(f"This period: {f.start:%d %b %Y} – {f.end:%d %b %Y}; compared with "
               f"{other.start:%d %b %Y} – {other.end:%d %b %Y}. Each change has a 95% "
               "interval (Newcombe): when it crosses zero, the change is within noise.")
    table = ui.computed(db, funnel_stats.compare_periods, f, other, req)
    shown = table.dropna(subset=["change"])
    for r in shown.itertuples():
        if r.verdict != "within noise":
            st.markdown(f"**{r.step}: {r.this_rate:.1%} against {r.other_rate:.1%} "
                        f"({r.change * 100:+.1f} points, 95% CI {r.ci_low * 100:+.1f} to "
                        f"{r.ci_high * 100:+.1f}): {r.verdict}.**")
    if shown.empty:
        st.info("Not enough data in one of the two periods to compare. Choose a shorter date "
                "range in the sidebar (a quarter, say) to compare it with the one before.")
        return
    out = table.rename(columns={"step": "Step", "this_rate": "This period",
                                "other_rate": "Compared period", "change": "Change",
                                "ci_low": "95% CI from", "ci_high": "95% CI to",
                                "verdict": "Verdict", "this_n": "This n",
                                "other_n": "Compared n"})
    out = out[["Step", "This period", "This n", "Compared period", "Compared n", "Change",
               "95% CI from", "95% CI to", "Verdict"]]
    pct = st.column_config.NumberColumn(format="percent")
    ui.chart_with_downloads(charts.period_change(table), out, "funnel_period_change",
                            "funnel.cmp.dl", column_config={c: pct for c in (
                                "This period", "Compared period", "Change", "95% CI from",
                                "95% CI to")})


def time_section(db: Database, f: Filters) -> None:
    present = ui.computed(db, funnel.lead_stages_present)
    dated = [s for s in present
             if s == "lead" or f"{s}_at" in db.fields_present.get("leads", set())]
    if len(dated) < 2:
        st.info("Time to convert needs a date for at least two stages (for example "
                "HubSpot's 'Became a … Date' columns).")
        return
    c1, c2 = st.columns(2)
    start = c1.selectbox("From", dated[:-1], format_func=LEAD_STAGE_LABELS.get,
                         key="funnel.ttc.from")
    later = dated[dated.index(start) + 1:]
    end = c2.selectbox("To", later, format_func=LEAD_STAGE_LABELS.get, key="funnel.ttc.to",
                       index=len(later) - 1 if "customer" not in later
                       else later.index("customer"))
    t = ui.computed(db, funnel_stats.time_to_convert, f, start, end)
    cols = st.columns(4)
    with cols[0]:
        ui.kpi("Converted", f"{t.converted:,}", f"of {t.started:,} that reached "
               f"{LEAD_STAGE_LABELS[start]}")
    with cols[1]:
        ui.kpi("Median days", ui.days(t.median_days))
    with cols[2]:
        ui.kpi("75% within", ui.days(t.p75_days))
    with cols[3]:
        ui.kpi("90% within", ui.days(t.p90_days))
    st.caption(f"{t.still_open:,} have not reached {LEAD_STAGE_LABELS[end]} (yet): they are "
               "still open, not counted as converted and not in the days above"
               + (f"; {t.converted_undated:,} reached it without usable dates." if
                  t.converted_undated else "."))
    if len(t.weeks):
        ui.chart_with_downloads(charts.time_to_convert_weeks(t.weeks), t.weeks,
                                "time_to_convert", "funnel.ttc.dl")


def trend_section(db: Database, f: Filters) -> None:
    trend = ui.computed(db, funnel_stats.cohort_trend, f)
    if trend.empty:
        st.info("No leads in this period.")
    else:
        st.caption("Each point is the leads that entered in one month; faded points are "
                   "cohorts still maturing (younger than the usual lead → customer time), "
                   "whose conversion will still rise.")
        ui.chart_with_downloads(charts.cohort_trend(trend), trend, "cohort_trend",
                                "funnel.trend.dl")
    st.markdown("**Market capacity: cumulative new customers per segment**")
    cap = ui.computed(db, funnel_stats.capacity, f)
    if cap.empty:
        st.info("No customers with a date in this period.")
        return
    st.caption("When a segment's line flattens, it is running out of new customers: sales "
               "there will stall whatever the funnel above it does.")
    ui.chart_with_downloads(charts.capacity(cap), cap, "market_capacity", "funnel.cap.dl")


def drill_section(db: Database, f: Filters, req: FunnelRequest, result: Funnel) -> None:
    """The records behind a stage: those that reached it, or stopped there."""
    if req.collapse:
        st.caption("Drill-down works on the CRM stages: switch off the five-stage view.")
        return
    stages = result.table.drop_duplicates("position").sort_values("position")
    c1, c2 = st.columns(2)
    position = c1.selectbox("Stage", stages.position.tolist(), key=f"funnel.drill.{req.unit}",
                            format_func=dict(zip(stages.position, stages.label,
                                                 strict=True)).get)
    which = c2.radio("Records", ["reached", "dropped"], horizontal=True, key="funnel.which",
                     format_func={"reached": "Reached this stage",
                                  "dropped": "Stopped at this stage"}.get)
    rows = ui.computed(db, funnel.records, f, req, position, which)
    st.caption(f"{len(rows):,} record(s)" + (" (first 50,000)" if len(rows) >= 50_000 else ""))
    ui.table_with_download(rows, "funnel_records.csv", key="funnel.records", height=320)

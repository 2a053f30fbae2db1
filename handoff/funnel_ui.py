"""The Funnel page's controls, chart, tables and tabs (the page itself stays a short script)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from handoff import charts, format, funnel, funnel_stats, kpis, ui
from handoff.db import Database
from handoff.filters import Filters
from handoff.format import Table
from handoff.funnel import Funnel, FunnelRequest
from handoff.schema import LEAD_STAGE_LABELS, TABLES
from handoff.summary import Summary, home_summary

FUNNEL_COLUMNS = {"grp": ("Group", "text"), "label": ("Stage", "text"),
                  "entities": ("Count", "count"), "from_previous": ("From previous", "pct"),
                  "from_first": ("From first", "pct"), "drop": ("Drop-off", "count"),
                  "drop_pct": ("Drop-off %", "pct"), "lost_here": ("Lost here", "count"),
                  "open_here": ("Still open here", "count"),
                  "amount": ("Pipeline amount", "money"), "revenue_won": ("Revenue won", "money"),
                  "margin_won": ("Margin won", "money")}


def request(db: Database) -> FunnelRequest:
    """What to count and how, from the controls above the chart."""
    units = [u for u, table in (("leads", "leads"), ("accounts", "leads"), ("deals", "deals"))
             if db.row_counts.get(table)]
    if not units:
        return FunnelRequest()
    collapse = "leads" in units and st.toggle(
        "Show the five funnel stages", key="funnel.collapse", help=funnel.FIVE_STAGES
        + " Off: the CRM stages (lead → MQL → SQL → opportunity → customer → evangelist).")
    c1, c2, c3, c4 = st.columns(4)
    unit = c1.radio("Count", units, format_func=funnel.UNITS.get, key="funnel.unit",
                    horizontal=True, help="Accounts counts each company once.")
    if unit == "deals":
        breakdown = c2.selectbox("Breakdown", list(funnel.DEAL_BREAKDOWNS),
                                 format_func=funnel.DEAL_BREAKDOWNS.get, key="funnel.dbreak")
        return FunnelRequest(unit="deals", breakdown=breakdown,
                             lost_after=st.session_state.get("funnel.lost_after"))
    breakdown = c4.selectbox("Breakdown", list(funnel.LEAD_BREAKDOWNS),
                             format_func=funnel.LEAD_BREAKDOWNS.get, key="funnel.lbreak")
    if collapse:
        return FunnelRequest(unit=unit, collapse=True, breakdown=breakdown)
    view = c2.radio("Way to count", list(funnel.VIEWS), key="funnel.view",
                    format_func=lambda v: funnel.VIEWS[v].split(":")[0], horizontal=True,
                    help="\n\n".join(funnel.VIEWS.values()))
    window = 0
    if view == "cohort":
        window = c3.number_input("Conversion window (days, 0 = none)", 0, 3650, 0, step=30,
                                 key="funnel.window",
                                 help="Count a stage only when reached within this many days "
                                      "of the previous stage.")
    return FunnelRequest(unit=unit, view=view, window_days=int(window), breakdown=breakdown)


def lost_after_control(result: Funnel) -> None:
    """Deals without stage history: which stage lost deals are counted to."""
    stages = result.table.drop_duplicates("position").sort_values("position")
    open_stages = stages.iloc[:-1]
    if len(open_stages) < 2 or not any("no stage history" in n for n in result.notes):
        return
    positions = open_stages.position.tolist()
    ui.seeded("funnel.lost_after", positions, positions[-1])
    st.selectbox("Lost deals (no stage history) dropped after", positions,
                 key="funnel.lost_after", persist_state="session",
                 format_func=dict(zip(stages.position, stages.label, strict=True)).get)


def shown_table(result: Funnel, req: FunnelRequest) -> pd.DataFrame:
    """The funnel table as shown: owners anonymised when asked to."""
    t = result.table
    return t.assign(grp=ui.anonymised(t["grp"])) if req.breakdown == "owner" else t


def display_table(result: Funnel, req: FunnelRequest) -> Table:
    """The table behind the chart, with readable headers and formats."""
    t = shown_table(result, req)
    columns = dict(FUNNEL_COLUMNS)
    if t["grp"].nunique() == 1:
        del columns["grp"]
    if not result.has_money:
        for key in ("amount", "revenue_won", "margin_won"):
            columns.pop(key)
    elif "margin_won" in t and not t["margin_won"].notna().any():
        columns.pop("margin_won")
    return ui.formatted(t, columns)


def _describe(req: FunnelRequest) -> str:
    what = funnel.UNITS[req.unit] + (", the five funnel stages" if req.collapse else "")
    if req.unit != "deals" and not req.collapse:
        what += ", " + funnel.VIEWS[req.view].lower()
    breakdown = (funnel.DEAL_BREAKDOWNS if req.unit == "deals" else funnel.LEAD_BREAKDOWNS)
    if req.breakdown != "none":
        what += f", by {breakdown[req.breakdown].lower()}"
    return what


def main_section(db: Database, f: Filters, req: FunnelRequest, result: Funnel) -> None:
    """Headline, chart and table; a click on a stage opens its records below the chart."""
    for line in result.headline:
        st.markdown(f"**{format.markdown_text(line)}**")
    for note in result.notes:
        st.caption(format.markdown_text(note))
    if req.unit != "deals" and not req.collapse and {"mql", "sql"} <= set(result.table.stage):
        st.caption(format.markdown_text(kpis.mql_to_sql_note(req.view)))
    lost_after_control(result)
    layout = "side_by_side"
    if result.table["grp"].nunique() > 1:
        layout = st.radio("Layout", ["side_by_side", "small_multiples"], horizontal=True,
                          format_func=lambda v: {"side_by_side": "Side by side",
                                               "small_multiples": "Small multiples"}[v],
                          key="funnel.layout", persist_state="session")
    selectable = not req.collapse
    if selectable:
        st.caption("Click a stage's bar to see its records.")
    event = ui.chart_with_downloads(
        charts.funnel_bars(shown_table(result, req), layout, selectable=selectable),
        display_table(result, req), "funnel", "funnel.dl", title="Funnel",
        context=(f"Counting: {_describe(req)}",),
        on_select="rerun" if selectable else None, selection="stage" if selectable else None)
    position = picked_stage(event)
    stages = result.table.drop_duplicates("position").set_index("position")["label"]
    if position is not None and position in stages.index:
        st.markdown(f"**Records at {format.markdown_text(stages[position])}** (the stage you "
                    "clicked)")
        records_panel(db, f, req, position, "funnel.click")


def picked_stage(event: object) -> int | None:
    """The stage position a click on the chart selected, if any."""
    try:
        points = event["selection"]["stage"]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    value = points[0].get("position")
    return int(value) if isinstance(value, int | float) else None


def _last_complete(as_of: pd.Timestamp, freq: str) -> tuple[dt.date, dt.date]:
    period = (as_of + pd.Timedelta(days=1)).to_period(freq) - 1
    return period.start_time.date(), period.end_time.date()


def _span(f: Filters) -> str:
    return f"{f.start:%d %b %Y} – {f.end:%d %b %Y}"


def comparison_section(db: Database, f: Filters, req: FunnelRequest) -> None:
    """This period against another, per step, with a verdict a room can trust: only on
    periods that do not overlap, and not on steps that have not had time to happen."""
    summary: Summary = ui.computed(db, home_summary)
    if summary.last_date is None:
        st.info("Comparing periods needs dated records.")
        return
    choices = {"sidebar": f}
    for freq, name in (("Q", "quarter"), ("M", "month")):
        start, end = _last_complete(summary.complete_through, freq)
        choices[name] = Filters(start, end, f.sources, f.segments, f.owners)
    names = {"sidebar": "The date range in the sidebar", "quarter": "The last complete quarter",
             "month": "The last complete month"}
    c1, c2 = st.columns(2)
    # keyed by whether the sidebar covers all the data: choosing a range there makes it
    # the period compared, until another one is picked here
    this_key = f"funnel.compare.this.{f.all_time}"
    ui.seeded(this_key, list(choices), "quarter" if f.all_time else "sidebar")
    which = c1.selectbox("This period", list(choices), key=this_key, persist_state="session",
                         format_func=lambda k: f"{names[k]} ({_span(choices[k])})",
                         help="The sidebar's range covers all the data by default, and the "
                              "period before all the data is empty: compare a quarter then.")
    this = choices[which]
    before = this.previous()
    if which in ("quarter", "month"):  # the calendar quarter or month before
        period = pd.Timestamp(this.start).to_period("Q" if which == "quarter" else "M") - 1
        before = Filters(period.start_time.date(), period.end_time.date(), f.sources,
                         f.segments, f.owners)
    others = {"previous": before, "year": this.year_earlier()}
    labels = {"previous": "The period just before", "year": "The same period a year earlier",
              "custom": "A period I choose"}
    # bound to the address by its label, so the spans (which move as data grows) are captions
    choice = c2.radio("Compare with", ["previous", "year", "custom"], key="funnel.compare",
                      persist_state="session", bind="query-params", format_func=labels.get,
                      captions=[_span(others["previous"]), _span(others["year"]), ""])
    other = others.get(choice, before)
    if choice == "custom":
        if "funnel.compare.range" not in st.session_state:
            st.session_state["funnel.compare.range"] = (other.start, other.end)
        picked = st.date_input("Compared period", key="funnel.compare.range",
                               persist_state="session")
        if isinstance(picked, tuple) and len(picked) == 2:
            other = Filters(picked[0], picked[1], f.sources, f.segments, f.owners)
    shared = funnel_stats.overlap_days(this, other)
    if shared:
        st.warning(f"These periods overlap ({_span(this)} and {_span(other)} share {shared:,} "
                   "days): the same records would be in both, so no interval or verdict can "
                   "be given. Choose periods that do not overlap.")
        return
    st.caption(f"This period: {_span(this)}; compared with {_span(other)}. Each change has "
               "a 95% interval (Newcombe): when it crosses zero, the change is within noise.")
    table = ui.computed(db, funnel_stats.compare_periods, this, other, req)
    if table["change"].isna().all():  # a period with no records: no step can be compared
        st.info("Not enough data in one of the two periods to compare. Choose a period with "
                "records in both (a quarter, say).")
        return
    judged = table[(table["verdict"] != "still maturing") & table["change"].notna()]
    for r in judged.itertuples():
        if r.verdict != "within noise":
            st.markdown("**" + format.markdown_text(
                f"{r.step}: {r.this_rate:.1%} against {r.other_rate:.1%} "
                f"({r.change * 100:+.1f} points, 95% CI {r.ci_low * 100:+.1f} to "
                f"{r.ci_high * 100:+.1f}): {r.verdict}.") + "**")
    maturing = table[table["maturing"]]
    if len(maturing):
        waited = (summary.last_date.date() - max(this.end, other.end)).days
        st.caption("Still maturing, so left out of the verdict: " + "; ".join(
            f"{format.markdown_text(r.step)} (typically {r.needs_days:,.0f} days)"
            for r in maturing.itertuples())
            + f". The period ended {waited:,} days before the data's last date "
            f"({summary.last_date:%d %b %Y}): these conversions will still rise.")
    out = ui.formatted(table, {
        "step": ("Step", "text"), "this_rate": ("This period", "pct"),
        "this_n": ("This n", "count"), "other_rate": ("Compared period", "pct"),
        "other_n": ("Compared n", "count"),
        "change": ("Change", "points"), "ci_low": ("95% CI from", "points"),
        "ci_high": ("95% CI to", "points"), "verdict": ("Verdict", "text"),
        "needs_days": ("Typical days for the step", "days")})
    ui.chart_with_downloads(charts.period_change(table), out, "funnel_period_change",
                            "funnel.cmp.dl", title="Change in conversion per step",
                            context=(f"{_span(this)} against {_span(other)}",
                                     f"Counting: {_describe(req)}"))


def time_section(db: Database, f: Filters) -> None:
    present = ui.computed(db, funnel.lead_stages_present)
    dated = [s for s in present
             if s == "lead" or f"{s}_at" in db.fields_present.get("leads", set())]
    if len(dated) < 2:
        st.info("Time to convert needs a date for at least two stages (for example "
                "HubSpot's 'Became a … Date' columns).")
        return
    c1, c2 = st.columns(2)
    ui.seeded("funnel.ttc.from", dated[:-1], dated[0])
    start = c1.selectbox("From", dated[:-1], format_func=LEAD_STAGE_LABELS.get,
                         key="funnel.ttc.from", persist_state="session")
    later = dated[dated.index(start) + 1:]
    ui.seeded("funnel.ttc.to", later, "customer" if "customer" in later else later[-1])
    end = c2.selectbox("To", later, format_func=LEAD_STAGE_LABELS.get, key="funnel.ttc.to",
                       persist_state="session")
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
        step = f"{LEAD_STAGE_LABELS[start]} → {LEAD_STAGE_LABELS[end]}"
        ui.chart_with_downloads(
            charts.time_to_convert_weeks(t.weeks),
            ui.formatted(t.weeks, {"week": ("Weeks taken", "count"), "leads": ("Leads", "count")}),
            "time_to_convert", "funnel.ttc.dl", title=f"Time to convert: {step}")


def trend_section(db: Database, f: Filters) -> None:
    trend = ui.computed(db, funnel_stats.cohort_trend, f)
    if trend.empty:
        st.info("No leads in this period.")
    else:
        st.caption("Each point is the leads that entered in one month; faded points are "
                   "cohorts still maturing (younger than the usual lead → customer time), "
                   "whose conversion will still rise.")
        shown = trend.assign(maturing=trend["maturing"].map({True: "Still maturing",
                                                             False: "Mature"}))
        ui.chart_with_downloads(
            charts.cohort_trend(trend),
            ui.formatted(shown, {"month": ("Cohort month", "month"), "step": ("Step", "text"),
                                 "rate": ("Conversion", "pct"),
                                 "entered": ("Entered the step", "count"),
                                 "maturing": ("Cohort", "text")}),
            "cohort_trend", "funnel.trend.dl", title="Conversion by monthly cohort")
    st.markdown("**Market capacity: cumulative new customers per segment**")
    cap = ui.computed(db, funnel_stats.capacity, f)
    if cap.empty:
        st.info("No customers with a date in this period.")
        return
    st.caption("When a segment's line flattens, it is running out of new customers: sales "
               "there will stall whatever the funnel above it does.")
    ui.chart_with_downloads(
        charts.capacity(cap),
        ui.formatted(cap, {"month": ("Month", "month"), "segment": ("Segment", "text"),
                           "new_customers": ("New customers", "count"),
                           "cumulative": ("Cumulative new customers", "count")}),
        "market_capacity", "funnel.cap.dl", title="Market capacity: cumulative new customers")


def records_table(rows: pd.DataFrame, unit: str) -> Table:
    """Records with the field names people know, owners anonymised when asked to."""
    table = "deals" if unit == "deals" else "leads"
    kinds = {"timestamp": "date", "number": "money", "integer": "count"}
    columns = {fd.name: (fd.label, kinds.get(fd.kind, "text")) for fd in TABLES[table]}
    if table == "leads":
        columns["stage"] = ("Current stage", "text")
        if "stage" in rows:
            rows = rows.assign(stage=rows["stage"].map(lambda s: LEAD_STAGE_LABELS.get(s, s)))
    rows = rows.assign(owner=ui.anonymised(rows["owner"])) if "owner" in rows else rows
    return ui.formatted(rows, {c: columns.get(c, (c.replace("_", " ").capitalize(), "text"))
                               for c in rows.columns})


def records_panel(db: Database, f: Filters, req: FunnelRequest, position: int,
                  key: str) -> None:
    which = st.radio("Records", ["reached", "dropped"], horizontal=True, key=f"{key}.which",
                     persist_state="session",
                     format_func={"reached": "Reached this stage",
                                  "dropped": "Stopped at this stage"}.get)
    rows = ui.computed(db, funnel.records, f, req, position, which)
    st.caption(f"{len(rows):,} record(s)" + (" (first 50,000)" if len(rows) >= 50_000 else ""))
    ui.table_with_download(records_table(rows, req.unit), "funnel_records.csv",
                           key=f"{key}.records", height=320)


def drill_section(db: Database, f: Filters, req: FunnelRequest, result: Funnel) -> None:
    """The records behind a stage: those that reached it, or stopped there."""
    if req.collapse:
        st.caption("Drill-down works on the CRM stages: switch off the five-stage view.")
        return
    stages = result.table.drop_duplicates("position").sort_values("position")
    position = st.selectbox("Stage", stages.position.tolist(), key=f"funnel.drill.{req.unit}",
                            persist_state="session",
                            format_func=dict(zip(stages.position, stages.label,
                                                 strict=True)).get)
    records_panel(db, f, req, position, "funnel.drill")

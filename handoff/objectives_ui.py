"""The Objectives page's controls, KPIs grouped by funnel stage with attainment against
target as the visual, and the planning tabs."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import streamlit as st

from handoff import charts, close_rates, format, funnel_plan, kpis, objectives, targets_ui, ui
from handoff.db import Database
from handoff.filters import Filters, filter_options
from handoff.kpis import KPIS, Kpi, Lifetime


def controls(db: Database) -> tuple[str, float, tuple[str, ...]]:
    c1, c2, c3 = st.columns([2, 1, 3])
    grain = c1.radio("Period", list(objectives.GRAINS), index=1, horizontal=True,
                     format_func=objectives.GRAINS.get, key="obj.grain")
    sla = c2.number_input("SLA: accept MQLs within (hours)", 1.0, 24.0 * 90,
                          kpis.DEFAULT_SLA_HOURS,
                          step=24.0, key="obj.sla")
    sources = ui.computed(db, filter_options).get("source", [])
    sales = c3.multiselect("Sales-sourced sources (the rest are marketing's)", sources,
                           default=close_rates.default_sales_sources(sources), key="obj.sales")
    return grain, float(sla), tuple(sales)


def choose_period(p: pd.DataFrame, grain: str, as_of: pd.Timestamp | None) -> int:
    """Index of the period to judge: the latest complete one unless the user picks another."""
    labels = [objectives.period_label(x, grain) for x in p.period]
    complete = [i for i, x in enumerate(p.period)
                if as_of is None or objectives.period_end(x, grain) <= as_of + pd.Timedelta(
                    days=1)]
    default = complete[-1] if complete else len(labels) - 1
    return st.selectbox("Judge the period", range(len(labels)), index=default,
                        format_func=lambda i: labels[i] + ("" if i in complete
                                                           else " (not over yet)"),
                        key=f"obj.period.{grain}")


def shown(kpi: Kpi, value: float | None) -> str:
    """A KPI's value as people read it (money in the session's currency)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return {"count": f"{value:,.0f}", "pct": f"{value:.1%}", "money": ui.money(value),
            "days": f"{value:,.1f} d", "hours": f"{value:,.0f} h", "ratio": f"{value:,.1f}×",
            "months": f"{value:,.1f} mo"}[kpi.fmt]


def _change(kpi: Kpi, actual: float, before: float) -> str:
    if kpi.fmt == "pct":
        return format.points(actual - before)
    if kpi.fmt == "money":
        return format.money_change(actual - before, ui.currency())
    return ("+" if actual >= before else "-") + shown(kpi, abs(actual - before))


def status(reached: float | None) -> str:
    """How a KPI stands against its target (the colour of its bar)."""
    if reached is None:
        return "No target"
    return "On target" if reached >= 1 else ("Within 10% of target" if reached >= 0.9
                                             else "Behind target")


def explained(kpi: Kpi, actual: float | None, values: pd.Series, life: Lifetime,
              period_row: pd.Series, targets: dict[str, float]) -> tuple[float | None, str]:
    """The value to show and what the reader needs to judge it (its parts, or why it cannot
    be computed)."""
    def number(v: object) -> float | None:
        return None if v is None or pd.isna(v) else float(v)

    note = ""
    if kpi.key == "margin_won" and period_row.won_without_margin:
        note = f"{int(period_row.won_without_margin):,} won deal(s) have no margin"
    elif kpi.key == "coverage":
        if not life.open_pipeline:
            return None, ("cannot be computed: there is no open pipeline with an amount "
                          "(open deals carry no amount, or none are open)")
        if not targets.get("revenue_target"):
            return None, "cannot be computed: set a revenue target in SMART targets"
        note = (f"open pipeline {ui.money(life.open_pipeline)} ÷ revenue target "
                f"{ui.money(targets['revenue_target'])}")
    elif kpi.key == "ltv" and life.ltv is not None:
        note = (f"{ui.money(life.monthly_value)} {'margin' if life.margin_based else 'revenue'}"
                f" per customer-month × {life.lifetime_months or 0:,.1f} months expected "
                f"lifetime (1 ÷ monthly churn {format.percent(life.monthly_churn)}, at most "
                f"{kpis.MAX_LIFETIME_MONTHS:.0f})")
    elif kpi.key == "ltv_cac" and number(actual) is not None:
        cac = number(values.get("cac"))
        note = f"LTV {ui.money(life.ltv)} ÷ CAC {ui.money(cac)} (CAC of this period)"
    elif kpi.key == "cac" and number(actual) is not None:
        note = (f"spend {ui.money(number(period_row.spend))} ÷ "
                f"{int(period_row.new_customers):,} new customers")
    return number(actual), note


def kpi_rows(db: Database, values: pd.DataFrame, index: int, targets: dict[str, float],
             period_row: pd.Series, life: Lifetime, shares: dict[str, float] | None
             ) -> pd.DataFrame:
    """One row per KPI for the chosen period: actual, target, attainment and its status,
    change on the previous period, trend, owners, and what to know to judge it."""
    rows = []
    for kpi in KPIS:
        owner, supporter = kpis.owners(kpi, shares)
        base = {"stage": kpi.stage, "kpi": kpi.label, "owner": owner,
                "supporting": supporter, "key": kpi.key}
        why = kpis.missing(db, kpi)
        if why:
            rows.append({**base, "available": False, "note": f"not available: {why}",
                         "status": "No target", "text": "—"})
            continue
        series = values[kpi.key]
        actual, note = explained(kpi, series.iloc[index] if len(series) else None,
                                 values.iloc[index], life, period_row, targets)
        target = targets.get(kpi.key)
        reached = objectives.attainment(kpi, actual, target)
        before = series.iloc[index - 1] if index > 0 else None
        trend = series.iloc[max(0, index - 11): index + 1].dropna()
        change = _change(kpi, actual, float(before)) if actual is not None and \
            before is not None and pd.notna(before) and trend.nunique() > 1 else "—"
        text = shown(kpi, actual) + (f" of {shown(kpi, target)} target" if target else
                                     " (no target)")
        base["label"] = f"{kpi.label}: {text}"
        rows.append({**base, "available": actual is not None or not note, "actual":
                     shown(kpi, actual), "target": shown(kpi, target), "attainment": reached,
                     "status": status(reached), "change": change, "text": text,
                     "trend": trend.tolist() if trend.nunique() > 1 else None,
                     "note": note})
    return pd.DataFrame(rows)


def panels(db: Database, values: pd.DataFrame, index: int, targets: dict[str, float],
           period_row: pd.Series, life: Lifetime, label: str,
           shares: dict[str, float] | None) -> None:
    """KPIs under the funnel stages, each stage's attainment drawn against its target;
    every KPI in one table below, with its change on the previous period and its trend."""
    rows = kpi_rows(db, values, index, targets, period_row, life, shares)
    st.caption(f"{format.markdown_text(label)}: each bar is a KPI's attainment against its "
               "target (the dashed line is 100%), coloured by where it stands against the "
               "target. Owner and supporting team follow the split on the What-if page.")
    for stage, title in kpis.STAGES.items():
        part = rows[rows.stage == stage]
        drawn = part[part.available & part["attainment"].notna()] if "attainment" in part \
            else part.iloc[0:0]
        st.markdown(f"**{format.markdown_text(title)}**")
        if len(drawn):
            st.altair_chart(charts.attainment(drawn), width="stretch")
        notes = [f"{r.kpi}: {r.note}" for r in part.itertuples()
                 if isinstance(r.note, str) and r.note]
        untargeted = [r.kpi for r in part.itertuples() if r.available
                      and r.Index not in drawn.index and not r.note]
        if untargeted:
            notes.append("No target set: " + ", ".join(untargeted))
        if notes:
            st.caption("  \n".join(format.markdown_text(n) for n in notes))
    order = {stage: i for i, stage in enumerate(kpis.STAGES)}
    rows = rows.assign(order=rows.stage.map(order)).sort_values("order", kind="stable")
    table = ui.formatted(rows.assign(stage=rows.stage.map(kpis.STAGES)), {
        "stage": ("Stage", "text"), "kpi": ("KPI", "text"), "actual": ("Actual", "text"),
        "target": ("Target", "text"), "attainment": ("Attainment", "pct"),
        "status": ("Against target", "text"), "change": ("Change on previous", "text"),
        "trend": ("Trend (up to 12 periods)", "trend"), "owner": ("Owner", "text"),
        "supporting": ("Supporting", "text"), "note": ("To judge it", "text")})
    st.markdown("**Every KPI**")
    ui.table_with_download(table, f"handoff-kpis-{label}.csv", key="obj.kpis.dl")


def reverse_funnel_section(db: Database, f, p: pd.DataFrame, targets: dict[str, float]) -> None:
    if kpis.missing(db, kpis.KPI_BY_KEY["revenue_won"]):
        st.info("The reverse funnel needs deals with amounts and close dates.")
        return
    recent = float(p.revenue_won.iloc[-4:].mean()) if len(p) else 0.0
    default = targets_ui.revenue_target(targets.get("revenue_target"), recent)
    unit = format.markdown_text(ui.currency() or "amount")
    target = st.number_input(f"Revenue target for the next period ({unit})",
                             0.0, targets_ui.MAX_TARGET, default, step=10_000.0,
                             key="obj.reverse.target", persist_state="session")
    table = ui.computed(db, funnel_plan.reverse_funnel, f, target, p)
    st.caption("Read from the bottom up: the leads marketing must bring so that, at today's "
               "rates, sales can close the target. Rates come from the date range in the "
               "sidebar.")
    rates = table["Rate used"]
    table = table.assign(**{"Rate used": [ui.money(r) if i == 0 else format.percent(r)
                                          for i, r in enumerate(rates)]})
    ui.table_with_download(ui.formatted(table, {
        "Stage": ("Stage", "text"), "Needed per period": ("Needed per period", "count"),
        "At rate": ("At", "text"), "Rate used": ("Rate used", "text"),
        "Recent average per period": ("Recent average per period", "count"),
        "Owner": ("Owner", "text")}), "reverse_funnel.csv", key="obj.reverse.dl")


def bottleneck_section(db: Database, f) -> None:
    dimension = st.radio("Best quartile across", ["source", "segment", "month"],
                         horizontal=True, key="obj.bottleneck.by", persist_state="session",
                         format_func={"source": "Sources", "segment": "Segments",
                                      "month": "Months"}.get)
    table = ui.computed(db, funnel_plan.bottlenecks, f, dimension)
    if table.empty:
        st.info("Bottlenecks need leads with stages and at least two groups of 30 or more.")
        return
    top = table.iloc[0]
    st.markdown("**" + format.markdown_text(
        f"Biggest prize: {top.Step} (owner: {top.Owner}). At its best-quartile rate "
        f"({top['Best-quartile rate']:.0%} instead of {top['Current rate']:.0%}) it would "
        f"bring about {top['Extra customers']:,.0f} more customers and "
        f"{ui.money(top['Revenue gained'])} more revenue.") + "**")
    ui.table_with_download(ui.formatted(table, {
        "Step": ("Step", "text"), "Owner": ("Owner", "text"),
        "Current rate": ("Current rate", "pct"),
        "Best-quartile rate": ("Best-quartile rate", "pct"),
        "Extra conversions": ("Extra conversions", "count"),
        "Extra customers": ("Extra customers", "number"),
        "Revenue gained": ("Revenue gained", "money")}), "bottlenecks.csv",
        key="obj.bottleneck.dl")


ALL_DATES = Filters(dt.date(1900, 1, 1), dt.date(2099, 12, 31), all_time=True)


def cac_section(db: Database, f) -> None:
    if not db.row_counts.get("spend"):
        st.info("CAC by channel needs a marketing spend file (period, channel, amount).")
        return
    table = ui.computed(db, objectives.cac_by_channel, f)
    st.caption("Spend on a channel ÷ new customers whose lead came from it. Channels without "
               "spend (organic, referral) have no CAC.")
    whole = ui.computed(db, objectives.cac_by_channel, ALL_DATES)
    counted, total = float(table["spend"].sum()), float(whole["spend"].sum())
    if total and counted < total:
        st.info(f"{ui.money(counted)} of the spend file's {ui.money(total)} falls between "
                f"{f.start:%d %b %Y} and {f.end:%d %b %Y}, the range in the sidebar: spend "
                "outside it is not counted here. Widen the range to count it.")
    unmatched = objectives.unmatched_channels(table)
    if unmatched:
        spent, sources = unmatched
        st.warning(format.markdown_text(
            f"No spend channel is a lead source, so no CAC can be computed: spend is on "
            f"{', '.join(spent[:6])}; new customers came from {', '.join(sources[:6])}. Name "
            "the spend file's channels as the leads' sources (or map another column) and "
            "load it again."))
    ui.table_with_download(ui.formatted(table, {
        "channel": ("Channel", "text"), "spend": ("Spend", "money"),
        "new_customers": ("New customers", "count"), "cac": ("CAC", "money")}),
        "cac_by_channel.csv", key="obj.cac.dl")

"""The Objectives page's controls, KPI cards, targets table and planning tabs."""

from __future__ import annotations

import io
import math

import pandas as pd
import streamlit as st

from handoff import close_rates, export, metrics, objectives, ui
from handoff.db import Database
from handoff.objectives import KPIS, Kpi

UPLOADED = "objectives.uploaded_targets"


def controls(db: Database) -> tuple[str, float, tuple[str, ...]]:
    c1, c2, c3 = st.columns([2, 1, 3])
    grain = c1.radio("Period", list(objectives.GRAINS), index=1, horizontal=True,
                     format_func=objectives.GRAINS.get, key="obj.grain")
    sla = c2.number_input("SLA: accept MQLs within (hours)", 1.0, 24.0 * 90, 168.0,
                          step=24.0, key="obj.sla")
    sources = ui.computed(db, metrics.filter_options).get("source", [])
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


def targets(db: Database, history: pd.DataFrame, label: str, grain: str) -> dict[str, float]:
    """The editable SMART targets table; returns KPI key -> target."""
    defaults = objectives.default_targets(history)
    uploaded: dict[str, float] = st.session_state.get(UPLOADED, {})
    rows = [{"KPI": k.label, "Target": uploaded.get(k.key, defaults.get(k.key, math.nan)),
             "Period": label, "Owner": k.owner, "Supporting": k.supporter,
             "Better when": k.better} for k in KPIS if objectives.missing(db, k) is None]
    version = st.session_state.get("objectives.version", 0)
    edited = st.data_editor(
        pd.DataFrame(rows), hide_index=True, width="stretch",
        key=f"obj.targets.{grain}.{label}.{version}", disabled=["KPI", "Period", "Better when"],
        column_config={"Target": st.column_config.NumberColumn(format="%.4g"),
                       "Owner": st.column_config.SelectboxColumn(options=objectives.TEAMS),
                       "Supporting": st.column_config.SelectboxColumn(
                           options=objectives.TEAMS)})
    st.caption("Defaults come from history: the average of up to four earlier periods, 10% "
               "better (rates: 2 points better). Every target has a number and a period.")
    c1, c2 = st.columns(2)
    c1.download_button("Download targets (CSV)", lambda: export.safe_csv(edited),
                       file_name=f"handoff-targets-{label}.csv", mime="text/csv",
                       key="obj.targets.dl", on_click="ignore")
    upload = c2.file_uploader("Upload targets (CSV with KPI and Target columns)", type=["csv"],
                              key="obj.targets.up")
    if upload is not None and st.session_state.get("objectives.last_upload") != upload.file_id:
        loaded = read_targets(upload.name, upload.getvalue())
        if isinstance(loaded, str):
            st.error(loaded)
        else:
            st.session_state[UPLOADED] = loaded
            st.session_state["objectives.version"] = version + 1
            st.session_state["objectives.last_upload"] = upload.file_id
            st.rerun()
    by_label = {k.label: k.key for k in KPIS}
    return {by_label[r.KPI]: float(r.Target) for r in edited.itertuples()
            if pd.notna(r.Target)}


def read_targets(name: str, data: bytes) -> dict[str, float] | str:
    """Targets from an uploaded CSV, or a message saying what is wrong with it."""
    try:
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        return f"{name} could not be read as CSV ({e})."
    if not {"KPI", "Target"} <= set(frame.columns):
        return f"{name} needs the columns KPI and Target (download the table to see the form)."
    by_label = {k.label: k.key for k in KPIS}
    out, unknown = {}, []
    for row in frame.itertuples():
        label = str(row.KPI).lstrip("'")
        value = pd.to_numeric(str(row.Target).replace(",", ""), errors="coerce")
        if label not in by_label:
            unknown.append(label)
        elif pd.notna(value):
            out[by_label[label]] = float(value)
    if unknown:
        st.warning(f"{name}: ignored unknown KPI(s): {', '.join(unknown[:5])}.")
    return out


def _fmt(kpi: Kpi, value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return {"count": f"{value:,.0f}", "pct": f"{value:.1%}", "money": f"{value:,.0f}",
            "days": f"{value:,.1f} d", "hours": f"{value:,.0f} h", "ratio": f"{value:,.2f}×",
            "months": f"{value:,.1f} mo"}[kpi.fmt]


def card(db: Database, kpi: Kpi, series: pd.Series, index: int, target: float | None,
         note: str = "") -> None:
    """One KPI: actual, change on the previous period, a small trend, target and owners."""
    why = objectives.missing(db, kpi)
    if why:
        st.metric(kpi.label, "—", help=kpi.definition, border=True)
        st.caption(f"Not available: {why}.")
        return
    actual = series.iloc[index] if len(series) else None
    before = series.iloc[index - 1] if index > 0 else None
    delta = None
    if actual is not None and before is not None and pd.notna(actual) and pd.notna(before):
        delta = _fmt(kpi, actual - before) if kpi.fmt != "pct" else \
            f"{(actual - before) * 100:+.1f} pts"
    trend = series.iloc[max(0, index - 11): index + 1].dropna()
    if trend.nunique() <= 1:  # a whole-history KPI: no change between periods to show
        delta = None
    st.metric(kpi.label, _fmt(kpi, actual), delta=delta,
              delta_color="inverse" if kpi.better == "lower" else "normal",
              chart_data=trend.tolist() if trend.nunique() > 1 else None,
              help=f"{kpi.definition} Owner: {kpi.owner}; supporting: {kpi.supporter}.",
              border=True)
    reached = objectives.attainment(kpi, actual, target)
    st.caption(f"Target {_fmt(kpi, target)} · attainment "
               f"{'—' if reached is None else f'{reached:.0%}'} · owner {kpi.owner}, "
               f"supporting {kpi.supporter}" + (f" · {note}" if note else ""))


def panels(db: Database, values: pd.DataFrame, index: int, targets: dict[str, float],
           period_row: pd.Series) -> None:
    """Marketing, sales and shared KPIs side by side for the chosen period."""
    columns = st.columns(3)
    for column, team in zip(columns, objectives.TEAMS, strict=True):
        with column:
            st.subheader(f"{team}" if team != "Shared" else "Shared (revenue team)")
            for kpi in [k for k in KPIS if k.panel == team]:
                note = ""
                if kpi.key == "margin_won" and period_row.won_without_margin:
                    note = f"{int(period_row.won_without_margin)} won deal(s) have no margin"
                card(db, kpi, values[kpi.key], index, targets.get(kpi.key), note)


def reverse_funnel_section(db: Database, f, p: pd.DataFrame, targets: dict[str, float]) -> None:
    if objectives.missing(db, objectives.KPI_BY_KEY["revenue_won"]):
        st.info("The reverse funnel needs deals with amounts and close dates.")
        return
    default = targets.get("revenue_target") or float(p.revenue_won.iloc[-4:].mean() or 0)
    target = st.number_input("Revenue target for the next period", 0.0, None,
                             float(round(default)), step=10_000.0, key="obj.reverse.target")
    table = ui.computed(db, objectives.reverse_funnel, f, target, p)
    st.caption("Read from the bottom up: the leads marketing must bring so that, at today's "
               "rates, sales can close the target. Rates come from the date range in the "
               "sidebar.")
    ui.table_with_download(table, "reverse_funnel.csv", key="obj.reverse.dl")


def bottleneck_section(db: Database, f) -> None:
    dimension = st.radio("Best quartile across", ["source", "segment", "month"],
                         horizontal=True, key="obj.bottleneck.by",
                         format_func={"source": "Sources", "segment": "Segments",
                                      "month": "Months"}.get)
    table = ui.computed(db, objectives.bottlenecks, f, dimension)
    if table.empty:
        st.info("Bottlenecks need leads with stages and at least two groups of 30 or more.")
        return
    top = table.iloc[0]
    st.markdown(f"**Biggest prize: {top.Step} (owner: {top.Owner}). At its best-quartile "
                f"rate ({top['Best-quartile rate']:.0%} instead of {top['Current rate']:.0%}) "
                f"it would bring about {top['Extra customers']:,.0f} more customers and "
                f"{top['Revenue gained']:,.0f} more revenue.**")
    ui.table_with_download(table, "bottlenecks.csv", key="obj.bottleneck.dl")


def cac_section(db: Database, f) -> None:
    if not db.row_counts.get("spend"):
        st.info("CAC by channel needs a marketing spend file (period, channel, amount).")
        return
    table = ui.computed(db, metrics.cac_by_channel, f)
    st.caption("Spend on a channel ÷ new customers whose lead came from it. Channels without "
               "spend (organic, referral) have no CAC.")
    ui.table_with_download(table, "cac_by_channel.csv", key="obj.cac.dl")

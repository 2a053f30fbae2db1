"""The What-if page's controls, scorecards, projection and workshop mode (saved scenarios,
imports and links are in scenarios_ui).

One source of truth for the split: `state.SHARES` holds every objective's share.
The slider, the presets, the shares table, an imported file and a link all change it (in
callbacks, before the widgets are drawn), and every widget is drawn from it.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from handoff import charts, format, state, ui, whatif
from handoff.whatif import OBJECTIVE_LABELS, OBJECTIVES, Scenario

STEPS = [round(i / 20, 2) for i in range(21)]
SHARE_COLUMN = "Marketing's share (%)"


def snap(share: float) -> float:
    return min(STEPS, key=lambda x: abs(x - share))


def apply(scenario: Scenario) -> None:
    """Put a scenario into the state every control is drawn from."""
    state.SHARES.set(dict(scenario.shares))
    state.SHARE_SLIDER.set(snap(scenario.shares["sale"]))
    state.ASSUMPTIONS.set(dict(scenario.assumptions))
    state.SCENARIO_NAME.set(scenario.name)
    state.HORIZON.set(scenario.horizon)
    _redraw_tables()


def _redraw_tables() -> None:
    state.VERSION.set((state.VERSION.get() or 0) + 1)


def _slider_moved() -> None:
    share = float(state.SHARE_SLIDER.get())
    state.SHARES.set({**state.SHARES.get(), "sale": share, "margin": share})
    _redraw_tables()


def _apply_pending() -> None:
    """Shares edited in the table on the last run go into the one state (and the slider)
    before the slider is drawn: a widget's value cannot change once it is on the page."""
    pending = state.PENDING.pop()
    if pending:
        state.SHARES.set(pending)
        state.SHARE_SLIDER.set(snap(pending["sale"]))
        _redraw_tables()


def _edited_shares(edited: pd.DataFrame, shown: pd.DataFrame,
                   shares: dict[str, float]) -> dict[str, float]:
    """The shares with the cells the user changed (a share in %, kept within 0–100 and on
    the slider's 5-point steps); cells left alone keep their exact value."""
    out = dict(shares)
    for objective, value, before in zip(OBJECTIVES, pd.to_numeric(edited[SHARE_COLUMN],
                                                                  errors="coerce"),
                                        shown[SHARE_COLUMN], strict=True):
        if pd.notna(value) and math.isfinite(value) and value != before:
            out[objective] = snap(min(max(float(value) / 100, 0.0), 1.0))
    return out


def _edited_assumptions(edited: pd.DataFrame) -> dict[str, float]:
    """The assumptions as edited, each kept within its range (and said so)."""
    values, kept = {}, []
    for a, value in zip(whatif.ASSUMPTIONS, pd.to_numeric(edited["Value"], errors="coerce"),
                        strict=True):
        if pd.isna(value) or not math.isfinite(value):
            values[a.key] = state.ASSUMPTIONS.get().get(a.key, a.default)
            kept.append(f"{a.label}: not a number, kept at {values[a.key]:g}")
            continue
        values[a.key] = min(max(float(value), a.low), a.high)
        if values[a.key] != float(value):
            kept.append(f"{a.label}: kept within {a.low:g} to {a.high:g}")
    if kept:
        st.warning(format.markdown_text("; ".join(kept) + "."))
    return values


def _label(x: float) -> str:
    return f"{x:.0%}" + (f" · {whatif.POSITIONS[x]}" if x in whatif.POSITIONS else "")


def controls(workshop: bool) -> Scenario:
    """The slider (with presets), and unless in workshop mode the advanced tables."""
    state.SHARES.setdefault(lambda: dict(whatif.BASELINE_SHARES))
    state.ASSUMPTIONS.setdefault(whatif.default_assumptions)
    state.HORIZON.setdefault(lambda: 8)
    cols = st.columns(3)
    for col, (position, name) in zip(cols, whatif.POSITIONS.items(), strict=True):
        col.button(format.markdown_text(name), key=f"whatif.preset.{position}", width="stretch",
                   on_click=apply, args=(whatif.preset(position),))
    _apply_pending()
    state.SHARE_SLIDER.setdefault(lambda: snap(state.SHARES.get()["sale"]))
    share = st.select_slider(
        "Marketing's share of the sale and margin objectives", options=STEPS,
        key=state.SHARE_SLIDER.key,
        format_func=_label, on_change=_slider_moved,
        help="0: marketing tees up, sales closes · 0.5: joint accountability · 1: marketing "
             "owns revenue. Use the arrow keys to move it.")
    ui.message(state.MESSAGE.pop())
    if not workshop:  # drawn only while open: a slider move does not redraw its tables
        advanced = st.expander("Every objective's share, and the model's assumptions",
                               key="whatif.advanced", on_change="rerun")
        if advanced.open:
            with advanced:
                _shares_editor()
                _assumptions_editor()
                st.number_input("Horizon (quarters)", 1, 20, key=state.HORIZON.key,
                                persist_state="session")
    name = state.SCENARIO_NAME.get() or ""
    if not name or (name in whatif.POSITIONS.values() and whatif.POSITIONS.get(share) != name):
        name = f"Marketing share {share:.0%}"  # a preset's name only while at its position
    return Scenario(name, dict(state.SHARES.get()), dict(state.ASSUMPTIONS.get()),
                    int(state.HORIZON.get()))


def _shares_editor() -> None:
    shares = state.SHARES.get()
    rows = [{"Objective": OBJECTIVE_LABELS[o], SHARE_COLUMN: round(shares[o] * 100),
             "Sales' share (%)": round((1 - shares[o]) * 100),
             "Set by": "the slider" if o in ("sale", "margin") else "this table"}
            for o in OBJECTIVES]
    key = f"whatif.shares.{state.VERSION.get() or 0}"
    pct = "%d%%"
    shown = pd.DataFrame(rows)
    edited = st.data_editor(
        shown, hide_index=True, width="stretch", key=key,
        disabled=["Objective", "Sales' share (%)", "Set by"],
        column_config={SHARE_COLUMN: st.column_config.NumberColumn(
            min_value=0, max_value=100, step=5, format=pct),
            "Sales' share (%)": st.column_config.NumberColumn(format=pct)})
    changed = _edited_shares(edited, shown, shares)
    if changed != shares:  # applied at the top of the next run, before the slider
        state.PENDING.set(changed)
        st.rerun()
    st.caption("Sales holds the rest of each objective. The slider sets sale and margin; "
               "editing either here moves it too. Today's split (the baseline): " + ", ".join(
                   f"{OBJECTIVE_LABELS[o]} {v:.0%}" for o, v in whatif.BASELINE_SHARES.items()))


def _assumptions_editor() -> None:
    values = state.ASSUMPTIONS.get()
    rows = [{"Assumption": a.label, "Value": values[a.key], "Default": a.default,
             "Range": f"{a.low:g} to {a.high:g}", "Why": a.reason} for a in whatif.ASSUMPTIONS]
    key = f"whatif.assumptions.{state.VERSION.get() or 0}"
    edited = st.data_editor(
        pd.DataFrame(rows), hide_index=True, width="stretch", key=key,
        disabled=["Assumption", "Default", "Range", "Why"],
        column_config={"Value": st.column_config.NumberColumn(format="%.2f"),
                       "Default": st.column_config.NumberColumn(format="%.2f")})
    state.ASSUMPTIONS.set(_edited_assumptions(edited))


def held_to(shares: dict[str, float], team: str) -> str:
    """What a team is measured on under a split, with its share of each objective."""
    parts = [f"{OBJECTIVE_LABELS[o]} {(shares[o] if team == 'Marketing' else 1 - shares[o]):.0%}"
             for o in OBJECTIVES if (shares[o] if team == "Marketing" else 1 - shares[o]) > 0]
    return ", ".join(parts) if parts else "nothing"


def results(baseline: whatif.Baseline, scenario: Scenario, attainment: dict, quarter: str,
            workshop: bool) -> None:
    """Both scorecards, what they measure against what the projection says, and the
    projection itself."""
    runs = whatif.compare(baseline, scenario)
    base = whatif.totals(runs[runs.run == "Baseline"])
    scen = whatif.totals(runs[runs.run == scenario.name])
    now = whatif.scorecards(scenario.shares, attainment).set_index("team")
    today = whatif.scorecards(whatif.BASELINE_SHARES, attainment).set_index("team")
    cols = st.columns(2)
    for col, team in zip(cols, ("Marketing", "Sales"), strict=True):
        with col:
            score, before = now.loc[team, "score"], today.loc[team, "score"]
            change = None if score is None or before is None or pd.isna(score) \
                or pd.isna(before) else score - before
            st.metric(f"{team} scorecard ({format.markdown_text(quarter)})", ui.percent(score),
                      delta=None if change is None or abs(change) < 0.0005
                      else f"{format.points(change)} vs today's split", delta_color="off",
                      border=True, help="Last quarter's results against their targets, "
                      "weighted by what the team is held to under this split.")
            if not workshop:
                st.caption(f"{team} is held to: "
                           f"{format.markdown_text(held_to(scenario.shares, team))}.")
    revenue_change = (scen["revenue"] - base["revenue"]) / base["revenue"] \
        if base["revenue"] else None
    explain = ("**A scorecard and the projection answer different questions.** A scorecard "
               f"re-weighs results already in ({format.markdown_text(quarter)} against its "
               "targets) by who is held "
               "to what: moving the slider changes the weights, not the results, so a team "
               "looks better when it is judged on what it already did well. The projection "
               "asks what would happen next: teams put effort where they are measured, and "
               "the model turns that shift into leads, win rate and margin over "
               f"{scenario.horizon:d} quarters.")
    if revenue_change is not None and abs(revenue_change) >= 0.0005:
        explain += (f" Here projected revenue is {revenue_change:+.1%} against today's split: "
                    "read the scorecards as 'who looks good', the projection as 'what it "
                    "does to the business'.")
    st.info(explain)
    projection(runs, base, scen, scenario, baseline, workshop)


def projection(runs: pd.DataFrame, base: dict, scen: dict, scenario: Scenario,
               baseline: whatif.Baseline, workshop: bool) -> None:
    cols = st.columns(4)
    for col, (key, label) in zip(cols, (("revenue", "Revenue"), ("margin", "Margin"),
                                        ("won", "Deals won"), ("leads", "Leads")),
                                 strict=True):
        value, before = scen[key], base[key]
        change = None if pd.isna(value) or not before else (value - before) / before
        col.metric(f"{label}, {scenario.horizon:d} quarters",
                   ui.money(value) if key in ("revenue", "margin") else format.count(value),
                   delta=None if change is None or abs(change) < 0.0005 else
                   f"{change:+.1%} vs baseline", border=True)
    measures = {"revenue": ("Revenue", "money"), "margin": ("Margin", "money"),
                "leads": ("Leads", "count"), "won": ("Deals won", "count"),
                "customers": ("Retained customers", "count"),
                "advocates": ("Advocates", "count"),
                "referral_leads": ("Referral leads", "count"), "cac": ("CAC", "money"),
                "ltv": ("LTV", "money")}
    measure = "revenue" if workshop else st.selectbox(
        "Show", list(measures), format_func=lambda m: measures[m][0], key="whatif.measure",
        persist_state="session")
    title = measures[measure][0] + (f" ({ui.currency()})" if measures[measure][1] == "money"
                                    and ui.currency() else "")
    ui.chart_with_downloads(
        charts.projection(runs, measure, title), projection_table(runs), "whatif_projection",
        "whatif.dl", title=f"What-if: {title.lower()} per quarter, {scenario.name} against "
        "the baseline", context=(f"Baseline measured over {baseline.measured}; an "
                                 "illustrative model, not a forecast",),
        drawn=(charts.projection_spec(measure, title), runs[["run", "quarter", measure]]))


PROJECTION_COLUMNS = {"run": ("Scenario", "text"), "quarter": ("Quarter ahead", "count"),
                      "leads": ("Leads", "count"), "referral_leads": ("Referral leads", "count"),
                      "mqls": ("MQLs", "count"), "sqls": ("SQLs", "count"),
                      "opportunities": ("Opportunities", "count"), "won": ("Deals won", "count"),
                      "revenue": ("Revenue", "money"), "margin": ("Margin", "money"),
                      "customers": ("Retained customers", "count"),
                      "advocates": ("Advocates", "count"), "churn": ("Churn per quarter", "pct"),
                      "cac": ("CAC", "money"), "ltv": ("LTV", "money")}


def projection_table(runs: pd.DataFrame) -> format.Table:
    return ui.formatted(runs, PROJECTION_COLUMNS)


def sensitivity(baseline: whatif.Baseline, scenario: Scenario) -> None:
    table = whatif.sensitivity(baseline, scenario)
    st.caption("Which assumption moves projected revenue most: each is set 50% lower and "
               "50% higher while the others stay as they are.")
    ui.chart_with_downloads(
        charts.sensitivity(table),
        ui.formatted(table, {"assumption": ("Assumption", "text"),
                             "low": ("Revenue change, 50% lower", "money"),
                             "high": ("Revenue change, 50% higher", "money"),
                             "range": ("Range", "money")}),
        "whatif_sensitivity", "whatif.sens.dl",
        title=f"What-if sensitivity: projected revenue over {scenario.horizon} quarters",
        context=(f"Scenario: {scenario.name}",))


WORKSHOP_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none;}
[data-testid="stMetricValue"] {font-size: 3.2rem;}
[data-testid="stMetricLabel"] p {font-size: 1.25rem;}
</style>
"""


def workshop_style() -> None:
    """Presentation mode: no sidebar, big numbers (CSS only; no user text in it)."""
    st.html(WORKSHOP_CSS)

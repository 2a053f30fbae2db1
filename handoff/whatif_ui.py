"""The What-if page's controls, scorecards, projection, scenarios and workshop mode."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace

import pandas as pd
import streamlit as st

from handoff import charts, ui, whatif
from handoff.whatif import OBJECTIVE_LABELS, OBJECTIVES, Scenario

SAVED = "whatif.saved"
SHARE_KEY = "whatif.share"
LINK_PARAM = "scenario"
STEPS = [round(i / 20, 2) for i in range(21)]


def encode(scenario: Scenario) -> str:
    return base64.urlsafe_b64encode(scenario.to_json().encode()).decode().rstrip("=")


def decode(text: str) -> Scenario:
    """A scenario from a link; anything malformed raises ValueError (never executed)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return Scenario.from_json(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(str(e)) from None


def open_link() -> Scenario | None:
    """The scenario in the page's address, applied once to the controls."""
    text = st.query_params.get(LINK_PARAM)
    if not text or st.session_state.get("whatif.link_applied") == text:
        return st.session_state.get("whatif.loaded")
    st.session_state["whatif.link_applied"] = text
    try:
        scenario = decode(text)
    except ValueError as e:
        st.warning(f"The scenario in this link could not be read ({e}); showing the default.")
        return None
    apply(scenario)
    return scenario


def apply(scenario: Scenario) -> None:
    """Put a scenario into the controls (slider, shares, assumptions, name, horizon)."""
    st.session_state[SHARE_KEY] = min(STEPS, key=lambda x: abs(x - scenario.shares["sale"]))
    st.session_state["whatif.loaded"] = scenario
    st.session_state["whatif.name"] = scenario.name
    st.session_state["whatif.horizon"] = scenario.horizon
    st.session_state["whatif.version"] = st.session_state.get("whatif.version", 0) + 1


def _label(x: float) -> str:
    return f"{x:.0%}" + (f" · {whatif.POSITIONS[x]}" if x in whatif.POSITIONS else "")


def controls(workshop: bool) -> Scenario:
    """The slider (with presets), and unless in workshop mode the advanced tables."""
    loaded: Scenario = st.session_state.get("whatif.loaded") or Scenario()
    cols = st.columns(3)
    for col, (position, name) in zip(cols, whatif.POSITIONS.items(), strict=True):
        col.button(name, key=f"whatif.preset.{position}", width="stretch",
                   on_click=apply, args=(whatif.preset(position),))
    share = st.select_slider(
        "Marketing's share of the sale and margin objectives", options=STEPS,
        value=st.session_state.get(SHARE_KEY, loaded.shares["sale"]), key=SHARE_KEY,
        format_func=_label,
        help="0: marketing tees up, sales closes · 0.5: joint accountability · 1: marketing "
             "owns revenue. Use the arrow keys to move it.")
    version = st.session_state.get("whatif.version", 0)
    shares, assumptions = dict(loaded.shares), dict(loaded.assumptions)
    horizon = int(st.session_state.get("whatif.horizon", loaded.horizon))
    if not workshop:
        with st.expander("Every objective's share, and the model's assumptions"):
            shares = _shares_editor(loaded, version)
            assumptions = _assumptions_editor(loaded, version)
            horizon = st.number_input("Horizon (quarters)", 1, 20, key="whatif.horizon",
                                      value=horizon)
    name = st.session_state.get("whatif.name") or ""
    if not name or (name in whatif.POSITIONS.values() and whatif.POSITIONS.get(share) != name):
        name = f"Marketing share {share:.0%}"  # a preset's name only while at its position
    return replace(Scenario(name, shares, assumptions, int(horizon)).with_sale_share(share))


def _shares_editor(loaded: Scenario, version: int) -> dict[str, float]:
    rows = [{"Objective": OBJECTIVE_LABELS[o], "Marketing's share": loaded.shares[o]}
            for o in OBJECTIVES]
    edited = st.data_editor(pd.DataFrame(rows), hide_index=True, width="stretch",
                            key=f"whatif.shares.{version}", disabled=["Objective"],
                            column_config={"Marketing's share": st.column_config.NumberColumn(
                                min_value=0.0, max_value=1.0, step=0.05)})
    st.caption("Sales holds the rest of each objective. Sale and margin follow the slider. "
               "Today's split (the baseline): " + ", ".join(
                   f"{OBJECTIVE_LABELS[o]} {v:.0%}" for o, v in whatif.BASELINE_SHARES.items()))
    values = pd.to_numeric(edited["Marketing's share"], errors="coerce").fillna(0).clip(0, 1)
    return dict(zip(OBJECTIVES, values.tolist(), strict=True))


def _assumptions_editor(loaded: Scenario, version: int) -> dict[str, float]:
    rows = [{"Assumption": a.label, "Value": loaded.assumptions[a.key], "Default": a.default,
             "Why": a.reason} for a in whatif.ASSUMPTIONS]
    edited = st.data_editor(pd.DataFrame(rows), hide_index=True, width="stretch",
                            key=f"whatif.assumptions.{version}",
                            disabled=["Assumption", "Default", "Why"])
    out = {}
    for a, value in zip(whatif.ASSUMPTIONS, edited["Value"], strict=True):
        number = pd.to_numeric(value, errors="coerce")
        out[a.key] = a.default if pd.isna(number) else min(max(float(number), a.low), a.high)
    return out


def scorecards(scenario: Scenario, attainment: dict, quarter: str, workshop: bool) -> None:
    now = whatif.scorecards(scenario.shares, attainment).set_index("team")
    today = whatif.scorecards(whatif.BASELINE_SHARES, attainment).set_index("team")
    cols = st.columns(2)
    for col, team in zip(cols, ("Marketing", "Sales"), strict=True):
        with col:
            score, before = now.loc[team, "score"], today.loc[team, "score"]
            st.metric(f"{team} scorecard ({quarter})", ui.percent(score),
                      delta=None if score is None or before is None
                      else f"{(score - before) * 100:+.1f} pts vs today's split",
                      border=True)
            if not workshop:
                st.caption(f"Owns: {now.loc[team, 'owns']}. Shared equally: "
                           f"{now.loc[team, 'joint']}.")


def projection(baseline: whatif.Baseline, scenario: Scenario, workshop: bool) -> None:
    runs = whatif.compare(baseline, scenario)
    base = whatif.totals(runs[runs.run == "Baseline"])
    scen = whatif.totals(runs[runs.run == scenario.name])
    cols = st.columns(4)
    for col, (key, label) in zip(cols, (("revenue", "Revenue"), ("margin", "Margin"),
                                        ("won", "Deals won"), ("leads", "Leads")),
                                 strict=True):
        value, before = scen[key], base[key]
        col.metric(f"{label}, {scenario.horizon} quarters", f"{value:,.0f}",
                   delta=None if pd.isna(value) or not before else
                   f"{(value - before) / before:+.1%} vs baseline", border=True)
    measures = {"revenue": "Revenue", "margin": "Margin", "leads": "Leads", "won": "Deals won",
                "customers": "Retained customers", "advocates": "Advocates",
                "referral_leads": "Referral leads", "cac": "CAC", "ltv": "LTV"}
    measure = "revenue" if workshop else st.selectbox(
        "Show", list(measures), format_func=measures.get, key="whatif.measure")
    ui.chart_with_downloads(charts.projection(runs, measure, measures[measure]),
                            runs, "whatif_projection", "whatif.dl")


def sensitivity(baseline: whatif.Baseline, scenario: Scenario) -> None:
    table = whatif.sensitivity(baseline, scenario)
    st.caption("Which assumption moves projected revenue most: each is set 50% lower and "
               "50% higher while the others stay as they are.")
    ui.chart_with_downloads(charts.sensitivity(table), table, "whatif_sensitivity",
                            "whatif.sens.dl")


def scenarios(baseline: whatif.Baseline, scenario: Scenario) -> None:
    """Save, share, export, import and compare up to four scenarios."""
    saved: dict[str, Scenario] = st.session_state.setdefault(SAVED, {})
    c1, c2, c3 = st.columns([2, 1, 1])
    name = c1.text_input("Scenario name", key="whatif.name",
                         placeholder="e.g. Joint revenue target")
    named = replace(scenario, name=name.strip() or scenario.name)
    if c2.button("Save scenario", key="whatif.save", width="stretch"):
        saved[named.name] = named
        st.success(f"Saved '{named.name}'.")
    if c3.button("Put in the link", key="whatif.link", width="stretch",
                 help="The page's address then reopens this scenario."):
        st.query_params[LINK_PARAM] = encode(named)
        st.session_state["whatif.link_applied"] = st.query_params[LINK_PARAM]
        st.success("The address bar now holds this scenario: copy it to share.")
    d1, d2 = st.columns(2)
    d1.download_button("Export scenario (JSON)", named.to_json,
                       file_name="handoff-scenario.json", mime="application/json",
                       key="whatif.export", on_click="ignore")
    upload = d2.file_uploader("Import a scenario (JSON)", type=["json"], key="whatif.import")
    if upload is not None and st.session_state.get("whatif.imported") != upload.file_id:
        st.session_state["whatif.imported"] = upload.file_id
        try:
            imported = Scenario.from_json(upload.getvalue().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            st.error(f"{upload.name} is not a Handoff scenario ({e}).")
        else:
            saved[imported.name] = imported
            apply(imported)
            st.rerun()
    for name, position in ((whatif.POSITIONS[p], p) for p in whatif.POSITIONS):
        saved.setdefault(name, whatif.preset(position))
    chosen = st.multiselect("Compare side by side (up to four)", list(saved),
                            max_selections=4, key="whatif.compare",
                            default=[n for n in whatif.POSITIONS.values() if n in saved][:3])
    if not chosen:
        return
    runs = pd.concat([whatif.project(baseline, saved[n]).assign(run=n) for n in chosen],
                     ignore_index=True)
    table = pd.DataFrame({n: whatif.totals(runs[runs.run == n]) for n in chosen}).T
    table.index.name = "Scenario"
    st.dataframe(table.round(0), width="stretch")
    ui.chart_with_downloads(charts.projection(runs, "revenue", "Revenue"), runs,
                            "whatif_scenarios", "whatif.cmp.dl")


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

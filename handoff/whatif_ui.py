"""The What-if page's controls, scorecards, projection, scenarios and workshop mode.

One source of truth for the split: `st.session_state[SHARES]` holds every objective's share.
The slider, the presets, the shares table, an imported file and a link all change it (in
callbacks, before the widgets are drawn), and every widget is drawn from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import replace

import pandas as pd
import streamlit as st

from handoff import charts, format, ui, whatif
from handoff.whatif import OBJECTIVE_LABELS, OBJECTIVES, Scenario

SAVED = "whatif.saved"
SHARE_KEY = "whatif.share"  # the slider: marketing's share of sale and margin
SHARES = "whatif.current_shares"  # every objective's share: the one source of truth
ASSUMPTIONS = "whatif.current_assumptions"
MESSAGE = "whatif.message"  # (kind, text) left by a callback for the next run
VERSION = "whatif.version"  # bumped when the tables must be redrawn from the state
LINK_PARAM = "scenario"
MAX_LINK = 16_000  # characters of the link parameter: five scenarios take about 4,000
MAX_COMPARED = 4
STEPS = [round(i / 20, 2) for i in range(21)]
SHARE_COLUMN = "Marketing's share (%)"
_BASE64 = re.compile(r"^[A-Za-z0-9_-]*$")


def snap(share: float) -> float:
    return min(STEPS, key=lambda x: abs(x - share))


def _compact(scenario: Scenario) -> dict[str, object]:
    """A scenario as a link holds it: only what differs from the defaults (decoding fills
    the defaults back in), so a link with five scenarios stays short."""
    data: dict[str, object] = {"name": scenario.name}
    shares = {k: v for k, v in scenario.shares.items() if v != whatif.BASELINE_SHARES[k]}
    assumptions = {k: v for k, v in scenario.assumptions.items()
                   if v != whatif.ASSUMPTION_BY_KEY[k].default}
    if shares:
        data["shares"] = shares
    if assumptions:
        data["assumptions"] = assumptions
    if scenario.horizon != 8:
        data["horizon"] = scenario.horizon
    return data


def encode(scenario: Scenario, compared: tuple[Scenario, ...] = ()) -> str:
    """The link parameter: the scenario, and the saved scenarios compared with it."""
    data: object = _compact(scenario)
    if compared:
        data = {"current": data, "compare": [_compact(s) for s in compared]}
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(text: str) -> tuple[Scenario, list[Scenario]]:
    """A link's scenario and the scenarios compared with it; anything malformed raises
    ValueError saying what is wrong (the text is data: never executed)."""
    if len(text) > MAX_LINK:
        raise ValueError(f"it is {len(text):,} characters long; a link holds at most "
                         f"{MAX_LINK:,}")
    if not _BASE64.match(text):
        raise ValueError("it holds characters a Handoff link never has")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("it is not a Handoff link (the encoding is broken)") from None
    data = whatif.parse_json(raw, limit=MAX_LINK)
    if isinstance(data, dict) and "current" in data:
        unknown = [str(k)[:40] for k in data if k not in ("current", "compare")]
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown[:5])} in the link")
        compared = data.get("compare", [])
        if not isinstance(compared, list) or len(compared) > MAX_COMPARED:
            raise ValueError(f"'compare' must be a list of at most {MAX_COMPARED} scenarios")
        return (whatif.scenario_from_data(data["current"], "current."),
                [whatif.scenario_from_data(s, f"compare[{i}].") for i, s in enumerate(compared)])
    return whatif.scenario_from_data(data), []


def open_link() -> None:
    """The scenario in the page's address (and those compared with it), applied once."""
    text = st.query_params.get(LINK_PARAM)
    state = st.session_state
    if not text or state.get("whatif.link_applied") == text:
        return
    state["whatif.link_applied"] = text
    try:
        current, compared = decode(text)
    except ValueError as e:
        st.warning(f"The scenario in this link could not be read: {e}. Showing the default "
                   "split.")
        return
    apply(current)
    saved: dict[str, Scenario] = state.setdefault(SAVED, {})
    for s in compared:
        saved[s.name] = s
    if compared:
        state["whatif.compare"] = [s.name for s in compared]


def apply(scenario: Scenario) -> None:
    """Put a scenario into the state every control is drawn from."""
    state = st.session_state
    state[SHARES] = dict(scenario.shares)
    state[SHARE_KEY] = snap(scenario.shares["sale"])
    state[ASSUMPTIONS] = dict(scenario.assumptions)
    state["whatif.name"] = scenario.name
    state["whatif.horizon"] = scenario.horizon
    state[VERSION] = state.get(VERSION, 0) + 1


def _slider_moved() -> None:
    state = st.session_state
    share = float(state[SHARE_KEY])
    state[SHARES] = {**state[SHARES], "sale": share, "margin": share}
    state[VERSION] = state.get(VERSION, 0) + 1


PENDING = "whatif.pending_shares"  # shares edited in the table, applied before the slider


def _apply_pending() -> None:
    """Shares edited in the table on the last run go into the one state (and the slider)
    before the slider is drawn: a widget's value cannot change once it is on the page."""
    state = st.session_state
    pending = state.pop(PENDING, None)
    if pending:
        state[SHARES] = pending
        state[SHARE_KEY] = snap(pending["sale"])
        state[VERSION] = state.get(VERSION, 0) + 1


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
            values[a.key] = st.session_state[ASSUMPTIONS].get(a.key, a.default)
            kept.append(f"{a.label}: not a number, kept at {values[a.key]:g}")
            continue
        values[a.key] = min(max(float(value), a.low), a.high)
        if values[a.key] != float(value):
            kept.append(f"{a.label}: kept within {a.low:g} to {a.high:g}")
    if kept:
        st.warning("; ".join(kept) + ".")
    return values


def _label(x: float) -> str:
    return f"{x:.0%}" + (f" · {whatif.POSITIONS[x]}" if x in whatif.POSITIONS else "")


def controls(workshop: bool) -> Scenario:
    """The slider (with presets), and unless in workshop mode the advanced tables."""
    state = st.session_state
    state.setdefault(SHARES, dict(whatif.BASELINE_SHARES))
    state.setdefault(ASSUMPTIONS, whatif.default_assumptions())
    state.setdefault("whatif.horizon", 8)
    cols = st.columns(3)
    for col, (position, name) in zip(cols, whatif.POSITIONS.items(), strict=True):
        col.button(name, key=f"whatif.preset.{position}", width="stretch",
                   on_click=apply, args=(whatif.preset(position),))
    _apply_pending()
    if SHARE_KEY not in state:
        state[SHARE_KEY] = snap(state[SHARES]["sale"])
    share = st.select_slider(
        "Marketing's share of the sale and margin objectives", options=STEPS, key=SHARE_KEY,
        format_func=_label, on_change=_slider_moved,
        help="0: marketing tees up, sales closes · 0.5: joint accountability · 1: marketing "
             "owns revenue. Use the arrow keys to move it.")
    message = state.pop(MESSAGE, None)
    if message:
        getattr(st, message[0])(message[1])
    if not workshop:
        with st.expander("Every objective's share, and the model's assumptions"):
            _shares_editor()
            _assumptions_editor()
            st.number_input("Horizon (quarters)", 1, 20, key="whatif.horizon")
    name = state.get("whatif.name") or ""
    if not name or (name in whatif.POSITIONS.values() and whatif.POSITIONS.get(share) != name):
        name = f"Marketing share {share:.0%}"  # a preset's name only while at its position
    return Scenario(name, dict(state[SHARES]), dict(state[ASSUMPTIONS]),
                    int(state["whatif.horizon"]))


def _shares_editor() -> None:
    state = st.session_state
    shares = state[SHARES]
    rows = [{"Objective": OBJECTIVE_LABELS[o], SHARE_COLUMN: round(shares[o] * 100),
             "Sales' share (%)": round((1 - shares[o]) * 100),
             "Set by": "the slider" if o in ("sale", "margin") else "this table"}
            for o in OBJECTIVES]
    key = f"whatif.shares.{state.get(VERSION, 0)}"
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
        state[PENDING] = changed
        st.rerun()
    st.caption("Sales holds the rest of each objective. The slider sets sale and margin; "
               "editing either here moves it too. Today's split (the baseline): " + ", ".join(
                   f"{OBJECTIVE_LABELS[o]} {v:.0%}" for o, v in whatif.BASELINE_SHARES.items()))


def _assumptions_editor() -> None:
    state = st.session_state
    values = state[ASSUMPTIONS]
    rows = [{"Assumption": a.label, "Value": values[a.key], "Default": a.default,
             "Range": f"{a.low:g} to {a.high:g}", "Why": a.reason} for a in whatif.ASSUMPTIONS]
    key = f"whatif.assumptions.{state.get(VERSION, 0)}"
    edited = st.data_editor(
        pd.DataFrame(rows), hide_index=True, width="stretch", key=key,
        disabled=["Assumption", "Default", "Range", "Why"],
        column_config={"Value": st.column_config.NumberColumn(format="%.2f"),
                       "Default": st.column_config.NumberColumn(format="%.2f")})
    state[ASSUMPTIONS] = _edited_assumptions(edited)


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
            st.metric(f"{team} scorecard ({quarter})", ui.percent(score),
                      delta=None if change is None or abs(change) < 0.0005
                      else f"{format.points(change)} vs today's split", delta_color="off",
                      border=True, help="Last quarter's results against their targets, "
                      "weighted by what the team is held to under this split.")
            if not workshop:
                st.caption(f"{team} is held to: {held_to(scenario.shares, team)}.")
    revenue_change = (scen["revenue"] - base["revenue"]) / base["revenue"] \
        if base["revenue"] else None
    explain = ("**A scorecard and the projection answer different questions.** A scorecard "
               f"re-weighs results already in ({quarter} against its targets) by who is held "
               "to what: moving the slider changes the weights, not the results, so a team "
               "looks better when it is judged on what it already did well. The projection "
               "asks what would happen next: teams put effort where they are measured, and "
               "the model turns that shift into leads, win rate and margin over "
               f"{scenario.horizon} quarters.")
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
        col.metric(f"{label}, {scenario.horizon} quarters",
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
        "Show", list(measures), format_func=lambda m: measures[m][0], key="whatif.measure")
    title = measures[measure][0] + (f" ({ui.currency()})" if measures[measure][1] == "money"
                                    and ui.currency() else "")
    ui.chart_with_downloads(
        charts.projection(runs, measure, title), projection_table(runs), "whatif_projection",
        "whatif.dl", title=f"What-if: {title.lower()} per quarter, {scenario.name} against "
        "the baseline", context=(f"Baseline measured over {baseline.measured}; an "
                                 "illustrative model, not a forecast",))


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


def _import_scenario() -> None:
    """Read an imported scenario file before the page is drawn: its size, shape and every
    value are checked first, and what is wrong is said."""
    state = st.session_state
    upload = state.get("whatif.import")
    if upload is None:
        return
    name = format.markdown_text(upload.name)
    if upload.size > whatif.MAX_SCENARIO_BYTES:
        state[MESSAGE] = ("error", f"{name} is {upload.size:,} bytes: a Handoff scenario is "
                          f"at most {whatif.MAX_SCENARIO_BYTES:,}. Nothing was changed.")
        return
    try:
        scenario = Scenario.from_json(upload.getvalue())
    except ValueError as e:
        state[MESSAGE] = ("error", f"{name} is not a Handoff scenario: "
                          f"{format.markdown_text(str(e))}. Nothing was changed.")
        return
    state.setdefault(SAVED, {})[scenario.name] = scenario
    apply(scenario)
    state[MESSAGE] = ("success", f"Imported '{format.markdown_text(scenario.name)}' and "
                      "applied it.")


def scenarios(baseline: whatif.Baseline, scenario: Scenario, workshop: bool) -> None:
    """Save, export, import, compare up to four scenarios, and a link that reopens them."""
    state = st.session_state
    saved: dict[str, Scenario] = state.setdefault(SAVED, {})
    named = scenario
    if not workshop:
        c1, c2 = st.columns([3, 1])
        name = c1.text_input("Scenario name", key="whatif.name", max_chars=whatif.MAX_NAME,
                             placeholder="e.g. Joint revenue target")
        named = replace(scenario, name=" ".join(name.split()) or scenario.name)
        if c2.button("Save scenario", key="whatif.save", width="stretch"):
            saved[named.name] = named
            st.success(f"Saved '{format.markdown_text(named.name)}'.")
        d1, d2 = st.columns(2)
        d1.download_button("Export scenario (JSON)", named.to_json,
                           file_name="handoff-scenario.json", mime="application/json",
                           key="whatif.export", on_click="ignore")
        d2.file_uploader("Import a scenario (JSON)", type=["json"], key="whatif.import",
                         on_change=_import_scenario, max_upload_size=1,
                         help=f"A file exported here; at most {whatif.MAX_SCENARIO_BYTES:,} "
                              "bytes. It is checked before anything changes.")
    for preset_name, position in ((whatif.POSITIONS[p], p) for p in whatif.POSITIONS):
        saved.setdefault(preset_name, whatif.preset(position))
    if "whatif.compare" not in state:
        state["whatif.compare"] = list(whatif.POSITIONS.values())[:MAX_COMPARED]
    state["whatif.compare"] = [n for n in state["whatif.compare"] if n in saved]
    chosen = st.multiselect("Compare side by side (up to four)", list(saved),
                            max_selections=MAX_COMPARED, key="whatif.compare")
    compared = tuple(saved[n] for n in chosen)
    share_link(named, compared)
    if not chosen:
        return
    runs = pd.concat([whatif.project(baseline, saved[n]).assign(run=n) for n in chosen],
                     ignore_index=True)
    totals = pd.DataFrame([{"Scenario": n, **whatif.totals(runs[runs.run == n])}
                           for n in chosen])
    st.markdown("**Totals over each scenario's horizon**")
    ui.show_table(ui.formatted(totals, {
        "Scenario": ("Scenario", "text"), "leads": ("Leads", "count"),
        "won": ("Deals won", "count"), "revenue": ("Revenue", "money"),
        "margin": ("Margin", "money"), "customers at end": ("Customers at the end", "count"),
        "advocates at end": ("Advocates at the end", "count")}))
    ui.chart_with_downloads(charts.projection(runs, "revenue", "Revenue"),
                            projection_table(runs), "whatif_scenarios", "whatif.cmp.dl",
                            title="What-if: projected revenue per quarter, scenarios compared",
                            context=(f"Baseline measured over {baseline.measured}; an "
                                     "illustrative model, not a forecast",))


def share_link(scenario: Scenario, compared: tuple[Scenario, ...]) -> None:
    """The link that reopens this scenario and the ones compared with it: one click on the
    copy button."""
    base = st.context.url or ""
    link = f"{base}?{LINK_PARAM}={encode(scenario, compared)}"
    st.markdown("**Share this view** (the link reopens this scenario"
                + (f" and the {len(compared)} compared with it" if compared else "") + ")")
    st.code(link, language=None)


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

"""Scenarios on the What-if page: saved, compared, exported, imported and reopened from a
link. An imported file and a link are hostile input: their size, nesting and every value are
checked before anything is applied, and what is wrong is said."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import replace

import pandas as pd
import streamlit as st

from handoff import charts, format, state, ui, whatif, workspace_ui
from handoff.whatif import Scenario
from handoff.whatif_ui import apply, projection_table

LINK_PARAM = "scenario"
MAX_LINK = 16_000  # characters of the link parameter: five scenarios take about 4,000
MAX_COMPARED = 4
_BASE64 = re.compile(r"^[A-Za-z0-9_-]*$")


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
    """The scenario in the page's address (and those compared with it), applied once. A text
    this session wrote itself (`keep_in_address`) is never applied back: while the slider
    moves, the browser may still send the address of a run or two ago."""
    text = st.query_params.get(LINK_PARAM)
    if not text or text in state.LINK_SEEN.get([]):
        return
    state.remember(state.LINK_SEEN, text)
    try:
        current, compared = decode(text)
    except ValueError as e:
        st.warning(f"The scenario in this link could not be read: {format.markdown_text(str(e))}. "
                   "Showing the default "
                   "split.")
        return
    apply(current)
    saved: dict[str, Scenario] = state.SAVED.setdefault(dict)
    for s in compared:
        saved[s.name] = s
    if compared:
        state.COMPARED.set([s.name for s in compared])


def keep_in_address(scenario: Scenario) -> None:
    """The scenario on screen in the address, so the address itself reopens it (left out for
    the default split). An opened share link, which also carries the scenarios compared, stays
    while it still shows the scenario on screen."""
    text = st.query_params.get(LINK_PARAM)
    if text:
        try:
            if _compact(decode(text)[0]) == _compact(scenario):
                return
        except ValueError:
            pass
    if _compact(scenario) == _compact(Scenario(name=scenario.name)):
        if text:
            del st.query_params[LINK_PARAM]
        return
    wanted = encode(scenario)
    state.remember(state.LINK_SEEN, wanted)
    st.query_params[LINK_PARAM] = wanted


def _import_scenario() -> None:
    """Read an imported scenario file before the page is drawn: its size, shape and every
    value are checked first, and what is wrong is said."""
    upload = state.SCENARIO_FILE.get()
    if upload is None:
        return
    if upload.size > whatif.MAX_SCENARIO_BYTES:
        state.MESSAGE.set(("error", f"{upload.name} is {upload.size:,} bytes: a Handoff "
                           f"scenario is at most {whatif.MAX_SCENARIO_BYTES:,}. Nothing was "
                           "changed."))
        return
    try:
        scenario = Scenario.from_json(upload.getvalue())
    except ValueError as e:
        state.MESSAGE.set(("error", f"{upload.name} is not a Handoff scenario: {e}. Nothing "
                           "was changed."))
        return
    state.SAVED.setdefault(dict)[scenario.name] = scenario
    apply(scenario)
    refused = workspace_ui.keep("scenario", scenario.name, scenario.to_data())
    if refused:
        state.MESSAGE.set(("error", f"Imported '{scenario.name}' and applied it. {refused}"))
    else:
        state.MESSAGE.set(("success", f"Imported '{scenario.name}' and applied it. Saved in "
                           "the workspace."))


def kept_scenarios() -> dict[str, Scenario]:
    """The scenarios saved in the workspace, by name, oldest first (as they were saved); one
    that no longer reads as a scenario is left out."""
    out: dict[str, Scenario] = {}
    for item in reversed(workspace_ui.kept_items("scenario")):
        try:
            out[item.name] = whatif.scenario_from_data(item.value)
        except ValueError:
            continue
    return out


def scenarios(baseline: whatif.Baseline, scenario: Scenario, workshop: bool) -> None:
    """Save, export, import, compare up to four scenarios, and a link that reopens them."""
    saved: dict[str, Scenario] = state.SAVED.setdefault(dict)
    saved.update(kept_scenarios())  # saved by anyone in the workspace, in any session
    named = scenario
    if not workshop:
        c1, c2 = st.columns([3, 1])
        name = c1.text_input("Scenario name", key=state.SCENARIO_NAME.key, persist_state="session",
                             max_chars=whatif.MAX_NAME,
                             placeholder="e.g. Joint revenue target")
        named = replace(scenario, name=" ".join(name.split()) or scenario.name)
        if c2.button("Save scenario", key="whatif.save", width="stretch"):
            refused = workspace_ui.keep("scenario", named.name, named.to_data())
            if refused:
                st.error(format.markdown_text(refused))
            else:
                saved[named.name] = named
                st.success(f"Saved '{format.markdown_text(named.name)}' in the workspace.")
        d1, d2 = st.columns(2)
        d1.download_button("Export scenario (JSON)", named.to_json,
                           file_name="handoff-scenario.json", mime="application/json",
                           key="whatif.export", on_click="ignore")
        d2.file_uploader("Import a scenario (JSON)", type=["json"], key=state.SCENARIO_FILE.key,
                         on_change=_import_scenario, max_upload_size=1,
                         help=f"A file exported here; at most {whatif.MAX_SCENARIO_BYTES:,} "
                              "bytes. It is checked before anything changes.")
    for preset_name, position in ((whatif.POSITIONS[p], p) for p in whatif.POSITIONS):
        saved.setdefault(preset_name, whatif.preset(position))
    compared = state.COMPARED.setdefault(lambda: list(whatif.POSITIONS.values())[:MAX_COMPARED])
    state.COMPARED.set([n for n in compared if n in saved])
    chosen = st.multiselect("Compare side by side (up to four)", list(saved),
                            max_selections=MAX_COMPARED, key=state.COMPARED.key,
                            persist_state="session")
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

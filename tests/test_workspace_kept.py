"""What a workspace keeps besides its data (AppTest): targets, scenarios, mapping presets and
notes saved in one session are there, with their values, in a fresh session on the same data
directory, as for a new tab, another member or a restarted server. A viewer sees the targets
and cannot change them; a note is shown as the text it is, never as Markdown or HTML."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from handoff import workspace_gate
from handoff import workspaces as w
from handoff.mapping import Mapping
from handoff.whatif import Scenario
from tests.conftest import fixture_bytes, shown
from tests.test_pages import type_target

OBJECTIVES, WHATIF, DATA, HOME = ("../pages/4_Objectives.py", "../pages/5_What_if.py",
                                  "../pages/1_Data.py", "../Home.py")
VIEWER = "val@acme.test"


def _run(script: str, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(script, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _targets_table(at: AppTest):
    editor = next(d for d in at.data_editor if d.key and d.key.startswith("obj.targets."))
    return editor.value.set_index("KPI")


def _kept_targets() -> dict:
    kept = w.items(w.local_workspace(), w.LOCAL_USER, "targets")
    return kept[0].value if kept else {}


@pytest.fixture
def as_viewer(monkeypatch):
    """Every page after this is opened by a viewer of the local workspace."""
    ws = w.local_workspace()
    w.set_member(ws, w.LOCAL_USER, VIEWER, "viewer")
    monkeypatch.setattr(workspace_gate, "session_access",
                        lambda email: workspace_gate.Access(ws, VIEWER, "viewer"))


# --- targets --------------------------------------------------------------------------------

def test_a_typed_target_is_kept_with_its_owner_and_a_new_session_starts_from_it():
    first = type_target(_run(OBJECTIVES), "Leads", 1234.0)
    assert any("Targets saved in the workspace" in s.value for s in first.success)
    table = _targets_table(_run(OBJECTIVES))  # a fresh session: new tab, member or server
    assert table.loc["Leads", "Target"] == 1234.0
    kept = _kept_targets()
    assert kept["targets"]["leads"] == {"target": 1234.0, "owner": table.loc["Leads", "Owner"],
                                        "supporting": table.loc["Leads", "Supporting"]}
    assert kept["period"] == table.loc["Leads", "Period"]
    assert set(kept["targets"]) == {"leads"}  # the defaults are not frozen as targets


def test_uploaded_targets_replace_the_kept_ones_for_every_session():
    at = type_target(_run(OBJECTIVES), "Leads", 1234.0)
    at.file_uploader(key="obj.targets.up").upload(
        "t.csv", b"KPI,Target\nWin rate,0.35\n", "text/csv").run()
    assert not at.exception
    table = _targets_table(_run(OBJECTIVES))
    assert table.loc["Win rate", "Target"] == 0.35
    assert table.loc["Leads", "Target"] != 1234.0  # the upload replaced the typed target
    assert set(_kept_targets()["targets"]) == {"win_rate"}


def test_a_viewer_sees_the_kept_targets_and_cannot_change_them(as_viewer):
    w.save_item(w.local_workspace(), w.LOCAL_USER, "targets", "current",
                {"targets": {"leads": {"target": 777.0}}, "period": "2026 Q3"})
    before = _kept_targets()
    at = _run(OBJECTIVES)
    assert _targets_table(at).loc["Leads", "Target"] == 777.0
    assert not [u for u in at.get("file_uploader") if u.key == "obj.targets.up"]
    assert any("you are a viewer" in i.value for i in at.info)
    type_target(at, "Leads", 5.0)  # an edit forced into the (disabled) table
    said = " ".join(shown(e.value) for e in at.error)
    assert f"{VIEWER} is a viewer of workspace 'local'" in said and "Ask one of its owners" in said
    assert _kept_targets() == before
    assert _targets_table(at).loc["Leads", "Target"] == 777.0


# --- scenarios ------------------------------------------------------------------------------

def _scenarios_tab() -> AppTest:
    at = _run(WHATIF)
    at.session_state["whatif.tab"] = "Scenarios"
    return _run(WHATIF, at)


def test_a_saved_scenario_is_offered_with_its_values_in_a_new_session():
    at = _scenarios_tab()
    at.select_slider(key="whatif.share").set_value(0.5).run()
    at.text_input(key="whatif.name").set_value("Joint plan").run()
    at.button(key="whatif.save").click().run()
    assert any("in the workspace" in s.value for s in at.success)
    second = _scenarios_tab()
    assert "Joint plan" in second.multiselect(key="whatif.compare").options
    saved = second.session_state["whatif.saved"]["Joint plan"]
    assert saved.shares["sale"] == saved.shares["margin"] == 0.5
    assert saved == Scenario.from_json(at.session_state["whatif.saved"]["Joint plan"].to_json())


def test_an_imported_scenario_is_kept_for_a_new_session():
    at = _scenarios_tab()
    scenario = Scenario("From the board", horizon=6).with_sale_share(0.65)
    at.file_uploader(key="whatif.import").upload("b.json", scenario.to_json().encode(),
                                                 "application/json").run()
    assert not at.exception
    assert _scenarios_tab().session_state["whatif.saved"]["From the board"] == scenario


# --- mapping presets ------------------------------------------------------------------------

PRESET = Mapping("deals", {"deal_id": "opportunity_id", "stage": "deal_stage"},
                 stages={"Won": "won"})


def test_an_uploaded_preset_is_listed_with_its_values_in_a_new_session():
    at = _run(DATA)
    at.file_uploader(key="data.presets").upload("won deals.json", PRESET.to_json().encode(),
                                                "application/json").run()
    assert not at.exception
    second = _run(DATA)
    assert [c.value for c in second.caption if c.value.startswith("Presets in")] == [
        "Presets in this workspace: won deals"]
    kept = w.items(w.local_workspace(), w.LOCAL_USER, "mapping_preset")
    assert [(i.name, Mapping.from_json(json.dumps(i.value))) for i in kept] == [
        ("won deals", PRESET)]


def test_a_preset_saved_on_a_file_card_is_offered_to_a_new_session():
    name = "maven_sales_pipeline_300.csv"
    at = _run(DATA)
    at.file_uploader(key="data.uploads").upload(name, fixture_bytes(name), "text/csv").run()
    box = next(t for t in at.text_input if t.key and t.key.startswith("presetname."))
    box.set_value("Our Maven export").run()
    at.button(key="presetsave." + box.key.removeprefix("presetname.")).click().run()
    assert not at.exception and any("in the workspace" in s.value for s in at.success)
    second = _run(DATA)
    second.file_uploader(key="data.uploads").upload(name, fixture_bytes(name), "text/csv").run()
    picker = next(s for s in second.selectbox if s.key and s.key.startswith("preset."))
    assert picker.options == ["Proposed mapping", "Our Maven export"]
    kept = w.items(w.local_workspace(), w.LOCAL_USER, "mapping_preset")[0].value
    assert kept["table"] == "deals" and kept["columns"]["deal_id"] == "opportunity_id"


# --- notes ----------------------------------------------------------------------------------

HOSTILE_NOTE = "**bold** <img src=x onerror=alert(1)> [link](http://e.x) ![i](http://e.x/p.png)"


def _write_note(at: AppTest, body: str) -> AppTest:
    at.text_area(key="data.note_body").set_value(body)
    at.button(key="notes.add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_note_with_markdown_and_html_is_shown_as_its_text_in_a_new_session():
    at = _write_note(_run(HOME), HOSTILE_NOTE)
    assert at.text_area(key="data.note_body").value == ""  # the box is emptied
    second = _run(HOME)
    notes = [m.value for m in second.markdown if "bold" in m.value]
    assert len(notes) == 1 and shown(notes[0]) == HOSTILE_NOTE
    assert r"\*\*bold\*\*" in notes[0] and r"\<img" in notes[0] and r"\]\(" in notes[0]
    assert "](" not in notes[0]
    assert any(shown(c.value).startswith(f"{w.LOCAL_USER} · ") for c in second.caption)


def test_a_viewer_may_write_a_note(as_viewer):
    _write_note(_run(HOME), "Leads from March are missing")
    [note] = w.annotations(w.local_workspace(), VIEWER)
    assert (note.body, note.written_by, note.about) == (
        "Leads from March are missing", VIEWER, {"page": "Home"})


def test_a_store_that_fails_to_save_is_said_and_the_page_goes_on(monkeypatch):
    def full_disk(*args, **kwargs):
        raise w.SaveFailed("The disk is full: free some space, then save again.")

    monkeypatch.setattr(w, "save_item", full_disk)
    at = _scenarios_tab()
    at.text_input(key="whatif.name").set_value("Joint plan").run()
    at.button(key="whatif.save").click().run()
    assert not at.exception
    said = " ".join(shown(e.value) for e in at.error)
    assert "The scenario 'Joint plan' was not saved: The disk is full" in said
    assert "Joint plan" not in at.multiselect(key="whatif.compare").options
    assert any(m.label.startswith("Revenue") for m in at.metric)  # the page is still drawn

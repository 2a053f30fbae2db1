"""Pages on a workspace (AppTest): every session shows the workspace's current version, the
versions are listed on the Data page and an earlier one restored; a viewer cannot load (the
load button itself is driven in a real browser: tests/test_workspace_browser.py).
Numbers are counted with pandas from the fixture files."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from handoff import format, ingest
from handoff import workspaces as w
from tests.conftest import FIXTURES, fixture_bytes, into_workspace, load_files, shown

MAVEN, SF = "maven_sales_pipeline_300.csv", "sf_devorg_Opportunity.csv"


def _run(script: str, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(script, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _won(fixture: str) -> int:
    frame = pd.read_csv(FIXTURES / fixture)
    return int((frame.deal_stage == "Won").sum() if "deal_stage" in frame
               else (frame.StageName == "Closed Won").sum())


def test_two_sessions_show_the_same_workspace_data():
    into_workspace(load_files(MAVEN))
    first, second = _run("../Home.py"), _run("../Home.py")
    assert _metric(first, "Deals won") == _metric(second, "Deals won") == f"{_won(MAVEN):,}"


def test_versions_are_listed_and_an_earlier_one_restored_for_everyone():
    into_workspace(load_files(MAVEN))
    into_workspace(load_files(SF))
    assert _metric(_run("../Home.py"), "Deals won") == f"{_won(SF):,}"
    data = _run("../pages/1_Data.py")
    listed = [shown(m) for m in at_markdown(data) if m.startswith("**Version")]
    assert listed[0].startswith("**Version 2** — current") and SF in listed[0]
    assert listed[1].startswith("**Version 1**") and MAVEN in listed[1]
    restore = [b for b in data.button if b.label == "Restore"]
    assert len(restore) == 1  # the current version has none
    restore[0].click().run()
    assert not data.exception
    assert any("Version 1 is current again" in shown(s.value) for s in data.success)
    assert _metric(_run("../Home.py"), "Deals won") == f"{_won(MAVEN):,}"


def at_markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_a_viewer_sees_who_can_load_and_no_load_button(monkeypatch):
    """The button is for owners and editors: a viewer's Data page names who can load."""
    from handoff import versions_ui
    from handoff.workspace_gate import Access

    ws = w.local_workspace()
    w.set_member(ws, w.LOCAL_USER, "val@acme.test", "viewer")
    viewer = Access(ws, "val@acme.test", "viewer")
    shown_texts: list[str] = []
    monkeypatch.setattr(versions_ui.st, "info", lambda text: shown_texts.append(text))
    monkeypatch.setattr(versions_ui.st, "button", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("a viewer was offered a button")))
    pending = [dataset_pending(MAVEN)]
    versions_ui.load_controls(viewer, load_files(MAVEN), pending)
    assert len(shown_texts) == 1 and w.LOCAL_USER in shown(shown_texts[0])
    assert "viewer" in shown_texts[0]


def dataset_pending(name: str):
    from handoff import dataset, ingest, mapping, proposal

    raw = ingest.read_upload(name, fixture_bytes(name))
    m = proposal.propose_all([raw])[0]
    frame, validation = mapping.apply(raw, m)
    return dataset.Pending(name, m, frame, validation)


def test_each_version_keeps_the_mapping_its_files_were_loaded_with():
    """The mapping goes with the data: after a restart (read back from the workspace file)
    each version still says how its file was mapped, and offers it as a preset file."""
    from handoff import proposal, workspace_versions
    from handoff.mapping import Mapping

    into_workspace(load_files(MAVEN))
    into_workspace(load_files(SF))
    proposed = {name: proposal.propose_all([ingest.read_upload(name, fixture_bytes(name))])[0]
                for name in (MAVEN, SF)}
    listed = workspace_versions.versions(w.local_workspace(), w.LOCAL_USER)
    kept = {s.file_name: Mapping.from_json(s.mapping) for v in listed for s in v.sources}
    assert kept == proposed
    assert kept[MAVEN].table == kept[SF].table == "deals"
    data = _run("../pages/1_Data.py")
    labels = [b.label for b in data.get("download_button")]
    assert [label for label in labels if label.startswith("Mapping of")] == [
        f"Mapping of {shown_name} (JSON)" for shown_name in (
            format.markdown_text(SF), format.markdown_text(MAVEN))]

"""Every import and link parameter is an input surface, tested like a file upload: the
scenario JSON import, the SMART-targets CSV import, the `?scenario=` link and the what-if
tables. Each is driven through the page's own widget (AppTest), never by calling a helper
around it: a file that is malformed, huge, deeply nested, of the wrong shape or types, with
NaN/Infinity, out-of-range values, unknown keys or spreadsheet formulas gets a message that
says what is wrong, the page keeps running, and what was set before stays set."""

from __future__ import annotations

import base64
import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from handoff import export, format, scenarios_ui, state, whatif, whatif_ui
from handoff import workspaces as w
from handoff.mapping import Mapping
from handoff.targets_ui import MAX_TARGETS_BYTES, read_targets
from handoff.whatif import Scenario
from tests.conftest import shown

NESTED = b"[" * 10_000 + b"]" * 10_000
HUGE = 50 * 1024 * 1024  # 50 MB: refused from its size, never parsed


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _messages(at: AppTest) -> list[str]:
    return [_plain(m.value) for m in (*at.error, *at.warning, *at.success)]


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# --- scenario JSON import (What-if, Scenarios tab) ------------------------------------------

@pytest.fixture
def scenarios_tab() -> AppTest:
    at = AppTest.from_file("../pages/5_What_if.py", default_timeout=60)
    at.run()
    at.session_state["whatif.tab"] = "Scenarios"
    at.run()
    _ok(at)
    return at


def _import(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="whatif.import").upload(name, content, "application/json").run()
    _ok(at)
    return at


def test_an_exported_scenario_imports_and_applies_on_the_next_run(scenarios_tab):
    """The file that raised StreamlitWidgetAlreadyInstantiatedError: applied in the upload's
    callback, before the slider is drawn."""
    scenario = Scenario("From the board", horizon=6).with_sale_share(0.65)
    at = _import(scenarios_tab, "board.json", scenario.to_json().encode())
    assert at.select_slider(key="whatif.share").value == 0.65
    assert any(m.label == "Revenue, 6 quarters" for m in at.metric)
    assert "From the board" in at.session_state["whatif.saved"]
    assert any("Imported 'From the board'" in m for m in _messages(at))


HOSTILE_SCENARIOS = [
    ("a list", b"[1, 2, 3]", "must be a JSON object"),
    ("shares as a list", b'{"shares": [0.5]}', "shares must be an object of numbers, not a list"),
    ("10,000 levels", NESTED, "nested more than 6 levels deep"),
    ("malformed", b'{"name": "x",', "not valid JSON"),
    ("NaN", b'{"shares": {"sale": NaN}}', "NaN is not a number"),
    ("Infinity", b'{"horizon": Infinity}', "Infinity is not a number"),
    ("out of range", b'{"shares": {"sale": 1.5}}', "shares.sale must be a number from 0 to 1"),
    ("1e308", b'{"assumptions": {"adstock": 1e308}}', "assumptions.adstock must be a number"),
    ("wrong type", b'{"horizon": "8"}', "horizon must be a whole number"),
    ("unknown key", b'{"shares": {}, "exec": "rm -rf /"}', "unknown key(s) exec"),
    ("a formula as a share", b'{"shares": {"sale": "=1+1"}}', "shares.sale must be a number"),
    ("binary", bytes(range(256)) * 4, "not UTF-8 text"),
]


@pytest.mark.parametrize(("case", "content", "said"), HOSTILE_SCENARIOS,
                         ids=[c[0] for c in HOSTILE_SCENARIOS])
def test_a_hostile_scenario_file_is_refused_with_what_is_wrong(scenarios_tab, case, content,
                                                               said):
    at = scenarios_tab
    at.select_slider(key="whatif.share").set_value(0.25).run()
    _import(at, "evil.json", content)
    assert any(said in m and "evil.json is not a Handoff scenario" in m
               for m in _messages(at)), _messages(at)
    assert at.select_slider(key="whatif.share").value == 0.25  # what was set stays set


def test_a_50_mb_scenario_file_is_refused_from_its_size(scenarios_tab):
    _import(scenarios_tab, "big.json", b" " * HUGE)
    assert any(f"big.json is {HUGE:,} bytes" in m for m in _messages(scenarios_tab))


def test_a_scenario_named_like_a_formula_or_markdown_stays_text(scenarios_tab):
    """A name is data: in the page it is escaped Markdown (no image fetched, no link), in a
    CSV it cannot run as a formula."""
    name = '=HYPERLINK("http://e.x") ![x](http://e.x/p.png)'
    at = _import(scenarios_tab, "n.json", json.dumps({"name": name}).encode())
    message = next(m.value for m in at.success if "Imported" in m.value)
    assert "![x](" not in message and r"\!\[x\]\(" in message
    saved = at.session_state["whatif.saved"][name]
    baseline = whatif.Baseline(1000, .4, .4, .5, .3, 1e4, .5, .05, .01, .1, 100, 10, None,
                               "2025 Q1")
    runs = whatif.project(baseline, saved).assign(run=saved.name)
    csv = export.safe_csv(format.table(runs, whatif_ui.PROJECTION_COLUMNS).csv_frame())
    assert b"'=HYPERLINK(" in csv and b",=HYPERLINK" not in csv


# --- the ?scenario= link --------------------------------------------------------------------

def _link(text: str) -> AppTest:
    at = AppTest.from_file("../pages/5_What_if.py", default_timeout=60)
    at.query_params["scenario"] = text
    at.run()
    _ok(at)
    return at


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


HOSTILE_LINKS = [
    ("not base64", "not-a-scenario!", "characters a Handoff link never has"),
    ("broken base64", "A", "encoding is broken"),
    ("huge", "A" * 20_000, "a link holds at most 16,000"),
    ("nested", _b64(b"[" * 5_000 + b"]" * 5_000), "nested more than"),
    ("a list", _b64(b"[1]"), "must be a JSON object"),
    ("NaN", _b64(b'{"horizon": NaN}'), "NaN is not a number"),
    ("out of range", _b64(b'{"shares": {"margin": -1}}'), "shares.margin must be a number"),
    ("unknown key", _b64(b'{"current": {}, "admin": true}'), "unknown key(s) admin"),
    ("too many compared", _b64(json.dumps({"current": {}, "compare": [{}] * 5}).encode()),
     "at most 4 scenarios"),
    ("a compared scenario wrong", _b64(b'{"current": {}, "compare": [{"horizon": 99}]}'),
     "compare[0].horizon must be"),
    ("binary", _b64(bytes(range(256))), "not UTF-8 text"),
]


@pytest.mark.parametrize(("case", "text", "said"), HOSTILE_LINKS,
                         ids=[c[0] for c in HOSTILE_LINKS])
def test_a_hostile_link_shows_the_default_and_says_why(case, text, said):
    at = _link(text)
    assert any(said in m and "could not be read" in m for m in _messages(at)), _messages(at)
    assert at.select_slider(key="whatif.share").value == whatif.BASELINE_SHARES["sale"]


def test_a_link_reopens_the_scenario_and_the_scenarios_compared():
    mine = Scenario("Board plan", horizon=4).with_sale_share(0.4)
    compared = (whatif.preset(1.0), Scenario("Half", horizon=4).with_sale_share(0.5))
    at = _link(scenarios_ui.encode(mine, compared))
    assert at.select_slider(key="whatif.share").value == 0.4
    assert any(m.label == "Revenue, 4 quarters" for m in at.metric)
    at.session_state["whatif.tab"] = "Scenarios"
    at.run()
    assert at.multiselect(key="whatif.compare").value == ["Marketing owns revenue", "Half"]
    link = at.code[0].value  # the share link on the page carries all three again
    assert scenarios_ui.decode(link.split("?scenario=")[1]) == (mine, list(compared))


# --- the what-if tables ---------------------------------------------------------------------

def test_the_shares_table_and_the_slider_are_one_state():
    """At 100 % the table says 100 %; editing Sale in the table moves the slider; hostile
    cells are kept within range."""
    at = AppTest.from_file("../pages/5_What_if.py", default_timeout=60)
    at.session_state["whatif.advanced"] = True  # the tables are drawn only while it is open
    at.run()
    at.select_slider(key="whatif.share").set_value(1.0).run()
    shares = at.data_editor[0]
    table = shares.value.set_index("Objective")
    assert table.loc["Sale (revenue)", "Marketing's share (%)"] == 100
    at.session_state[shares.key] = {"edited_rows": {2: {"Marketing's share (%)": 35}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    _ok(at)
    assert at.select_slider(key="whatif.share").value == 0.35
    assert at.session_state[state.SHARES.key]["sale"] == 0.35
    assumptions = at.data_editor[1]
    at.session_state[assumptions.key] = {"edited_rows": {0: {"Value": 1e308}, 1: {"Value": None},
                                                         2: {"Value": -5}},
                                         "added_rows": [], "deleted_rows": []}
    at.run()
    _ok(at)
    kept = at.session_state[state.ASSUMPTIONS.key]
    floor, e_awareness, adstock = (whatif.ASSUMPTION_BY_KEY[k] for k in
                                   ("floor", "e_awareness", "adstock"))
    assert (kept["floor"], kept["e_awareness"], kept["adstock"]) == (
        floor.high, e_awareness.default, adstock.low)
    assert any("kept within" in w.value for w in at.warning)


# --- SMART targets CSV (Objectives) ----------------------------------------------------------

def _targets_upload(content: bytes, name: str = "targets.csv") -> AppTest:
    at = AppTest.from_file("../pages/4_Objectives.py", default_timeout=60)
    at.run()
    at.file_uploader(key="obj.targets.up").upload(name, content, "text/csv").run()
    _ok(at)
    return at


def _kept_targets() -> dict[str, float]:
    """The targets the local workspace keeps (KPI key -> target)."""
    kept = w.items(w.local_workspace(), w.LOCAL_USER, "targets")
    return {k: v["target"] for k, v in kept[0].value["targets"].items()} if kept else {}


def _reverse_funnel_renders(at: AppTest) -> None:
    """The tab that crashed on inf, 1e308 and negative revenue targets."""
    at.session_state["obj.tab"] = "Reverse funnel"
    at.run()
    _ok(at)
    assert any(n.key == "obj.reverse.target" for n in at.number_input)


HOSTILE_TARGETS = [
    ("inf", b"KPI,Target\nRevenue against target,inf\n",
     "row 2, column Target (Revenue against target): is not a finite number"),
    ("1e308", b"KPI,Target\nRevenue against target,1e308\n",
     "row 2, column Target (Revenue against target): 1e+308 is outside 0 to 1e+12"),
    ("negative", b"KPI,Target\nLeads,100\nRevenue against target,-5000\n",
     "row 3, column Target (Revenue against target): -5000 is outside 0 to 1e+12"),
    ("a rate above 1", b"KPI,Target\nWin rate,45\n", "45 is outside 0 to 1 (a share"),
    ("NaN text", b"KPI,Target\nLeads,NaN\n", "row 2, column Target (Leads): is not a finite"),
    ("a formula", b"KPI,Target\nLeads,=1+1\n", "row 2, column Target (Leads): '=1+1' is not"),
    ("a duplicate", b"KPI,Target\nLeads,1\nLeads,2\n", "row 3: Leads is already on row 2"),
    ("no Target column", b"KPI,Goal\nLeads,1\n", "needs the columns KPI and Target"),
    ("binary", bytes(range(256)) * 10, "is not UTF-8 text"),
    ("too many rows", b"KPI,Target\n" + b"Leads,1\n" * 300, "has 300 rows"),
]


@pytest.mark.parametrize(("case", "content", "said"), HOSTILE_TARGETS,
                         ids=[c[0] for c in HOSTILE_TARGETS])
def test_a_hostile_targets_file_says_row_and_column_and_changes_nothing(case, content, said):
    at = _targets_upload(content)
    assert any(said in m for m in _messages(at)), _messages(at)
    assert _kept_targets() == {}
    _reverse_funnel_renders(at)


def test_a_50_mb_targets_file_is_refused_from_its_size():
    at = _targets_upload(b"KPI,Target\n" + b" " * HUGE, "big.csv")
    assert any(f"big.csv is {HUGE + 11:,} bytes" in m for m in _messages(at))


def test_unknown_kpis_and_columns_are_named_and_the_rest_applied():
    content = (b"KPI,Target,Owner,Secret\nLeads,\"2,500\",Sales,x\n=cmd|' /C calc'!A0,5\n"
               b"Revenue against target,1000000000000\n")
    at = _targets_upload(content)
    assert _kept_targets() == {"leads": 2500.0, "revenue_target": 1e12}
    said = " ".join(_messages(at))
    assert "ignored column(s): Secret" in said and "ignored unknown KPI(s)" in said
    _reverse_funnel_renders(at)  # the largest target accepted still renders
    assert at.number_input(key="obj.reverse.target").value == 1e12


def test_targets_typed_into_the_table_are_checked_too():
    at = AppTest.from_file("../pages/4_Objectives.py", default_timeout=60)
    at.run()
    editor = next(d for d in at.data_editor if d.key and d.key.startswith("obj.targets."))
    kpis = editor.value["KPI"].tolist()
    row = kpis.index("Win rate")
    at.session_state[editor.key] = {"edited_rows": {row: {"Target": 45.0}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    _ok(at)
    assert any("Win rate: 45 is outside 0 to 1" in shown(w.value) for w in at.warning)


def test_read_targets_round_trips_the_downloaded_table():
    frame = pd.DataFrame({"KPI": ["Leads", "Win rate"], "Target": [2500.0, 0.35],
                          "Period": ["2026 Q3"] * 2, "Owner": ["Marketing", "Sales"],
                          "Supporting": ["Sales", "Marketing"],
                          "Better when": ["higher", "higher"]})
    assert read_targets("t.csv", export.safe_csv(frame)) == (
        {"leads": 2500.0, "win_rate": 0.35}, [])
    assert MAX_TARGETS_BYTES < HUGE


# --- mapping preset JSON import (Data page) --------------------------------------------------

GOOD_PRESET = Mapping("deals", {"deal_id": "Id", "stage": "Stage"}, stages={"Won": "won"})

HOSTILE_PRESETS = [
    ("deeply nested", NESTED, "nested more than 4 levels deep"),
    ("stages as a list", b'{"table": "deals", "stages": ["Won", "Lost"]}',
     "'stages' must map names to names"),
    ("columns nested", b'{"table": "deals", "columns": {"deal_id": {"a": 1}}}',
     "'columns' must map names to names"),
    ("stage order as text", b'{"table": "deals", "stage_order": "Won"}',
     "'stage_order' must be a list"),
    ("NaN", b'{"table": "deals", "note": NaN}', "NaN is not a number"),
    ("no table", b'{"columns": {}}', "no known 'table'"),
    ("not JSON", b'{"table": "deals",', "not valid JSON"),
    ("binary", bytes(range(256)) * 4, "not UTF-8 text"),
]


@pytest.fixture
def data_page() -> AppTest:
    at = AppTest.from_file("../pages/1_Data.py", default_timeout=60)
    at.run()
    _ok(at)
    return at


def _presets(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    uploader = at.file_uploader(key="data.presets")
    for name, content in files:
        uploader.upload(name, content, "application/json")
    uploader.run()
    _ok(at)
    return at


def _saved(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption if c.value.startswith("Presets in this workspace"))


def test_a_downloaded_preset_uploads_and_is_offered(data_page):
    _presets(data_page, ("won deals.json", GOOD_PRESET.to_json().encode()))
    assert _saved(data_page) == "Presets in this workspace: won deals"
    assert Mapping.from_json(GOOD_PRESET.to_json()) == GOOD_PRESET


@pytest.mark.parametrize(("case", "content", "said"), HOSTILE_PRESETS,
                         ids=[c[0] for c in HOSTILE_PRESETS])
def test_a_hostile_preset_is_refused_with_what_is_wrong_and_the_good_one_kept(
        data_page, case, content, said):
    _presets(data_page, ("good.json", GOOD_PRESET.to_json().encode()), ("evil.json", content))
    assert any(said in m and "evil.json is not a Handoff mapping preset" in m
               for m in _messages(data_page)), _messages(data_page)
    assert _saved(data_page) == "Presets in this workspace: good"


def test_a_50_mb_preset_is_refused_from_its_size(data_page):
    _presets(data_page, ("big.json", b" " * HUGE))
    assert any(f"it is {HUGE:,} bytes" in m for m in _messages(data_page)), _messages(data_page)

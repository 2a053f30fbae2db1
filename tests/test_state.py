"""The session's slots: one key each, and none taken by a widget by accident."""

from __future__ import annotations

import ast

from handoff import state
from tests.conftest import ROOT
from tests.markdown_safety import project_sources


def _slots() -> dict[str, state.Slot]:
    return {name: v for name, v in vars(state).items() if isinstance(v, state.Slot)}


def test_every_slot_has_its_own_key_in_the_area_name_form():
    keys = [s.key for s in _slots().values()]
    assert len(keys) == len(set(keys))
    areas = {"data", "filters", "settings", "whatif", "objectives"}
    assert all(k.split(".")[0] in areas and "." in k for k in keys), keys


def test_no_widget_key_is_a_slot_unless_the_slot_is_that_widget():
    widget_keys = set()
    for text in project_sources(ROOT).values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.keyword) and node.arg == "key" \
                    and isinstance(node.value, ast.Constant):
                widget_keys.add(node.value.value)
            elif isinstance(node, ast.keyword) and node.arg == "key":  # key=state.X.key
                src = ast.unparse(node.value)
                if src.startswith("state.") and src.endswith(".key"):
                    widget_keys.add(getattr(state, src.split(".")[1]).key)
    owned = {s.key for s in state.WIDGET_SLOTS}
    clashes = {s.key for s in _slots().values()} & widget_keys - owned
    assert not clashes, clashes
    assert owned <= widget_keys  # each widget slot is a widget's key

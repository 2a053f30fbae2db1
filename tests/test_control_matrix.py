"""The control matrix: every page, every tab, every value of every choice widget, on the demo
and on an upload, with no exception and every table formatted.

Widgets are found in the page's element tree, not listed here, so a widget added tomorrow is
driven without editing this file. Each widget's values are tried one at a time from the
page's default state; a widget that appears only under another's value (the breakdown
layout, a custom period) is explored while that value holds. The risky combinations (the
funnel's unit × way to count × breakdown × five stages, each with every tab) are driven as
a product in their own test. About 1,000 script runs, two minutes on two cores.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

import pandas as pd
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from tests.conftest import into_workspace, load_files

PAGES = ["../Home.py", "../pages/1_Data.py", "../pages/2_Funnel.py",
         "../pages/3_Close_rates.py", "../pages/4_Objectives.py", "../pages/5_What_if.py"]
CHOICE_TYPES = ("radio", "selectbox", "select_slider", "toggle", "checkbox", "multiselect",
                "number_input", "date_input", "button")
MAX_DEPTH = 3  # a widget revealed by a widget revealed by a widget
# Choices the app enumerates (way to count, unit, breakdown, period kind, view, layout, …)
# have at most 8 options and are driven fully; a longer list holds values of the data
# (periods to judge, reps to compare, stages to drill into): its ends and middle are driven.
ENUMERATED = 8
NUMBER_FORMAT = re.compile(r"%|percent|dollar|euro|yen|accounting|compact")


@pytest.fixture(scope="module")
def upload_db():
    return load_files("maven_sales_pipeline_300.csv", "maven_sales_teams.csv")


def _app(script: str, db) -> AppTest:
    at = AppTest.from_file(script, default_timeout=120)
    if db is not None:
        into_workspace(db)
    return at


# --- finding and driving widgets, as the browser does --------------------------------------

def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def controls(at: AppTest) -> dict[str, object]:
    """Every keyed choice widget, keyed tab group and keyed expander (drawn only while
    open) on the page, by key."""
    found = {}
    for node in _walk(at._tree):
        kind, key = getattr(node, "type", None), getattr(node, "key", None)
        if key is None:
            continue
        if kind in (*CHOICE_TYPES, "expander") or (kind == "tab_container" and node.children):
            found[key] = node
    return found


def _labels(widget) -> list[str]:
    if widget.type == "tab_container":
        return [t.label for t in widget.children.values()]
    return list(widget.options)


def values(widget) -> list[object]:
    """The values to try: every option of a choice, both states of a switch, the ends of a
    number's range, a few selections of a multiselect, three ranges of a date range."""
    kind = widget.type
    if kind in ("radio", "selectbox", "select_slider", "tab_container"):
        labels = _labels(widget)
        if len(labels) <= ENUMERATED or kind == "select_slider":
            return labels
        return list(dict.fromkeys(labels[:3] + [labels[len(labels) // 2]] + labels[-3:]))
    if kind in ("toggle", "checkbox"):
        return [not widget.value, widget.value]
    if kind == "expander":  # opened (what it holds is explored), then closed again
        return [True, False]
    if kind == "multiselect":
        options = _labels(widget)
        most = widget.proto.max_selections or len(options)
        picks = [[], options[:1], options[-1:], options[:most]]
        return [p for i, p in enumerate(picks) if p not in picks[:i]]
    if kind == "number_input":
        p = widget.proto
        low = p.min if p.has_min else 0
        high = p.max if p.has_max else 1e9
        return [low, high, widget.value]
    if kind == "date_input":
        lo, hi = widget.proto.min, widget.proto.max
        lo, hi = dt.date.fromisoformat(lo), dt.date.fromisoformat(hi)
        quarter = max(lo, hi - dt.timedelta(days=91))
        return [(lo, lo), (quarter, hi), (lo, hi)]
    if kind == "button":
        return ["click"]
    return []


def _as_browser(widget, state: WidgetState) -> None:
    """Make the widget report this state on the next run, as the browser would send it."""
    widget.__class__ = type(f"Driven{type(widget).__name__}", (type(widget),),
                            {"_widget_state": property(lambda self: state)})


def drive(at: AppTest, key: str, value: object) -> None:
    """Set one widget (found again by key: the tree is new after every run) and run."""
    widget = controls(at).get(key)
    if widget is None:  # gone under the current state: nothing to set
        return
    kind = widget.type
    if kind in ("tab_container", "expander"):
        at.session_state[key] = value
    elif kind in ("radio", "selectbox"):
        _as_browser(widget, WidgetState(id=widget.id, string_value=value))
    elif kind == "select_slider":
        state = WidgetState(id=widget.id)
        state.string_array_value.data[:] = [value]
        _as_browser(widget, state)
    elif kind == "multiselect":
        state = WidgetState(id=widget.id)
        state.string_array_value.data[:] = list(value)
        _as_browser(widget, state)
    elif kind == "button":
        widget.click()
    else:
        widget.set_value(value)
    at.run()


def current(widget) -> object:
    kind = widget.type
    if kind == "tab_container":
        return next(iter(_labels(widget)))
    if kind == "expander":  # closed last by `values`
        return None
    if kind in ("radio", "selectbox"):
        return widget.options[widget.index] if widget.index is not None else None
    if kind == "select_slider":
        return widget.format_func(widget.value)
    if kind == "multiselect":
        return list(widget.values)
    return widget.value


# --- what every run must satisfy -----------------------------------------------------------

def formatted_tables(at: AppTest) -> list[str]:
    """What is wrong with the tables on screen: raw column names, unformatted fractions,
    'None' or 'nan' shown as text."""
    problems = []
    for table in at.dataframe:
        if table.editing_mode != "read_only":
            continue
        frame = table.value
        config = json.loads(table.proto.columns or "{}")
        for column in frame.columns:
            name = str(column)
            if re.match(r"^[a-z]", name) or re.search(r"[a-z]_[a-z]", name):
                problems.append(f"raw column name {name!r}")
            values = frame[column]
            typed = config.get(name, {}).get("type_config", {})
            if typed.get("type", "number") != "number":  # a trend line, a checkbox
                continue
            if pd.api.types.is_float_dtype(values):
                fmt = typed.get("format", "")
                if not NUMBER_FORMAT.search(str(fmt)):
                    problems.append(f"{name!r} has no number format ({fmt!r})")
                if values.isna().any():  # the grid writes 'None' in an empty number cell
                    problems.append(f"{name!r} shows None for a missing number")
            elif values.dtype == object or pd.api.types.is_string_dtype(values):
                shown = values.dropna().astype(str)
                if shown.isin(["None", "nan", "NaN", "NaT", "<NA>"]).any():
                    problems.append(f"{name!r} shows None/nan as text")
    return problems


def check(at: AppTest, where: str) -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    assert not at.error, (where, [e.value for e in at.error])
    assert not formatted_tables(at), (where, formatted_tables(at))


def explore(at: AppTest, where: str, covered: set[str], depth: int = 0) -> int:
    """Try every value of every widget on screen not yet covered, from the current state;
    a widget that appears only under one of those values is explored while it holds.
    Returns the number of runs."""
    runs = 0
    mine = [key for key in controls(at) if key not in covered]
    covered.update(mine)  # explored here, in the first (least changed) state that shows it
    for key in mine:
        widget = controls(at).get(key)
        if widget is None:
            continue
        original = current(widget)
        for value in values(widget):
            drive(at, key, value)
            runs += 1
            check(at, f"{where}: {key} = {value!r}")
            if depth < MAX_DEPTH:
                runs += explore(at, f"{where}: {key} = {value!r}", covered, depth + 1)
        if widget.type != "button" and original is not None:
            drive(at, key, original)
            runs += 1
            check(at, f"{where}: {key} back to {original!r}")
    return runs


@pytest.mark.parametrize("script", PAGES)
@pytest.mark.parametrize("data", ["demo", "upload"])
def test_every_value_of_every_widget_on_every_page(script, data, upload_db):
    at = _app(script, None if data == "demo" else upload_db)
    at.run()
    check(at, script)
    covered: set[str] = set()
    runs = explore(at, f"{script} on the {data}", covered)
    print(f"{script} on the {data}: {len(covered)} widgets, {runs} runs: {sorted(covered)}")
    assert runs >= len(covered)  # every widget found was driven
    if script.endswith(("Funnel.py", "Close_rates.py", "Objectives.py")):
        assert any(k.endswith(".tab") for k in covered), covered  # tabs were opened


FUNNEL_TABS = ["Funnel", "Compare periods", "Time to convert", "Trends", "Drill down"]
BREAKDOWN_TABS = ["Funnel", "Compare periods", "Drill down"]


def test_funnel_risky_combinations(upload_db):
    """Unit × way to count × breakdown × five stages, each on every tab (the in-period crash
    lived in one of these cells)."""
    at = _app("../pages/2_Funnel.py", None)
    at.run()
    runs = 0
    units = ["Leads", "Accounts"]
    for unit, collapse in itertools.product(units, [False, True]):
        drive(at, "funnel.unit", unit)
        drive(at, "funnel.collapse", collapse)
        views = [None] if collapse else ["Cohort", "In period"]
        breakdowns = controls(at)["funnel.lbreak"].options
        for view, breakdown in itertools.product(views, breakdowns):
            if view:
                drive(at, "funnel.view", view)
            drive(at, "funnel.lbreak", breakdown)
            # time to convert and trends do not depend on the breakdown: no breakdown only
            for tab in FUNNEL_TABS if breakdown == "No breakdown" else BREAKDOWN_TABS:
                drive(at, "funnel.tab", tab)
                runs += 1
                check(at, f"{unit}, five stages {collapse}, {view}, {breakdown}, {tab}")
            drive(at, "funnel.tab", "Funnel")
    drive(at, "funnel.collapse", False)
    drive(at, "funnel.unit", "Deals")
    for breakdown in controls(at)["funnel.dbreak"].options:
        drive(at, "funnel.dbreak", breakdown)
        for tab in FUNNEL_TABS:
            drive(at, "funnel.tab", tab)
            runs += 1
            check(at, f"deals by {breakdown}, {tab}")
        drive(at, "funnel.tab", "Funnel")
    cells = 2 * (2 + 1)  # (leads, accounts) × (cohort, in period, five stages)
    assert runs == cells * (len(FUNNEL_TABS) + 3 * len(BREAKDOWN_TABS)) + 5 * len(FUNNEL_TABS)


def test_in_period_shows_counts_without_money():
    """The cell that crashed: in period, with and without a breakdown, leads and accounts."""
    at = _app("../pages/2_Funnel.py", None)
    at.run()
    drive(at, "funnel.view", "In period")
    for unit, breakdown in itertools.product(["Leads", "Accounts"],
                                             ["No breakdown", "Source / channel"]):
        drive(at, "funnel.unit", unit)
        drive(at, "funnel.lbreak", breakdown)
        check(at, f"in period, {unit}, {breakdown}")
        table = next(d.value for d in at.dataframe if "Count" in d.value.columns)
        assert "Revenue won" not in table.columns  # stage events have no revenue of their own
        assert (table["Count"] > 0).any()

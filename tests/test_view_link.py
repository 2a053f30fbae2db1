"""Every view is a link: the sidebar filters and the What-if scenario follow into the address,
a link opened by another member shows the same numbers, and a hostile link is refused part by
part (tabs and compare mode are bound by Streamlit itself: see the browser test)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from streamlit.testing.v1 import AppTest

from handoff import scenarios_ui, whatif
from handoff.demo import DEMO_DIR
from tests.conftest import shown

FUNNEL = "../pages/2_Funnel.py"
WHATIF = "../pages/5_What_if.py"


def _run(script: str, **params: object) -> AppTest:
    at = AppTest.from_file(script, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _param(at: AppTest, key: str) -> list[str]:
    """A parameter of the address as a list (AppTest gives one value as a string)."""
    value = at.query_params[key]
    return [value] if isinstance(value, str) else list(value)


def _leads_metric(at: AppTest) -> int:
    """The funnel's first step (leads) as the page's table shows it."""
    counts = next(d.value for d in at.dataframe if "Count" in d.value.columns)
    return int(counts["Count"].iloc[0])


def _demo_leads(sources=(), start=None, end=None) -> int:
    leads = pd.read_parquet(DEMO_DIR / "leads.parquet")
    if sources:
        leads = leads[leads["source"].isin(sources)]
    if start is not None:
        day = leads["created_at"].dt.date
        leads = leads[(day >= start) & (day <= end)]
    return len(leads)


def test_a_filter_picked_in_the_sidebar_is_in_the_address_and_leaves_it_when_cleared():
    at = _run(FUNNEL)
    assert "source" not in at.query_params and "range" not in at.query_params
    at.multiselect(key="filters.source.widget").select("Social").select("Referral")
    _rerun(at)
    assert _param(at, "source") == ["Social", "Referral"]
    assert _leads_metric(at) == _demo_leads(("Social", "Referral"))
    at.multiselect(key="filters.source.widget").set_value([])
    _rerun(at)
    assert "source" not in at.query_params
    assert _leads_metric(at) == _demo_leads()


def test_a_copied_link_shows_another_member_the_same_filters_and_numbers():
    first = _run(FUNNEL)
    first.multiselect(key="filters.source.widget").select("Paid search")
    start, end = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
    first.date_input(key="filters.range.widget").set_value((start, end))
    _rerun(first)
    link = {k: _param(first, k) for k in ("source", "range")}
    assert link == {"source": ["Paid search"], "range": ["2025-01-01..2025-06-30"]}
    second = _run(FUNNEL, **link)  # a fresh session: another member opening the link
    assert second.multiselect(key="filters.source.widget").value == ["Paid search"]
    assert second.date_input(key="filters.range.widget").value == (start, end)
    expected = _demo_leads(("Paid search",), start, end)
    assert 0 < expected < _demo_leads()
    assert _leads_metric(second) == _leads_metric(first) == expected


def test_a_hostile_link_keeps_what_is_known_and_says_what_was_left_out():
    at = _run(FUNNEL, source=["Social", "<img src=x onerror=alert(1)>", "Nope"],
              range="yesterday..soon", owner="Nobody", segment="SMB")
    assert at.multiselect(key="filters.source.widget").value == ["Social"]
    assert at.multiselect(key="filters.segment.widget").value == ["SMB"]
    assert at.multiselect(key="filters.owner.widget").value == []
    warning = " ".join(shown(w.value) for w in at.warning)
    for named in ("source 'Nope'", "source '<img src=x onerror=alert(1)>'", "owner 'Nobody'",
                  "the date range 'yesterday..soon'"):
        assert named in warning
    assert "<img" not in " ".join(w.value for w in at.warning).replace("\\<img", "")
    assert _param(at, "source") == ["Social"]  # the address now says what is shown
    assert "owner" not in at.query_params and "range" not in at.query_params


def test_a_range_beyond_the_data_is_clamped_to_it():
    at = _run(FUNNEL, range="1990-01-01..2025-03-31")
    start, end = at.date_input(key="filters.range.widget").value
    assert end == dt.date(2025, 3, 31)
    first_day = pd.read_parquet(DEMO_DIR / "leads.parquet")["created_at"].min()
    assert start >= first_day.date() > dt.date(1990, 1, 1)


def test_the_address_of_a_run_ago_does_not_undo_a_newer_pick():
    """While a user moves a filter the browser may send back an address this session wrote
    one or two runs before: it must not be applied over the newer pick."""
    at = _run(FUNNEL, source="Social")
    at.multiselect(key="filters.source.widget").set_value(["Email"])
    _rerun(at)
    assert _param(at, "source") == ["Email"]
    at.query_params["source"] = ["Social"]  # the stale address comes back
    _rerun(at)
    assert at.multiselect(key="filters.source.widget").value == ["Email"]
    assert _leads_metric(at) == _demo_leads(("Email",))


def test_the_what_if_scenario_follows_into_the_address_and_reopens_there():
    at = _run(WHATIF)
    assert "scenario" not in at.query_params  # the default split
    at.select_slider(key="whatif.share").set_value(0.5)
    _rerun(at)
    (text,) = _param(at, "scenario")
    current, compared = scenarios_ui.decode(text)
    assert current.shares["sale"] == current.shares["margin"] == 0.5 and compared == []
    other = _run(WHATIF, scenario=text)
    assert other.select_slider(key="whatif.share").value == 0.5
    at.select_slider(key="whatif.share").set_value(whatif.BASELINE_SHARES["sale"])
    _rerun(at)
    assert "scenario" not in at.query_params


def test_a_stale_scenario_address_does_not_move_the_slider_back():
    at = _run(WHATIF)
    at.select_slider(key="whatif.share").set_value(0.5)
    _rerun(at)
    stale = at.query_params["scenario"]
    at.select_slider(key="whatif.share").set_value(0.6)
    _rerun(at)
    at.query_params["scenario"] = stale
    _rerun(at)
    assert at.select_slider(key="whatif.share").value == 0.6

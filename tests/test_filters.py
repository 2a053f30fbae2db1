"""The shared filters: comparison periods and the bounds of a date range."""

from __future__ import annotations

import datetime as dt

from handoff.filters import Filters


def test_year_earlier_is_the_calendar_year_and_clamps():
    q1 = Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    earlier = q1.year_earlier()
    assert (earlier.start, earlier.end) == (dt.date(2023, 1, 1), dt.date(2023, 3, 31))
    leap = Filters(dt.date(2024, 2, 29), dt.date(2024, 2, 29)).year_earlier()
    assert leap.start == dt.date(2023, 2, 28)
    far = Filters(dt.date(1900, 1, 1), dt.date(9999, 12, 31))
    assert far.params()["end"] == dt.datetime(2100, 1, 1)
    assert far.previous().start == dt.date(1900, 1, 1)

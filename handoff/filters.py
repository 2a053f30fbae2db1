"""The filters every page shares: a date range and source, segment and owner selections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from handoff.db import Database, query


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date  # inclusive, as the user picks it
    sources: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    all_time: bool = False  # the range covers all the data: undated records count too

    def __post_init__(self) -> None:  # placeholder dates (9999-12-31) must not overflow
        object.__setattr__(self, "start", _clamp(self.start))
        object.__setattr__(self, "end", _clamp(self.end))

    def params(self) -> dict[str, object]:
        """Bound query parameters: a half-open timestamp range and the selections as lists."""
        return {
            "start": dt.datetime.combine(_clamp(self.start), dt.time()),
            "end": dt.datetime.combine(_clamp(self.end) + dt.timedelta(days=1), dt.time()),
            "sources": list(self.sources),
            "segments": list(self.segments),
            "owners": list(self.owners),
        }

    def shifted(self, days: int) -> Filters:
        """The same filters over a range moved by `days` (negative: earlier)."""
        delta = dt.timedelta(days=days)
        return Filters(_clamp(self.start + delta), _clamp(self.end + delta), self.sources,
                       self.segments, self.owners, False)

    def previous(self) -> Filters:
        """The period of the same length just before this one."""
        return self.shifted(-((self.end - self.start).days + 1))

    def year_earlier(self) -> Filters:
        """The same calendar dates a year before (29 February becomes the 28th)."""
        def back(d: dt.date) -> dt.date:
            return _clamp(d.replace(year=d.year - 1, day=min(d.day, 28))
                          if d.month == 2 and d.day == 29 else d.replace(year=d.year - 1))
        return Filters(back(self.start), back(self.end), self.sources, self.segments,
                       self.owners, False)


EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2099, 12, 31)


def _clamp(d: dt.date) -> dt.date:
    """Dates a range may hold: the same bounds the parser accepts."""
    return min(max(d, EARLIEST), LATEST)


def filter_options(db: Database) -> dict[str, list[str]]:
    """Values the shared filters offer, most frequent first: a fact of the whole data, kept
    per content (at ten million leads the query takes 0.5 s)."""
    def grouped() -> dict[str, list[str]]:
        rows = query(db, "filter_options")
        return {field: group["value"].tolist() for field, group in rows.groupby("field")}

    return db.fact("filter_options", grouped)

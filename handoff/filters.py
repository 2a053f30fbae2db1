"""The filters every page shares: a date range and source, segment and owner selections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date  # inclusive, as the user picks it
    sources: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    all_time: bool = False  # the range covers all the data: undated records count too

    def params(self) -> dict[str, object]:
        """Bound query parameters: a half-open timestamp range and the selections as lists."""
        return {
            "start": dt.datetime.combine(self.start, dt.time()),
            "end": dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()),
            "sources": list(self.sources),
            "segments": list(self.segments),
            "owners": list(self.owners),
        }

    def shifted(self, days: int) -> Filters:
        """The same filters over a range moved by `days` (negative: earlier)."""
        delta = dt.timedelta(days=days)
        return Filters(self.start + delta, self.end + delta, self.sources, self.segments,
                       self.owners, False)

    def previous(self) -> Filters:
        """The period of the same length just before this one."""
        return self.shifted(-((self.end - self.start).days + 1))

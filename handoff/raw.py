"""The raw table a file is read into, and the errors worded for the person who uploaded it.

Shared by every reader (`delimited`, `excel`, `parquet`) and by `ingest`, which picks one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from handoff import column_sql

MAX_UPLOAD_MB = 200  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_XLSX_UNCOMPRESSED_MB = 1000
MAX_COLUMNS = 2000
MAX_FIELD_CHARS = 100_000
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
ACCEPTED_EXTENSIONS = ("csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods", "parquet")


class UploadError(Exception):
    """A problem with an uploaded file, worded for the person who uploaded it."""


@dataclass
class RejectedRow:
    line: int  # 1-based line (CSV) or row (sheet) number in the file
    reason: str
    text: str


@dataclass
class RawTable:
    """The cells of one file (or one sheet), before any mapping."""

    file_name: str
    frame: pd.DataFrame
    file_kind: str  # csv | excel | parquet
    digest: str
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: list[int] | None = None  # file line (or sheet row) of each frame row
    _distinct: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def distinct_count(self, column: str) -> int:
        """Distinct non-missing values of one column, counted once per column: proposing a
        mapping asks it of every id candidate and validating asks again of the id chosen,
        and at ten million ids one count costs most of a second."""
        if column not in self._distinct:
            self._distinct[column] = column_sql.distinct_count(self.frame[column])
        return self._distinct[column]

    def holds_unique(self, column: str) -> bool:
        """No value of the column repeats (missing cells aside)."""
        values = self.frame[column]
        return self.distinct_count(column) == len(values) - int(values.isna().sum())

    def line_of(self, index: int) -> int:
        return self.lines[index] if self.lines is not None else index + 2

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.rejected)


ProgressFn = Callable[[float], None]


def named_frame(name: str, header: list, rows: list[list], warnings: list[str]
           ) -> tuple[list[str], pd.DataFrame]:
    """A DataFrame with clean, unique column names; empty unnamed columns are dropped."""
    names = [re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", "" if h is None else str(h)).strip()
             for h in header]
    frame = (rows.set_axis(range(len(names)), axis=1) if isinstance(rows, pd.DataFrame)
             else pd.DataFrame(rows, columns=range(len(names)), dtype=object))
    keep: list[int] = []
    unnamed = 0
    for i, h in enumerate(names):
        if h:
            keep.append(i)
            continue
        values = frame[i] if len(frame) else pd.Series([], dtype=object)
        if values.map(lambda v: v is not None and str(v).strip() != "").any():
            names[i] = f"column {i + 1}"
            unnamed += 1
            keep.append(i)
    if unnamed:
        warnings.append(f"{unnamed} column(s) have no header name; they are called "
                        "'column N' by their position.")
    seen: dict[str, int] = {}
    dupes: list[str] = []
    final: list[str] = []
    for i in keep:
        h = names[i]
        key = h.lower()
        if key in seen:
            seen[key] += 1
            dupes.append(h)
            h = f"{h} ({seen[key]})"
        else:
            seen[key] = 1
        final.append(h)
    if dupes:
        warnings.append(f"Duplicated column headers: {', '.join(sorted(set(dupes)))}. The "
                        "second and later copies are renamed with (2), (3)…; check which one "
                        "you map.")
    frame = frame[keep]
    frame.columns = final
    return final, frame.reset_index(drop=True)


"""What happened to one source column on its way into a canonical field, and what counts as
missing: shared by the parsers in `parsing` and `dates`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Spellings of "no value" seen in real exports (compared case-insensitively, trimmed).
MISSING_SPELLINGS: frozenset[str] = frozenset(
    {"", "na", "n/a", "n.a.", "nan", "null", "none", "nil", "-", "--", "—", "?", "unknown",
     "select", "--select--", "#n/a", "(blank)", "(none)", "-none-", "not set", "(not set)",
     "undefined"}
)


@dataclass
class ColumnReport:
    """What happened to one source column on its way into a canonical field."""

    column: str
    field: str
    kind: str
    values: int = 0  # non-missing values read
    missing: int = 0
    missing_spellings: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    failed_examples: list[str] = field(default_factory=list)
    date_formats: list[str] = field(default_factory=list)
    ambiguous_dates: int = 0  # values that read differently day-first vs month-first
    date_order: str | None = None
    ambiguous_examples: list[str] = field(default_factory=list)
    currency_parsed: int = 0
    decimal_comma: bool = False
    placeholder_dates: int = 0  # dates before 1900 or from 2100 on, such as 9999-12-31
    future_dates: int = 0  # dates after the day the file was read
    latest_date: str | None = None  # the latest of them, as it reads (2034-09-30)
    mixed_date_orders: int = 0  # values only readable day-first in a month-first column
    currency: str | None = None  # ISO code of the most common currency symbol or code
    multiplied: int = 0  # amounts written with a multiplier (K, M, bn)
    negatives: int = 0  # values below zero (a minus or accounting parentheses)
    folded: dict[str, str] = field(default_factory=dict)  # spelling -> the one kept
    folded_cells: int = 0
    kept_unknown: dict[str, int] = field(default_factory=dict)  # "unknown" kept as a value


def missing_mask(series: pd.Series, text: pd.Series | None = None
                 ) -> tuple[pd.Series, dict[str, int]]:
    """Which cells are missing, and how often each spelling of "missing" occurred. `text`
    is the column already trimmed, when the caller has it."""
    if series.dtype.kind in "biufcmM":
        return series.isna(), {}
    if few_values(series):
        return missing_by_value(series)
    return missing_by_row(series, text)


def few_values(series: pd.Series) -> bool:
    """A long column of a few values repeated (stages, owners, days): worth reading once
    per distinct value. Judged on its first 10,000 cells; a wrong guess costs time only.
    A column of Python objects (a spreadsheet's) is read cell by cell: factorizing it counts
    1, 1.0 and True as one value, where their text differs."""
    return (len(series) >= 50_000 and series.dtype != object
            and series.iloc[:10_000].nunique() <= 1_000)


def missing_by_row(series: pd.Series, text: pd.Series | None = None
                   ) -> tuple[pd.Series, dict[str, int]]:
    """`missing_mask` cell by cell: for columns of mostly distinct values (ids, dates).
    `text` is the column already trimmed, when the caller has it."""
    if text is None:
        text = series.astype("string").str.strip()
    lowered = text.str.lower()
    mask = series.isna() | lowered.isin(MISSING_SPELLINGS).fillna(False)
    spelled = text[mask & series.notna()]
    counts = Counter("(blank)" if s == "" else s for s in spelled.dropna().tolist())
    return mask.astype(bool), dict(counts.most_common(8))


def missing_by_value(series: pd.Series,
                     factorized: tuple[np.ndarray, object] | None = None
                     ) -> tuple[pd.Series, dict[str, int]]:
    """`missing_mask` decided once per distinct value and mapped back: the same answer, in a
    fifth of the time on a column of ten million cells holding a few dozen values."""
    # uniques in order of first appearance; NA: -1 (a caller that factorized passes it on)
    codes, uniques = factorized if factorized is not None else pd.factorize(series)
    text = pd.Series(uniques, dtype=object).astype("string").str.strip()
    missing = text.str.lower().isin(MISSING_SPELLINGS).fillna(False).to_numpy(dtype=bool)
    mask = np.append(missing, True)[codes]  # code -1 (NA) takes the appended True
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    spelled: dict[str, int] = {}  # first appearance order, as a Counter over the rows keeps
    for i in np.flatnonzero(missing).tolist():
        key = "(blank)" if text.iat[i] == "" else str(text.iat[i])
        spelled[key] = spelled.get(key, 0) + int(rows[i])
    return (pd.Series(mask, index=series.index, dtype=bool),
            dict(Counter(spelled).most_common(8)))


def counts_by_code(codes: np.ndarray, values: pd.Series) -> pd.Series:
    """`values.take(codes).value_counts()` (missing left out, ties in the order values first
    appear) without building the long column: each distinct value's rows are counted by
    code (`codes` and `values` as `pd.factorize` gives them, `values` read per value)."""
    rows = np.bincount(codes[codes >= 0], minlength=len(values))
    counts = pd.Series(rows).groupby(values.to_numpy(), sort=False, dropna=True).sum()
    return counts.sort_values(ascending=False, kind="stable")


def count_into(report: ColumnReport, mask: pd.Series, spellings: dict[str, int],
           failed: pd.Series, raw: pd.Series) -> None:
    report.missing = int(mask.sum())
    report.missing_spellings = spellings
    report.failed = int(failed.sum())
    report.values = int(len(raw) - report.missing - report.failed)
    report.failed_examples = [str(v)[:60] for v in raw[failed].astype(str).unique()[:3]]

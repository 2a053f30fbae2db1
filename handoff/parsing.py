"""Turning the text cells of real exports into typed values, and saying what was done.

Every parser returns the values and a `ColumnReport`: a user must be able to see which
spellings were treated as missing, which cells could not be read (with examples), which date
reading was chosen when a date like 02/03/24 is ambiguous, and how many currency strings
were parsed. Nothing is guessed silently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Spellings of "no value" seen in real exports (compared case-insensitively, trimmed).
MISSING_SPELLINGS: frozenset[str] = frozenset(
    {"", "na", "n/a", "n.a.", "nan", "null", "none", "nil", "-", "--", "—", "?", "unknown",
     "select", "--select--", "#n/a", "(blank)", "(none)", "not set", "(not set)", "undefined"}
)

DATE_ORDERS = ("mdy", "dmy")
DATE_ORDER_LABELS = {"mdy": "month first (US: 02/03/24 = 3 Feb 2024)",
                     "dmy": "day first (02/03/24 = 2 Mar 2024)"}

_TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
# Formats that read the same whatever the day/month order.
_UNAMBIGUOUS_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S.%f", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S",
    "%Y.%m.%d", "%Y%m%d",
    "%d %b, %Y %H:%M:%S", "%d %b, %Y", "%d %b %Y", "%d %b %Y %H:%M", "%d %B %Y", "%d-%b-%Y",
    "%d-%b-%y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%a, %d %b %Y %H:%M:%S",
    "%b %d, %Y %I:%M %p", "%B %d, %Y %I:%M %p", "%Y-%m-%d %H:%M:%S UTC",
    "%Y-%m", "%Y/%m", "%b %Y", "%B %Y", "%b-%Y", "%b-%y", "%m/%Y", "%m-%Y",
)
_ORDERED_DATES = {
    "mdy": ("%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m.%d.%Y"),
    "dmy": ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d.%m.%y"),
}
_FORMAT_LABELS = {"%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%H": "hh", "%I": "hh",
                  "%M": "mm", "%S": "ss", "%p": "AM/PM", "%b": "Mon", "%B": "Month", "%f": "fff",
                  "%z": "+zone", "%a": "Day"}

_CODES = "USD|EUR|GBP|CAD|AUD|CHF|JPY|SEK|NOK|DKK|INR"
_CURRENCY = re.compile(rf"[$€£¥₹]|^(?:{_CODES})\s*|\s*(?:{_CODES})$")
_EUROPEAN_NUMBER = re.compile(r"^-?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$|^-?\d+,\d{1,2}$")
_LARGEST_EXACT = 2.0 ** 53  # beyond this a float no longer holds every integer
EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-01-01")


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
    mixed_date_orders: int = 0  # values only readable day-first in a month-first column


def missing_mask(series: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    """Which cells are missing, and how often each spelling of "missing" occurred."""
    if series.dtype.kind in "biufcmM":
        return series.isna(), {}
    text = series.astype("string").str.strip()
    lowered = text.str.lower()
    mask = series.isna() | lowered.isin(MISSING_SPELLINGS).fillna(False)
    spelled = text[mask & series.notna()]
    counts = Counter("(blank)" if s == "" else s for s in spelled.dropna().tolist())
    return mask.astype(bool), dict(counts.most_common(8))


def parse_text(series: pd.Series, report: ColumnReport) -> pd.Series:
    mask, spellings = missing_mask(series)
    out = series.astype("string").str.strip().where(~mask, None)
    _count(report, mask, spellings, failed=pd.Series(False, index=series.index), raw=series)
    return out


def parse_numbers(series: pd.Series, report: ColumnReport) -> pd.Series:
    """Numbers as exports write them: `$22,700.00`, `(1,200)`, `1.234,56`, `12 500 €`."""
    mask, spellings = missing_mask(series)
    if series.dtype.kind in "biuf":
        out = series.astype("float64")
        failed = ~mask & ~(out.abs() < _LARGEST_EXACT)
        _count(report, mask, spellings, failed=failed, raw=series)
        return out.where(~failed)
    text = series.astype("string").str.strip().where(~mask, None)
    sample = (text.dropna().head(2000).str.replace(_CURRENCY, "", regex=True).str.strip()
              .str.strip("()").str.replace(r"[\s\u00a0\u202f']", "", regex=True))
    european = bool(len(sample)) and sample.str.match(_EUROPEAN_NUMBER).mean() > 0.5
    if not european:  # plain numbers, the common case: no symbols or separators to strip
        direct = pd.to_numeric(text, errors="coerce").astype("float64")
        if int(direct.notna().sum()) == int((~mask).sum()):
            failed = ~mask & ~(direct.abs() < _LARGEST_EXACT)
            _count(report, mask, spellings, failed=failed, raw=series)
            return direct.where(~failed)
    has_currency = text.str.contains(_CURRENCY, regex=True).fillna(False)
    cleaned = text.str.replace(_CURRENCY, "", regex=True).str.strip()
    negative = cleaned.str.match(r"^\(.*\)$").fillna(False)
    cleaned = cleaned.str.strip("()").str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    cleaned = cleaned.str.replace("\u2212", "-", regex=False)  # the typographic minus
    if european:  # only a dot before exactly three digits separates thousands (99.50 stays)
        cleaned = (cleaned.str.replace(r"\.(?=\d{3}(?:\D|$))", "", regex=True)
                   .str.replace(",", ".", regex=False))
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    # A percentage is not an amount (a "45%" margin column is a ratio): reported, not read.
    out = pd.to_numeric(cleaned.where(~cleaned.str.endswith("%").fillna(False)),
                        errors="coerce").astype("float64")
    out = out.where(~negative, -out)
    out = out.where(out.abs() < _LARGEST_EXACT)  # inf, 1e400, 1e20: not an amount
    failed = out.isna() & ~mask
    report.currency_parsed = int((has_currency & ~failed).sum())
    report.decimal_comma = european
    _count(report, mask, spellings, failed=failed, raw=series)
    return out.where(~failed, np.nan)


def parse_integers(series: pd.Series, report: ColumnReport) -> pd.Series:
    numbers = parse_numbers(series, report)
    return numbers.round().astype("Int64")


_TRUE = {"true", "t", "yes", "y", "1", "1.0", "won", "x", "✓"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "lost"}


def parse_booleans(series: pd.Series, report: ColumnReport) -> pd.Series:
    """Booleans as `TRUE`/`FALSE`, `yes`/`no`, or Salesforce's `1`/blank."""
    mask, spellings = missing_mask(series)
    if series.dtype.kind == "b":
        _count(report, mask, spellings, failed=pd.Series(False, index=series.index), raw=series)
        return series.astype("boolean")
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False)] = True
    out[text.isin(_FALSE).fillna(False)] = False
    failed = out.isna() & ~mask
    _count(report, mask, spellings, failed=failed, raw=series)
    return out


def parse_timestamps(series: pd.Series, report: ColumnReport, order: str | None = None,
                     excel_serials: bool = False) -> pd.Series:
    """Dates in whatever formats a column holds, trying the best-fitting format first.

    `order` chooses the reading of day/month-ambiguous values (`mdy` or `dmy`); when not
    given, the order that reads more values wins, and month-first on a tie (US CRMs).
    """
    mask, spellings = missing_mask(series)
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    if series.dtype.kind == "M":
        result = _naive(pd.to_datetime(series, errors="coerce"))
        _count(report, mask, spellings, failed=pd.Series(False, index=series.index), raw=series)
        report.date_formats = ["typed dates"]
        return result
    values = series.where(~mask, None)
    all_text = pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    no = pd.Series(False, index=series.index)
    typed = no if all_text else values.map(
        lambda v: isinstance(v, (dt.date, dt.datetime, pd.Timestamp)))
    if typed.any():
        result[typed] = _naive(pd.to_datetime(values[typed].astype(object), errors="coerce"))
    numeric = no if all_text else values.map(
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    if numeric.any() and excel_serials:
        serials = pd.to_numeric(values[numeric], errors="coerce")
        ok = serials.between(1, 2958465)
        epoch = pd.Timestamp("1899-12-30")  # Excel's day zero (with its 1900 leap-year bug)
        days = pd.to_timedelta(serials[ok], unit="D")
        result[serials[ok].index] = (epoch + days).astype("datetime64[us]")
    text = values.where(~typed & ~(numeric & excel_serials), None).astype("string").str.strip()
    todo = text.notna() & result.isna()
    if todo.any():
        uniques = pd.Series(text[todo].unique())
        parsed, formats, ambiguous, chosen, mixed = _parse_unique_dates(uniques, order)
        lookup = dict(zip(uniques.tolist(), parsed.tolist(), strict=True))
        mapped = pd.to_datetime(text[todo].map(lookup), errors="coerce")
        result[todo] = mapped.astype("datetime64[us]")
        report.date_formats = formats
        report.date_order = chosen
        amb_set = set(ambiguous)
        report.ambiguous_dates = int(text[todo].isin(amb_set).sum())
        report.ambiguous_examples = ambiguous[:3]
        report.mixed_date_orders = mixed
    placeholder = result.notna() & ((result < EARLIEST) | (result >= LATEST))
    report.placeholder_dates = int(placeholder.sum())
    result = result.where(~placeholder)
    failed = result.isna() & ~mask
    _count(report, mask, spellings, failed=failed, raw=series)
    return result


def _parse_unique_dates(uniques: pd.Series, order: str | None
                        ) -> tuple[pd.Series, list[str], list[str], str | None, int]:
    """Choose formats on a sample of distinct values, then apply only those to all of them."""
    sample = uniques.sample(min(len(uniques), 3000), random_state=0) if len(uniques) > 3000 \
        else uniques
    plan = _date_plan(sample, order)
    parsed, ambiguous = _apply_plan(uniques, plan)
    leftovers = parsed.isna()
    if 0 < leftovers.sum() <= 5000:  # stragglers in other formats (mixed columns)
        extra = _date_plan(uniques[leftovers], plan["order"])
        more, more_amb = _apply_plan(uniques[leftovers], extra)
        parsed[leftovers] = more
        ambiguous += more_amb
        plan["labels"] += [x for x in extra["labels"] if x not in plan["labels"]]
    return (parsed, plan["labels"], ambiguous, plan["order"] if plan["slashed"] else None,
            plan.get("mixed", 0))


def _date_plan(sample: pd.Series, order: str | None) -> dict:
    """The formats that read a sample, best first, and the day/month order to use."""
    unamb = _cover(sample, list(_UNAMBIGUOUS_FORMATS))
    rest = sample[unamb[0].isna()]
    ordered = {o: _cover(rest, [f + t for f in _ORDERED_DATES[o] for t in _TIME_SUFFIXES])
               for o in DATE_ORDERS}
    if order is None:
        only = {o: (ordered[o][0].notna() & ordered[other][0].isna()).sum()
                for o, other in (("mdy", "dmy"), ("dmy", "mdy"))}
        order = "dmy" if only["dmy"] > only["mdy"] else "mdy"
    other = "dmy" if order == "mdy" else "mdy"
    slashed = bool(ordered[order][1] or ordered[other][1])
    labels = [format_label(f) for f in unamb[1]]
    if slashed:
        labels.append("slashed dates read " + DATE_ORDER_LABELS[order].split(" (")[0])
    return {"unambiguous": unamb[1], "order": order, "slashed": slashed,
            "first": ordered[order][1], "second": ordered[other][1], "labels": labels}


def _apply_plan(values: pd.Series, plan: dict) -> tuple[pd.Series, list[str]]:
    parsed = _apply_formats(values, plan["unambiguous"])
    rest = parsed.isna()
    if rest.any() and plan["slashed"]:
        pick = _apply_formats(values[rest], plan["first"])
        other = _apply_formats(values[rest], plan["second"])
        parsed[rest] = pick.fillna(other)
        amb = pick.notna() & other.notna() & (pick != other)
        plan["mixed"] = plan.get("mixed", 0) + int((pick.isna() & other.notna()).sum())
        return parsed, values[rest][amb].tolist()
    return parsed, []


def _apply_formats(values: pd.Series, formats: list[str]) -> pd.Series:
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = parsed.isna()
        if not todo.any():
            break
        parsed[todo] = _to_datetime(values[todo], fmt)
    return parsed


def _cover(values: pd.Series, formats: list[str]) -> tuple[pd.Series, list[str]]:
    """Parse with the format that reads most values, then the next on what is left."""
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    used: list[str] = []
    remaining = list(formats)
    while remaining:
        todo = parsed.isna()
        if not todo.any():
            break
        best, best_vals, best_n = None, None, 0
        for fmt in remaining:
            got = _to_datetime(values[todo], fmt)
            n = int(got.notna().sum())
            if n > best_n:
                best, best_vals, best_n = fmt, got, n
        if best is None:
            break
        parsed[best_vals.index] = parsed[best_vals.index].fillna(best_vals)
        remaining.remove(best)
        used.append(best)
    return parsed, used


def _to_datetime(values: pd.Series, fmt: str) -> pd.Series:
    got = pd.to_datetime(values, format=fmt, errors="coerce", utc="%z" in fmt)
    if "%z" in fmt:
        got = got.dt.tz_convert(None)
    return got.astype("datetime64[us]")


def _naive(values: pd.Series) -> pd.Series:
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert(None)
    return values.astype("datetime64[us]")


def format_label(fmt: str) -> str:
    for code, label in _FORMAT_LABELS.items():
        fmt = fmt.replace(code, label)
    return fmt


def _count(report: ColumnReport, mask: pd.Series, spellings: dict[str, int],
           failed: pd.Series, raw: pd.Series) -> None:
    report.missing = int(mask.sum())
    report.missing_spellings = spellings
    report.failed = int(failed.sum())
    report.values = int(len(raw) - report.missing - report.failed)
    report.failed_examples = [str(v)[:60] for v in raw[failed].astype(str).unique()[:3]]

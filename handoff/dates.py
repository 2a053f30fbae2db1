"""Dates in whatever formats an export writes them, with the formats used, the day/month
reading chosen for ambiguous values (and how many were), and placeholder dates reported."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from handoff.column_report import (
    ColumnReport,
    count_into,
    few_values,
    missing_by_value,
    missing_mask,
)

DATE_ORDERS = ("mdy", "dmy")
DATE_ORDER_LABELS = {"mdy": "month first (US: 02/03/24 = 3 Feb 2024)",
                     "dmy": "day first (02/03/24 = 2 Mar 2024)"}

# Dates are read with pandas' strptime formats. Which formats a column is tried against
# depends on what its values hold (separators, a clock, T, a zone, AM/PM, month names), so a
# column is never tried against formats it cannot contain.
_SEPARATORS = ("-", "/", ".")
_CLOCKS = ("%H:%M", "%H:%M:%S", "%H:%M:%S.%f")
_TWELVE_HOUR = (" %I:%M %p", " %I:%M:%S %p", " %I:%M%p", " %I:%M:%S%p")
_NAMED_MONTHS: tuple[str, ...] = (
    "%d %b, %Y %H:%M:%S", "%d %b, %Y", "%d %b %Y", "%d %b %Y %H:%M", "%d %b %Y %H:%M:%S",
    "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d-%b-%Y %H:%M", "%d-%b-%Y %H:%M:%S", "%b %d, %Y",
    "%B %d, %Y", "%b %d %Y", "%a, %d %b %Y %H:%M:%S", "%b %d, %Y %I:%M %p",
    "%B %d, %Y %I:%M %p", "%b %Y", "%B %Y", "%b-%Y", "%b-%y",
)
_MONTH_YEAR = {"-": ("%Y-%m", "%m-%Y"), "/": ("%Y/%m", "%m/%Y"), ".": ("%Y.%m", "%m.%Y")}
_DATE_SEPARATOR = re.compile(r"^\s*\d{1,4}([./-])\d{1,2}")
_CLOCK_T = re.compile(r"\dT\d")
_ZONE = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")
_AM_PM = re.compile(r"[0-9 ][AaPp]\.?[Mm]\.?$")
_MONTH_NAME = re.compile(r"[A-Za-z]{3}")
_FORMAT_LABELS = {"%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%H": "hh", "%I": "hh",
                  "%M": "mm", "%S": "ss", "%p": "AM/PM", "%b": "Mon", "%B": "Month", "%f": "fff",
                  "%z": "+zone", "%a": "Day"}

EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-01-01")


def parse_timestamps(series: pd.Series, report: ColumnReport, order: str | None = None,
                     excel_serials: bool = False) -> pd.Series:
    """Dates in whatever formats a column holds, trying the best-fitting format first.

    `order` chooses the reading of day/month-ambiguous values (`mdy` or `dmy`); when not
    given, the order that reads more values wins, and month-first on a tie (US CRMs).
    """
    if isinstance(series.array, pd.arrays.ArrowStringArray) and few_values(series):
        result = timestamps_by_value(series, report, order)
    else:
        result = timestamps_by_row(series, report, order, excel_serials)[0]
    _count_future(result, report)
    return result


def _count_future(result: pd.Series, report: ColumnReport) -> None:
    """Dates after today: an open deal's expected close date is one; in any other column
    they often mean a day/month swap or a test record, so the report says how many."""
    future = result >= pd.Timestamp(dt.date.today()) + pd.Timedelta(days=1)
    report.future_dates = int(future.sum())
    if report.future_dates:
        report.latest_date = f"{result.max():%Y-%m-%d}"


def timestamps_by_value(series: pd.Series, report: ColumnReport,
                        order: str | None = None) -> pd.Series:
    """`parse_timestamps` read once per distinct text (a date column repeats a few hundred
    days over millions of rows) and mapped back; the report counts rows, as cell by cell."""
    codes, uniques = pd.factorize(series)  # in order of first appearance, as rows give them
    distinct = pd.Series(uniques, dtype=series.dtype)
    parsed, placeholder, ambiguous = timestamps_by_row(distinct, report, order)
    values = np.append(parsed.to_numpy(dtype="datetime64[us]"), np.datetime64("NaT", "us"))
    result = pd.Series(values[codes], index=series.index)  # code -1 (missing): the NaT, last
    rows = np.bincount(codes[codes >= 0], minlength=len(distinct))
    mask, spellings = missing_by_value(series, (codes, uniques))
    count_into(report, mask, spellings, failed=result.isna() & ~mask, raw=series)
    report.placeholder_dates = int(rows[placeholder.to_numpy(dtype=bool)].sum())
    report.ambiguous_dates = int(rows[ambiguous.to_numpy(dtype=bool)].sum())
    return result


def timestamps_by_row(series: pd.Series, report: ColumnReport, order: str | None = None,
                      excel_serials: bool = False) -> tuple[pd.Series, pd.Series, pd.Series]:
    """`parse_timestamps` cell by cell, with which cells were placeholder dates and which
    were read one way of day/month ambiguity."""
    mask, spellings = missing_mask(series)
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    no = pd.Series(False, index=series.index)
    if series.dtype.kind == "M":
        result = _naive(pd.to_datetime(series, errors="coerce"))
        count_into(report, mask, spellings, failed=no, raw=series)
        report.date_formats = ["typed dates"]
        return result, no, no
    values = series.where(~mask, None)
    all_text = pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
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
    ambiguous_cells = no
    if todo.any():
        codes, distinct = pd.factorize(text[todo])
        uniques = pd.Series(distinct, dtype="string")
        parsed, formats, ambiguous, chosen, mixed = _parse_unique_dates(uniques, order)
        result[todo] = parsed.astype("datetime64[us]").to_numpy()[codes]
        report.date_formats = formats
        report.date_order = chosen
        ambiguous_cells = text.isin(set(ambiguous)).fillna(False) & todo
        report.ambiguous_dates = int(ambiguous_cells.sum())
        report.ambiguous_examples = ambiguous[:3]
        report.mixed_date_orders = mixed
    placeholder = result.notna() & ((result < EARLIEST) | (result >= LATEST))
    report.placeholder_dates = int(placeholder.sum())
    result = result.where(~placeholder)
    failed = result.isna() & ~mask
    count_into(report, mask, spellings, failed=failed, raw=series)
    return result, placeholder, ambiguous_cells


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
    unambiguous, ordered_formats = _candidate_formats(sample)
    unamb = _cover(sample, unambiguous)
    rest = sample[unamb[0].isna()]
    ordered = {o: _cover(rest, ordered_formats[o]) for o in DATE_ORDERS}
    if order is None:
        only = {o: (ordered[o][0].notna() & ordered[other][0].isna()).sum()
                for o, other in (("mdy", "dmy"), ("dmy", "mdy"))}
        order = "dmy" if only["dmy"] > only["mdy"] else "mdy"
    other = "dmy" if order == "mdy" else "mdy"
    slashed = bool(ordered[order][1] or ordered[other][1])
    labels = [format_label(f) for f in unamb[1]]
    if slashed:
        word = DATE_ORDER_LABELS[order].split(" (")[0]
        labels += [f"{format_label(f)} ({word})" for f in ordered[order][1]]
        # what only the other reading can read, under the chosen order's name
        labels += [f"{format_label(_swap_order(f))} ({word})" for f in ordered[other][1]
                   if _swap_order(f) not in ordered[order][1]]
    return {"unambiguous": unamb[1], "order": order, "slashed": slashed,
            "first": ordered[order][1], "second": ordered[other][1], "labels": labels}


def _swap_order(fmt: str) -> str:
    return fmt.replace("%m", "\0").replace("%d", "%m").replace("\0", "%d")


def _candidate_formats(sample: pd.Series) -> tuple[list[str], dict[str, list[str]]]:
    """The formats worth trying on these values: those that read the same whatever the
    day/month order, and the day/month-ordered ones for each order."""
    text = sample.astype("string").str.strip()
    separators = set(text.str.extract(_DATE_SEPARATOR, expand=False).dropna().unique())
    clock = bool(text.str.contains(":", regex=False).any())
    joiners = [" "] + (["T"] if text.str.contains(_CLOCK_T).any() else [])
    zone = bool(text.str.contains(_ZONE).any())
    utc = bool(text.str.contains(r" (?:UTC|GMT)$").any())
    times = [""]
    if clock:
        for joiner in joiners:
            for c in _CLOCKS:
                times += [joiner + c, *((joiner + c + "%z", joiner + c + " %z") if zone else ()),
                          *((joiner + c + " UTC", joiner + c + " GMT") if utc else ())]
        if text.str.contains(_AM_PM).any():
            times += list(_TWELVE_HOUR)
    unambiguous: list[str] = []
    ordered: dict[str, list[str]] = {o: [] for o in DATE_ORDERS}
    for sep in (s for s in _SEPARATORS if s in separators):
        unambiguous += [f"%Y{sep}%m{sep}%d{t}" for t in times]
        unambiguous += list(_MONTH_YEAR[sep])
        for year in ("%Y", "%y"):
            ordered["mdy"] += [f"%m{sep}%d{sep}{year}{t}" for t in times]
            ordered["dmy"] += [f"%d{sep}%m{sep}{year}{t}" for t in times]
    if text.str.fullmatch(r"\d{8}").any():
        unambiguous.append("%Y%m%d")
    if text.str.contains(_MONTH_NAME).any():
        unambiguous += [*_NAMED_MONTHS, *(f + " UTC" for f in _NAMED_MONTHS if ":" in f)]
    return unambiguous, ordered


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


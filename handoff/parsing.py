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

_CODES = "USD|EUR|GBP|CAD|AUD|NZD|CHF|JPY|CNY|SEK|NOK|DKK|PLN|INR|BRL|MXN|ZAR|SGD|HKD"
_CURRENCY = re.compile(rf"(?:US|CA|AU|NZ|HK|[CARS])?\$|[€£¥₹]|^(?:{_CODES})\s*|\s*(?:{_CODES})$")
_CURRENCY_SIGN = re.compile(rf"((?:US|CA|AU|NZ|HK|[CARS])?\$|[€£¥₹]|\b(?:{_CODES})\b)")
ISO_CURRENCY = {"$": "USD", "US$": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD",
                "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "R$": "BRL", "€": "EUR", "£": "GBP",
                "¥": "JPY", "₹": "INR"}
# `$141.56K`, `€1.2M`, `3bn`: a multiplier after the number.
_MULTIPLIER = re.compile(r"^(.*\d)(k|K|m|M|MM|mm|mn|Mn|mio|Mio|b|B|bn|Bn)\.?$")
_FACTORS = {"k": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "mio": 1e6, "b": 1e9, "bn": 1e9}
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
    currency: str | None = None  # ISO code of the most common currency symbol or code
    multiplied: int = 0  # amounts written with a multiplier (K, M, bn)
    negatives: int = 0  # values below zero (a minus or accounting parentheses)
    folded: dict[str, str] = field(default_factory=dict)  # spelling -> the one kept
    folded_cells: int = 0
    kept_unknown: dict[str, int] = field(default_factory=dict)  # "unknown" kept as a value


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


# Spellings that say "not known" rather than "left blank": a channel called unknown is a
# real group of leads when the same column also has blanks.
UNKNOWN_SPELLINGS: frozenset[str] = frozenset({"unknown", "not set", "(not set)"})


def parse_text(series: pd.Series, report: ColumnReport, fold: bool = False,
               keep_unknown: bool = False) -> pd.Series:
    """Text trimmed, with missing spellings as missing. `fold` merges values that differ
    only by case or spaces (`Google` / `google `) into the most frequent spelling;
    `keep_unknown` keeps `unknown` as a value when the column has blanks as well."""
    mask, spellings = missing_mask(series)
    text = series.astype("string").str.strip()
    if keep_unknown:
        unknown = text.str.lower().isin(UNKNOWN_SPELLINGS).fillna(False) & mask
        if unknown.any() and (mask & ~unknown).any():
            mask = mask & ~unknown
            report.kept_unknown = {k: v for k, v in spellings.items()
                                   if k.lower() in UNKNOWN_SPELLINGS}
            spellings = {k: v for k, v in spellings.items() if k not in report.kept_unknown}
    out = text.where(~mask, None)
    if fold:
        out = _folded(out, report)
    _count(report, mask, spellings, failed=pd.Series(False, index=series.index), raw=series)
    return out


def _folded(values: pd.Series, report: ColumnReport) -> pd.Series:
    """Values that differ only by case or inner spaces, as their most frequent spelling."""
    counts = values.value_counts()
    if len(counts) < 2 or len(counts) > 50_000:  # ids or free text: nothing to fold
        return values
    spelled = counts.index.to_series()
    table = pd.DataFrame({"n": counts.to_numpy(), "tidy": (
        spelled == spelled.str.replace(r"\s+", " ", regex=True)).to_numpy(),
        "cased": (spelled != spelled.str.lower()).to_numpy(),
        "key": spelled.str.casefold().str.replace(r"\s+", " ", regex=True).to_numpy()},
        index=spelled.to_numpy())
    table = table.sort_values(["n", "tidy", "cased"], ascending=False, kind="stable")
    kept = table.groupby("key", sort=False)["key"].transform(lambda k: k.index[0])
    variants = {v: k for v, k in kept.items() if v != k}
    if not variants:
        return values
    report.folded = variants
    report.folded_cells = int(counts[list(variants)].sum())
    return values.replace(variants)


def parse_numbers(series: pd.Series, report: ColumnReport) -> pd.Series:
    """Numbers as exports write them: `$22,700.00`, `(1,200)`, `1.234,56 €`, `$141.56K`."""
    mask, spellings = missing_mask(series)
    if series.dtype.kind in "biuf":
        out = series.astype("float64")
        failed = ~mask & ~(out.abs() < _LARGEST_EXACT)
        _count(report, mask, spellings, failed=failed, raw=series)
        report.negatives = int((out < 0).sum())
        return out.where(~failed)
    text = series.astype("string").str.strip().where(~mask, None)
    sample = (text.dropna().head(2000).str.replace(_CURRENCY, "", regex=True).str.strip()
              .str.strip("()").str.replace(r"[\s\u00a0\u202f']", "", regex=True)
              .str.replace(_MULTIPLIER, r"\1", regex=True))
    european = bool(len(sample)) and bool(sample.str.match(_EUROPEAN_NUMBER).mean() > 0.5)
    if not european:  # plain numbers, the common case: no symbols or separators to strip
        direct = pd.to_numeric(text, errors="coerce").astype("float64")
        if int(direct.notna().sum()) == int((~mask).sum()):
            failed = ~mask & ~(direct.abs() < _LARGEST_EXACT)
            _count(report, mask, spellings, failed=failed, raw=series)
            report.negatives = int((direct < 0).sum())
            return direct.where(~failed)
    signs = text.str.extract(_CURRENCY_SIGN, expand=False)
    cleaned = text.str.replace(_CURRENCY, "", regex=True).str.strip()
    negative = cleaned.str.match(r"^-?\(.*\)$").fillna(False)
    cleaned = cleaned.str.strip("()-").where(negative, cleaned)
    cleaned = cleaned.str.strip("()").str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    cleaned = cleaned.str.replace("\u2212", "-", regex=False)  # the typographic minus
    multiplier = cleaned.str.extract(_MULTIPLIER, expand=False)[1]
    factor = multiplier.str.lower().map(_FACTORS).astype("float64").fillna(1.0)
    cleaned = cleaned.str.replace(_MULTIPLIER, r"\1", regex=True)
    if european:  # only a dot before exactly three digits separates thousands (99.50 stays)
        cleaned = (cleaned.str.replace(r"\.(?=\d{3}(?:\D|$))", "", regex=True)
                   .str.replace(",", ".", regex=False))
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    # A percentage is not an amount (a "45%" margin column is a ratio): reported, not read.
    out = pd.to_numeric(cleaned.where(~cleaned.str.endswith("%").fillna(False)),
                        errors="coerce").astype("float64") * factor
    out = out.where(~negative, -out)
    out = out.where(out.abs() < _LARGEST_EXACT)  # inf, 1e400, 1e20: not an amount
    failed = out.isna() & ~mask
    read = ~failed & ~mask
    report.currency_parsed = int((signs.notna() & read).sum())
    report.currency = currency_code(signs[read])
    report.multiplied = int((multiplier.notna() & read).sum())
    report.negatives = int((out < 0).sum())
    report.decimal_comma = european
    _count(report, mask, spellings, failed=failed, raw=series)
    return out.where(~failed, np.nan)


def currency_code(signs: pd.Series) -> str | None:
    """The ISO code of the most common currency symbol or code among these (None: none)."""
    counts = signs.dropna().map(lambda s: ISO_CURRENCY.get(s, s)).value_counts()
    return str(counts.index[0]) if len(counts) else None


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
        codes, distinct = pd.factorize(text[todo])
        uniques = pd.Series(distinct, dtype="string")
        parsed, formats, ambiguous, chosen, mixed = _parse_unique_dates(uniques, order)
        result[todo] = parsed.astype("datetime64[us]").to_numpy()[codes]
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


def _count(report: ColumnReport, mask: pd.Series, spellings: dict[str, int],
           failed: pd.Series, raw: pd.Series) -> None:
    report.missing = int(mask.sum())
    report.missing_spellings = spellings
    report.failed = int(failed.sum())
    report.values = int(len(raw) - report.missing - report.failed)
    report.failed_examples = [str(v)[:60] for v in raw[failed].astype(str).unique()[:3]]

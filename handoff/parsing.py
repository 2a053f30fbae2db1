"""Turning the text cells of real exports into typed values, and saying what was done.

Every parser returns the values and a `ColumnReport`: a user must be able to see which
spellings were treated as missing, which cells could not be read (with examples), which date
reading was chosen when a date like 02/03/24 is ambiguous, and how many currency strings
were parsed. Nothing is guessed silently. Dates live in `dates`, the report and the missing
spellings in `column_report`; both are re-exported here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from handoff.column_report import (
    MISSING_SPELLINGS,
    ColumnReport,
    count_into,
    counts_by_code,
    few_values,
    missing_by_value,
    missing_mask,
)
from handoff.dates import (
    DATE_ORDER_LABELS,
    DATE_ORDERS,
    EARLIEST,
    LATEST,
    format_label,
    parse_timestamps,
)

__all__ = ["DATE_ORDERS", "DATE_ORDER_LABELS", "EARLIEST", "LATEST", "MISSING_SPELLINGS",
           "ColumnReport", "currency_code", "format_label", "missing_mask", "parse_booleans",
           "parse_integers", "parse_numbers", "parse_text", "parse_text_coded",
           "parse_timestamps"]

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
LARGEST_EXACT = 2.0 ** 53  # beyond this a float no longer holds every integer


# Spellings that say "not known" rather than "left blank": a channel called unknown is a
# real group of leads when the same column also has blanks.
UNKNOWN_SPELLINGS: frozenset[str] = frozenset({"unknown", "not set", "(not set)"})


def parse_text(series: pd.Series, report: ColumnReport, fold: bool = False,
               keep_unknown: bool = False) -> pd.Series:
    """Text trimmed, with missing spellings as missing. `fold` merges values that differ
    only by case or spaces (`Google` / `google `) into the most frequent spelling;
    `keep_unknown` keeps `unknown` as a value when the column has blanks as well."""
    return _text(series, report, fold, keep_unknown, coded=False)[0]


Coded = tuple[np.ndarray, pd.Series]  # per row, the position of its value (missing: -1)


def parse_text_coded(series: pd.Series, report: ColumnReport, fold: bool = False,
                     keep_unknown: bool = False) -> tuple[pd.Series, Coded | None]:
    """`parse_text`, and for a long column of few values (not folded) the codes that map
    each row to its value, as `pd.factorize` of the result gives them save that a value may
    be listed twice (`Won` and `Won `, both trimmed): rules that read the column once per
    value need not factorize it again (0.23 s at ten million rows). None otherwise."""
    return _text(series, report, fold, keep_unknown, coded=True)


def _text(series: pd.Series, report: ColumnReport, fold: bool, keep_unknown: bool,
          coded: bool) -> tuple[pd.Series, Coded | None]:
    by_value = few_values(series)
    codes, uniques = pd.factorize(series) if by_value else (None, None)
    # a long column of few values (stages, owners) is trimmed once per distinct value
    distinct = pd.Series(uniques, dtype=object) if by_value else series
    text = distinct.astype("string").str.strip()  # once: the missing check reads it too
    mask, spellings = (missing_by_value(series, (codes, uniques)) if by_value
                       else missing_mask(series, text))
    missing = (text.str.lower().isin(MISSING_SPELLINGS).fillna(False).to_numpy(dtype=bool)
               if by_value else mask.to_numpy(dtype=bool))
    if keep_unknown:
        unknown = (text.str.lower().isin(UNKNOWN_SPELLINGS).fillna(False).to_numpy(dtype=bool)
                   & missing)
        in_rows = np.append(unknown, False)[codes] if by_value else unknown
        if in_rows.any() and (mask.to_numpy(dtype=bool) & ~in_rows).any():
            mask = mask & ~in_rows
            missing = missing & ~unknown
            report.kept_unknown = {k: v for k, v in spellings.items()
                                   if k.lower() in UNKNOWN_SPELLINGS}
            spellings = {k: v for k, v in spellings.items() if k not in report.kept_unknown}
    out = text.where(~missing, None) if missing.any() else text
    per_value = out
    if (by_value and isinstance(series.dtype, pd.StringDtype) and not missing.any()
            and bool((text == distinct.astype("string")).all())):
        out = series.astype("string")  # clean already: the column itself, not a copy
    elif by_value:  # back to one value per row; a missing cell (code -1) stays missing
        out = pd.Series(out.array.take(codes, allow_fill=True), index=series.index,
                        name=series.name)
    if fold:
        out = _folded(out, report, counts_by_code(codes, per_value) if by_value else None)
    count_into(report, mask, spellings, failed=pd.Series(False, index=series.index), raw=series)
    if not coded or not by_value or report.folded:
        return out, None
    return out, (np.where(np.append(missing, True)[codes], -1, codes), per_value)


def _folded(values: pd.Series, report: ColumnReport,
            counts: pd.Series | None = None) -> pd.Series:
    """Values that differ only by case or inner spaces, as their most frequent spelling.
    `counts` are the values' counts (`values.value_counts()`), when the caller has them."""
    counts = values.value_counts() if counts is None else counts
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
        failed = ~mask & ~(out.abs() < LARGEST_EXACT)
        count_into(report, mask, spellings, failed=failed, raw=series)
        report.negatives = int((out < 0).sum())
        return out.where(~failed)
    text = series.astype("string").str.strip().where(~mask, None)
    sample = (text.dropna().head(2000).str.replace(_CURRENCY, "", regex=True).str.strip()
              .str.strip("()").str.replace(r"[\s\u00a0\u202f']", "", regex=True)
              .str.replace(_MULTIPLIER, r"\1", regex=True))
    european = bool(len(sample)) and bool(sample.str.match(_EUROPEAN_NUMBER).mean() > 0.5)
    if not european:  # plain numbers, the common case: no symbols or separators to strip
        direct = numbers_of_text(text)
        if int(direct.notna().sum()) == int((~mask).sum()):
            failed = ~mask & ~(direct.abs() < LARGEST_EXACT)
            count_into(report, mask, spellings, failed=failed, raw=series)
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
    out = numbers_of_text(cleaned.where(~cleaned.str.endswith("%").fillna(False))) * factor
    out = out.where(~negative, -out)
    out = out.where(out.abs() < LARGEST_EXACT)  # inf, 1e400, 1e20: not an amount
    failed = out.isna() & ~mask
    read = ~failed & ~mask
    report.currency_parsed = int((signs.notna() & read).sum())
    report.currency = currency_code(signs[read])
    report.multiplied = int((multiplier.notna() & read).sum())
    report.negatives = int((out < 0).sum())
    report.decimal_comma = european
    count_into(report, mask, spellings, failed=failed, raw=series)
    return out.where(~failed, np.nan)


_PLAIN_DECIMAL = r"^[+-]?[0-9]+(?:\.[0-9]*)?$"


def numbers_of_text(text: pd.Series) -> pd.Series:
    """`pd.to_numeric(text, errors="coerce")` as float64. A column of plain decimals
    (`12`, `-3.50`, `+007`) is cast by Arrow, thirty times faster on a million cells, to the
    same doubles (a test holds them equal bit for bit); anything else goes to pandas."""
    try:
        values = pa.array(text.array, from_pandas=True)
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            plain = pc.all(pc.match_substring_regex(values, _PLAIN_DECIMAL)).as_py()
            if plain is not False:  # every given cell plain (or none given)
                return pd.Series(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False),
                                 index=text.index, name=text.name)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        pass
    return pd.to_numeric(text, errors="coerce").astype("float64")


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
        count_into(report, mask, spellings, failed=pd.Series(False, index=series.index), raw=series)
        return series.astype("boolean")
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False)] = True
    out[text.isin(_FALSE).fillna(False)] = False
    failed = out.isna() & ~mask
    count_into(report, mask, spellings, failed=failed, raw=series)
    return out


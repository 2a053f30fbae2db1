"""Typed values from export text: dates, numbers, booleans, and what was treated as missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from handoff import parsing
from handoff.parsing import (
    ColumnReport,
    parse_booleans,
    parse_numbers,
    parse_text,
    parse_timestamps,
)


def _report(kind: str) -> ColumnReport:
    return ColumnReport("col", "field", kind)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-22", "2024-01-22 00:00:00"),
    ("2024-01-22T16:14:25.000+0000", "2024-01-22 16:14:25"),
    ("2024-01-22T16:14:25.000+0200", "2024-01-22 14:14:25"),
    ("15 Apr, 2021 00:02:00", "2021-04-15 00:02:00"),
    ("2018.02.26", "2018-02-26 00:00:00"),
    ("02/23/26 08:55 PM", "2026-02-23 20:55:00"),
    ("23.02.2026", "2026-02-23 00:00:00"),
    ("Feb 23, 2026", "2026-02-23 00:00:00"),
    ("23-Feb-2026", "2026-02-23 00:00:00"),
    ("2026/02/23", "2026-02-23 00:00:00"),
])
def test_date_formats(text, expected):
    out = parse_timestamps(pd.Series([text]), _report("timestamp"))
    assert out.iloc[0] == pd.Timestamp(expected)


def test_ambiguous_dates_are_reported_and_can_be_flipped():
    values = pd.Series(["02/03/24", "04/05/24", "12/11/24"])
    r = _report("timestamp")
    us = parse_timestamps(values, r)
    assert us.iloc[0] == pd.Timestamp("2024-02-03")
    assert (r.ambiguous_dates, r.date_order) == (3, "mdy")
    r2 = _report("timestamp")
    eu = parse_timestamps(values, r2, order="dmy")
    assert eu.iloc[0] == pd.Timestamp("2024-03-02")
    assert r2.date_order == "dmy"


def test_a_day_over_twelve_settles_the_order():
    r = _report("timestamp")
    out = parse_timestamps(pd.Series(["25/03/2024", "02/03/2024"]), r)
    assert out.tolist() == [pd.Timestamp("2024-03-25"), pd.Timestamp("2024-03-02")]
    assert r.date_order == "dmy"


def test_mixed_formats_and_unreadable_values_in_one_column():
    r = _report("timestamp")
    s = pd.Series(["2024-01-02", "15 Apr, 2021 00:02:00", "not a date", "unknown", ""])
    out = parse_timestamps(s, r)
    assert out.notna().tolist() == [True, True, False, False, False]
    assert (r.values, r.missing, r.failed) == (2, 2, 1)
    assert r.failed_examples == ["not a date"]
    assert r.missing_spellings == {"unknown": 1, "(blank)": 1}


def test_excel_serial_dates():
    out = parse_timestamps(pd.Series([45000.0, 45000.5], dtype=object), _report("timestamp"),
                           excel_serials=True)
    assert out.tolist() == [pd.Timestamp("2023-03-15"), pd.Timestamp("2023-03-15 12:00")]


def test_currency_and_separators():
    r = _report("number")
    s = pd.Series(["$22,700.00", "(1,200)", "12", "€ 5", "1 500", "abc", "", "NaN", "-3.5"])
    out = parse_numbers(s, r)
    assert out.tolist()[:5] == [22700.0, -1200.0, 12.0, 5.0, 1500.0]
    assert out.iloc[8] == -3.5
    assert out.iloc[5:8].isna().all()
    assert (r.currency_parsed, r.failed, r.missing) == (2, 1, 2)


def test_european_decimal_comma():
    r = _report("number")
    out = parse_numbers(pd.Series(["1.234,56", "2,5", "7"]), r)
    assert out.tolist() == [1234.56, 2.5, 7.0]
    assert r.decimal_comma


def test_booleans_salesforce_style():
    r = _report("boolean")
    out = parse_booleans(pd.Series(["1", "", "TRUE", "no", "maybe"]), r)
    assert out.tolist()[:4] == [True, pd.NA, True, False] or out.iloc[1] is pd.NA
    assert bool(out.iloc[0]) and bool(out.iloc[2]) and not bool(out.iloc[3])
    assert out.iloc[1] is pd.NA and out.iloc[4] is pd.NA
    assert r.failed_examples == ["maybe"]


def test_text_missing_spellings():
    r = _report("text")
    out = parse_text(pd.Series([" Web ", "Select", "N/A", "Partner"]), r)
    assert out.tolist()[0] == "Web" and out.tolist()[3] == "Partner"
    assert out.iloc[1:3].isna().all()
    assert r.missing_spellings == {"Select": 1, "N/A": 1}


def test_numbers_found_in_review():
    r = _report("number")
    s = pd.Series(["0.125", "0.500", "inf", "1e20", "-$5", "(€1,200)", "CHF 1'234.50",
                   "USD 100", "\u22125"])
    out = parse_numbers(s, r)
    assert out.tolist()[:2] == [0.125, 0.5]  # not mistaken for thousands groups
    assert out.iloc[2:4].isna().all() and r.failed == 2  # not amounts
    assert out.tolist()[4:] == [-5.0, -1200.0, 1234.5, 100.0, -5.0]
    assert not r.decimal_comma


def test_placeholder_and_month_only_dates():
    r = _report("timestamp")
    s = pd.Series(["9999-12-31", "2024-01", "Jan 2024", "01/2024", "2024-01-22 16:14:25 UTC",
                   "Jan 5, 2024 10:00 AM", "0001-01-05"])
    out = parse_timestamps(s, r)
    assert out.iloc[1:4].tolist() == [pd.Timestamp("2024-01-01")] * 3
    assert out.iloc[4] == pd.Timestamp("2024-01-22 16:14:25")
    assert out.iloc[5] == pd.Timestamp("2024-01-05 10:00")
    assert out.iloc[[0, 6]].isna().all() and r.placeholder_dates == 2


def test_a_column_mixing_day_and_month_first_is_reported():
    r = _report("timestamp")
    out = parse_timestamps(pd.Series(["12/31/2024", "31/12/2024", "01/02/2024"]), r)
    assert out.iloc[0] == out.iloc[1] == pd.Timestamp("2024-12-31")
    assert r.mixed_date_orders == 1 and r.ambiguous_dates == 1


def test_a_percentage_is_not_read_as_an_amount():
    r = _report("number")
    out = parse_numbers(pd.Series(["45%", "1,200", "12.5%"]), r)
    assert out.isna().tolist() == [True, False, True] and out.iloc[1] == 1200.0
    assert r.failed == 2 and r.failed_examples == ["45%", "12.5%"]


def test_decimal_comma_column_with_a_stray_decimal_point():
    r = _report("number")
    out = parse_numbers(pd.Series(["1.234,56", "2,50", "7,00", "99.50", "1.000.000"]), r)
    assert out.tolist() == [1234.56, 2.5, 7.0, 99.5, 1_000_000.0] and r.decimal_comma


@pytest.mark.parametrize(("text", "expected"), [
    ("2018.02.26 19:58", "2018-02-26 19:58:00"),
    ("2018.02.26 19:58:07", "2018-02-26 19:58:07"),
    ("2018/02/26 19:58", "2018-02-26 19:58:00"),
    ("2018-02-26T19:58", "2018-02-26 19:58:00"),
    ("2018-02-26T19:58:07Z", "2018-02-26 19:58:07"),
    ("2018-02-26 19:58:07+01:00", "2018-02-26 18:58:07"),
    ("2018.02.26T19:58:07.250", "2018-02-26 19:58:07.250"),
    ("26.02.2018 19:58", "2018-02-26 19:58:00"),
    ("26-02-2018 07:58 PM", "2018-02-26 19:58:00"),
    ("02/26/18 7:58:09 pm", "2018-02-26 19:58:09"),
    ("26/02/2018 19:58:09", "2018-02-26 19:58:09"),
])
def test_date_times_after_any_separator(text, expected):
    r = _report("timestamp")
    out = parse_timestamps(pd.Series([text]), r)
    assert out.iloc[0] == pd.Timestamp(expected) and r.failed == 0
    assert r.date_formats  # the format found is named


def test_the_formats_found_are_named_with_their_separators():
    r = _report("timestamp")
    parse_timestamps(pd.Series(["2018.02.26 19:58", "2018.02.27", "13.03.2018 08:00"]), r)
    assert set(r.date_formats) == {"YYYY.MM.DD hh:mm", "YYYY.MM.DD", "DD.MM.YYYY hh:mm (day first)"}


@pytest.mark.parametrize(("values", "expected", "currency", "multiplied", "negatives"), [
    (["$141.56K", "$1.2M", "$950"], [141_560.0, 1_200_000.0, 950.0], "USD", 2, 0),
    (["€1.2M", "€3.5K", "€12"], [1_200_000.0, 3_500.0, 12.0], "EUR", 2, 0),
    (["(1,200.00)", "£300", "-£5k"], [-1200.0, 300.0, -5000.0], "GBP", 1, 2),
    (["1.234,56 €", "(7,00 €)", "2,5 €"], [1234.56, -7.0, 2.5], "EUR", 0, 1),
    (["USD 1,000", "2bn USD"], [1000.0, 2e9], "USD", 1, 0),
])
def test_amounts_with_multipliers_negatives_and_currency(values, expected, currency,
                                                         multiplied, negatives):
    r = _report("number")
    out = parse_numbers(pd.Series(values), r)
    assert out.tolist() == pytest.approx(expected)
    assert (r.currency, r.multiplied, r.negatives, r.failed) == (currency, multiplied,
                                                                 negatives, 0)


def test_case_and_space_variants_fold_and_unknown_stays_apart_from_blank():
    r = _report("text")
    s = pd.Series(["Google", "google ", "Paid  Search", "paid search", "Paid Search",
                   "unknown", "", None, "Select"])
    out = parse_text(s, r, fold=True, keep_unknown=True)
    assert out.tolist()[:6] == ["Google", "Google", "Paid Search", "Paid Search",
                                "Paid Search", "unknown"]
    assert out.iloc[6:].isna().all()
    assert r.kept_unknown == {"unknown": 1} and r.missing == 3
    assert r.folded == {"google": "Google", "Paid  Search": "Paid Search",
                        "paid search": "Paid Search"} and r.folded_cells == 3


def test_unknown_alone_is_a_placeholder():
    r = _report("text")
    out = parse_text(pd.Series(["Web", "unknown"]), r, keep_unknown=True)
    assert out.iloc[1] is pd.NA and r.missing_spellings == {"unknown": 1}


def _decimals(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    whole = rng.integers(-10**15, 10**15, n).astype(str)
    frac = rng.integers(0, 10**12, n).astype(str)
    shapes = [whole, np.char.add(np.char.add(whole, "."), frac), np.char.add("+00", frac),
              np.char.add(frac, "."), np.char.add("0.", frac)]
    return list(np.concatenate(shapes))


@pytest.mark.parametrize("cells", [
    _decimals(20_000, 1),  # plain decimals: Arrow reads them
    [*_decimals(2_000, 2), None, None],  # plain, some missing
    ["1e5", "12", "abc", "0x1F", "1_000", "inf", "-", ".5", "5.", "٣"],  # not all plain
    [None, None], [],
])
def test_numbers_of_text_equal_pandas_to_numeric_bit_for_bit(cells):
    text = pd.Series(cells, dtype="string")
    expected = pd.to_numeric(text, errors="coerce").astype("float64")
    got = parsing.numbers_of_text(text)
    assert got.dtype == "float64" and got.index.equals(text.index)
    assert np.array_equal(got.to_numpy(), expected.to_numpy(), equal_nan=True)


def test_a_column_of_plain_decimals_is_not_read_by_pandas(monkeypatch):
    def slow(*args, **kwargs):
        raise AssertionError("read by pandas")

    monkeypatch.setattr(parsing.pd, "to_numeric", slow)
    got = parsing.numbers_of_text(pd.Series(["12", "-3.50", None, "+007"], dtype="string"))
    assert got.tolist()[:2] == [12.0, -3.5] and np.isnan(got[2]) and got[3] == 7.0

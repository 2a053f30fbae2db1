"""The fast ways of reading a column's facts give exactly what the plain pandas way gives:
distinct ids and repeated rows counted by DuckDB, and missing cells decided once per distinct
value. Each is checked against the reference on awkward columns (spaces of every kind, NA and
NaN, mixed types, spellings that only differ by case or spacing, ties in counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from handoff import column_sql
from handoff.column_report import missing_by_row, missing_by_value, missing_mask

rng = np.random.default_rng(7)
SPELLINGS = ["", " ", "N/A", "n/a ", "\u00a0NULL", "null", "(blank)", "-", "unknown", "\tNone\n",
             "Won", " Won", "won", "Lost", "Open\u2003", "ĸ", "K", "\u212aNOWN", "1", "1.0"]


def _columns() -> dict[str, pd.Series]:
    picks = rng.choice(SPELLINGS, 3000)
    text = pd.Series(picks, dtype="string")
    text[rng.random(3000) < 0.05] = pd.NA
    mixed = pd.Series(list(picks[:1000]) + [1, 2.5, None, np.nan, True, 1] * 50, dtype=object)
    return {"text": text, "object": pd.Series(picks, dtype=object), "mixed": mixed,
            "ties": pd.Series(["a", "N/A", "", "b", "null", "-"] * 10, dtype="string"),
            "all missing": pd.Series([None, "", " "] * 5, dtype=object),
            "empty": pd.Series([], dtype="string")}


@pytest.mark.parametrize("name", list(_columns()))
def test_missing_by_value_equals_missing_by_row(name):
    series = _columns()[name]
    row_mask, row_spelled = missing_by_row(series)
    value_mask, value_spelled = missing_by_value(series)
    assert value_mask.tolist() == row_mask.tolist()
    assert list(value_spelled.items()) == list(row_spelled.items())  # order matters: shown
    assert (value_mask.index == series.index).all()


def test_a_long_column_of_few_values_takes_the_per_value_way(monkeypatch):
    long = pd.Series(rng.choice(["Won", " N/A", "", "Lost"], 60_000), dtype="string")
    taken = []
    monkeypatch.setattr("handoff.column_report.missing_by_value",
                        lambda s: taken.append(len(s)) or missing_by_row(s))
    mask, spelled = missing_mask(long)
    assert taken == [60_000]
    assert int(mask.sum()) == int(long.str.strip().isin(["N/A", ""]).sum())
    assert set(spelled) == {"N/A", "(blank)"}


@pytest.mark.parametrize("name", list(_columns()))
def test_distinct_count_equals_pandas(name):
    series = _columns()[name]
    assert column_sql.distinct_count(series) == series.nunique()


@pytest.mark.parametrize("values", [
    ["a", "b", "a", "c", "b", "a"], ["x"] * 4, ["1", "2", "3"], [],
    ["a'); drop table col; --", "é", "e\u0301", "a'); drop table col; --", "É"],
    [3, 1, 3, 2, 1], [1, "1", 1.0, "x", "x"]])
def test_repeated_rows_are_the_rows_duplicated_marks_with_their_first_row(values):
    series = pd.Series(values, dtype="string" if values and all(isinstance(v, str)
                                                              for v in values) else None)
    positions, firsts = column_sql.repeated_rows(series)
    expected = np.flatnonzero(series.duplicated().to_numpy())
    assert positions.tolist() == expected.tolist()
    first_of = {}
    for i, v in enumerate(series.tolist()):
        first_of.setdefault(v, i)
    assert firsts.tolist() == [first_of[series.iat[p]] for p in positions]

"""The fast ways of reading a column's facts give exactly what the plain pandas way gives:
distinct ids and repeated rows counted by DuckDB, and missing cells decided once per distinct
value. Each is checked against the reference on awkward columns (spaces of every kind, NA and
NaN, mixed types, spellings that only differ by case or spacing, ties in counts)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from handoff import column_report, column_sql, mapping, parsing
from handoff.column_report import missing_by_row, missing_by_value, missing_mask
from handoff.ingest import read_upload
from handoff.raw import RawTable

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


DATES = ["2024-01-05", " 2024-01-05", "01/02/2024", "02/01/2024", "13/01/2024", "1/2/24",
         "9999-12-31", "1899-12-31", "N/A", "", " ", "not a date", "Jan 5, 2024",
         "2024-02-29", "2023-02-29", "05.01.2024", "2024-01-05 10:30", "(blank)", "-"]


@pytest.mark.parametrize("order", [None, "mdy", "dmy"])
def test_dates_by_value_equal_dates_by_row(order):
    from dataclasses import asdict

    from handoff.column_report import ColumnReport, few_values
    from handoff.dates import timestamps_by_row, timestamps_by_value

    series = pd.Series(rng.choice(DATES, 60_000), dtype="string")
    series[rng.random(60_000) < 0.02] = pd.NA
    assert few_values(series)
    by_row, by_value = (ColumnReport("d", "created_at", "timestamp") for _ in range(2))
    expected = timestamps_by_row(series, by_row, order)[0]
    got = timestamps_by_value(series, by_value, order)
    assert got.equals(expected)
    assert asdict(by_value) == asdict(by_row)
    assert by_row.placeholder_dates > 0 and by_row.failed > 0 and by_row.missing > 0
    assert by_row.ambiguous_dates > 0 and by_row.failed_examples


TEXTS = ["Google", "google ", " Google", "GOOGLE", "Paid  search", "paid search", "unknown",
         "Unknown", "(not set)", "", " ", "N/A", "null", "Référence", "référence", "-", "x"]


@pytest.mark.parametrize(("fold", "keep_unknown"), [(False, False), (True, False),
                                                    (False, True), (True, True)])
@pytest.mark.parametrize("dtype", ["string", object])
def test_text_read_once_per_value_equals_cell_by_cell(fold, keep_unknown, dtype, monkeypatch):
    from dataclasses import asdict

    from handoff import parsing
    from handoff.column_report import ColumnReport

    series = pd.Series(rng.choice(TEXTS, 60_000), dtype=dtype)
    series[rng.random(60_000) < 0.02] = None
    reports, outs = [], []
    for by_value in (False, True):
        monkeypatch.setattr(parsing, "few_values", lambda s, b=by_value: b)
        reports.append(ColumnReport("c", "source", "text"))
        outs.append(parsing.parse_text(series, reports[-1], fold, keep_unknown))
    assert outs[1].equals(outs[0]) and outs[1].dtype == outs[0].dtype
    assert asdict(reports[1]) == asdict(reports[0])
    assert reports[0].missing > 0
    if keep_unknown:
        assert reports[0].kept_unknown
    if fold:
        assert reports[0].folded


@pytest.mark.parametrize("dtype", ["string", "str", object])
def test_a_clean_column_of_few_values_comes_back_as_itself(dtype, monkeypatch):
    """Already trimmed, nothing spelled missing: the per-value way hands back the column's
    own text (no ten-million-row copy), equal to what the cell-by-cell way builds."""
    from dataclasses import asdict

    from handoff import parsing
    from handoff.column_report import ColumnReport

    series = pd.Series(rng.choice(["Won", "Lost", "Engaging", "Référence x"], 60_000),
                       dtype=dtype)
    series[rng.random(60_000) < 0.02] = None
    reports, outs = [], []
    for by_value in (False, True):
        monkeypatch.setattr(parsing, "few_values", lambda s, b=by_value: b)
        reports.append(ColumnReport("c", "stage", "text"))
        outs.append(parsing.parse_text(series, reports[-1], fold=True))
    assert outs[1].equals(outs[0]) and outs[1].dtype == outs[0].dtype == "string"
    assert asdict(reports[1]) == asdict(reports[0]) and reports[0].missing > 0
    if dtype is not object:  # Arrow-backed text: the same buffers
        def text_buffer(s: pd.Series) -> int:
            return s.array._pa_array.chunks[0].buffers()[2].address

        assert text_buffer(outs[1]) == text_buffer(series) != text_buffer(outs[0])


def _ids_file(ids: list[object], kind: str = "csv") -> bytes:
    frame = pd.DataFrame({"Deal ID": ids, "Stage": ["Won"] * len(ids),
                          "Created": ["2024-01-02"] * len(ids)})
    if kind == "parquet":
        out = io.BytesIO()
        frame.to_parquet(out, index=False)
        return out.getvalue()
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize(("ids", "kind", "hashed_once"), [
    (["D1", "D2", "D3", "D4"], "csv", True),  # unique: not hashed again, nothing dropped
    (["12", " 12", "13", "14"], "csv", False),  # unique in the file, not once trimmed
    (["D1", "N/A", "n/a", "D2"], "csv", True),  # unique, two spelled missing
    (["D1", "", "", "D2"], "csv", False),  # blanks repeat in the file; ids do not
    (["D1", "D2", "D1", "D3"], "csv", False),  # a real repeat
    ([1, 2, 3, 2], "parquet", False), ([1, 2, 3, 4], "parquet", True),  # numbers as text
    (["a", "A", "b", "b\u00a0"], "csv", False),  # case is kept in ids; a no-break space is not
])
def test_repeated_ids_known_from_proposing_equal_hashing_them_again(ids, kind, hashed_once,
                                                                     monkeypatch):
    # Validation skips hashing the ids when the file's column repeats nothing and typing
    # changed no id. Whatever path it takes, the rows dropped are the ones hashing drops.
    name = f"deals.{kind}"
    raw = read_upload(name, _ids_file(ids, kind))
    m = mapping.propose(raw, "deals")
    assert m.columns["deal_id"] == "Deal ID"
    calls = []
    hashing = column_sql.repeated_rows
    monkeypatch.setattr(column_sql, "repeated_rows", lambda s: calls.append(len(s)) or hashing(s))
    _, fast = mapping.apply(raw, m)
    assert calls == ([] if hashed_once else [len(ids)])
    hashed = []
    monkeypatch.setattr(RawTable, "holds_unique", lambda self, c: hashed.append(c) or False)
    _, slow = mapping.apply(read_upload(name, _ids_file(ids, kind)), m)
    assert hashed == ["Deal ID"]  # the second reading took the hashing path
    assert [(r.line, r.reason) for r in fast.rejected] == \
        [(r.line, r.reason) for r in slow.rejected]
    assert fast.rows_loaded == slow.rows_loaded
    typed = pd.Series([str(i).strip() for i in ids])
    given = typed[~typed.str.lower().isin(["", "n/a"])]
    assert fast.rows_loaded == given.nunique()  # independent: distinct ids given


@pytest.mark.parametrize("name", list(_columns()))
def test_stage_values_equal_counting_every_row(name):
    # Stage values are read once per distinct cell and counted by code; the plain way reads
    # every row and counts the results. Same values, same order (ties included).
    series = _columns()[name]
    raw = RawTable("x.csv", pd.DataFrame({"Stage": series}), "csv", "")
    m = mapping.Mapping(table="deals", columns={"stage": "Stage"})
    every_row = parsing.parse_text(series, parsing.ColumnReport("Stage", "stage", "text"))
    expected = every_row.dropna().value_counts().head(200).index.tolist()
    assert mapping.stage_values(raw, m) == expected


def test_stage_values_of_a_long_column_are_counted_by_code_as_every_row_would_be():
    series = pd.concat([_columns()["text"]] * 20, ignore_index=True)  # 60k: read per value
    raw = RawTable("x.csv", pd.DataFrame({"Stage": series}), "csv", "")
    m = mapping.Mapping(table="deals", columns={"stage": "Stage"})
    report = parsing.ColumnReport("Stage", "stage", "text")
    assert parsing.parse_text_coded(series, report)[1] is not None  # the by-code way
    every_row = series.astype("string").str.strip()
    every_row = every_row[~every_row.str.lower().isin(parsing.MISSING_SPELLINGS).fillna(True)]
    assert mapping.stage_values(raw, m) == every_row.value_counts().head(200).index.tolist()


def test_a_long_spreadsheet_column_of_mixed_types_reads_as_its_first_rows_do():
    # Factorizing Python objects counts 1, 1.0 and True as one value; their text differs, so
    # a long column of them must read as a short one does, cell by cell.
    cells = [1, 1.0, True, "1", "x", None]
    long = pd.Series(cells * 10_000, dtype=object)
    short = pd.Series(cells * 10, dtype=object)
    read = [parsing.parse_text(s, parsing.ColumnReport("c", "source", "text"))
            for s in (long, short)]
    assert read[0].value_counts().to_dict() == {"1": 20_000, "1.0": 10_000, "True": 10_000,
                                                "x": 10_000}
    assert read[1].value_counts().to_dict() == {"1": 20, "1.0": 10, "True": 10, "x": 10}
    assert column_report.missing_mask(long)[0].sum() == 10_000


@pytest.mark.parametrize("table", ["deals", "leads"])
def test_rules_reading_the_codes_typing_found_equal_factorizing_again(table, monkeypatch):
    # Typing hands the rules the codes of a stage (and status) column read once per value;
    # the rows dropped, the statuses, the stage orders and ranks must be those of
    # factorizing the typed column again. Stages trimmed, spelled missing, blank, excluded.
    from handoff.mapping import NOT_A_STAGE

    rng = np.random.default_rng(3)
    n = 60_000
    stages = rng.choice(["Won", "Won ", "Lost", "N/A", "", "Junk", "Open", " open"], n)
    status = rng.choice(["", "deleted", "Won", "lost", "N/A"], n)
    frame = pd.DataFrame({"Record ID": [f"R{i}" for i in range(n)], "Stage": stages,
                          "Status": status, "Created": "2024-01-02"})
    raw = read_upload(f"{table}.csv", frame.to_csv(index=False).encode())
    m = mapping.propose(raw, table)
    m.columns.update({"stage": "Stage", f"{table[:-1]}_id": "Record ID"})
    if table == "deals":
        m.columns["status"] = "Status"
    m.stages["Junk"] = NOT_A_STAGE
    from handoff import validation

    handed = []
    finish = validation._finish
    monkeypatch.setattr(validation, "_finish", lambda *a: handed.append(sorted(a[-1])) or
                        finish(*a))
    fast_frame, fast = mapping.apply(raw, m)
    assert handed == [["stage", "status"] if table == "deals" else ["stage"]]
    calls = []
    coded = parsing.parse_text_coded
    monkeypatch.setattr(parsing, "parse_text_coded",
                        lambda *a, **k: calls.append(1) or (coded(*a, **k)[0], None))
    slow_frame, slow = mapping.apply(read_upload(f"{table}.csv",
                                                 frame.to_csv(index=False).encode()), m)
    assert calls  # the second reading factorized again
    pd.testing.assert_frame_equal(fast_frame, slow_frame)
    assert [(r.line, r.reason) for r in fast.rejected] == \
        [(r.line, r.reason) for r in slow.rejected]
    assert fast.notes == slow.notes and fast.rows_loaded == slow.rows_loaded < n

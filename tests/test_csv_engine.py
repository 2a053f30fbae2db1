"""DuckDB reads delimited uploads; the exact (Python csv) reader is the reference. Whenever
DuckDB's reading is taken, it must equal the exact reader's: same cells, same rejected rows
with the same physical lines and reasons, same notes; and the cases it cannot prove go to
the exact reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from handoff import delimited
from handoff.ingest import UploadError, read_upload

FIXTURES = sorted(p.name for p in (Path(__file__).parent / "fixtures").glob("*.csv"))

CRAFTED = {
    "ragged.csv": b"id,stage,amount\n1,Won,10\n2,Lost\n3,Won,30,extra\n4,Open,40\n",
    "quoted_ragged.csv": b'id,name,amount\n"1","a, b","10"\n"2","c"\n"3","d ""x""","30"\n',
    "multiline.csv": b'id,note,amount\n1,"two\nlines",10\n2,x\n3,y,30\n',
    "blank_lines.csv": b"id,amount\n1,10\n\n2,20\n , \n3,30\n",
    "footer.csv": b"id,amount\n1,10\n2,20\nGrand Totals,30\n",
    "crlf_semicolon.csv": b"id;amount;owner\r\n1;10,5;Ann\r\n2;20;Bo\r\n",
    "trailing_empty.csv": b"id,amount\n1,10,\n2,20\n",
    "tabs_only_row.csv": b"id,amount\n1,10\n\t,\xc2\xa0\n2,20\n",
    "hostile_headers.csv": (b'"a""; drop table x; --",b"c,"\'d\',"e\ne2",x\n'
                            b'1,2,3,4\n5,6,7,8\n'),
    "sql_header.csv": b'"select * from read_csv(\'/etc/passwd\')",c0,"c1"""\n1,2,3\n4,5,6\n',
    "no_final_newline.csv": b"id,amount\n1,10\n2,20",
    "lone_cr.csv": b"id,amount\r1,10\r2,20\r",
    "huge_cell.csv": b"id,note\n1," + b"x" * 100_001 + b"\n2,y\n3,z\n",
    "widest_cell.csv": "id,note\n1,{}\n2,y\n3,z\n".format("é" * 100_000).encode(),
}


def _cases() -> list[tuple[str, bytes]]:
    here = Path(__file__).parent / "fixtures"
    return [(n, (here / n).read_bytes()) for n in FIXTURES] + list(CRAFTED.items())


def _read(name: str, data: bytes):
    try:
        return read_upload(name, data)
    except UploadError as e:
        return str(e)


@pytest.mark.parametrize(("name", "data"), _cases(), ids=[n for n, _ in _cases()])
def test_engine_reading_equals_the_exact_reader(name, data, monkeypatch):
    engine = _read(name, data)
    monkeypatch.setattr(delimited, "_engine_table", lambda *args: None)
    exact = _read(name, data)
    if isinstance(exact, str):
        assert engine == exact
        return
    pd.testing.assert_frame_equal(engine.frame, exact.frame)
    assert engine.rejected == exact.rejected
    assert [engine.line_of(i) for i in range(len(engine.frame))] == \
        [exact.line_of(i) for i in range(len(exact.frame))]
    assert (engine.notes, engine.warnings) == (exact.notes, exact.warnings)


def test_engine_keeps_exact_lines_of_rejected_rows():
    data = b"id,stage,amount\n" + b"".join(b"%d,Won,%d\n" % (i, i) for i in range(1, 50)) + \
        b"50,Lost\n" + b"".join(b'"%d","Won","%d"\n' % (i, i) for i in range(51, 100))
    taken = delimited._engine_table("r.csv", data, data.decode(), "UTF-8", ",", '"')
    assert taken is not None  # DuckDB's reading was used, not the exact reader's
    raw = read_upload("r.csv", data)
    assert [(r.line, r.reason) for r in raw.rejected] == [
        (51, "has 2 values; the header (line 1) has 3 columns")]
    assert raw.line_of(48) == 50 and raw.line_of(49) == 52  # rows around it keep their lines
    assert raw.frame["id"].iloc[49] == "51"


def test_a_quoted_line_break_goes_to_the_exact_reader():
    data = CRAFTED["multiline.csv"]
    assert delimited._engine_table("m.csv", data, data.decode(), "UTF-8", ",", '"') is None
    raw = read_upload("m.csv", data)
    assert [(r.line, r.text) for r in raw.rejected] == [(4, "2,x")]  # physical line 4


def test_hostile_headers_stay_names_never_sql():
    data = CRAFTED["sql_header.csv"]
    assert delimited._engine_table("h.csv", data, data.decode(), "UTF-8", ",", '"') is not None
    raw = read_upload("h.csv", data)
    assert list(raw.frame.columns) == ["select * from read_csv('/etc/passwd')", "c0", 'c1"']
    assert raw.frame.iloc[1].tolist() == ["4", "5", "6"]


@pytest.mark.parametrize("text", ["a\nb\n", "a\r\nb", "a\rb\r\n\rc", "", "\n", "\r", "x",
                                  "é\n€\r\n日本\r", "a\r\r\n\n", "\r\n\r\n"])
def test_physical_lines_count_each_crlf_lf_and_lone_cr_once(text):
    expected = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    assert delimited.physical_lines(text) == expected - text.endswith(("\n", "\r"))


def test_a_blank_cell_is_what_python_strips_to_nothing():
    # The engine's blank check must agree with the exact reader's `str.strip()` on every
    # code point, or a row the exact reader skips would be loaded (or the other way).
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    table = pa.table({"c0": pa.array(points + ["", " \t\u00a0\u2028 ", " x "])})
    blank = pc.match_substring_regex(table["c0"], delimited._BLANK_CELL).to_pylist()
    assert blank == [p.strip() == "" for p in table["c0"].to_pylist()]


def test_blank_records_need_every_cell_blank_across_chunks_and_slices():
    rows = [[" ", ""], ["", "x"], ["\u00a0", "\t"], ["a", " "], ["", ""]] * 3
    columns = list(zip(*rows, strict=True))
    whole = pa.table({f"c{i}": pa.chunked_array([pa.array(c[:7]), pa.array(c[7:])])
                      for i, c in enumerate(columns)})
    expected = sum(all(c.strip() == "" for c in row) for row in rows)
    assert delimited.blank_records(whole) == expected == 9
    part = whole.slice(2, 9)  # chunks that start inside their buffers
    assert delimited.blank_records(part) == sum(
        all(c.strip() == "" for c in row) for row in rows[2:11])


def test_a_cell_is_too_long_by_its_characters_not_its_bytes():
    limit = 10
    exactly = "é" * limit  # 20 bytes, 10 characters
    table = pa.table({"c0": pa.chunked_array([pa.array(["a", exactly]), pa.array(["b"])])})
    assert not delimited.any_cell_longer(table, limit)
    longer = pa.table({"c0": pa.array(["a", "b" * (limit + 1), "c"]).slice(1)})
    assert delimited.any_cell_longer(longer, limit)
    assert not delimited.any_cell_longer(longer.slice(1), limit)  # the long cell sliced off
    big = pa.table({"c0": pa.array(["x" * (limit + 1)], pa.large_string())})
    assert delimited.any_cell_longer(big, limit)


@pytest.mark.parametrize("text", [
    "id,amount\n1,2\n", "id,amount", "id,amount\n", "\nid\n1\n",
    'id,"a\n' + "x" * 70_000 + '"\n1,2\n',  # a header cell longer than the part read first
    "id," + "y" * 65_530 + "\n1,2\n",  # the first record ends just inside it
    'id,"open quote\n1,2\n'])
def test_the_first_record_is_read_from_the_start_of_the_text_only(text):
    import csv
    import io
    whole = next(csv.reader(io.StringIO(text, newline=""), strict=False), None)
    assert delimited._first_record(text, ",", '"') == whole

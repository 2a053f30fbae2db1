"""DuckDB reads delimited uploads; the exact (Python csv) reader is the reference. Whenever
DuckDB's reading is taken, it must equal the exact reader's: same cells, same rejected rows
with the same physical lines and reasons, same notes; and the cases it cannot prove go to
the exact reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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

"""Hostile and malformed uploads: each gives a message naming the file, or loads exactly what
it should; none raises anything but UploadError, none reads outside the upload."""

from __future__ import annotations

import gzip
import io
import random
import zipfile

import pandas as pd
import pytest

from handoff import export, pipeline
from handoff.db import query
from handoff.ingest import UploadError, read_upload
from tests.test_ingest import _xlsx


def _rand(n: int, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(n)


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


REFUSED = [  # (file name, bytes, words the message must contain)
    ("empty.csv", b"", "empty"),
    ("spaces.csv", b"   \r\n\t\n", "empty"),
    ("bom_only.csv", b"\xef\xbb\xbf", "empty"),
    ("random.csv", _rand(5000), "binary"),
    ("image.csv", b"\x89PNG\r\n\x1a\n" + _rand(2000), "binary"),
    ("nul_inside.csv", b"a,b\n1,2\n\x00\x00\x00\n3,4\n", "binary"),
    ("truncated.xlsx", b"PK\x03\x04\x14\x00\x00\x00", "not a valid XLSX"),
    ("truncated.parquet", b"PAR1\x15\x04\x15", "Parquet"),
    ("export.csv.gz", gzip.compress(b"a,b\n1,2\n"), "compressed"),
    ("bomb.xlsx", None, "would expand"),
    ("one_enormous_line.csv", b"a,b\n1," + b"9" * 200_000 + b"\n", "cannot be read as CSV"),
    ("ten_thousand_columns.csv", (",".join(f"c{i}" for i in range(10_000)) + "\n1\n").encode(),
     "10,000 columns"),
    ("header_only.csv", b"deal_id,stage,amount\r\n", "no data rows"),
    ("blank_after_header.csv", b"deal_id,stage\n\n\n\n", "no data rows"),
    ("all_ragged.csv", b"a,b,c\n1\n2\n3\n", "3 rows could not be read"),
    ("empty_headers_and_cells.csv", b",,,\n,,,\n", "no header row and no data"),
    ("quote_open_at_end.csv", b'deal_id,account\nA,"x\nB,y\n', "never closed"),
    ("quote_swallows_all.csv", b'deal_id,amount,account\n1,100,"Foo\n2,200,Bar\n3,300,"Baz"\n',
     "ran into one cell"),
    ("login_page.csv", b"<!DOCTYPE html><html><body>Login</body></html>\n", "web page"),
    ("api.csv", b'[{"deal_id": "A", "amount": 1}]\n', "JSON"),
    ("feed.csv", b'<?xml version="1.0"?><deals/>\n', "XML"),
    ("over_limit.csv", b"a\n" + b"1\n" * 600_000, "over the 1 MB upload limit"),
    ("empty_sheet.xlsx", None, "is empty"),
]


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(("name", "data", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_message_naming_the_file(name, data, words):
    if name == "bomb.xlsx":
        data = _bomb()
    if name == "empty_sheet.xlsx":
        data = _xlsx({"Blank": pd.DataFrame({"": []})})
    limit = {"max_mb": 1} if name == "over_limit.csv" else {}
    with pytest.raises(UploadError) as e:
        read_upload(name, data, **limit)
    message = str(e.value)
    assert name in message and words in message
    assert "Traceback" not in message and 'File "' not in message


def _load(name: str, data: bytes):
    raw = read_upload(name, data)
    p = pipeline.pending(raw, pipeline.proposed([raw])[0])
    return raw, p.mapping, p.frame, p.validation


LOADED = [  # (file name, bytes, check on (raw, mapping, frame, validation))
    ("utf16_no_bom.csv", "deal_id,amount\nA,1\nB,2\n".encode("utf-16-le"),
     lambda r, m, f, v: f.deal_id.tolist() == ["A", "B"]),
    ("utf16_bom.csv", "deal_id\tamount\nA\t1\n".encode("utf-16"),
     lambda r, m, f, v: f.amount.tolist() == [1.0]),
    ("cp1252_euro.csv", "deal_id;amount;account\nA;€1.234,50;Société\n".encode("cp1252"),
     lambda r, m, f, v: f.amount.tolist() == [1234.5] and f.account.tolist() == ["Société"]),
    ("mixed_encoding.csv", "deal_id,account\nA,Café\n".encode() + "B,Müller\n".encode("cp1252"),
     lambda r, m, f, v: f.account.tolist() == ["Café", "Müller"]),
    ("crlf.csv", b"deal_id,amount\r\nA,1\r\nB,2\r\n", lambda r, m, f, v: len(f) == 2),
    ("cr_only.csv", b"deal_id,amount\rA,1\rB,2\r", lambda r, m, f, v: len(f) == 2),
    ("quote_swallows_rows.csv", b'deal_id,amount,account\n0,5,ok\n1,100,"Foo\n2,200,Bar\n'
                                b'3,300,"Baz"\n4,1,x\n',
     lambda r, m, f, v: f.deal_id.tolist() == ["0", "4"] and r.rejected[0].line == 3),
    ("duplicated_headers.csv", b"deal_id,amount,amount\nA,1,2\n",
     lambda r, m, f, v: "amount (2)" in r.frame.columns and r.warnings),
    ("sql_headers.csv", b"deal_id,\"'; drop table deals; --\",amount\nA,x,1\n",
     lambda r, m, f, v: "'; drop table deals; --" in r.frame.columns),
    ("formula_cells.csv", b"deal_id,stage,account\nA,Won,=HYPERLINK(\"http://x\")\n"
                          b"B,Lost,+cmd|' /C calc'!A0\nC,Won,@SUM(1)\nD,Lost,-2+3\n",
     lambda r, m, f, v: f.account.iloc[0].startswith("=HYPERLINK")),
    ("path_values.csv", b"deal_id,account\n../../etc/passwd,/etc/shadow\n",
     lambda r, m, f, v: f.deal_id.tolist() == ["../../etc/passwd"]),
    ("ten_date_formats.csv", b"deal_id,close_date,stage\n" + b"\n".join(
        f"D{i},{d},Won".encode() for i, d in enumerate([
            "2024-01-22", "2024-01-22T16:14:25.000+0000", "01/22/2024", "22.01.2024",
            "Jan 22, 2024", "22 Jan 2024", "2024/01/22", "20240122", "22-Jan-2024",
            "2024.01.22"])),
     lambda r, m, f, v: f.closed_at.dt.date.astype(str).eq("2024-01-22").all()),
    ("thousands_and_currency.csv", b'deal_id,amount\nA,"$1,234.50"\nB,"1 000"\nC,EUR 7\n'
                                   b'D,"(2,000)"\n',
     lambda r, m, f, v: f.amount.tolist() == [1234.5, 1000.0, 7.0, -2000.0]),
    ("absurd_amounts.csv", b"deal_id,amount\nA,-5000000\nB,1e300\nC,inf\nD,12\n",
     lambda r, m, f, v: f.amount.tolist()[0] == -5e6 and f.amount.iloc[1:3].isna().all()
     and next(c for c in v.columns if c.field == "amount").failed == 2),
    ("ragged_rows.csv", b"deal_id,amount\nA,1\nB\nC,3,4\nD,5\n",
     lambda r, m, f, v: [x.line for x in r.rejected] == [3, 4]),
    ("german.csv", "Deal;Betrag;Datum\nA;1.234,56;31.12.2024\n".encode("cp1252"),
     lambda r, m, f, v: "semicolon" in r.notes[0]),
    ("tabs.tsv", b"deal_id\tstage\nA\tWon\n", lambda r, m, f, v: f.stage.tolist() == ["Won"]),
    ("pipes.csv", b"deal_id|stage\nA|Won\nB|Lost\n", lambda r, m, f, v: len(f) == 2),
    ("no_known_columns.csv", b"colour,flavour\nred,sweet\n",
     lambda r, m, f, v: not v.ok and "No column" in v.problems[0]),
    ("zero_width_header.csv", "\u200bdeal_id,amount\nA,1\n".encode(),
     lambda r, m, f, v: m.columns.get("deal_id") == "deal_id"),
    ("long_header.csv", ("x" * 10_000 + ",deal_id\n1,A\n").encode(),
     lambda r, m, f, v: f.deal_id.tolist() == ["A"]),
    ("placeholder_dates.csv", b"deal_id,stage,close_date\nA,Won,9999-12-31\nB,Won,2024-01-01\n",
     lambda r, m, f, v: f.closed_at.isna().tolist() == [True, False]),
    ("duplicate_ids.csv", b"deal_id,amount\nA,1\nA,2\nB,3\n",
     lambda r, m, f, v: f.deal_id.tolist() == ["A", "B"] and v.rejected[0].line == 3),
    ("many_sheets.xlsx", None, lambda r, m, f, v: len(r.sheets) == 60),
    ("nested.parquet", None, lambda r, m, f, v: len(f) == 2),
]


@pytest.mark.parametrize(("name", "data", "check"), LOADED, ids=[r[0] for r in LOADED])
def test_loaded_exactly_or_with_rows_reported(name, data, check):
    if name == "many_sheets.xlsx":
        data = _xlsx({f"S{i}": pd.DataFrame({"deal_id": [f"D{i}"], "stage": ["Won"]})
                      for i in range(60)})
    if name == "nested.parquet":
        data = _parquet(pd.DataFrame({"deal_id": ["a", "b"],
                                      "meta": [{"k": 1}, {"k": 2}]}))
    raw, m, frame, validation = _load(name, data)
    assert check(raw, m, frame, validation)


def test_at_least_forty_hostile_files():
    assert len(REFUSED) + len(LOADED) >= 40


def test_hostile_text_loads_as_data_and_exports_neutralised():
    data = (b"deal_id,stage,account\nA,Won,=HYPERLINK(\"http://x\")\nB,Lost,+cmd\n"
            b"C,Won,@SUM(1)\nD,Lost,-2+3\nE,Won,-12.5\n")
    _, _, frame, _ = _load("formulas.csv", data)
    db = pipeline.load_files([("formulas.csv", data)])
    assert query(db, "home_summary").won.iloc[0] == 3
    text = export.safe_csv(frame[["deal_id", "account"]]).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+cmd" in text and "'@SUM(1)" in text
    assert "'-2+3" in text and ",-12.5" in text  # a negative number stays a number


def test_export_neutralises_every_kind_of_text_column_and_leaves_the_rest():
    frame = pd.DataFrame({
        "text": pd.Series(["=1+2", "ok", None, "\tx", "-7"], dtype="string"),
        "mixed": pd.Series([-1, "=cmd()", 2.5, "@x", None], dtype=object),
        "number": [-1.5, 2.0, 3.0, -4.0, 5.0],
        "=header": ["a", "b", "c", "d", "e"]})
    out = pd.read_csv(io.BytesIO(export.safe_csv(frame)), encoding="utf-8-sig", dtype=str,
                      keep_default_na=False)
    assert out.columns.tolist() == ["text", "mixed", "number", "'=header"]
    assert out["text"].tolist() == ["'=1+2", "ok", "", "'\tx", "-7"]
    assert out["mixed"].tolist() == ["-1", "'=cmd()", "2.5", "'@x", ""]
    assert out["number"].tolist() == ["-1.5", "2.0", "3.0", "-4.0", "5.0"]
    assert frame["text"].iloc[0] == "=1+2"  # the frame on screen is not changed


def test_a_stray_nul_byte_is_removed_and_its_line_named():
    rows = "".join(f"D{i},Won,{i * 10}\n" for i in range(200))
    data = ("deal_id,stage,amount\n" + rows).encode()
    at = data.index(b"D4,")  # line 6
    raw = read_upload("stray.csv", data[:at + 2] + b"\x00" + data[at + 2:])
    assert raw.frame["deal_id"].tolist()[4] == "D4" and len(raw.frame) == 200
    assert any("1 NUL character(s)" in w and "line(s) 6." in w for w in raw.warnings)


@pytest.mark.parametrize(("name", "data", "words"), [
    ("renamed.xlsx", b"deal_id,stage\nA,Won\n", "holds plain text"),
    ("report.xls", b"<html><body><table><tr><td>Deal</td></tr></table></body></html>",
     "web page (HTML)"),
    ("noise.xlsx", random.Random(5).randbytes(3000), "is not one"),
    ("half.parquet", None, "is cut short"),
    ("other.parquet", b"deal_id,stage\nA,Won\n", "is not a Parquet file")])
def test_a_file_named_as_another_kind_says_what_it_holds(name, data, words):
    if data is None:
        whole = _parquet(pd.DataFrame({"deal_id": ["A", "B"], "stage": ["Won", "Lost"]}))
        data = whole[: len(whole) // 2]
    with pytest.raises(UploadError) as e:
        read_upload(name, data)
    message = str(e.value)
    assert name in message and words in message
    assert "Error" not in message  # no library's exception name

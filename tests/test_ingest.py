"""Reading files: real exports give the right rows and columns; bad ones give named messages."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from handoff import lead_conversion, pipeline
from handoff.ingest import UploadError, read_upload, sheet_names
from tests.conftest import fixture_bytes


def test_maven_pipeline_reads_every_row_with_crlf():
    raw = read_upload("maven.csv", fixture_bytes("maven_sales_pipeline_300.csv"))
    assert raw.frame.shape == (300, 8)
    assert list(raw.frame.columns)[:3] == ["opportunity_id", "sales_agent", "product"]
    assert raw.frame.loc[0, "opportunity_id"] == "1C1I7A6R"
    assert raw.frame.loc[0, "close_value"] == "1054"  # no stray \r from CRLF
    assert raw.rejected == []


def test_uci_bank_semicolons_and_quotes():
    raw = read_upload("bank.csv", fixture_bytes("uci_bank_200.csv"))
    assert raw.frame.shape == (200, 21)
    assert raw.frame.loc[0, "job"] == "housemaid"
    assert "semicolon" in raw.notes[0]


def test_salesforce_bom_is_stripped_from_first_header():
    raw = read_upload("opp.csv", fixture_bytes("sf_datacloud_Opportunity.csv"))
    assert raw.frame.columns[0] == "Id"
    assert len(raw.frame) == 50
    assert "BOM" in raw.notes[0]


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "latin-1", "utf-8-sig"])
def test_encodings(encoding):
    text = "name;amount;city\nRenée;€1.234,50;Zürich\nJosé;12,00;Málaga\n"
    if encoding == "latin-1":
        text = text.replace("€", "")
    raw = read_upload("enc.csv", text.encode(encoding))
    assert list(raw.frame.columns) == ["name", "amount", "city"]
    assert raw.frame["name"].tolist() == ["Renée", "José"]
    assert raw.frame["city"].tolist() == ["Zürich", "Málaga"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters(sep):
    data = sep.join(["id", "stage", "amount"]) + "\n" + "\n".join(
        sep.join([str(i), "Won" if i % 2 else "Lost", f"{i * 100}"]) for i in range(1, 21))
    raw = read_upload("d.csv", data.encode())
    assert raw.frame.shape == (20, 3)
    assert raw.frame["amount"].iloc[-1] == "2000"


def test_salesforce_report_footer_is_removed_and_counted():
    body = '"Opportunity Name","Stage","Amount"\n"A","Closed Won","$1,000.00"\n' \
           '"B","Prospecting","$2,500.00"\n\n"Grand Totals (2 records)"\n\n' \
           '"Confidential Information - Do Not Distribute"\n' \
           '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
    raw = read_upload("report.csv", body.encode())
    assert len(raw.frame) == 2
    assert raw.rejected == []
    assert any("footer" in n for n in raw.notes)


def test_ragged_rows_are_rejected_with_line_numbers():
    raw = read_upload("r.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12,,\n")
    assert raw.frame["a"].tolist() == ["1", "10"]  # trailing empty cells are tolerated
    assert [(r.line, r.reason.split(";")[0]) for r in raw.rejected] == [
        (3, "has 2 values"), (4, "has 4 values")]


def test_duplicated_and_empty_headers():
    raw = read_upload("h.csv", b"Amount,Amount,,Stage,\n1,2,x,Won,\n3,4,,Lost,\n")
    assert list(raw.frame.columns) == ["Amount", "Amount (2)", "column 3", "Stage"]
    assert any("Duplicated column headers: Amount" in w for w in raw.warnings)
    assert any("no header name" in w for w in raw.warnings)


def test_unclosed_quote_is_reported_not_swallowed_silently():
    raw = read_upload("q.csv", b'a,b\n1,2\n3,"4\n5,6\n7,8\n')
    assert raw.frame["a"].tolist() == ["1"]
    assert raw.rejected[0].line == 3 or "never closed" in raw.rejected[0].reason
    assert "never closed" in raw.rejected[0].reason


BAD = [
    ("empty.csv", b"", "empty"),
    ("blank.csv", b"\r\n\r\n  \n", "empty"),
    ("junk.csv", bytes(range(256)) * 40, "binary"),
    ("header_only.csv", b"id,stage,amount\n", "no data rows"),
    ("all_rows_bad.csv", b"a,b,c\n1\n2\n", "2 rows could not be read"),
    ("archive.csv.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 50, "compressed"),
    ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100, "not a valid XLSX"),
    ("broken.parquet", b"PAR1garbage", "Parquet"),
    ("wide.csv", (",".join(f"c{i}" for i in range(3000)) + "\n").encode(), "3,000 columns"),
    ("huge_cell.csv", b"a,b\n1," + b"x" * 200_000 + b"\n", "cannot be read as CSV"),
]


@pytest.mark.parametrize(("name", "data", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_raise_a_message_naming_the_file(name, data, expected):
    with pytest.raises(UploadError) as e:
        read_upload(name, data)
    assert name in str(e.value)
    assert expected in str(e.value)


def test_over_the_size_limit():
    with pytest.raises(UploadError, match="over the 1 MB upload limit"):
        read_upload("big.csv", b"a\n" + b"1\n" * 600_000, max_mb=1)


def _xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An XLSX made by writing the OOXML parts directly (no writer dependency needed)."""
    def cell(ref: str, v) -> str:
        if isinstance(v, str) and v.startswith("="):
            return f'<c r="{ref}"><f>{v[1:]}</f><v>3</v></c>'
        if isinstance(v, (int, float)):
            return f'<c r="{ref}"><v>{v}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        names = list(sheets)
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="rels" ContentType="'
                   'application/vnd.openxmlformats-package.relationships+xml"/><Default '
                   'Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
                   'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/>' + "".join(
                       f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="'
                       'application/vnd.openxmlformats-officedocument.spreadsheetml.'
                       'worksheet+xml"/>' for i in range(1, len(names) + 1)) + "</Types>")
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                   'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships"><sheets>' + "".join(
                       f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>'
                       for i, n in enumerate(names, 1)) + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="'
                   'http://schemas.openxmlformats.org/package/2006/relationships">' + "".join(
                       f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/relationships/worksheet" Target="worksheets/'
                       f'sheet{i}.xml"/>' for i in range(1, len(names) + 1))
                   + "</Relationships>")
        for i, frame in enumerate(sheets.values(), 1):
            rows = [list(frame.columns), *frame.values.tolist()]
            xml = "".join(f'<row r="{r}">' + "".join(
                cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row)) + "</row>"
                for r, row in enumerate(rows, 1))
            z.writestr(f"xl/worksheets/sheet{i}.xml", '<?xml version="1.0"?><worksheet xmlns='
                       '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                       f"<sheetData>{xml}</sheetData></worksheet>")
    return buf.getvalue()


def test_xlsx_sheet_choice_and_formulas():
    book = _xlsx({"Notes": pd.DataFrame({"text": ["read me"]}),
                  "Deals": pd.DataFrame({"id": ["D1", "D2"], "amount": [100, "=1+2"],
                                         "stage": ["Won", "Lost"]})})
    assert sheet_names("b.xlsx", book) == ["Notes", "Deals"]
    first = read_upload("b.xlsx", book)
    assert first.sheet == "Notes" and len(first.frame) == 1
    raw = read_upload("b.xlsx", book, sheet="Deals")
    assert raw.frame["id"].tolist() == ["D1", "D2"]
    assert raw.frame["amount"].tolist() == [100, 3]  # the cached value, never the formula
    assert any("formulas" in w for w in raw.warnings)


def test_xlsx_zip_bomb_is_refused_before_opening():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    with pytest.raises(UploadError, match="would expand to"):
        read_upload("bomb.xlsx", buf.getvalue())


def test_parquet_keeps_types(tmp_path):
    frame = pd.DataFrame({"deal_id": ["a", "b"], "amount": [1.5, 2.0],
                          "closed": pd.to_datetime(["2024-01-02", None])})
    path = tmp_path / "d.parquet"
    frame.to_parquet(path)
    raw = read_upload("d.parquet", path.read_bytes())
    assert raw.frame["amount"].tolist() == [1.5, 2.0]
    assert raw.frame["closed"].iloc[0] == pd.Timestamp("2024-01-02")


def test_a_stray_quote_that_swallows_rows_is_rejected_not_merged():
    data = b'deal_id,amount,account\n1,100,"Foo\n2,200,Bar\n3,300,"Baz"\n4,400,Q\n5,500,R\n'
    raw = read_upload("q.csv", data)
    assert raw.frame.deal_id.tolist() == ["4", "5"]
    assert raw.rejected[0].line == 2 and "ran into one cell" in raw.rejected[0].reason
    assert raw.rows_read == 3  # what the reader saw as rows: 1 (merged), 4, 5


def test_a_multiline_address_is_kept():
    data = b'id,address,amount\n1,"12 Main St,\nSpringfield",100\n2,"x",200\n'
    raw = read_upload("a.csv", data)
    assert raw.frame.id.tolist() == ["1", "2"] and raw.rejected == []


def test_mostly_utf8_with_one_windows_1252_line():
    data = "name,city\nSociété Générale,Paris\n".encode() + "Müller,Köln\n".encode("cp1252")
    raw = read_upload("m.csv", data)
    assert raw.frame.name.tolist() == ["Société Générale", "Müller"]
    assert "line(s) 3 in Windows-1252" in raw.notes[0]


def test_numeric_first_line_is_flagged():
    raw = read_upload("n.csv", b"1,2,3\n4,5,6\n7,8,9\n")
    assert any("looks like data" in w for w in raw.warnings)


def test_a_very_long_line_without_separators_is_rejected():
    # Sniffing this used to take 28 s (quadratic in line length); it now sees 4 KB a line.
    raw = read_upload("long.csv", b"a,b\n" + b"x" * 65_000 + b"\n1,2\n")
    assert raw.frame.a.tolist() == ["1"]
    assert raw.rejected[0].line == 2 and raw.rejected[0].reason.startswith("has 1 values")


def test_xlsx_whole_numbers_are_ids_not_floats():
    book = _xlsx({"S": pd.DataFrame({"lead_id": [51234567, 2], "amount": [10.5, 3]})})
    raw = read_upload("ids.xlsx", book)
    assert raw.frame.lead_id.tolist() == [51234567, 2]
    assert raw.frame.amount.tolist() == [10.5, 3]


def test_merged_cells_are_filled_down():
    book = _xlsx({"S": pd.DataFrame({"owner": ["Ann", "", "", "Bo", ""],
                                     "deal_id": ["1", "2", "3", "4", "5"]})})
    source, out = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.endswith("sheet1.xml"):
                data = data.replace(b"</sheetData>", b'</sheetData><mergeCells count="2">'
                                    b'<mergeCell ref="A2:A4"/><mergeCell ref="A5:A6"/>'
                                    b"</mergeCells>")
            z.writestr(info, data)
    raw = read_upload("grouped.xlsx", out.getvalue())
    assert raw.frame.owner.tolist() == ["Ann", "Ann", "Ann", "Bo", "Bo"]
    assert any("2 merged cell range(s)" in n for n in raw.notes)


def test_fast_and_exact_readers_agree_on_a_clean_file(monkeypatch):
    data = fixture_bytes("maven_sales_pipeline_300.csv")  # unquoted, CRLF: the fast path
    fast = read_upload("m.csv", data)
    monkeypatch.setattr("handoff.delimited._engine_table", lambda *args: None)
    exact = read_upload("m.csv", data)
    pd.testing.assert_frame_equal(fast.frame, exact.frame)
    assert [fast.line_of(i) for i in (0, 299)] == [exact.line_of(i) for i in (0, 299)] == [2, 301]
    assert fast.rejected == exact.rejected == []


def test_rows_refused_by_the_reader_and_by_the_rules_are_listed_in_file_order():
    from handoff import pipeline

    body = ("deal_id,stage,amount\nD1,Won,10\nD2,Lost,5\nD3,Won\n,Won,7\nD1,Lost,3\n"
            "D6,Won,1,extra\nD7,Lost,2\n")
    (pending,) = pipeline.prepare([("deals.csv", body.encode())])
    refused = [(r.line, r.reason.split(";")[0]) for r in pending.validation.rejected]
    assert refused == [(4, "has 2 values"), (5, "no deal id"),
                       (6, "repeats deal id 'D1' of line 2"), (7, "has 4 values")]


def test_a_file_left_out_is_named_once():
    junk = bytes(range(256)) * 40
    left = pipeline.prepare([("junk.csv", junk), ("ok.csv", b"deal_id,stage\nA,Won\n")])[0]
    assert left.file_name == "junk.csv"
    assert left.message.startswith("does not look like a text") and "junk.csv" not in left.message
    kept = pipeline.unreadable("x.csv", UploadError("Sheet 'x.csv' of another file"))
    assert kept.message == "Sheet 'x.csv' of another file"  # a message not led by the name


@pytest.mark.parametrize(("stage", "label"), [("mql", "Lead → MQL"), ("sql", "Lead → SQL"),
                                              ("customer", "Lead → customer")])
def test_lead_conversion_labels_keep_acronyms(stage, label):
    assert lead_conversion.label(stage) == label

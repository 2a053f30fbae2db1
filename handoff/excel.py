"""Reading a workbook sheet (XLSX, XLS, ODS) with calamine into a raw table: Excel's cached
values, never its formulas; merged ranges filled; zip bombs refused."""

from __future__ import annotations

import io
import zipfile

from handoff.raw import (
    MAX_COLUMNS,
    MAX_XLSX_UNCOMPRESSED_MB,
    RawTable,
    UploadError,
    named_frame,
)


def workbook(name: str, data: bytes):
    from python_calamine import CalamineWorkbook

    if data[:4] == b"PK\x03\x04":
        _check_zip(name, data)
    elif data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # neither a zip nor an old .xls
        raise UploadError(_not_a_spreadsheet(name, data))
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - calamine raises many types for damaged files
        raise UploadError(f"{name} could not be opened as a spreadsheet. It may be damaged or "
                          "password-protected; open it in Excel and save it again as XLSX or "
                          "CSV.") from None


def _not_a_spreadsheet(name: str, data: bytes) -> str:
    """What a file named like a spreadsheet holds instead, and what to do."""
    head = data[:4096]
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as e:
            texty = e.start >= len(head) - 3  # only a character cut at the sample's end
        else:
            texty = True
        if texty and b"<table" in head.lower():
            return (f"{name} is a web page (HTML) named as a spreadsheet, as some CRMs export "
                    "'Excel' reports. Open it in Excel and save it as XLSX, or export the "
                    "report as CSV.")
        if texty:
            return (f"{name} is named as a spreadsheet but holds plain text (a CSV saved "
                    "with the wrong extension?). Rename it to .csv and upload it again.")
    return (f"{name} is named as a spreadsheet but is not one (an Excel file starts "
            "otherwise). Open it in Excel and save it as XLSX, or export a CSV.")


def _check_zip(name: str, data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except zipfile.BadZipFile:
        raise UploadError(f"{name} is not a valid XLSX file (the archive is damaged or "
                          "truncated). Save it again from Excel and upload it.") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNCOMPRESSED_MB * 1024 * 1024 or total > 200 * max(len(data), 1):
        raise UploadError(f"{name} would expand to {total / 1024 / 1024:,.0f} MB when opened, "
                          "far more than a spreadsheet of its size should. Save the sheet you "
                          "need as CSV and upload that.")


def _has_formulas(data: bytes) -> bool:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        for info in archive.infolist():
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                with archive.open(info) as f:
                    while chunk := f.read(1 << 20):
                        if b"<f>" in chunk or b"<f " in chunk:
                            return True
    except zipfile.BadZipFile:
        return False
    return False


def read_excel(name: str, data: bytes, sheet: str | None) -> RawTable:
    book = workbook(name, data)
    sheets = list(book.sheet_names)
    if not sheets:
        raise UploadError(f"{name} has no worksheets.")
    chosen = sheet if sheet in sheets else sheets[0]
    try:
        sheet_obj = book.get_sheet_by_name(chosen)
        rows = sheet_obj.to_python(skip_empty_area=True)
        merged = _fill_merged(rows, sheet_obj.merged_cell_ranges or [], sheet_obj.start)
    except Exception as e:  # noqa: BLE001 - calamine raises many types for damaged sheets
        raise UploadError(f"{name}, sheet '{chosen}' could not be read "
                          f"({type(e).__name__}). Save it again from Excel.") from None
    notes = [f"Read sheet '{chosen}'" + (f" of {len(sheets)} sheets." if len(sheets) > 1
                                         else ".")]
    if merged:
        notes.append(f"Filled {merged} merged cell range(s) with their value on every row "
                     "they span (grouped report layout).")
    warnings: list[str] = []
    if data[:4] == b"PK\x03\x04" and _has_formulas(data):
        warnings.append("This workbook contains formulas. Handoff reads the values Excel last "
                        "calculated and never runs a formula; if a column comes out empty, "
                        "open the file in Excel, save it, and upload it again.")
    header_at = next((i for i, r in enumerate(rows) if any(_filled(c) for c in r)), None)
    if header_at is None:
        raise UploadError(f"{name}, sheet '{chosen}' is empty. Choose another sheet.")
    header = rows[header_at]
    if len(header) > MAX_COLUMNS:
        raise UploadError(f"{name} has {len(header):,} columns; Handoff reads at most "
                          f"{MAX_COLUMNS:,}.")
    body, numbers = [], []
    for number, r in enumerate(rows[header_at + 1:], start=header_at + 2):
        if any(_filled(c) for c in r):
            padded = list(r)[:len(header)] + [""] * (len(header) - len(r))
            body.append([None if c == "" else _whole(c) for c in padded])
            numbers.append(number)
    _, frame = named_frame(name, header, body, warnings)
    return RawTable(name, frame, "excel", "", sheet=chosen, sheets=sheets, notes=notes,
                    warnings=warnings, lines=numbers)


def _fill_merged(rows: list[list], ranges: list, start: tuple[int, int] | None) -> int:
    """Copy each merged range's top-left value into every cell it covers, in place."""
    top, left = start or (0, 0)
    for (r0, c0), (r1, c1) in ranges:
        r0, r1, c0, c1 = r0 - top, r1 - top, c0 - left, c1 - left
        if not (0 <= r0 < len(rows)) or c0 < 0:
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            for c in range(c0, c1 + 1):
                if c < len(rows[r]):
                    rows[r][c] = value
    return len(ranges)


def _whole(cell: object) -> object:
    """Excel stores every number as a float: 51234567.0 is the id 51234567."""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 2**53:
        return int(cell)
    return cell


def _filled(cell: object) -> bool:
    return cell is not None and str(cell).strip() != ""


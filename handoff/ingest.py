"""Reading an uploaded file's bytes into a table of raw cells, or a message a user can act on.

Nothing here interprets columns (that is `mapping`); this module only answers "what rows and
columns does this file hold?", counting every row it could not read and saying why. The
readers live beside it: `decoding` (encoding, dialect), `delimited` (CSV), `excel`, `parquet`;
the types they return in `raw`.
"""

from __future__ import annotations

import hashlib

from handoff.decoding import decode_text, sniff_dialect
from handoff.delimited import read_delimited
from handoff.excel import read_excel, workbook
from handoff.parquet import read_parquet
from handoff.raw import (
    ACCEPTED_EXTENSIONS,
    EXCEL_EXTENSIONS,
    MAX_COLUMNS,
    MAX_FIELD_CHARS,
    MAX_UPLOAD_MB,
    MAX_XLSX_UNCOMPRESSED_MB,
    TEXT_EXTENSIONS,
    ProgressFn,
    RawTable,
    RejectedRow,
    UploadError,
)

__all__ = ["ACCEPTED_EXTENSIONS", "EXCEL_EXTENSIONS", "MAX_COLUMNS", "MAX_FIELD_CHARS",
           "MAX_UPLOAD_MB", "MAX_XLSX_UNCOMPRESSED_MB", "TEXT_EXTENSIONS", "RawTable",
           "RejectedRow", "UploadError", "decode_text", "read_upload", "sheet_names",
           "sniff_dialect"]


def read_upload(name: str, data: bytes, sheet: str | None = None,
                progress: ProgressFn | None = None,
                max_mb: int = MAX_UPLOAD_MB) -> RawTable:
    """The raw table in an uploaded file; raises UploadError with a message naming the file."""
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > max_mb * 1024 * 1024:
        raise UploadError(f"{name} is {len(data) / 1024 / 1024:,.0f} MB, over the {max_mb} MB "
                          "upload limit. Export a shorter date range, or save it as Parquet.")
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise UploadError(f"{name} is empty: it holds no rows. Check that the export finished "
                          "and upload it again.")
    lower = name.lower()
    if data[:4] == b"PAR1" or lower.endswith(".parquet"):
        table = read_parquet(name, data)
    elif data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" \
            or lower.endswith(EXCEL_EXTENSIONS):
        table = read_excel(name, data, sheet)
    elif data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:4] == b"\x28\xb5\x2f\xfd":
        raise UploadError(f"{name} is a compressed archive. Extract the CSV or XLSX inside it "
                          "and upload that file.")
    else:
        table = read_delimited(name, data, progress)
    table.digest = digest
    _check_usable(table)
    return table


def sheet_names(name: str, data: bytes) -> list[str]:
    """The worksheet names of a workbook (empty for other files)."""
    if not (data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return []
    return workbook(name, data).sheet_names



def _check_usable(table: RawTable) -> None:
    if table.frame.shape[1] == 0:
        raise UploadError(f"{table.file_name} has no usable columns: every column is "
                          "unnamed and empty. Export it again with column headers.")
    if len(table.frame) == 0:
        first = table.rejected[0] if table.rejected else None
        detail = (f" ({len(table.rejected):,} rows could not be read; line {first.line} "
                  f"{first.reason})") if first else ""
        raise UploadError(f"{table.file_name} has a header but no data rows{detail}. "
                          "Check the export's filters and upload it again.")


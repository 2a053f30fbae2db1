"""What a text file is written in: its encoding, its separator and quote, or that it is not
a table at all (binary, a web page, JSON, XML)."""

from __future__ import annotations

import charset_normalizer
import clevercsv

from handoff.raw import UploadError

_NON_LATIN_ENCODINGS = ("cp1251", "koi8", "cp1253", "iso8859_7", "cp1255", "iso8859_8",
                        "cp1256", "iso8859_6", "shift_jis", "cp932", "euc", "gb", "big5",
                        "cp949", "tis_620", "cp874", "iso8859_5", "mac_cyrillic", "hz",
                        "iso2022", "johab", "cp950")



def without_stray_nuls(data: bytes) -> tuple[bytes, str | None]:
    """A text file with a few NUL bytes (a buggy export, a cell pasted from a binary field)
    is read without them, and the warning names their lines; many NULs mean UTF-16 or binary
    data, left to `decode_text`."""
    count = data.count(b"\x00")
    if (not count or count > min(100, len(data) // 1000)  # at most one per 1,000 bytes
            or data.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return data, None
    places, at = [], data.find(b"\x00")
    while at != -1:
        places.append(at)
        at = data.find(b"\x00", at + 1)
    lines = sorted({data.count(b"\n", 0, i) + 1 for i in places})
    shown = ", ".join(f"{n:,}" for n in lines[:10]) + (" …" if len(lines) > 10 else "")
    return data.replace(b"\x00", b""), (
        f"{count:,} NUL character(s) (a byte text files do not hold) were removed, on "
        f"line(s) {shown}. Check those rows in the file if a value there looks wrong.")


def decode_text(name: str, data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(name, data[3:], "utf-8"), "UTF-8 with BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode(name, data, "utf-16"), "UTF-16"
    head = data[:4096]
    if len(head) >= 4 and head.count(b"\x00") > len(head) // 3:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        encoding = "utf-16-le" if odd > even else "utf-16-be"
        return _decode(name, data, encoding), encoding.upper()
    if b"\x00" in data[:65536]:
        raise UploadError(f"{name} does not look like a text, Excel or Parquet file (it holds "
                          "binary data). Export the report as CSV or XLSX and upload that.")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    mixed = _mostly_utf8(data)
    if mixed is not None:
        return mixed
    guess = charset_normalizer.from_bytes(data[:200_000]).best()
    if guess is not None and guess.encoding.startswith(_NON_LATIN_ENCODINGS):
        try:  # a Cyrillic, Greek, Asian… export: trust the detector
            return data.decode(guess.encoding), guess.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    for encoding, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:  # Western exports: Excel's "CSV" is Windows-1252 far more often than anything else
            return data.decode(encoding), label
        except UnicodeDecodeError:
            continue
    raise UploadError(f"{name}: the text encoding could not be recognised. Save it as "
                      "CSV UTF-8 and upload again.")


def _mostly_utf8(data: bytes) -> tuple[str, str] | None:
    """A UTF-8 file with a few Windows-1252 lines (pasted from Excel): decode line by line."""
    lines = data.split(b"\n")
    bad = []
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
    if len(bad) > max(len(lines) // 100, 5):
        return None
    text = "\n".join(line.decode("utf-8") if i + 1 not in set(bad)
                     else line.decode("cp1252", errors="replace")
                     for i, line in enumerate(lines))
    shown = ", ".join(map(str, bad[:5])) + ("…" if len(bad) > 5 else "")
    return text, f"UTF-8, with line(s) {shown} in Windows-1252"


def _decode(name: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise UploadError(f"{name} claims to be {encoding} but byte {e.start:,} is not valid "
                          f"{encoding}. Save it as CSV UTF-8 and upload again.") from None


def sniff_dialect(text: str) -> tuple[str, str]:
    """Delimiter and quote character, detected on the first lines."""
    # Long lines make the detector slow (quadratic): it sees at most 4 KB of each line.
    sample = "\n".join(line[:4096] for line in text[:262144].splitlines()[:200])
    try:
        found = clevercsv.Detector().detect(sample, delimiters=[",", ";", "\t", "|"])
    except Exception:  # noqa: BLE001 - the detector fails in many ways; fall back below
        found = None
    if found is not None and found.delimiter:
        return found.delimiter, found.quotechar or '"'
    first = sample.splitlines()[0] if sample else ""
    delimiter = max([",", ";", "\t", "|"], key=first.count)
    return delimiter, '"'



def reject_other_formats(name: str, text: str) -> None:
    """Files that are text but not a table: a saved web page, JSON, XML."""
    head = text.lstrip("\ufeff \t\r\n")[:200].lower()
    if head.startswith(("<!doctype html", "<html")):
        raise UploadError(f"{name} is a web page (HTML), not an export: perhaps a login or "
                          "error page was saved. Download the export again.")
    if head.startswith(("<?xml", "<")):
        raise UploadError(f"{name} is XML or markup, not a table. Export it as CSV or XLSX.")
    if head.startswith(("{", "[")) and head.rstrip().endswith(("}", "]")) or \
            head.startswith(("{\"", "[{", "[\"")):
        raise UploadError(f"{name} is JSON, not a table. Export it as CSV or XLSX.")



def reject_binary_text(name: str, text: str) -> None:
    sample = text[:20000]
    if not sample:
        return
    control = sum(1 for c in sample if (ord(c) < 32 and c not in "\r\n\t") or c == "\ufffd")
    if control / len(sample) > 0.01:
        raise UploadError(f"{name} does not look like a CSV file: it holds binary or "
                          "unreadable characters. Export the report as CSV or XLSX and upload "
                          "that.")


def delimiter_name(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(d, repr(d))


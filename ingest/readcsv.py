"""Turn a file's bytes into a table of strings, with plain messages for files that are not CSV."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

import pandas as pd

from core.import_result import REJECT_COLUMNS, FileImportError
from core.safe_text import strip_controls
from core.uploads import UploadRefused, check_size, describe, sniff
from ingest.door import nul_field
from ingest.encoding import decode_lines

# What a file that is not CSV really is, by the kind `sniff` reads from its content; kinds not
# named here (programs, GeoPackages, Shapefile parts) are described by `describe`.
_NOT_CSV = {
    "zip": "a zip archive or Excel workbook (.xlsx); save it as CSV first",
    "pdf": "a PDF document",
    "xls": "an old Excel (.xls) or Word file; save it as CSV first",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gzip": "a gzip archive; unpack it first",
}
_TEXT_KINDS = ("text", "json", "kml", "binary")  # binary: refused below with its own words


def sha256_of(data: bytes) -> str:
    """Content fingerprint, so a re-import of the same bytes is recognised."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class FileText:
    """A file's text (control characters removed) and what the reader should know about it."""

    text: str
    notes: list[str] = field(default_factory=list)


@dataclass
class CsvTable:
    """A CSV file read: good records as strings (with spreadsheet row numbers in `_row`), the
    records set aside (ragged, unreadable, holding a NUL) and notes on how it was read."""

    rows: pd.DataFrame
    rejected: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Records read after the header (blank lines are not records)."""
        return len(self.rows) + len(self.rejected)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_HEADER_PREFIX = 65536  # bytes decoded to read a header (the whole file when it is needed)


def decode_text(name: str, data: bytes) -> FileText:
    """Decode UTF-8 (with or without BOM) line by line, reading a line that is not UTF-8 as
    Excel's Windows-1252, and remove control characters; refuses files over the upload limit
    and files whose content is not text, whatever their name."""
    _check_text(name, data)
    decoded = decode_lines(data)
    cleaned = strip_controls(decoded.text)
    return FileText(cleaned.text, [n for n in (decoded.note(), cleaned.note()) if n])


def _check_text(name: str, data: bytes) -> None:
    """Refuse a file over the upload limit, an empty one, and one whose content is not text."""
    try:
        check_size(name, len(data))
    except UploadRefused as exc:
        raise FileImportError(name, exc.reason) from None
    if not data.strip():
        raise FileImportError(name, "the file is empty")
    kind = sniff(data)
    if kind not in _TEXT_KINDS:
        what = _NOT_CSV.get(kind) or describe(data)
        raise FileImportError(name, f"this is not a CSV file: it looks like {what}")
    head = data[:65536]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))  # bytes < 32 but \t\n\r
    if controls > len(head) * 0.01:
        raise FileImportError(name, "this is not a CSV text file: it contains binary data")


def _header(name: str, reader) -> list[str]:
    """The header row's names, stripped; refuses a missing, blank, repeated or NUL header."""
    try:
        header = next(reader)
    except StopIteration:
        raise FileImportError(name, "the file is empty") from None
    except csv.Error as exc:
        raise FileImportError(name, f"the header row cannot be read as CSV: {exc}") from None
    if any("\x00" in h for h in header):
        raise FileImportError(name, "the header row contains a NUL character")
    return [h.strip() for h in header]


def read_header(name: str, data: bytes) -> list[str]:
    """The first row's column names, stripped (raises FileImportError for non-CSV files).

    Only the start of a big file is decoded, when a whole record follows the header there
    (so the header surely ended); otherwise, or if that start cannot be read, the whole file
    is, as read_rows does."""
    _check_text(name, data)
    cut = data.rfind(b"\n", 0, _HEADER_PREFIX) + 1 if len(data) > _HEADER_PREFIX else 0
    if cut:
        text = strip_controls(decode_lines(data[:cut]).text).text
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = _header(name, reader)
            if next(reader, None) is not None:
                return header
        except (FileImportError, csv.Error):
            pass  # read again from the whole file, which says what is wrong
    text = decode_text(name, data).text
    return _header(name, csv.reader(io.StringIO(text, newline="")))


def read_rows(name: str, data: bytes) -> CsvTable:
    """Parse CSV bytes into rows as strings with a `_row` number, and the records set aside:
    ragged or unreadable ones, and any holding a NUL character (no database keeps one).

    Row numbers are spreadsheet rows: the header is row 1, the first record row 2.
    """
    decoded = decode_text(name, data)
    reader = csv.reader(io.StringIO(decoded.text, newline=""))
    header = _header(name, reader)
    if not any(header):
        raise FileImportError(name, "the first row is blank: expected a header row")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise FileImportError(name, f"the header repeats column(s) {', '.join(repeated)}")
    header = [h or f"column {i + 1}" for i, h in enumerate(header)]
    width = len(header)
    good: list[list[str]] = []
    numbers: list[int] = []
    bad: list[dict] = []
    row_number = 1
    has_nul = "\x00" in decoded.text
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            bad.append({"file": name, "row": row_number, "column": None,
                        "reason": f"unreadable CSV row: {exc}", "raw": {}})
            continue
        row_number += 1
        if len(record) == width and not has_nul:  # the common case, checked cheaply
            if record[0].strip() or any(v.strip() for v in record):
                good.append(record)
                numbers.append(row_number)
            continue
        if not record or all(not v.strip() for v in record):
            continue
        nul = nul_field(record, header)
        if nul is not None:
            bad.append({"file": name, "row": row_number, "column": nul,
                        "reason": f"{nul} contains a NUL character (byte 0), which no "
                                  "database keeps: the row is set aside",
                        "raw": _raw(record, header)})
            continue
        if len(record) != width:
            bad.append({"file": name, "row": row_number, "column": None,
                        "reason": f"row has {len(record)} fields but the header has {width}",
                        "raw": {str(i): v for i, v in enumerate(record)}})
            continue
        good.append(record)
        numbers.append(row_number)
    if not good and not bad:
        raise FileImportError(name, "the file has a header row but no data rows")
    rows = pd.DataFrame(good, columns=header, dtype=str) if good else pd.DataFrame(
        columns=header, dtype=str)
    rows["_row"] = numbers
    return CsvTable(rows, pd.DataFrame(bad, columns=REJECT_COLUMNS), decoded.notes)


def _raw(record: list[str], header: list[str]) -> dict[str, str]:
    """A record's fields by column name (by position past the header's width)."""
    return {header[i] if i < len(header) else str(i): v for i, v in enumerate(record)}

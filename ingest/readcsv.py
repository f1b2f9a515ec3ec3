"""Turn a file's bytes into a table of strings, with plain messages for files that are not CSV."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

import pandas as pd

from ingest.door import nul_field, strip_controls
from ingest.encoding import decode_lines
from ingest.result import REJECT_COLUMNS, FileImportError
from ingest.uploads import UploadRefused, check_size, describe, sniff

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


def decode_text(name: str, data: bytes) -> FileText:
    """Decode UTF-8 (with or without BOM) line by line, reading a line that is not UTF-8 as
    Excel's Windows-1252, and remove control characters; refuses files over the upload limit
    and files whose content is not text, whatever their name."""
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
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if controls > len(head) * 0.01:
        raise FileImportError(name, "this is not a CSV text file: it contains binary data")
    decoded = decode_lines(data)
    cleaned = strip_controls(decoded.text)
    return FileText(cleaned.text, [n for n in (decoded.note(), cleaned.note()) if n])


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
    """The first row's column names, stripped (raises FileImportError for non-CSV files)."""
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

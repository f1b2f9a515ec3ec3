"""Reading a file's bytes as a CSV table (ingest/readcsv.py): the real police.uk sample read
row for row as the csv module reads it, spreadsheet row numbers, byte-order marks, Windows-1252
lines, control characters, and records set aside (ragged, NUL) with their reasons; and files
that are not CSV refused in plain words, whatever their name."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from core.import_result import REJECT_COLUMNS, FileImportError
from ingest.readcsv import decode_text, read_header, read_rows, sha256_of
from tests.sample_data import csv_bytes, month_file, read_police

MONTH = "2024-01"


@pytest.fixture(scope="module")
def police():
    """The real 2024-01 street file: its bytes, and header and records read by the csv module."""
    header, rows = read_police(MONTH)
    return month_file(MONTH).read_bytes(), header, rows


def test_the_real_file_is_read_record_for_record(police):
    data, header, rows = police
    table = read_rows("street.csv", data)
    assert len(rows) == 2104
    assert list(table.rows.columns) == [*header, "_row"]
    assert len(table.rows) == table.read == len(rows)
    assert table.rejected.empty and list(table.rejected.columns) == REJECT_COLUMNS
    assert table.notes == []
    # spreadsheet rows: the header is row 1, so the records are rows 2 .. n + 1
    assert table.rows["_row"].tolist() == list(range(2, len(rows) + 2))
    assert table.rows[header].values.tolist() == rows
    assert read_header("street.csv", data) == header
    assert sha256_of(data) == hashlib.sha256(data).hexdigest()
    assert sha256_of(data) != sha256_of(data + b"\r\n")


def test_a_byte_order_mark_is_not_part_of_the_first_column(police):
    _, header, rows = police
    data = csv_bytes(header, rows[:20], encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_rows("bom.csv", data)
    assert table.rows.columns[0] == "Crime ID" == header[0]
    assert table.rows[header].values.tolist() == rows[:20]


def test_a_windows_1252_line_is_read_on_its_own_and_noted(police):
    _, header, rows = police
    edited = [list(r) for r in rows[:10]]
    edited[4][6] = "On or near Caf\u00e9 \u00a35 Street"  # é and £
    lines = csv_bytes(header, edited).split(b"\r\n")
    lines[5] = lines[5].decode("utf-8").encode("cp1252")  # file line 6 = record 5
    table = read_rows("mixed.csv", b"\r\n".join(lines))
    assert table.rows["Location"].tolist() == [r[6] for r in edited]
    assert table.notes == ["1 line(s) were not UTF-8 and were read as Windows-1252 (Excel's "
                           "encoding): line(s) 6"]


def test_control_characters_are_removed_and_their_lines_noted(police):
    _, header, rows = police
    edited = [list(r) for r in rows[:6]]
    edited[1][6] = "On or near \x1b[31mHigh Street"
    edited[3][9] = "Burglary\x07"
    table = read_rows("controls.csv", csv_bytes(header, edited))
    assert table.rows["Location"].iloc[1] == "On or near [31mHigh Street"
    assert table.rows["Crime type"].iloc[3] == "Burglary"
    assert table.notes == ["2 control character(s) (such as ESC) were removed from line(s) 3, 5"]
    assert decode_text("controls.csv", csv_bytes(header, edited)).notes == table.notes


def test_ragged_and_nul_records_are_set_aside_with_row_and_reason(police):
    _, header, rows = police
    edited = [list(r) for r in rows[:8]]
    edited[2] = [*edited[2], "extra"]
    edited[5] = edited[5][:-3]
    edited[6][6] = "On or near \x00 Road"
    data = csv_bytes(header, edited)
    table = read_rows("ragged.csv", data)
    assert table.read == 8 and len(table.rows) == 5
    assert table.rows["_row"].tolist() == [2, 3, 5, 6, 9]
    reasons = table.rejected.set_index("row")
    assert reasons.loc[4, "reason"] == "row has 13 fields but the header has 12"
    assert reasons.loc[7, "reason"] == "row has 9 fields but the header has 12"
    assert reasons.loc[8, "column"] == "Location"
    assert "NUL character" in reasons.loc[8, "reason"]
    assert reasons.loc[8, "raw"]["Crime type"] == edited[6][9]
    assert (table.rejected["file"] == "ragged.csv").all()


def test_blank_lines_are_not_records_but_keep_their_row_numbers(police):
    _, header, rows = police
    text = csv_bytes(header, rows[:3]).replace(b"\r\n", b"\r\n\r\n,,,\r\n", 1)
    table = read_rows("blank.csv", text)
    assert table.read == 3
    assert table.rows["_row"].tolist() == [4, 5, 6]
    assert table.rows["Month"].tolist() == [MONTH] * 3


def test_a_nul_in_the_header_is_refused_and_in_a_short_file_is_binary(police):
    _, header, rows = police
    broken = ["Crime ID", "Mo\x00nth", *header[2:]]
    with pytest.raises(FileImportError, match="the header row contains a NUL character"):
        read_rows("nul.csv", csv_bytes(broken, rows[:200]))
    # a NUL in a few bytes is more than 1% control characters: binary, not text
    with pytest.raises(FileImportError, match="it contains binary data"):
        read_rows("nul.csv", b"Crime ID,Mo\x00nth\r\n1,2\r\n")


def test_blank_header_names_are_numbered(police):
    _, header, rows = police
    named = ["", *header[1:]]
    table = read_rows("noname.csv", csv_bytes(named, rows[:2]))
    assert table.rows.columns[0] == "column 1"


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b" \r\n\r\n", "the file is empty"),
    (b"Crime ID,Month\r\n", "the file has a header row but no data rows"),
    (b"Month,Month,Location\r\n2024-01,2024-01,x\r\n", "the header repeats column(s) Month"),
    (b",,\r\n1,2,3\r\n", "the first row is blank: expected a header row"),
    (b"%PDF-1.7\n1 0 obj", "this is not a CSV file: it looks like a PDF document"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "this is not a CSV file: it looks like a PNG image"),
    (b"\x1f\x8b\x08\x00", "this is not a CSV file: it looks like a gzip archive; unpack it"),
])
def test_files_that_are_not_csv_are_refused_in_plain_words(data, message):
    with pytest.raises(FileImportError) as caught:
        read_rows("upload.csv", data)
    assert caught.value.file == "upload.csv"
    assert caught.value.message.startswith(message)


def test_a_zipped_real_file_and_binary_noise_are_refused(police):
    data, _, _ = police
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{MONTH}-surrey-street.csv", data)
    with pytest.raises(FileImportError, match="it looks like a zip archive or Excel workbook"):
        read_header("street.csv", buffer.getvalue())
    noise = data[:2000] + bytes(range(0, 9)) * 200
    with pytest.raises(FileImportError, match="it contains binary data"):
        read_rows("street.csv", noise)


def test_a_file_over_the_upload_limit_is_refused(police, monkeypatch):
    data, _, _ = police
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "0.1")
    with pytest.raises(FileImportError, match=r"more than the 0\.1 MB that can be uploaded"):
        read_rows("street.csv", data)
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "1")
    assert len(read_rows("street.csv", data).rows) == len(police[2])

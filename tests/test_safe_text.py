"""Text from outside made safe (core/safe_text.py), on the real police.uk sample: control
characters removed with the lines they were on (whatever the line ends), NULs dropped from
single values, values fitted to their database column, spreadsheet formulas guarded in every
CSV cell and header (CSV injection), and table cells turned into JSON-ready values."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from core.safe_text import (
    clean_value,
    csv_text,
    fit,
    formula_safe,
    json_value,
    limit_of,
    safe_csv,
    strip_controls,
    without_controls,
)
from store.models import ImportRun, Incident
from tests.sample_data import month_file, police_dicts


@pytest.fixture(scope="module")
def street_text() -> str:
    """The real 2024-01 street file as text (CRLF line ends, as police.uk writes it)."""
    return month_file("2024-01").read_bytes().decode("utf-8-sig")


def test_a_clean_real_file_is_left_alone(street_text):
    cleaned = strip_controls(street_text)
    assert cleaned.text == street_text
    assert (cleaned.removed, cleaned.lines, cleaned.note()) == (0, [], None)


def test_controls_are_removed_and_their_lines_counted_whatever_the_line_ends(street_text):
    lines = street_text.split("\r\n")
    expected = list(lines)
    expected[2] = "[2J" + lines[2]  # an ANSI clear-screen: ESC goes, the rest is text
    lines[2] = "\x1b" + expected[2]  # ESC on line 3
    assert "On or near" in lines[9]
    lines[9] = lines[9].replace("On or near", "On or\x7f near\x85")  # DEL and C1 on line 10
    cleaned = strip_controls("\r\n".join(lines))
    assert cleaned.text == "\r\n".join(expected)
    assert "\x1b" not in cleaned.text and "\x85" not in cleaned.text
    assert cleaned.removed == 3 and cleaned.lines == [3, 10]
    assert cleaned.note() == ("3 control character(s) (such as ESC) were removed from line(s) "
                              "3, 10")
    # bare CR and LF line ends count as lines too; tab, NUL and the line ends stay
    mixed = strip_controls("a\rb\x1b\nc\td\x00\r\ne\x1b")
    assert mixed.text == "a\rb\nc\td\x00\r\ne" and mixed.lines == [2, 4]


def test_a_long_list_of_lines_is_shortened_in_the_note(street_text):
    lines = street_text.split("\r\n")[:30]
    text = "\r\n".join("\x1b" + line for line in lines)
    cleaned = strip_controls(text)
    assert cleaned.lines == list(range(1, 31))
    assert cleaned.note().endswith("line(s) 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 20 more")


def test_single_values_lose_controls_and_nuls_and_other_types_pass():
    location = police_dicts("2024-01")[0]["Location"]
    assert clean_value(f"\x00{location}\x1b") == location
    assert clean_value("tab\tand\nline") == "tab\tand\nline"
    assert clean_value(51.4318) == 51.4318 and clean_value(None) is None
    assert without_controls(f"{location}\x00\x1b") == location
    assert without_controls(7) == 7


def test_values_are_fitted_to_their_database_column():
    limit = limit_of(Incident.__table__.c.crime_id)
    assert limit == 100
    assert limit_of(Incident.__table__.c.location) is None  # Text: unbounded
    assert limit_of(ImportRun.__table__.c.file_name) is not None
    crime_id = next(r["Crime ID"] for r in police_dicts("2024-01") if r["Crime ID"])
    assert len(crime_id) == 64 and fit(crime_id, limit) == crime_id
    long = crime_id * 2
    cut = fit(long, limit)
    assert len(cut) == limit and cut.endswith("…") and cut[:-1] == long[:limit - 1]
    assert fit(None, 5) is None and fit("abcde", 5) == "abcde" and fit("abcdef", 5) == "abcd…"


@pytest.mark.parametrize(("value", "guarded"), [
    ("=HYPERLINK(\"http://x\",\"click\")", "'=HYPERLINK(\"http://x\",\"click\")"),
    ("+44 1784 446 433", "'+44 1784 446 433"),
    ("-0.5131", "'-0.5131"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("On or near High Street", "On or near High Street"),
    ("", ""),
    (-0.5131, -0.5131),
    (None, None),
])
def test_formulas_are_guarded(value, guarded):
    assert formula_safe(value) == guarded


def test_csv_cells_lose_controls_before_the_formula_check():
    assert csv_text("\x1b=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert csv_text("Burglary\x00") == "Burglary"


def test_a_real_table_as_csv_is_guarded_in_every_text_cell_and_header():
    rows = police_dicts("2024-01")[:50]
    frame = pd.DataFrame(rows)[["Month", "Longitude", "Latitude", "Location", "Crime type"]]
    frame["Longitude"] = frame["Longitude"].replace("", np.nan).astype(float)
    frame.loc[0, "Location"] = "=HYPERLINK(\"http://evil\")"
    frame.loc[1, "Crime type"] = "Burglary\x1b"
    frame = frame.rename(columns={"Month": "=Month"})
    read = list(csv.reader(io.StringIO(safe_csv(frame))))
    assert read[0] == ["'=Month", "Longitude", "Latitude", "Location", "Crime type"]
    assert read[1][3] == "'=HYPERLINK(\"http://evil\")"
    assert read[2][4] == "Burglary"
    # numbers stay numbers (a negative longitude is not text, so is not quoted)
    located = [r for r in read[1:] if r[1]]
    assert located and all(float(r[1]) < 0 for r in located)
    # text latitudes are text: untouched, as they start with a digit
    assert [r[2] for r in read[1:]] == [r["Latitude"] for r in rows]
    assert len(read) == 51


def test_table_cells_become_json_ready_values():
    values = [np.int64(12), np.float64(0.5), np.bool_(True), np.nan, pd.NA, None,
              pd.Timestamp("2024-01-31 10:15"), date(2024, 1, 31), datetime(2024, 1, 31, 9),
              "Staines", 3]
    got = [json_value(v) for v in values]
    assert got == [12, 0.5, True, None, None, None, "2024-01-31T10:15:00", "2024-01-31",
                   "2024-01-31T09:00:00", "Staines", 3]
    assert type(got[0]) is int and type(got[2]) is bool
    assert json.loads(json.dumps(got)) == got

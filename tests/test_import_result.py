"""The one result shape of every import (core/import_result.py), on the real police.uk sample:
a file's summary counts, reject records carrying the raw fields and spreadsheet row numbers,
keys stable across re-imports yet distinct for identical rows, and the file-level error."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.errors import UserError
from core.import_result import (
    INCIDENT_COLUMNS,
    REJECT_COLUMNS,
    FileImport,
    FileImportError,
    rejects_frame,
    stable_keys,
)
from ingest.police import parse_police
from ingest.readcsv import read_rows
from tests.sample_data import csv_bytes, has_coordinates, month_file, police_dicts, read_police

MONTH = "2024-01"


def test_an_empty_result_has_the_shared_columns_and_zero_counts():
    result = FileImport(file="nothing.csv", kind="police")
    assert list(result.accepted.columns) == INCIDENT_COLUMNS
    assert list(result.rejected.columns) == REJECT_COLUMNS
    assert result.summary() == {"file": "nothing.csv", "kind": "police", "dataset": "",
                                "rows": 0, "accepted": 0, "rejected": 0, "error": None,
                                "skipped": None, "notes": []}
    other = FileImport(file="other.csv", kind="council")
    other.notes.append("read as Windows-1252")
    assert result.notes == []  # no list shared between results


def test_the_summary_of_the_real_file_counts_what_the_csv_module_reads():
    rows = police_dicts(MONTH)
    located = sum(has_coordinates(r) for r in rows)
    result = parse_police(month_file(MONTH).name, month_file(MONTH).read_bytes())
    summary = result.summary()
    assert summary["rows"] == len(rows) == summary["accepted"] + summary["rejected"]
    assert summary["accepted"] == located
    assert summary["rejected"] == len(rows) - located > 0
    assert all(type(summary[k]) is int for k in ("rows", "accepted", "rejected"))
    json.dumps(summary)  # ready for the CLI's JSON
    assert list(result.accepted.columns) == INCIDENT_COLUMNS
    assert (result.accepted["month"] == MONTH).all()


def test_reject_records_carry_the_raw_fields_and_row_numbers():
    header, records = read_police(MONTH)
    picked = records[:30] + [r for r in records if not r[4].strip()][:5]  # 5 not located
    table = read_rows("street.csv", csv_bytes(header, picked))
    rows = table.rows
    mask = rows["Longitude"].str.strip() == ""
    assert mask.sum() == 5
    rejects = rejects_frame("street.csv", rows, mask, "Longitude", "Longitude is empty")
    assert list(rejects.columns) == REJECT_COLUMNS
    assert rejects["row"].tolist() == rows.loc[mask, "_row"].tolist()
    assert (rejects["reason"] == "Longitude is empty").all()
    assert (rejects["column"] == "Longitude").all() and (rejects["file"] == "street.csv").all()
    for raw, row_number in zip(rejects["raw"], rejects["row"], strict=True):
        assert list(raw) == header  # no `_row` among the raw fields
        assert list(raw.values()) == picked[row_number - 2]
    # a reason per row, and nothing when no row is picked
    reasons = pd.Series([f"row {n}" for n in rows["_row"]], index=rows.index)
    per_row = rejects_frame("street.csv", rows, mask, "Longitude", reasons)
    assert per_row["reason"].tolist() == [f"row {n}" for n in rejects["row"]]
    none = rejects_frame("street.csv", rows, mask & False, "Longitude", "x")
    assert none.empty and list(none.columns) == REJECT_COLUMNS


def test_identical_rows_get_distinct_keys_that_a_reimport_reproduces():
    rows = police_dicts(MONTH)
    text = pd.Series(["|".join((r["Month"], r["Longitude"], r["Latitude"], r["Crime type"]))
                      for r in rows])
    assert text.duplicated().sum() > 100  # police.uk snaps many incidents to one point
    keys = stable_keys("police", text)
    assert keys.is_unique and keys.str.fullmatch(r"[0-9a-f]{40}").all()
    assert stable_keys("police", text).tolist() == keys.tolist()
    assert not set(stable_keys("council", text)) & set(keys)
    # the first 100 rows alone keep the same keys as in the whole file
    assert stable_keys("police", text[:100]).tolist() == keys[:100].tolist()


def test_a_file_level_error_names_the_file():
    error = FileImportError("street.csv", "the file is empty")
    assert (error.file, error.message) == ("street.csv", "the file is empty")
    assert str(error) == "street.csv: the file is empty"
    assert isinstance(error, UserError)
    with pytest.raises(FileImportError, match="street.csv: not a data.police.uk street-level"):
        parse_police("street.csv", b"Asset ID,Type\r\nRBC-SG-01,signage\r\n")

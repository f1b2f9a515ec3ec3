"""Importing the spreadsheets councils keep (equipment list, past checks), on SQLite and on
PostgreSQL: the bundled example imports whole and never doubles; every kind of bad row is kept
aside with file, row, column and reason while the good rows go in; files that cannot be read
or lack columns are refused whole, naming what was expected and found."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from access.incidents import list_rejects
from registers.checks import check_history
from registers.equipment import add_item, list_items, retire_item
from registers.example import EXAMPLES
from registers.imports import import_checks, import_equipment

NOW = datetime(2026, 11, 28, 12, 0)
USER = "test officer"


def example_rows(name: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a bundled example register file, read with the csv module."""
    with (EXAMPLES / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def as_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_the_example_registers_import_whole_and_never_double(register_db) -> None:
    engine = register_db.engine
    _, items = example_rows("example_equipment.csv")
    _, checks = example_rows("example_checks.csv")
    first = import_equipment(engine, EXAMPLES / "example_equipment.csv", USER, example=True,
                             now=NOW)
    assert (len(first.accepted), len(first.rejected), first.duplicates) == (len(items), 0, 0)
    again = import_equipment(engine, EXAMPLES / "example_equipment.csv", USER, now=NOW)
    assert (len(again.accepted), again.duplicates) == (0, len(items))
    registered = list_items(engine)
    example = registered[registered["example"]]
    assert len(example) == len(items) == 58
    spelthorne = example[example["area_code"] == "E07000213"]
    assert spelthorne["kind"].value_counts().to_dict() == {
        "throw-ring": 20, "throwline": 15, "signage": 6}  # as Spelthorne's plan counts
    first_checks = import_checks(engine, EXAMPLES / "example_checks.csv", USER, now=NOW)
    assert (len(first_checks.accepted), len(first_checks.rejected)) == (len(checks), 0)
    again_checks = import_checks(engine, EXAMPLES / "example_checks.csv", USER, now=NOW)
    assert (len(again_checks.accepted), again_checks.duplicates) == (0, len(checks))
    assert sum(len(check_history(engine, a)) for a in example["asset_id"]) == len(checks)


def test_bad_equipment_rows_are_kept_aside_and_good_rows_go_in(register_db, tmp_path) -> None:
    engine = register_db.engine
    header, rows = example_rows("example_equipment.csv")
    col = {name: i for i, name in enumerate(header)}
    add_item(engine, {"asset_id": "IMP-TAKEN", "kind": "signage", "site": "Elsewhere",
                      "latitude": rows[0][col["Latitude"]],
                      "longitude": rows[0][col["Longitude"]]}, USER, now=NOW)

    def variant(asset: str, **changes) -> list[str]:
        row = list(rows[1])
        row[col["Asset ID"]] = asset
        for name, value in changes.items():
            row[col[name]] = value
        return row

    lat, lon = rows[1][col["Latitude"]], rows[1][col["Longitude"]]
    bad = [
        variant("IMP-GOOD-1"),                                              # row 2
        variant("IMP-CANOE", Type="canoe"),                                 # row 3
        variant("IMP-SWAP", Latitude=lon, Longitude=lat),                   # row 4
        variant("IMP-NOSITE", Site=""),                                     # row 5
        variant("IMP-GOOD-1", Site="a different post"),                     # row 6
        variant("IMP-TAKEN"),                                               # row 7
        variant("IMP-FUTURE", Installed="01/01/2031"),                      # row 8
        variant("IMP-BADDATE", Installed="2021-13-01"),                     # row 9
        variant("IMP-GOOD-2", Type="Lifebuoy"),                             # row 10
        variant("IMP-NOWHERE", Latitude="", Longitude=""),                  # row 11
        variant("IMP-GOOD-1"),                                              # row 12: same again
    ]
    body = as_csv(header, bad).decode() + "IMP-RAGGED,throwline\n"          # row 13
    path = tmp_path / "council_equipment.csv"
    path.write_text(body, encoding="utf-8")
    result = import_equipment(engine, path, USER, now=NOW)
    assert sorted(result.accepted["asset_id"]) == ["IMP-GOOD-1", "IMP-GOOD-2"]
    assert result.duplicates == 1
    found = {int(r["row"]): (r["column"], r["reason"]) for r in
             result.rejected.to_dict("records")}
    assert set(found) == {3, 4, 5, 6, 7, 8, 9, 11, 13}
    assert found[3][0] == "Type" and "not a kind of equipment" in found[3][1]
    assert found[4][0] == "Latitude" and "look swapped" in found[4][1]
    assert found[5][0] == "Site" and "site is required" in found[5][1]
    assert found[6][0] == "Asset ID" and "already used at row 2" in found[6][1]
    assert found[7][0] == "Asset ID" and "already in the register with other details" in \
        found[7][1]
    assert found[8][0] == "Installed" and "in the future" in found[8][1]
    assert found[9][0] == "Installed" and "is not a date" in found[9][1]
    assert found[11][0] == "Latitude" and "no location" in found[11][1]
    assert found[13][0] is None and "fields but the header has" in found[13][1]
    assert all(r["file"] == "council_equipment.csv" for r in result.rejected.to_dict("records"))
    stored = list_rejects(engine)
    stored = stored[stored["file_name"] == "council_equipment.csv"]
    assert sorted(stored["row_number"]) == sorted(found)
    assert list_items(engine).set_index("asset_id").loc["IMP-GOOD-2", "kind"] == "throw-ring"
    # the register's own entry was not overwritten by the spreadsheet
    assert list_items(engine).set_index("asset_id").loc["IMP-TAKEN", "site"] == "Elsewhere"
    again = import_equipment(engine, path, USER, now=NOW)
    assert len(again.accepted) == 0 and again.duplicates == 3
    stored_again = list_rejects(engine)
    assert (stored_again["file_name"] == "council_equipment.csv").sum() == len(found)


def test_a_council_sheet_with_grid_references_and_its_own_headings(register_db,
                                                                   tmp_path) -> None:
    path = tmp_path / "throwlines.csv"
    path.write_text("Asset No,Equipment Type,Grid Ref,Location,Date Installed,Comments\n"
                    "IMP-GR-1,Throw line,TQ 036 715,Staines Bridge steps,01/04/2022,cabinet\n"
                    "IMP-GR-2,Throw bag,TQ 036 7150,Staines Bridge,01/04/2022,\n",
                    encoding="utf-8")
    result = import_equipment(register_db.engine, path, USER, now=NOW)
    assert result.accepted["asset_id"].tolist() == ["IMP-GR-1"]
    assert result.accepted[["easting", "northing"]].values.tolist() == [[503650.0, 171550.0]]
    assert result.rejected[["row", "column"]].values.tolist() == [[3, "Grid Ref"]]


@pytest.mark.parametrize(("name", "body", "words"), [
    ("no_location.csv", b"Asset ID,Type,Site\nX-1,throwline,Bridge\n",
     "missing column(s) latitude or easting or grid reference"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(100), "not a CSV file: it looks like a PNG"),
    ("empty.csv", b"", "the file is empty"),
    ("header_only.csv", b"Asset ID,Type,Site,Latitude,Longitude\n", "no data rows"),
])
def test_equipment_files_that_cannot_be_used_are_refused_whole(register_db, tmp_path, name,
                                                               body, words) -> None:
    before = len(list_items(register_db.engine))
    path = tmp_path / name
    path.write_bytes(body)
    result = import_equipment(register_db.engine, path, USER, now=NOW)
    assert result.error and words in result.error
    assert len(result.accepted) == 0
    assert len(list_items(register_db.engine)) == before


def test_bad_check_rows_are_kept_aside_and_good_rows_go_in(register_db, tmp_path) -> None:
    engine = register_db.engine
    point = {"latitude": "51.4318", "longitude": "-0.5131", "site": "Staines"}
    add_item(engine, {"asset_id": "CHK-1", "kind": "throwline", "installed_on": "2025-01-01",
                      **point}, USER, now=NOW)
    add_item(engine, {"asset_id": "CHK-OLD", "kind": "throw-ring", **point}, USER, now=NOW)
    retire_item(engine, "CHK-OLD", "2026-05-01", "removed", USER, now=NOW)
    path = tmp_path / "checks_2026.csv"
    path.write_text(
        "Asset ID,Date,Time,Checked by,Outcome,Action,Notes\n"
        "CHK-1,03/10/2026,10:15,J. Smith,Present and serviceable,,\n"      # 2 good
        "chk-1,04/11/2026,09:00,J. Smith,OK,none,case differs\n"           # 3 good
        "CHK-NOPE,03/10/2026,10:15,J. Smith,serviceable,,\n"               # 4 unknown item
        "CHK-OLD,03/10/2026,10:15,J. Smith,serviceable,,\n"                # 5 retired
        "CHK-1,03/12/2026,10:15,J. Smith,serviceable,,\n"                  # 6 future
        "CHK-1,03/10/2026,10:15,J. Smith,looked fine,,\n"                  # 7 bad outcome
        "CHK-1,03/10/2026,10:15,,serviceable,,\n"                          # 8 who
        "CHK-1,31/02/2026,10:15,J. Smith,serviceable,,\n"                  # 9 no such day
        "CHK-1,10/31/2026,10:15,J. Smith,serviceable,,\n"                  # 10 US-style
        "CHK-1,03/10/2024,10:15,J. Smith,serviceable,,\n"                  # 11 before install
        "CHK-1,03/10/2026,10:15,J. Smith,Present and serviceable,,\n"      # 12 = row 2
        "CHK-1,05/10/2026,10:15,J. Smith,missing,sent it back,\n"          # 13 bad action
        "CHK-OLD,30/04/2026,10:15,J. Smith,stolen,reported,before retiring\n",  # 14 good
        encoding="utf-8")
    result = import_checks(engine, path, USER, now=NOW)
    assert len(result.accepted) == 3 and result.duplicates == 1
    found = {int(r["row"]): (r["column"], r["reason"]) for r in
             result.rejected.to_dict("records")}
    assert set(found) == {4, 5, 6, 7, 8, 9, 10, 11, 13}
    assert found[4] == ("Asset ID", "no item 'CHK-NOPE' in the equipment register")
    assert found[5][0] == "Asset ID" and "retired on 2026-05-01" in found[5][1]
    assert found[6][0] == "Date" and "in the future" in found[6][1]
    assert found[7][0] == "Outcome" and "not one of" in found[7][1]
    assert found[8][0] == "Checked by" and "who checked is required" in found[8][1]
    assert found[9][0] == "Date" and "is not a date" in found[9][1]
    assert found[10][0] == "Date" and "is not a date" in found[10][1]
    assert found[11][0] == "Date" and "installed on 2025-01-01" in found[11][1]
    assert found[13][0] == "Action" and "not one of" in found[13][1]
    history = check_history(engine, "CHK-1")
    assert history["outcome"].tolist() == ["serviceable", "serviceable"]
    assert check_history(engine, "CHK-OLD")["outcome"].tolist() == ["missing"]
    again = import_checks(engine, path, USER, now=NOW)
    assert len(again.accepted) == 0 and again.duplicates == 4


def test_a_checks_file_without_the_columns_is_refused_whole(register_db, tmp_path) -> None:
    path = tmp_path / "checks.csv"
    path.write_text("Asset,When\nCHK-1,03/10/2026\n", encoding="utf-8")
    result = import_checks(register_db.engine, path, USER, now=NOW)
    assert "missing column(s) checked by, outcome" in result.error
    assert "found Asset, When" in result.error

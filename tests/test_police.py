"""Importing data.police.uk street-level CSVs: the real sample, and real rows corrupted one
field at a time. Expected counts are worked out here with the csv module, not by the importer."""

from __future__ import annotations

import io
import random
import shutil
import struct
import zipfile
import zlib
from collections import Counter

import pytest

from access.incidents import coverage, list_rejects, load_incidents
from ingest.police import POLICE_COLUMNS
from ingest.run import ingest_bytes, ingest_paths
from store.incidents import list_imports
from tests.sample_data import (
    SAMPLE_POLICE,
    csv_bytes,
    has_coordinates,
    month_file,
    police_dicts,
    read_police,
    write_csv,
)

MONTH = "2024-01"
ASB = "Anti-social behaviour"


def located(month: str) -> list[dict[str, str]]:
    return [r for r in police_dicts(month) if has_coordinates(r)]


def unlocated_row_numbers(month: str) -> list[int]:
    """Spreadsheet row numbers (header = 1) of records without coordinates."""
    return [n for n, r in enumerate(police_dicts(month), start=2) if not has_coordinates(r)]


def real_rows(count: int = 20) -> tuple[list[str], list[list[str]]]:
    """The first `count` located records of the 2024-01 file, unmodified."""
    header, rows = read_police(MONTH)
    lon, lat = header.index("Longitude"), header.index("Latitude")
    good = [r for r in rows if r[lon] and r[lat]]
    return header, [list(r) for r in good[:count]]


def corrupted(tmp_path, column: str, value: str, index: int = 4,
              name: str = "2024-01-surrey-street.csv"):
    """20 real rows with one field of record `index` replaced; returns path and its row number."""
    header, rows = real_rows()
    rows[index][header.index(column)] = value
    return write_csv(tmp_path / name, header, rows), index + 2


def single_reject(report) -> dict:
    assert report.accepted == 19
    assert report.rejected == 1
    assert report.files[0]["error"] is None
    return report.files[0]


def stored_single_reject(database, path) -> dict:
    """Import a file with one bad row among 20 and return that row's stored reject record."""
    single_reject(ingest_paths(database.engine, [path]))
    [reject] = list_rejects(database.engine).to_dict("records")
    return reject


# --- the real sample --------------------------------------------------------------------------


def test_real_month_accepts_located_rows_and_rejects_the_rest(fresh_db):
    path = month_file(MONTH)
    expected_accepted = len(located(MONTH))
    expected_rejects = unlocated_row_numbers(MONTH)
    assert expected_accepted == 2014 and len(expected_rejects) == 90  # the bundled file

    report = ingest_paths(fresh_db.engine, [path])

    assert report.accepted == expected_accepted
    assert report.rejected == len(expected_rejects)
    assert report.duplicates == 0
    assert len(load_incidents(fresh_db.engine)) == expected_accepted
    rejects = list_rejects(fresh_db.engine)
    assert sorted(rejects["row_number"]) == expected_rejects
    assert set(rejects["file_name"]) == {str(path)}
    assert set(rejects["reason"]) == {"no map position: the row gives no coordinates"}
    assert set(rejects["column"]) == {"Longitude/Latitude"}
    # the raw record is kept with the reject, so a user can see what was refused
    first = rejects.sort_values("row_number").iloc[0]
    assert first["raw"] == police_dicts(MONTH)[expected_rejects[0] - 2]


def test_stored_incident_keeps_the_police_fields(fresh_db):
    ingest_paths(fresh_db.engine, [month_file(MONTH)])
    source = next(r for r in located(MONTH) if r["Crime ID"] and r["Context"] == "")
    stored = load_incidents(fresh_db.engine)
    row = stored[stored["crime_id"] == source["Crime ID"]]
    assert len(row) == 1
    row = row.iloc[0]
    assert row["month"] == MONTH
    assert row["category"] == source["Crime type"]
    assert row["location"] == source["Location"]
    assert row["lsoa_code"] == source["LSOA code"]
    assert row["outcome"] == source["Last outcome category"]
    assert row["lon"] == pytest.approx(float(source["Longitude"]), abs=1e-9)
    assert row["lat"] == pytest.approx(float(source["Latitude"]), abs=1e-9)
    assert row["located_by"] == "police snap point"
    assert row["source"] == "police.uk" and row["dataset"] == "Surrey Police"
    # Surrey lies roughly between eastings 490-540 km and northings 135-180 km
    assert 490_000 < row["easting"] < 540_000 and 135_000 < row["northing"] < 180_000


def test_asb_rows_without_crime_id_are_accepted(fresh_db):
    expected = [r for r in located(MONTH) if r["Crime type"] == ASB]
    assert expected and all(r["Crime ID"] == "" for r in expected)
    ingest_paths(fresh_db.engine, [month_file(MONTH)])
    asb = load_incidents(fresh_db.engine, categories=[ASB])
    assert len(asb) == len(expected)
    assert asb["crime_id"].isna().all()


def test_identical_asb_rows_at_one_snap_point_are_all_kept(fresh_db):
    rows = located(MONTH)
    key = ("Month", "Longitude", "Latitude", "Location", "LSOA code", "Crime type", "Context")
    groups = Counter(tuple(r[k] for k in key) for r in rows if r["Crime ID"] == "")
    trinity = [g for g in groups if g[3] == "On or near Trinity Close" and g[5] == ASB]
    assert len(trinity) == 1 and groups[trinity[0]] == 2  # two identical real rows
    repeated = {g: n for g, n in groups.items() if n > 1}
    assert len(repeated) > 10

    report = ingest_paths(fresh_db.engine, [month_file(MONTH)])
    assert report.duplicates == 0

    stored = load_incidents(fresh_db.engine, categories=[ASB])
    at_trinity = stored[(stored["location"] == "On or near Trinity Close")]
    assert len(at_trinity) == 2
    lon, lat = float(trinity[0][1]), float(trinity[0][2])
    assert (at_trinity["lon"] == lon).all() and (at_trinity["lat"] == lat).all()
    stored_groups = Counter(zip(stored["location"], stored["lon"], stored["lat"], strict=True))
    for group, count in repeated.items():
        assert stored_groups[(group[3], float(group[1]), float(group[2]))] >= count


def test_folder_in_month_layout_imports_every_month(fresh_db):
    report = ingest_paths(fresh_db.engine, [SAMPLE_POLICE])
    months = sorted(p.name for p in SAMPLE_POLICE.iterdir() if p.is_dir())
    assert len(months) == 24  # 2022-01..2022-11 and 2023-01..2024-01
    assert "2022-12" not in months
    assert [f["file"] for f in report.files] == [str(month_file(m)) for m in months]
    per_month = coverage(fresh_db.engine).set_index("month")["incidents"].to_dict()
    assert per_month == {m: len(located(m)) for m in months}
    assert report.accepted == sum(per_month.values())
    assert report.rejected == sum(len(unlocated_row_numbers(m)) for m in months)


@pytest.mark.parametrize("month", [f"2022-{m:02d}" for m in range(1, 12)])
def test_the_2022_months_are_cut_as_their_provenance_says(month):
    """Each bundled 2022 file: its sha256 in PROVENANCE.md, CRLF lines as published, every row
    of the month and in a sample borough's LSOA or without a location, and the borough rows
    numbered as the shared PROVENANCE.md counts them."""
    import hashlib

    path = month_file(month)
    provenance = (SAMPLE_POLICE.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert hashlib.sha256(path.read_bytes()).hexdigest() in provenance
    assert path.read_bytes().count(b"\r\n") == len(path.read_bytes().splitlines())
    rows = police_dicts(month)
    assert {r["Month"] for r in rows} == {month}
    in_boroughs = [r for r in rows if r["LSOA name"].startswith(("Spelthorne ", "Runnymede ",
                                                                 "Woking "))]
    assert all(not has_coordinates(r) for r in rows if r not in in_boroughs)
    counted = {"2022-01": 1907, "2022-02": 1863, "2022-03": 2098, "2022-04": 2015,
               "2022-05": 2252, "2022-06": 2137, "2022-07": 2154, "2022-08": 2212,
               "2022-09": 1908, "2022-10": 2217, "2022-11": 1992}
    assert len(in_boroughs) == counted[month]
    assert all(len(r["LSOA code"]) == 9 for r in in_boroughs)


def test_reimporting_the_same_file_adds_nothing(fresh_db):
    path = month_file("2023-05")
    n = len(located("2023-05"))
    first = ingest_paths(fresh_db.engine, [path])
    assert (first.accepted, first.duplicates) == (n, 0)

    second = ingest_paths(fresh_db.engine, [path])

    assert second.accepted == 0
    assert second.duplicates == n
    assert len(load_incidents(fresh_db.engine)) == n
    assert len(list_rejects(fresh_db.engine)) == len(unlocated_row_numbers("2023-05"))
    runs = list_imports(fresh_db.engine)
    assert sorted(runs["duplicates"].tolist()) == [0, n]


def test_outcomes_files_in_a_folder_are_skipped(fresh_db, tmp_path):
    folder = tmp_path / "police" / MONTH
    folder.mkdir(parents=True)
    shutil.copy(month_file(MONTH), folder)
    # an outcomes file in the police.uk outcomes layout, from the same real records
    header = POLICE_COLUMNS[:9] + ["Outcome type"]
    outcomes = [[r[c] for c in POLICE_COLUMNS[:9]] + [r["Last outcome category"]]
                for r in police_dicts(MONTH) if r["Crime ID"] and r["Last outcome category"]]
    write_csv(folder / f"{MONTH}-surrey-outcomes.csv", header, outcomes)

    report = ingest_paths(fresh_db.engine, [tmp_path / "police"])

    by_name = {f["file"].rsplit("/", 1)[-1]: f for f in report.files}
    skipped = by_name[f"{MONTH}-surrey-outcomes.csv"]
    assert skipped["skipped"] and "outcomes" in skipped["skipped"]
    assert skipped["accepted"] == 0 and skipped["error"] is None
    assert report.accepted == len(located(MONTH))
    assert len(load_incidents(fresh_db.engine)) == len(located(MONTH))


# --- bad inputs, each made from real rows with one thing broken -------------------------------


def test_missing_columns_is_a_file_error_naming_expected_and_found(fresh_db, tmp_path):
    header, rows = real_rows()
    drop = {header.index("Longitude"), header.index("Crime type")}
    kept = [h for i, h in enumerate(header) if i not in drop]
    path = write_csv(tmp_path / "2024-01-surrey-street.csv", kept,
                     [[v for i, v in enumerate(r) if i not in drop] for r in rows])

    report = ingest_paths(fresh_db.engine, [path])

    assert report.accepted == 0 and report.rejected == 0
    [failed] = report.failed_files
    assert failed["file"] == str(path)
    message = failed["error"]
    assert "missing column(s) Longitude, Crime type" in message
    assert "Expected " + ", ".join(POLICE_COLUMNS) in message
    assert "found " + ", ".join(kept) in message
    assert load_incidents(fresh_db.engine).empty
    assert list_rejects(fresh_db.engine).empty


def test_row_without_coordinates_is_rejected(fresh_db, tmp_path):
    header, rows = real_rows()
    rows[4][header.index("Longitude")] = ""
    rows[4][header.index("Latitude")] = ""
    path = write_csv(tmp_path / "2024-01-surrey-street.csv", header, rows)
    reject = stored_single_reject(fresh_db, path)
    assert (reject["file_name"], reject["row_number"]) == (str(path), 6)
    assert reject["reason"] == "no map position: the row gives no coordinates"


def test_non_numeric_coordinate_is_rejected(fresh_db, tmp_path):
    path, row = corrupted(tmp_path, "Longitude", "-0.51O239")  # letter O for zero
    reject = stored_single_reject(fresh_db, path)
    assert reject["row_number"] == row
    assert reject["column"] == "Longitude"
    assert reject["reason"] == "Longitude '-0.51O239' is not a number"


def test_coordinates_outside_great_britain_are_rejected(fresh_db, tmp_path):
    header, rows = real_rows()
    rows[7][header.index("Longitude")] = "2.352222"  # Paris
    rows[7][header.index("Latitude")] = "48.856613"
    path = write_csv(tmp_path / "2024-01-surrey-street.csv", header, rows)
    reject = stored_single_reject(fresh_db, path)
    assert reject["row_number"] == 9
    assert "outside Great Britain" in reject["reason"]
    assert reject["column"] == "Longitude/Latitude"


def test_swapped_latitude_and_longitude_are_rejected_as_swapped(fresh_db, tmp_path):
    header, rows = real_rows()
    lon, lat = header.index("Longitude"), header.index("Latitude")
    rows[2][lon], rows[2][lat] = rows[2][lat], rows[2][lon]
    path = write_csv(tmp_path / "2024-01-surrey-street.csv", header, rows)
    reject = stored_single_reject(fresh_db, path)
    assert reject["row_number"] == 4
    assert "swapped" in reject["reason"]


def test_invalid_month_is_rejected(fresh_db, tmp_path):
    path, row = corrupted(tmp_path, "Month", "2024-13")
    reject = stored_single_reject(fresh_db, path)
    assert reject["row_number"] == row
    assert reject["column"] == "Month"
    assert reject["reason"] == "Month '2024-13' is not a valid YYYY-MM month"


def test_empty_crime_type_is_rejected(fresh_db, tmp_path):
    path, row = corrupted(tmp_path, "Crime type", "")
    reject = stored_single_reject(fresh_db, path)
    assert reject["row_number"] == row
    assert reject["reason"] == "Crime type is empty"


def test_ragged_row_is_rejected_with_its_field_count(fresh_db, tmp_path):
    header, rows = real_rows()
    rows[10] = rows[10] + ["an extra field"]
    rows[12] = rows[12][:-3]
    path = write_csv(tmp_path / "2024-01-surrey-street.csv", header, rows)

    report = ingest_paths(fresh_db.engine, [path])

    assert (report.accepted, report.rejected) == (18, 2)
    rejects = list_rejects(fresh_db.engine).sort_values("row_number").to_dict("records")
    assert [r["row_number"] for r in rejects] == [12, 14]
    assert rejects[0]["reason"] == "row has 13 fields but the header has 12"
    assert rejects[1]["reason"] == "row has 9 fields but the header has 12"


def test_windows_1252_file_imports_with_text_intact(fresh_db, tmp_path):
    header, rows = real_rows()
    loc = header.index("Location")
    rows[0][loc] = "On or near Café Rouge"
    rows[1][loc] = "On or near £1 Shop"
    path = tmp_path / "2024-01-surrey-street.csv"
    path.write_bytes(csv_bytes(header, rows, encoding="cp1252"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really not UTF-8

    report = ingest_paths(fresh_db.engine, [path])

    assert (report.accepted, report.rejected) == (20, 0)
    locations = set(load_incidents(fresh_db.engine)["location"])
    assert {"On or near Café Rouge", "On or near £1 Shop"} <= locations


def test_utf8_bom_file_recognises_crime_id_column(fresh_db, tmp_path):
    header, rows = real_rows()
    data = csv_bytes(header, rows, encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbfCrime ID,")

    report = ingest_bytes(fresh_db.engine, "2024-01-surrey-street.csv", data)

    assert report.files[0]["error"] is None
    assert report.accepted == 20
    ids = {r[0] for r in rows if r[0]}
    assert ids and set(load_incidents(fresh_db.engine)["crime_id"].dropna()) == ids


def _error_for(engine, tmp_path, data: bytes, name: str = "2024-01-surrey-street.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    report = ingest_paths(engine, [path])
    assert report.accepted == 0 and report.rejected == 0
    [failed] = report.failed_files
    assert failed["file"] == str(path)
    assert load_incidents(engine).empty
    return failed["error"]


def test_empty_file_gives_a_message(fresh_db, tmp_path):
    assert _error_for(fresh_db.engine, tmp_path, b"") == "the file is empty"


def test_header_only_file_gives_a_message(fresh_db, tmp_path):
    header, _ = read_police(MONTH)
    message = _error_for(fresh_db.engine, tmp_path, csv_bytes(header, []))
    assert message == "the file has a header row but no data rows"


def _png() -> bytes:
    """A real 1x1 PNG image, built by the format's rules."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def test_png_renamed_csv_gives_a_message(fresh_db, tmp_path):
    message = _error_for(fresh_db.engine, tmp_path, _png())
    assert message == "this is not a CSV file: it looks like a PNG image"


def test_random_binary_renamed_csv_gives_a_message(fresh_db, tmp_path):
    data = random.Random(20240101).randbytes(4096) + b"\x00" * 16
    message = _error_for(fresh_db.engine, tmp_path, data)
    assert message == "this is not a CSV text file: it contains binary data"


def test_zip_renamed_csv_gives_a_message(fresh_db, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(month_file(MONTH), month_file(MONTH).name)
    message = _error_for(fresh_db.engine, tmp_path, buffer.getvalue())
    assert "zip archive" in message and "save it as CSV" in message


def test_good_rows_of_a_file_with_bad_rows_are_imported(fresh_db, tmp_path):
    header, rows = real_rows(30)
    rows[3][header.index("Month")] = "2024-13"
    rows[9][header.index("Latitude")] = "fifty-one"
    rows[15][header.index("Longitude")] = ""
    rows[15][header.index("Latitude")] = ""
    rows[21] = rows[21][:5]
    path = write_csv(tmp_path / "2024-01-surrey-street.csv", header, rows)

    report = ingest_paths(fresh_db.engine, [path])

    assert (report.accepted, report.rejected) == (26, 4)
    bad = {3, 9, 15, 21}
    stored = load_incidents(fresh_db.engine)
    expected_ids = sorted(r[0] for i, r in enumerate(rows) if i not in bad and r[0])
    assert sorted(stored["crime_id"].dropna()) == expected_ids
    rejects = list_rejects(fresh_db.engine)
    assert sorted(rejects["row_number"]) == [i + 2 for i in sorted(bad)]


def test_markup_in_location_is_stored_verbatim(fresh_db, tmp_path):
    script = "<script>alert(1)</script>"
    header, rows = real_rows()
    rows[0][header.index("Location")] = script
    path = write_csv(tmp_path / "2024-01-surrey-street.csv", header, rows)
    ingest_paths(fresh_db.engine, [path])
    stored = load_incidents(fresh_db.engine)
    assert (stored["location"] == script).sum() == 1

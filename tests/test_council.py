"""Council logs with user-mapped columns, built from real records: 30 Spelthorne police.uk rows
of 2024-01 (category, location, snap point) and real TW18 postcodes from Code-Point Open."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from access.incidents import list_rejects, load_incidents
from core.import_result import FileImportError
from ingest.council import ColumnMapping, guess_mapping, parse_council
from ingest.run import ingest_paths
from tests.sample_data import (
    SPELTHORNE,
    codepoint_rows,
    has_coordinates,
    police_dicts,
    run_cli,
    write_csv,
)

HEADER = ["Ref No", "Date Reported", "Time", "Incident Type", "Postcode", "Easting",
          "Northing", "Latitude", "Longitude", "Details"]
EXPECTED_MAPPING = ColumnMapping(
    date="Date Reported", time="Time", category="Incident Type", postcode="Postcode",
    easting="Easting", northing="Northing", latitude="Latitude", longitude="Longitude",
    reference="Ref No", notes="Details")
KINDS = ("lat/lon", "easting/northing", "postcode")


def source_records(n: int = 30) -> list[tuple[dict, dict]]:
    """Pairs of (real Spelthorne police.uk record, real Spelthorne TW18 postcode)."""
    police = [r for r in police_dicts("2024-01")
              if r["LSOA name"].startswith("Spelthorne") and has_coordinates(r)][:n]
    postcodes = [p for p in codepoint_rows("TW18 ")
                 if p["quality"] == 10 and p["district"] == SPELTHORNE][:n]
    assert len(police) == n and len(postcodes) == n
    return list(zip(police, postcodes, strict=True))


def council_log(n: int = 30) -> tuple[list[dict], list[list[str]]]:
    """A council ASB log: every third row located by lat/lon, E/N or postcode only.

    Rows with lat/lon also carry a postcode (coordinates must win over it). Dates are in
    January 2024, the month of the police records, day-first, half of them with a time.
    """
    specs, rows = [], []
    for i, (crime, pc) in enumerate(source_records(n)):
        kind = KINDS[i % 3]
        day = i % 28 + 1
        when = datetime(2024, 1, day, 8 + i % 12, (i * 7) % 60) if i % 2 else datetime(
            2024, 1, day)
        record = {
            "Ref No": f"SBC/ASB/24/{i + 1:04d}", "Date Reported": f"{day:02d}/01/2024",
            "Time": when.strftime("%H:%M") if i % 2 else "", "Incident Type": crime["Crime type"],
            "Postcode": pc["postcode"] if kind != "easting/northing" else "",
            "Easting": str(pc["easting"]) if kind == "easting/northing" else "",
            "Northing": str(pc["northing"]) if kind == "easting/northing" else "",
            "Latitude": crime["Latitude"] if kind == "lat/lon" else "",
            "Longitude": crime["Longitude"] if kind == "lat/lon" else "",
            "Details": crime["Location"],
        }
        specs.append({"kind": kind, "when": when, "crime": crime, "postcode": pc,
                      "record": record})
        rows.append([record[h] for h in HEADER])
    return specs, rows


def write_log(tmp_path, rows, header=HEADER, name="spelthorne_asb_log.csv"):
    return write_csv(tmp_path / name, header, rows)


def test_guess_mapping_picks_the_council_columns():
    assert guess_mapping(HEADER) == EXPECTED_MAPPING
    other = guess_mapping(["Case Reference", "Date of incident", "ASB Type", "Address",
                           "Post Code", "X", "Y", "Comments"])
    assert other == ColumnMapping(date="Date of incident", category="ASB Type",
                                  location="Address", postcode="Post Code", easting="X",
                                  northing="Y", reference="Case Reference", notes="Comments")


def test_council_rows_located_by_coordinates_grid_or_postcode(fresh_db, tmp_path):
    specs, rows = council_log()
    path = write_log(tmp_path, rows)

    report = ingest_paths(fresh_db.engine, [path])

    assert (report.accepted, report.rejected, report.duplicates) == (30, 0, 0)
    assert report.files[0]["kind"] == "council log"
    stored = load_incidents(fresh_db.engine).set_index("crime_id")
    assert stored["located_by"].value_counts().to_dict() == {
        "exact coordinates": 10, "exact coordinates (OS grid)": 10, "postcode centroid": 10}
    assert set(stored["dataset"]) == {"spelthorne_asb_log"}
    for spec in specs:
        row = stored.loc[spec["record"]["Ref No"]]
        assert row["category"] == spec["crime"]["Crime type"]
        assert row["month"] == "2024-01"
        assert row["occurred_at"] == spec["when"]
        pc = spec["postcode"]
        if spec["kind"] == "lat/lon":
            assert row["located_by"] == "exact coordinates"
            assert row["lon"] == pytest.approx(float(spec["crime"]["Longitude"]), abs=1e-9)
            assert row["lat"] == pytest.approx(float(spec["crime"]["Latitude"]), abs=1e-9)
        elif spec["kind"] == "easting/northing":
            assert row["located_by"] == "exact coordinates (OS grid)"
            assert (row["easting"], row["northing"]) == (pc["easting"], pc["northing"])
        else:
            assert row["located_by"] == "postcode centroid"
            assert (row["easting"], row["northing"]) == (pc["easting"], pc["northing"])
            assert row["postcode"] == pc["postcode"]
        # every row lies in Staines/Spelthorne, whichever way it was located
        assert -0.56 < row["lon"] < -0.38 and 51.37 < row["lat"] < 51.48


@pytest.mark.parametrize(("text", "time", "expected"), [
    ("05/01/2024", "", datetime(2024, 1, 5)),
    ("05/01/2024", "14:30", datetime(2024, 1, 5, 14, 30)),
    ("05/01/2024 14:30", "", datetime(2024, 1, 5, 14, 30)),
    ("03/04/2024", "", datetime(2024, 4, 3)),  # day first: 3 April, not 4 March
    ("2024-01-05", "", datetime(2024, 1, 5)),
    ("2024-01-05", "09:15", datetime(2024, 1, 5, 9, 15)),
    ("2024-01-05T14:30:00", "", datetime(2024, 1, 5, 14, 30)),
])
def test_dates_uk_day_first_and_iso(tmp_path, text, time, expected):
    specs, rows = council_log(3)
    rows[1][HEADER.index("Date Reported")] = text
    rows[1][HEADER.index("Time")] = time
    result = parse_council("log.csv", write_log(tmp_path, rows).read_bytes())
    assert len(result.rejected) == 0
    assert result.accepted.loc[1, "occurred_at"] == expected
    assert result.accepted.loc[1, "month"] == expected.strftime("%Y-%m")


def test_mapping_from_json_file(tmp_path):
    specs, rows = council_log()
    header = ["Log number", "Received", "Problem", "Post code", "Notes"]
    records = [[s["record"]["Ref No"], s["record"]["Date Reported"],
                s["record"]["Incident Type"], s["postcode"]["postcode"],
                s["record"]["Details"]] for s in specs]
    path = write_log(tmp_path, records, header=header)
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps({
        "date": "Received", "category": "Problem", "postcode": "Post code",
        "reference": "Log number", "notes": "Notes", "dataset": "Spelthorne ASB"}))

    mapping = ColumnMapping.from_file(mapping_file)
    result = parse_council(path.name, path.read_bytes(), mapping)

    assert mapping.location_fields() == ["postcode"]
    assert len(result.accepted) == 30 and len(result.rejected) == 0
    assert set(result.accepted["dataset"]) == {"Spelthorne ASB"}
    assert set(result.accepted["located_by"]) == {"postcode centroid"}
    assert list(result.accepted["easting"]) == [s["postcode"]["easting"] for s in specs]


def test_mapping_file_with_unknown_key_is_refused(tmp_path):
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps({"date": "Received", "when": "Time"}))
    with pytest.raises(FileImportError, match="unknown mapping key.*when"):
        ColumnMapping.from_file(mapping_file)


def test_cli_ingest_with_mapping_json(tmp_path):
    specs, rows = council_log()
    path = write_log(tmp_path, rows)
    mapping_file = tmp_path / "m.json"
    mapping_file.write_text(json.dumps({**EXPECTED_MAPPING.to_dict(), "dataset": "ASB log"}))
    url = f"sqlite:///{tmp_path}/cli.sqlite"

    first = run_cli(["ingest", str(path), "--mapping", str(mapping_file), "--json"], url)
    again = run_cli(["ingest", str(path), "--mapping", str(mapping_file), "--json"], url)

    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert set(out) == {"rows", "accepted", "rejected", "duplicates", "files"}
    assert out["rows"] == 30
    assert (out["accepted"], out["rejected"], out["duplicates"]) == (30, 0, 0)
    [summary] = out["files"]
    assert summary["file"] == str(path)
    assert (summary["kind"], summary["dataset"]) == ("council log", "ASB log")
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert (out["accepted"], out["rejected"], out["duplicates"]) == (0, 0, 30)


def test_reimporting_a_council_log_counts_duplicates(fresh_db, tmp_path):
    _, rows = council_log()
    path = write_log(tmp_path, rows)
    assert ingest_paths(fresh_db.engine, [path]).accepted == 30
    again = ingest_paths(fresh_db.engine, [path])
    assert (again.accepted, again.duplicates) == (0, 30)
    assert len(load_incidents(fresh_db.engine)) == 30


FUTURE = (date.today() + timedelta(days=60)).strftime("%d/%m/%Y")
BAD_ROWS = [
    # (row index, changes, column named in the reject, reason)
    (2, {"Postcode": "SW1A 1AA"}, "Postcode",
     "postcode 'SW1A 1AA' is not in the postcode lookup"),
    (5, {"Postcode": "TW18 4ZZZ"}, "Postcode", "postcode 'TW18 4ZZZ' is not a valid UK postcode"),
    (4, {"Date Reported": "31/02/2024", "Time": ""}, "Date Reported",
     "date '31/02/2024' is not a date"),
    (6, {"Date Reported": "12/31/2024", "Time": ""}, "Date Reported",
     "date '12/31/2024' is not a date (expected dd/mm/yyyy"),
    (7, {"Date Reported": FUTURE, "Time": ""}, "Date Reported",
     f"date '{FUTURE}' is in the future"),
    (0, {"Latitude": "171645", "Longitude": "503654"}, "Longitude/Latitude",
     "coordinates 503654, 171645 look like eastings/northings, not longitude/latitude"),
    (3, {"Latitude": "-0.510239", "Longitude": "51.434333"}, "Longitude/Latitude",
     "Latitude and Longitude look swapped"),
    (1, {"Easting": "-0.510239", "Northing": "51.434333"}, "Easting/Northing",
     "look like longitude/latitude"),
]


@pytest.mark.parametrize(("index", "changes", "column", "reason"), BAD_ROWS,
                         ids=["unknown-postcode", "malformed-postcode", "no-such-date",
                              "us-date", "future-date", "bng-in-latlon", "swapped-latlon",
                              "latlon-in-bng"])
def test_bad_council_row_is_set_aside_with_its_reason(fresh_db, tmp_path, index, changes,
                                                      column, reason):
    specs, rows = council_log()
    assert any(rows[index][HEADER.index(k)] != v for k, v in changes.items())
    for key, value in changes.items():
        rows[index][HEADER.index(key)] = value
    path = write_log(tmp_path, rows)

    report = ingest_paths(fresh_db.engine, [path])

    assert (report.accepted, report.rejected) == (29, 1)
    [reject] = list_rejects(fresh_db.engine).to_dict("records")
    assert reject["row_number"] == index + 2
    assert reject["column"] == column
    assert reason in reject["reason"]
    assert reject["raw"]["Ref No"] == specs[index]["record"]["Ref No"]
    stored = set(load_incidents(fresh_db.engine)["crime_id"])
    assert specs[index]["record"]["Ref No"] not in stored


def test_log_without_a_date_column_is_a_file_error_listing_columns(fresh_db, tmp_path):
    _, rows = council_log()
    keep = [HEADER.index(c) for c in ("Ref No", "Incident Type", "Postcode", "Details")]
    path = write_log(tmp_path, [[r[i] for i in keep] for r in rows],
                     header=[HEADER[i] for i in keep])

    report = ingest_paths(fresh_db.engine, [path])

    assert report.accepted == 0
    [failed] = report.failed_files
    assert failed["file"] == str(path)
    assert "no column is mapped to the date" in failed["error"]
    assert failed["error"].endswith("Columns found: Ref No, Incident Type, Postcode, Details")
    assert load_incidents(fresh_db.engine).empty


def test_mapping_naming_an_absent_column_is_a_file_error(tmp_path):
    _, rows = council_log()
    path = write_log(tmp_path, rows)
    mapping = ColumnMapping(date="Date", category="Incident Type", postcode="Postcode")
    with pytest.raises(FileImportError) as caught:
        parse_council(path.name, path.read_bytes(), mapping)
    assert "mapped column(s) not in the file: date -> 'Date'" in caught.value.message
    assert "Columns found: " + ", ".join(HEADER) in caught.value.message

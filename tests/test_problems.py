"""Problem locations on SQLite and on the real PostgreSQL + PostGIS server: a hotspot's outline
adopted and worked with OSARA, partner actions opened and closed, every change kept as an
append-only event with its values before and after, refusals that write nothing, and the
incidents inside an adopted hotspot before and since adoption, checked against the raw
police.uk files. The hotspot profile the JAG clicks is checked the same way."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pytest
import shapely
import shapely.geometry
from pyproj import Transformer
from sqlalchemy import func, select, text

from core.themes import ALL_CRIME
from geo.areas import resolve_area
from hotspots.analysis import find_hotspots
from hotspots.profile import adoption_origin, hotspot_at, hotspot_profile, trend_text
from ingest.run import ingest_paths
from registers.common import RegisterError
from registers.export import actions_csv, problems_csv
from registers.problems import (
    add_action,
    adopt_problem,
    close_problem,
    find_problem_id,
    get_problem,
    list_problems,
    open_actions_within,
    problem_actions,
    problem_incidents,
    reopen_problem,
    update_action,
    update_osara,
)
from store.models import ProblemAction, ProblemEvent, ProblemLocation
from tests.sample_data import BOUNDARIES, SAMPLE_POLICE, SPELTHORNE, police_dicts, run_cli

NOW = datetime(2026, 11, 28, 12, 0)
USER = "test analyst"
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def ward(name: str) -> shapely.Geometry:
    """A bundled 2013 Spelthorne ward outline (WGS84), read with json + shapely."""
    collection = json.loads((BOUNDARIES / f"wards_2013_{SPELTHORNE}.geojson").read_text())
    for feature in collection["features"]:
        if feature["properties"]["WD13NM"] == name:
            return shapely.geometry.shape(feature["geometry"])
    raise KeyError(name)


def adopt(engine, label: str, **overrides) -> int:
    values = dict(area="Spelthorne", name=label, geometry=ward("Staines"),
                  objective="Reduce violence in the town centre at night",
                  origin="test: Staines ward outline", adopted_on=date(2026, 9, 1),
                  recorded_by=USER, now=NOW)
    values.update(overrides)
    return adopt_problem(engine, **values)


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (ProblemLocation, ProblemAction, ProblemEvent))


def test_a_location_is_worked_through_osara_with_every_change_kept(register_db) -> None:
    engine = register_db.engine
    problem_id = adopt(engine, "Staines High Street", theme="Serious violence",
                       scanning="Violence up 39% since spring")
    changed = update_osara(engine, problem_id, {"analysis": "Late-night economy, two venues",
                                                "scanning": "Violence up 39% since spring"},
                           recorded_by=USER, now=NOW)
    assert changed == {"analysis": (None, "Late-night economy, two venues")}  # scanning same
    patrols = add_action(engine, problem_id, action="Joint patrols Fri/Sat 22:00-03:00",
                         lead="Surrey Police", due_on="31/12/2026", measure="Patrol logs",
                         recorded_by=USER, now=NOW)
    lighting = add_action(engine, problem_id, action="Repair lighting in the alley",
                          lead="Spelthorne Borough Council", due_on=date(2026, 10, 1),
                          recorded_by=USER, now=NOW)
    actions = problem_actions(engine, problem_id, today=date(2026, 11, 28))
    assert actions.set_index("action_id").loc[lighting, "overdue"]
    assert not actions.set_index("action_id").loc[patrols, "overdue"]
    row = list_problems(engine, "Spelthorne", today=date(2026, 11, 28)).set_index("id").loc[
        problem_id]
    assert (row["open_actions"], row["overdue_actions"], row["next_due"]) == (
        2, 1, date(2026, 10, 1))

    with pytest.raises(RegisterError, match="2 open actions: close them first"):
        close_problem(engine, problem_id, on=date(2026, 11, 20), assessment="Done",
                      recorded_by=USER, now=NOW)
    update_action(engine, lighting, status="closed", on=date(2026, 11, 2), note="Fixed",
                  recorded_by=USER, now=NOW)
    update_action(engine, patrols, status="Closed", recorded_by=USER, now=NOW)
    close_problem(engine, problem_id, on=date(2026, 11, 28),
                  assessment="Violence down; patrols ended", recorded_by=USER, now=NOW)
    with pytest.raises(RegisterError, match="reopen it before adding actions"):
        add_action(engine, problem_id, action="More", lead="Police", due_on="2026-12-01",
                   recorded_by=USER, now=NOW)
    reopen_problem(engine, problem_id, reason="Violence back in December", recorded_by=USER,
                   now=NOW)

    record = get_problem(engine, problem_id, today=date(2026, 11, 28))
    assert record.problem["status"] == "Open" and record.problem["closed_on"] is None
    assert record.problem["assessment"] == "Violence down; patrols ended"
    assert record.events["kind"].tolist() == [
        "adopted", "OSARA updated", "action added", "action added", "action updated",
        "action updated", "closed", "reopened"]
    closing = record.events.iloc[4]["changes"]
    assert closing["status"] == {"before": "Open", "after": "Closed"}
    assert closing["closed_on"] == {"before": None, "after": "2026-11-02"}
    assert closing["update_note"] == {"before": None, "after": "Fixed"}
    assert "status: Open → Closed" in record.events.iloc[4]["summary"]
    assert set(record.events["recorded_by"]) == {USER}
    assert record.area.equals_exact(shapely.MultiPolygon([ward("Staines")]), 1e-9)
    assert find_problem_id(engine, "staines high street") == problem_id
    # the exports carry the register and the actions, formula-guarded
    assert "Staines High Street" in problems_csv(list_problems(engine))
    assert "Joint patrols Fri/Sat 22:00-03:00" in actions_csv(problem_actions(engine))


def test_history_is_append_only_and_locations_are_closed_not_deleted(register_db) -> None:
    engine = register_db.engine
    problem_id = adopt(engine, "Append only")
    for statement in ("UPDATE problem_events SET kind = 'x'", "DELETE FROM problem_events",
                      f"DELETE FROM problem_locations WHERE id = {problem_id}",
                      "DELETE FROM problem_actions"):
        before = counts(engine)
        with pytest.raises(Exception, match="refused"):
            with engine.begin() as conn:
                conn.execute(text(statement))
        assert counts(engine) == before


BAD_ADOPTIONS = [
    ({"name": "  "}, "name", "the location's name is required"),
    ({"objective": ""}, "objective", "the objective"),
    ({"adopted_on": date(2026, 12, 25)}, "adopted_on", "in the future"),
    ({"adopted_on": "31/02/2026"}, "adopted_on", "is not a date"),
    ({"geometry": shapely.Point(-0.51, 51.43)}, "area", "must be an outline"),
    ({"geometry": shapely.Polygon([(-0.52, 51.43), (-0.50, 51.44), (-0.52, 51.44),
                                   (-0.50, 51.43)])}, "area", "not a valid outline"),
    ({"geometry": shapely.box(-1.30, 52.00, -1.29, 52.01)}, "area",
     "lies wholly outside Spelthorne"),
    ({"geometry": None}, "area", "no outline given"),
    ({"theme": "Parking"}, "theme", "not a priority theme"),
    ({"recorded_by": ""}, "recorded_by", "recorded by is required"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_ADOPTIONS)
def test_a_bad_adoption_is_refused_and_writes_nothing(register_db, overrides, field,
                                                      message) -> None:
    engine = register_db.engine
    before = counts(engine)
    with pytest.raises(RegisterError, match=message) as refused:
        adopt(engine, f"Bad {field}", **overrides)
    assert refused.value.field == field
    assert counts(engine) == before


def test_the_same_name_twice_in_a_borough_is_refused(register_db) -> None:
    engine = register_db.engine
    adopt(engine, "Thames Street")
    before = counts(engine)
    with pytest.raises(RegisterError, match="already has a problem location called"):
        adopt(engine, "THAMES STREET")
    assert counts(engine) == before


BAD_ACTIONS = [
    ({"action": " "}, "action", "the action is required"),
    ({"lead": ""}, "lead", "the lead agency is required"),
    ({"due_on": "next week"}, "due_on", "is not a date"),
    ({"due_on": "2026-08-01"}, "due_on", "before the location was adopted"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_ACTIONS)
def test_a_bad_action_is_refused_and_writes_nothing(register_db, overrides, field,
                                                    message) -> None:
    engine = register_db.engine
    problem_id = adopt(engine, f"Actions {message}")
    before = counts(engine)
    values = dict(action="Patrols", lead="Surrey Police", due_on="2026-12-01",
                  recorded_by=USER, now=NOW)
    values.update(overrides)
    with pytest.raises(RegisterError, match=message) as refused:
        add_action(engine, problem_id, **values)
    assert refused.value.field == field
    assert counts(engine) == before


def test_bad_updates_are_refused_and_write_nothing(register_db) -> None:
    engine = register_db.engine
    problem_id = adopt(engine, "Bad updates")
    action_id = add_action(engine, problem_id, action="Patrols", lead="Police",
                           due_on="2026-12-01", recorded_by=USER, now=NOW)
    before = counts(engine)
    refusals = [
        (lambda: update_action(engine, action_id, status="Done", recorded_by=USER, now=NOW),
         "Open or Closed"),
        (lambda: update_action(engine, action_id, status="Closed", on="2026-12-20",
                               recorded_by=USER, now=NOW), "in the future"),
        (lambda: update_action(engine, 99999, status="Closed", recorded_by=USER, now=NOW),
         "no action with id 99999"),
        (lambda: update_osara(engine, problem_id, {"status": "Closed"}, recorded_by=USER,
                              now=NOW), "only the OSARA fields"),
        (lambda: update_osara(engine, problem_id, {"objective": ""}, recorded_by=USER,
                              now=NOW), "Objective is required"),
        (lambda: close_problem(engine, problem_id, on="2026-11-01", assessment="",
                               recorded_by=USER, now=NOW), "the assessment"),
        (lambda: reopen_problem(engine, problem_id, reason="x", recorded_by=USER, now=NOW),
         "is open already"),
    ]
    for refuse, message in refusals:
        with pytest.raises(RegisterError, match=message):
            refuse()
        assert counts(engine) == before
    assert update_action(engine, action_id, status="Open", recorded_by=USER, now=NOW) == {}
    assert counts(engine) == before  # nothing changed: no event


def test_open_actions_within_a_place(register_db) -> None:
    engine = register_db.engine
    problem_id = adopt(engine, "Within", geometry=ward("Ashford North and Stanwell South"))
    kept = add_action(engine, problem_id, action="Youth outreach", lead="Youth service",
                      due_on="2026-12-15", recorded_by=USER, now=NOW)
    done = add_action(engine, problem_id, action="Remove graffiti", lead="Council",
                      due_on="2026-10-15", recorded_by=USER, now=NOW)
    update_action(engine, done, status="Closed", recorded_by=USER, now=NOW)
    inside = ward("Ashford North and Stanwell South").centroid.buffer(0.001)
    found = open_actions_within(engine, inside, today=date(2026, 11, 28))
    assert found["action"].tolist() == ["Youth outreach"]
    assert found.columns.tolist() == ["problem", "action", "lead", "measure", "due_on",
                                      "status", "overdue"]
    assert not found["overdue"].iloc[0] and kept
    far = ward("Shepperton Town").centroid.buffer(0.001)
    assert "Youth outreach" not in open_actions_within(engine, far)["action"].tolist()


@pytest.fixture(scope="module")
def hotspot_report(sample_db):
    return find_hotspots(sample_db.engine, "Spelthorne", "2023-02", "2024-01")


def raw_points(months: list[str]) -> list[tuple[str, str, float, float]]:
    """(month, crime type, easting, northing) of every located row of the raw police.uk CSVs,
    projected with pyproj (not the code under test) and kept to the whole metre, as the
    product stores them (police.uk's snap points then sit exactly on 50 m cell edges)."""
    rows = []
    for month in months:
        for row in police_dicts(month):
            if row["Longitude"] and row["Latitude"]:
                x, y = TO_BNG.transform(float(row["Longitude"]), float(row["Latitude"]))
                rows.append((month, row["Crime type"], round(x), round(y)))
    return rows


MONTHS = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"]
STORED = [f"2022-{m:02d}" for m in range(1, 12)] + MONTHS  # 2022-12 is not in the sample


def test_a_hotspot_profile_counts_what_lies_inside_it(sample_db, hotspot_report) -> None:
    profile = hotspot_profile(hotspot_report, 1)
    minx, miny, maxx, maxy = profile.outline.bounds
    borough = resolve_area(sample_db.engine, "Spelthorne").boundary
    inside = [(m, t) for m, t, x, y in raw_points(MONTHS[1:])
              if minx - 0.01 <= x <= maxx + 0.01 and miny - 0.01 <= y <= maxy + 0.01
              and borough.contains(shapely.Point(x, y))]
    assert profile.outline.equals(shapely.box(minx, miny, maxx, maxy))  # a grid cell
    assert profile.count == len(inside) == int(hotspot_report.hotspots.iloc[0]["count"])
    by_type = dict(zip(profile.by_type["crime_type"], profile.by_type["count"], strict=True))
    assert by_type == {t: sum(1 for _, k in inside if k == t) for t in {k for _, k in inside}}
    assert profile.by_month["month"].tolist() == MONTHS[1:]
    assert profile.by_month["count"].tolist() == [sum(1 for m, _ in inside if m == month)
                                                  for month in MONTHS[1:]]
    assert profile.context["ward"] == "Staines"
    assert profile.context["area_ha"] == 0.25
    assert profile.repeats["count"].sum() <= profile.count
    centre = profile.outline_wgs84.centroid
    assert hotspot_at(hotspot_report, centre.y, centre.x) == 1
    assert hotspot_at(hotspot_report, 51.2, -0.9) is None  # far outside every hotspot
    with pytest.raises(ValueError, match="no hotspot ranked 9999"):
        hotspot_profile(hotspot_report, 9999)


def test_trend_words() -> None:
    assert trend_text(np.array([2, 3])).startswith("Too few months (2)")
    assert trend_text(np.array([1, 1, 1, 1, 9, 9, 9, 9])).startswith(
        "Rising: 36 in the last 4 months against 4 in the first 4 (+800%): more than chance "
        "would explain")
    assert "within what chance would give" in trend_text(np.array([5, 4, 5, 5, 4, 5]))
    assert trend_text(np.zeros(6, dtype=int)) == "No incidents in the period."


def test_an_adopted_hotspot_counts_incidents_before_and_since(sample_db,
                                                              hotspot_report) -> None:
    engine = sample_db.engine
    profile = hotspot_profile(hotspot_report, 1)
    problem_id = adopt_problem(engine, area="Spelthorne", name="Hotspot 1",
                               geometry=profile.outline_wgs84, objective="Reduce violence",
                               origin=adoption_origin(hotspot_report, 1),
                               adopted_on=date(2023, 8, 1), recorded_by=USER, now=NOW)
    result = problem_incidents(engine, problem_id)
    minx, miny, maxx, maxy = profile.outline.bounds
    expected = {month: 0 for month in STORED}
    for month, _, x, y in raw_points(STORED):
        if minx - 0.01 <= x <= maxx + 0.01 and miny - 0.01 <= y <= maxy + 0.01:
            expected[month] += 1
    assert result.by_month.set_index("month")[ALL_CRIME].to_dict() == expected
    assert result.start_month == "2023-08"
    assert result.by_month.set_index("month").loc["2023-08", "period"] == "month adopted"
    total = result.by_type.set_index("crime_type").loc[ALL_CRIME]
    assert total["before"] == sum(expected[m] for m in STORED if m < "2023-08")
    assert total["after"] == sum(expected[m] for m in STORED if m > "2023-08")
    assert "Hotspot 1 of" in get_problem(engine, problem_id).problem["origin"]


def test_adopted_outline_survives_on_postgis(register_db) -> None:
    """On PostGIS the outline is a real geometry: its area in m² matches the ward's."""
    engine = register_db.engine
    problem_id = adopt(engine, "PostGIS area")
    if register_db.backend != "postgresql":
        assert get_problem(engine, problem_id).problem["area_ha"] > 0
        return
    with engine.connect() as conn:
        kind, srid, area_m2 = conn.execute(text(
            "SELECT GeometryType(area), ST_SRID(area), ST_Area(ST_Transform(area, 27700)) "
            "FROM problem_locations WHERE id = :id"), {"id": problem_id}).one()
    assert (kind, srid) == ("MULTIPOLYGON", 4326)
    expected = shapely.transform(ward("Staines"), lambda xy: np.column_stack(
        TO_BNG.transform(xy[:, 0], xy[:, 1]))).area
    assert area_m2 == pytest.approx(expected, rel=1e-3)


def test_incidents_load_before_adoption_on_both_databases(register_db) -> None:
    """The before/since count runs on PostgreSQL too (one month of real data)."""
    engine = register_db.engine
    ingest_paths(engine, [SAMPLE_POLICE / "2024-01"])
    problem_id = adopt(engine, "One month", adopted_on=date(2023, 12, 1))
    result = problem_incidents(engine, problem_id)
    assert result.months_after == ["2024-01"] and result.months_before == []
    assert "No month before the location was adopted is loaded" in " ".join(result.notes)
    assert result.by_type.set_index("crime_type").loc[ALL_CRIME, "after"] > 50


def test_the_command_line_adopts_a_hotspot_and_works_it(sample_db, tmp_path) -> None:
    url = sample_db.url

    def cli(*args: str):
        return run_cli(list(args), url)

    adopted = cli("problems", "adopt", "--area", "Spelthorne", "--name", "CLI hotspot",
                  "--objective", "Cut violence", "--hotspot", "1", "--from", "2023-02",
                  "--to", "2024-01", "--adopted", "2023-08-01")
    assert adopted.returncode == 0, adopted.stderr
    assert "Hotspot 1 of Where it happened most (weighted counts)" in adopted.stdout
    added = cli("problems", "action", "cli hotspot", "--action", "Patrols", "--lead",
                "Surrey Police", "--due", "2023-09-30")
    assert added.returncode == 0 and "Added action" in added.stdout
    shown = cli("problems", "show", "CLI hotspot", "--json")
    record = json.loads(shown.stdout)
    assert record["actions"][0]["lead"] == "Surrey Police" and record["actions"][0]["overdue"]
    totals = {r["crime_type"]: (r["before"], r["after"]) for r in record["incidents"]}
    library = problem_incidents(sample_db.engine, find_problem_id(sample_db.engine,
                                                                  "CLI hotspot"))
    assert totals[ALL_CRIME] == tuple(library.by_type.set_index("crime_type").loc[
        ALL_CRIME, ["before", "after"]]) and totals[ALL_CRIME][0] > 50
    refused = cli("problems", "close", "CLI hotspot", "--on", "2023-10-01", "--assessment",
                  "done")
    assert refused.returncode == 1 and "1 open action: close them first" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = cli("problems", "adopt", "--area", "Spelthorne", "--name", "X", "--objective",
                  "Y", "--hotspot", "9999", "--from", "2023-02", "--to", "2024-01")
    assert missing.returncode == 1 and "no hotspot ranked 9999" in missing.stderr
    out = tmp_path / "problems.csv"
    exported = cli("problems", "export", "--out", str(out))
    assert exported.returncode == 0
    assert "CLI hotspot" in out.read_text() and "Patrols" in (
        tmp_path / "problems_actions.csv").read_text()

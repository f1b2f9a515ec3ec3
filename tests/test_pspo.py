"""The PSPO register on SQLite and on the real PostgreSQL + PostGIS server: the Act's 3-year
rule, the 90-day warning, review cadence, extensions and variations, areas from real files
(GeoJSON, KML, zipped Shapefile, any CRS), refusals that write nothing, and incidents inside
an order before and after it was made, checked against the raw police.uk files.

Areas are real ONS ward outlines from the bundled sample standing in for orders' maps (no
council publishes its PSPO maps as data).
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.geometry
from pyproj import Transformer
from sqlalchemy import func, select, text

from core.themes import ALL_CRIME
from geo.areas import resolve_area
from geo.crs import reproject
from geo.joins import attribute_incidents, context_layers
from geo.pspo_outlines import orders_in_force
from hotspots.analysis import area_incidents
from ingest.run import ingest_paths
from registers.common import RegisterError
from registers.export import orders_geojson
from registers.outlines import read_area_file
from registers.pspo import (
    Condition,
    add_order,
    discharge_order,
    extend_order,
    get_order,
    list_orders,
    review_order,
    vary_order,
)
from registers.pspo_incidents import order_incidents
from report.summary import incident_summary
from store.models import PspoCondition, PspoEvent, PspoOrder
from tests.sample_data import BOUNDARIES, SAMPLE_POLICE, SPELTHORNE, police_dicts

NOW = datetime(2026, 11, 28, 12, 0)
USER = "test officer"
ALCOHOL = Condition.parse("prohibition", "Drinking alcohol when asked to stop | times: at all "
                          "times | exempt: licensed premises")


def ward(name: str, code: str = SPELTHORNE) -> shapely.Geometry:
    """A bundled 2013 ward outline (WGS84), read with json + shapely (not the code under test)."""
    collection = json.loads((BOUNDARIES / f"wards_2013_{code}.geojson").read_text())
    for feature in collection["features"]:
        if feature["properties"]["WD13NM"] == name:
            return shapely.geometry.shape(feature["geometry"])
    raise KeyError(name)


def new_order(engine, ref: str, **overrides) -> int:
    values = dict(area="Spelthorne", reference=ref, name=f"Order {ref}",
                  geometry=ward("Staines"), made_on=date(2025, 1, 6),
                  expires_on=date(2028, 1, 6), conditions=[ALCOHOL], recorded_by=USER,
                  area_source="test: Staines ward outline", now=NOW)
    values.update(overrides)
    return add_order(engine, **values)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_an_order_is_stored_with_its_area_conditions_and_history(register_db) -> None:
    engine = register_db.engine
    order_id = new_order(engine, "ADD-1", review_every_days=42,
                         published_url="https://example.gov.uk/pspo.pdf",
                         conditions=[ALCOHOL, Condition.checked("requirement",
                                                                "Surrender alcohol when asked")])
    record = get_order(engine, order_id, today=date(2025, 2, 1))
    assert record.status == "in force"
    assert record.area_name == "Spelthorne"
    assert record.area.equals_exact(shapely.MultiPolygon([ward("Staines")]), 1e-9)
    assert record.next_review == date(2025, 2, 17)  # made + 42 days
    assert record.conditions[["kind", "wording", "times", "exemptions"]].values.tolist() == [
        ["prohibition", "Drinking alcohol when asked to stop", "at all times",
         "licensed premises"],
        ["requirement", "Surrender alcohol when asked", None, None]]
    assert record.events["kind"].tolist() == ["made"]
    with engine.connect() as conn:
        if register_db.backend == "postgresql":  # a real PostGIS geometry in WGS84
            kind, srid, area_m2 = conn.execute(text(
                "SELECT GeometryType(area), ST_SRID(area), "
                "ST_Area(ST_Transform(area, 27700)) FROM pspo_orders WHERE id = :id"),
                {"id": order_id}).one()
            assert (kind, srid) == ("MULTIPOLYGON", 4326)
        else:  # WKB that any GIS reads
            wkb = conn.execute(text("SELECT area FROM pspo_orders WHERE id = :id"),
                               {"id": order_id}).scalar_one()
            area_m2 = reproject(shapely.from_wkb(wkb), 4326, 27700).area
    expected = reproject(ward("Staines"), 4326, 27700).area
    assert area_m2 == pytest.approx(expected, rel=1e-3)


def test_an_expiry_beyond_three_years_is_refused_and_nothing_is_written(register_db) -> None:
    engine = register_db.engine
    before = (count(engine, PspoOrder), count(engine, PspoCondition), count(engine, PspoEvent))
    with pytest.raises(RegisterError) as refused:
        new_order(engine, "TOO-LONG", made_on=date(2024, 3, 1), expires_on=date(2027, 3, 2))
    assert "at most 3 years" in str(refused.value)
    assert "must expire by 2027-03-01, not 2027-03-02" in str(refused.value)
    assert refused.value.field == "expires_on"
    after = (count(engine, PspoOrder), count(engine, PspoCondition), count(engine, PspoEvent))
    assert after == before
    # exactly three years is allowed
    new_order(engine, "THREE-YEARS", made_on=date(2024, 3, 1), expires_on=date(2027, 3, 1))


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"made_on": date(2026, 12, 1), "expires_on": date(2027, 12, 1)}, "made_on",
     "in the future"),
    ({"expires_on": date(2024, 1, 1)}, "expires_on", "must come after"),
    ({"conditions": []}, "conditions", "must prohibit or require something"),
    ({"reference": "  "}, "reference", "reference is required"),
    ({"published_url": "javascript:alert(1)"}, "published_url", "https://"),
    ({"review_every_days": 0}, "review_every_days", "1 to 366 days"),
    ({"geometry": None}, "area", "no outline"),
    ({"geometry": shapely.Point(-0.51, 51.43)}, "area", "must be an outline"),
])
def test_bad_order_details_are_refused_with_the_field(register_db, overrides, field,
                                                      words) -> None:
    engine = register_db.engine
    before = count(engine, PspoOrder)
    with pytest.raises(RegisterError) as refused:
        new_order(engine, f"BAD-{field}", **overrides)
    assert refused.value.field == field
    assert words in str(refused.value)
    assert count(engine, PspoOrder) == before


def test_an_invalid_outline_is_refused_naming_where_it_crosses(register_db) -> None:
    minx, miny, maxx, maxy = ward("Staines").bounds
    bow_tie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    with pytest.raises(RegisterError, match="not a valid outline .*Self-intersection"):
        new_order(register_db.engine, "BOW-TIE", geometry=bow_tie)


def test_an_outline_outside_the_borough_is_refused(register_db) -> None:
    woking_ward = ward("Goldsworth East", "E07000217")
    with pytest.raises(RegisterError, match="lies wholly outside Spelthorne"):
        new_order(register_db.engine, "WRONG-BOROUGH", geometry=woking_ward)
    half_out = ward("Staines").union(ward("Egham Town", "E07000212"))
    with pytest.raises(RegisterError, match=r"has \d+% of its area outside Spelthorne"):
        new_order(register_db.engine, "HALF-OUT", geometry=half_out)


def test_a_reference_is_used_once_per_borough(register_db) -> None:
    new_order(register_db.engine, "ONCE")
    with pytest.raises(RegisterError, match="already has an order with reference 'ONCE'"):
        new_order(register_db.engine, "ONCE")
    assert len(list_orders(register_db.engine).query("reference == 'ONCE'")) == 1


def test_expiry_warning_starts_90_days_before(register_db) -> None:
    engine = register_db.engine
    order_id = new_order(engine, "WARN", made_on=date(2023, 6, 1),
                         expires_on=date(2026, 6, 1))

    def alerts(day: date) -> str:
        orders = list_orders(engine, today=day)
        return orders.loc[orders["id"] == order_id, "alerts"].iloc[0]

    assert "expires" not in alerts(date(2026, 3, 2))  # 91 days before
    assert "expires in 90 days, on 1 June 2026" in alerts(date(2026, 3, 3))
    assert "expires in 1 day" in alerts(date(2026, 5, 31))
    after = list_orders(engine, today=date(2026, 6, 1)).set_index("id").loc[order_id]
    assert after["status"] == "expired" and after["alerts"] == ""


def test_review_cadence_and_overdue_reviews(register_db) -> None:
    engine = register_db.engine
    order_id = new_order(engine, "REVIEW", made_on=date(2025, 1, 6), review_every_days=42)

    def state(day: date):
        return list_orders(engine, today=day).set_index("id").loc[order_id]

    assert state(date(2025, 2, 17))["alerts"] == ""  # due that day, not overdue
    overdue = state(date(2025, 3, 1))
    assert "review overdue by 12 days (was due 17 February 2025)" in overdue["alerts"]
    review_order(engine, order_id, on=date(2025, 3, 3), notes="JAG", recorded_by=USER, now=NOW)
    assert state(date(2025, 3, 4))["next_review"] == date(2025, 4, 14)
    assert state(date(2025, 3, 4))["alerts"] == ""


def test_extensions_follow_the_act(register_db) -> None:
    engine = register_db.engine
    order_id = new_order(engine, "EXTEND", made_on=date(2023, 2, 1),
                         expires_on=date(2026, 2, 1))
    with pytest.raises(RegisterError, match="must expire by 2029-01-10"):
        extend_order(engine, order_id, on=date(2026, 1, 10), expires_on=date(2029, 2, 1),
                     recorded_by=USER, now=NOW)
    with pytest.raises(RegisterError, match="must be later than the current one"):
        extend_order(engine, order_id, on=date(2026, 1, 10), expires_on=date(2025, 12, 1),
                     recorded_by=USER, now=NOW)
    extend_order(engine, order_id, on=date(2026, 1, 10), expires_on=date(2029, 1, 10),
                 notes="after consultation", recorded_by=USER, now=NOW)
    record = get_order(engine, order_id, today=date(2026, 6, 1))
    assert record.order["expires_on"] == date(2029, 1, 10)
    assert record.status == "in force"
    assert record.events[["kind", "expires_on"]].values.tolist() == [
        ["made", date(2026, 2, 1)], ["extended", date(2029, 1, 10)]]

    lapsed = new_order(engine, "LAPSED", made_on=date(2022, 1, 3), expires_on=date(2025, 1, 3))
    with pytest.raises(RegisterError, match="an expired order cannot be extended"):
        extend_order(engine, lapsed, on=date(2025, 2, 1), expires_on=date(2027, 1, 1),
                     recorded_by=USER, now=NOW)
    discharge_order(engine, order_id, on=date(2026, 6, 2), notes="no longer needed",
                    recorded_by=USER, now=NOW)
    with pytest.raises(RegisterError, match="was discharged on 2026-06-02"):
        extend_order(engine, order_id, on=date(2026, 7, 1), expires_on=date(2029, 7, 1),
                     recorded_by=USER, now=NOW)
    statuses = list_orders(engine, today=date(2026, 11, 1)).set_index("reference")["status"]
    assert statuses["EXTEND"] == "discharged"
    assert statuses["LAPSED"] == "expired"


def test_a_variation_keeps_the_old_conditions_and_records_the_new_area(register_db) -> None:
    engine = register_db.engine
    order_id = new_order(engine, "VARY")
    smaller = ward("Staines").buffer(-0.002)
    vary_order(engine, order_id, on=date(2025, 6, 2), notes="area reduced; dogs added",
               geometry=smaller, area_source="varied map",
               conditions=[ALCOHOL, Condition.parse("requirement", "Dogs on leads")],
               recorded_by=USER, now=NOW)
    record = get_order(engine, order_id, today=date(2025, 7, 1))
    assert record.area.equals_exact(shapely.MultiPolygon([smaller]), 1e-9)
    active = record.conditions[record.conditions["active"]]
    assert active["wording"].tolist() == ["Drinking alcohol when asked to stop", "Dogs on leads"]
    assert (~record.conditions["active"]).sum() == 1  # the original, kept
    assert record.events["kind"].tolist() == ["made", "varied"]
    with pytest.raises(RegisterError, match="what the variation changed is required"):
        vary_order(engine, order_id, on=date(2025, 6, 3), notes="", recorded_by=USER, now=NOW)


def test_register_history_cannot_be_deleted(register_db) -> None:
    engine = register_db.engine
    order_id = new_order(engine, "KEEP")
    for statement in (f"DELETE FROM pspo_events WHERE order_id = {order_id}",
                      f"UPDATE pspo_events SET notes = 'x' WHERE order_id = {order_id}",
                      f"DELETE FROM pspo_orders WHERE id = {order_id}"):
        with pytest.raises(Exception, match="refused"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    assert get_order(engine, order_id).events["kind"].tolist() == ["made"]


def test_areas_from_geojson_kml_and_zipped_shapefile_in_any_crs(register_db, tmp_path) -> None:
    staines = gpd.GeoDataFrame({"name": ["Staines PSPO"]}, geometry=[ward("Staines")],
                               crs=4326)
    staines.to_crs(27700).to_file(tmp_path / "order_bng.geojson", driver="GeoJSON")
    staines.to_file(tmp_path / "order.kml", driver="KML")
    shape_dir = tmp_path / "shp"
    shape_dir.mkdir()
    staines.to_crs(27700).to_file(shape_dir / "order.shp")
    with zipfile.ZipFile(tmp_path / "order.zip", "w") as bundle:
        for part in shape_dir.iterdir():
            bundle.write(part, part.name)
    expected = reproject(ward("Staines"), 4326, 27700).area
    for name in ("order_bng.geojson", "order.kml", "order.zip"):
        geometry, source = read_area_file(tmp_path / name)
        assert source == name
        area = reproject(geometry, 4326, 27700).area
        assert area == pytest.approx(expected, rel=1e-3), name
        new_order(register_db.engine, f"FILE-{name}", geometry=geometry, area_source=source)


def test_area_files_that_cannot_be_trusted_are_refused(tmp_path) -> None:
    staines = gpd.GeoDataFrame({"name": ["A"]}, geometry=[ward("Staines")], crs=4326)
    # eastings/northings in a file that says WGS84
    staines.to_crs(27700).set_crs(4326, allow_override=True).to_file(
        tmp_path / "mislabelled.geojson", driver="GeoJSON")
    with pytest.raises(RegisterError, match="look like British National Grid metres"):
        read_area_file(tmp_path / "mislabelled.geojson")
    (tmp_path / "notes.kml").write_text("these are not the order's map")
    with pytest.raises(RegisterError, match="cannot be read"):
        read_area_file(tmp_path / "notes.kml")
    minx, miny, maxx, maxy = ward("Staines").bounds
    bow = gpd.GeoDataFrame({"name": ["Bow"]}, geometry=[shapely.Polygon(
        [(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])], crs=4326)
    bow.to_file(tmp_path / "bow.geojson", driver="GeoJSON")
    with pytest.raises(RegisterError, match="feature 'Bow' is not a valid outline"):
        read_area_file(tmp_path / "bow.geojson")
    two = gpd.GeoDataFrame({"name": ["North", "South"]},
                           geometry=[ward("Staines"), ward("Staines South")], crs=4326)
    two.to_file(tmp_path / "two.geojson", driver="GeoJSON")
    merged, source = read_area_file(tmp_path / "two.geojson")
    assert source == "two.geojson (2 features merged)"
    one, _ = read_area_file(tmp_path / "two.geojson", feature="south")
    assert one.equals_exact(ward("Staines South"), 1e-9)
    with pytest.raises(RegisterError, match="no feature named 'East'"):
        read_area_file(tmp_path / "two.geojson", feature="East")


def test_user_text_is_stored_as_given(register_db) -> None:
    engine = register_db.engine
    name = "<script>alert('x')</script> Café & \"Bridge\" =SUM(A1)"
    order_id = new_order(engine, "TEXT", name=name,
                         conditions=[Condition.parse("prohibition", "No <b>fires</b> | times: "
                                                     "22:00–06:00")])
    record = get_order(engine, order_id)
    assert record.order["name"] == name
    assert record.conditions["wording"].iloc[0] == "No <b>fires</b>"
    assert record.conditions["times"].iloc[0] == "22:00–06:00"
    exported = json.loads(orders_geojson(engine, list_orders(engine)))
    names = [f["properties"]["name"] for f in exported["features"]]
    assert name in names


@pytest.fixture(scope="module")
def incidents_db(register_db):
    """The register database with the whole bundled police.uk sample imported."""
    ingest_paths(register_db.engine, [SAMPLE_POLICE])
    return register_db


def test_incidents_before_and_after_match_the_raw_files(incidents_db) -> None:
    engine = incidents_db.engine
    order_id = new_order(engine, "BEFORE-AFTER", made_on=date(2023, 7, 3),
                         expires_on=date(2026, 7, 3))
    result = order_incidents(engine, order_id)
    # the same count from the raw CSVs with csv + pyproj + shapely
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    staines = shapely.transform(ward("Staines"), lambda xy: np.column_stack(
        to_bng.transform(xy[:, 0], xy[:, 1])))
    borough = resolve_area(engine, "Spelthorne").boundary
    expected: dict[str, int] = {}
    stored = ([f"2022-{m:02d}" for m in range(1, 12)]  # 2022-12 is not in the sample
              + [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"])
    for month in stored:
        n = 0
        for row in police_dicts(month):
            if row["Longitude"] and row["Latitude"]:
                point = shapely.Point(to_bng.transform(float(row["Longitude"]),
                                                       float(row["Latitude"])))
                n += staines.contains(point) and borough.contains(point)
        expected[month] = n
    by_month = result.by_month.set_index("month")[ALL_CRIME].to_dict()
    assert by_month == expected
    assert result.months_before == stored[:11] + [f"2023-0{m}" for m in range(1, 7)]
    assert result.months_after == ["2023-08", "2023-09", "2023-10", "2023-11", "2023-12",
                                   "2024-01"]
    total = result.by_type.set_index("crime_type").loc[ALL_CRIME]
    assert total["before"] == sum(expected[m] for m in result.months_before)
    assert total["after"] == sum(expected[m] for m in result.months_after)
    assert total["before"] > 300 and total["after"] > 300
    assert result.by_month.set_index("month").loc["2023-07", "period"] == "month made"
    assert "counted in neither period" in result.notes[0]


def test_orders_in_force_are_the_pspo_context_of_incidents(incidents_db) -> None:
    engine = incidents_db.engine
    new_order(engine, "CONTEXT", name="Staines PSPO for context")
    place = resolve_area(engine, "Spelthorne")
    areas = orders_in_force(engine, place.code, today=date(2026, 11, 28))
    assert "Staines PSPO for context" in set(areas["name"])
    points = area_incidents(engine, place, "2024-01", "2024-01")
    attributed = attribute_incidents(points, context_layers(engine, place))
    in_order = attributed["pspo"].str.contains("Staines PSPO for context", regex=False)
    inside_ward = attributed["ward"] == "Staines"
    assert in_order.sum() > 100
    assert (in_order == inside_ward).all()  # the order's area is exactly the ward
    summary = incident_summary(engine, "Spelthorne", "pspo", "2024-01", "2024-01").table
    row = summary[(summary["unit"] == "Staines PSPO for context")
                  & (summary["crime_type"] == ALL_CRIME)]
    assert row["incidents"].tolist() == [int(in_order.sum())]

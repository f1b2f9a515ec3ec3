"""Boundary layers: the bundled boroughs and wards, resolving areas, and reading user layer
files that declare (or mis-declare) their coordinate reference system."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from access.incidents import load_incidents
from geo.areas import resolve_area
from geo.bundled import seed_bundled_layers
from geo.crs import BNG
from geo.layers import LayerError, load_layer, read_layer_file, store_layer
from ingest.run import ingest_paths
from store.db import get_engine
from tests.sample_data import BOUNDARIES, SPELTHORNE, month_file, police_dicts, run_cli

WARDS_FILE = BOUNDARIES / f"wards_2013_{SPELTHORNE}.geojson"
CRS84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}


@pytest.fixture(scope="module")
def wards_raw() -> gpd.GeoDataFrame:
    return gpd.read_file(WARDS_FILE)


def test_seeded_areas_and_wards(layers_db):
    areas = load_layer(layers_db.engine, "area")
    assert sorted(zip(areas["code"], areas["name"], strict=True)) == [
        ("E07000212", "Runnymede"), ("E07000213", "Spelthorne"), ("E07000217", "Woking")]
    wards = load_layer(layers_db.engine, "ward", SPELTHORNE)
    assert len(wards) == 13
    assert "Staines" in set(wards["name"]) and "Sunbury Common" in set(wards["name"])
    assert wards["note"].isna().all()  # Spelthorne's 2013 wards are still current
    runnymede = load_layer(layers_db.engine, "ward", "E07000212")
    assert len(runnymede) == 14 and runnymede["note"].str.contains("re-warded").all()
    assert len(load_layer(layers_db.engine, "lsoa", SPELTHORNE)) == 60
    assert len(load_layer(layers_db.engine, "water")) > 0
    assert seed_bundled_layers(layers_db.engine) == 0  # seeding twice adds nothing


@pytest.mark.parametrize("asked", ["Spelthorne", "spelthorne", "SPELTHORNE", " Spelthorne ",
                                   "E07000213", "e07000213"])
def test_resolve_area_by_name_any_case_or_code(layers_db, asked):
    area = resolve_area(layers_db.engine, asked)
    assert (area.code, area.name) == (SPELTHORNE, "Spelthorne")
    # Spelthorne is about 51 km², a little of it the River Thames
    assert 45e6 < area.land_area_m2 < area.boundary.area < 56e6
    minx, miny, maxx, maxy = area.bounds
    assert 500_000 < minx < maxx < 514_000 and 164_000 < miny < maxy < 177_000


def test_every_spelthorne_incident_falls_in_exactly_one_ward(layers_db):
    month = "2024-01"
    ingest_paths(layers_db.engine, [month_file(month)])
    raw = [r for r in police_dicts(month)
           if r["LSOA name"].startswith("Spelthorne") and r["Longitude"]]
    codes = {r["LSOA code"] for r in raw}
    stored = load_incidents(layers_db.engine, month, month)
    stored = stored[stored["lsoa_code"].isin(codes)]
    assert len(stored) == len(raw) == 835

    points = gpd.GeoDataFrame(stored, geometry=gpd.points_from_xy(stored["easting"],
                                                                  stored["northing"]), crs=BNG)
    wards = load_layer(layers_db.engine, "ward", SPELTHORNE).to_crs(BNG)
    joined = gpd.sjoin(points, wards[["name", "geometry"]], predicate="within")
    per_point = joined.index.value_counts()
    assert len(per_point) == len(points)
    assert (per_point == 1).all()


def test_geojson_with_grid_numbers_declared_as_wgs84_is_refused(tmp_path, wards_raw):
    doc = json.loads(wards_raw.to_crs(BNG).to_json(drop_id=True))
    doc["crs"] = CRS84
    path = tmp_path / "wards_bng_as_wgs84.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(LayerError) as caught:
        read_layer_file(path)
    message = str(caught.value)
    assert message.startswith("wards_bng_as_wgs84.geojson: ")
    assert "British National Grid" in message and "EPSG:27700" in message


def test_geojson_with_swapped_lon_lat_is_refused(tmp_path, wards_raw):
    swapped = wards_raw.copy()
    swapped["geometry"] = shapely.transform(wards_raw.geometry.to_numpy(),
                                            lambda xy: xy[:, ::-1])
    path = tmp_path / "wards_swapped.geojson"
    swapped.to_file(path, driver="GeoJSON")
    with pytest.raises(LayerError, match="longitude and latitude look swapped"):
        read_layer_file(path)


def test_geopackage_in_british_national_grid_is_accepted_and_stored(fresh_db, tmp_path,
                                                                    wards_raw):
    path = tmp_path / "spelthorne_wards.gpkg"
    wards_raw.to_crs(BNG).to_file(path, driver="GPKG")

    frame = read_layer_file(path)

    assert frame.crs.to_epsg() == 4326
    assert len(frame) == 13
    assert frame.total_bounds == pytest.approx(wards_raw.total_bounds, abs=1e-6)
    assert store_layer(fresh_db.engine, "area", frame, source=path.name, name="Test") == 1
    area = resolve_area(fresh_db.engine, "test")
    assert (area.code, area.name) == ("test", "Test")
    union = wards_raw.to_crs(BNG).union_all()
    assert area.boundary.symmetric_difference(union).area < 1e-4 * union.area


def test_cli_layers_add_area(tmp_path, wards_raw):
    path = tmp_path / "spelthorne_wards.gpkg"
    wards_raw.to_crs(BNG).to_file(path, driver="GPKG")
    url = f"sqlite:///{tmp_path}/cli.sqlite"

    done = run_cli(["layers", "add", "area", str(path), "--name", "Test"], url)

    assert done.returncode == 0, done.stderr
    assert "Loaded 1 area feature(s)" in done.stdout
    areas = load_layer(get_engine(url), "area")
    assert areas[["code", "name"]].values.tolist() == [["test", "Test"]]
    assert areas["source"].tolist() == ["spelthorne_wards.gpkg"]
    listed = run_cli(["areas"], url)
    assert listed.stdout.splitlines() == ["test\tTest"]


def test_cli_refuses_a_misdeclared_layer_without_traceback(tmp_path, wards_raw):
    doc = json.loads(wards_raw.to_crs(BNG).to_json(drop_id=True))
    doc["crs"] = CRS84
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    done = run_cli(["layers", "add", "area", str(path), "--name", "Bad"],
                   f"sqlite:///{tmp_path}/cli.sqlite")
    assert done.returncode != 0
    assert "British National Grid" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_loads_every_district_of_a_file_as_its_own_area(tmp_path):
    """`layers add area FILE --code-field LAD13CD --name-field LAD13NM`: each feature an area
    (Surrey's eleven districts, from the bundled England file), found by name; loading the
    file again replaces them rather than doubling."""
    from geo.bundled import england_districts

    surrey = ["E07000207", "E07000208", "E07000209", "E07000210", "E07000211", "E07000212",
              "E07000213", "E07000214", "E07000215", "E07000216", "E07000217"]
    districts = england_districts()
    chosen = districts[districts["LAD13CD"].isin(surrey)]
    path = tmp_path / "surrey_districts.geojson"
    chosen.to_file(path, driver="GeoJSON")
    url = f"sqlite:///{tmp_path}/cli.sqlite"

    done = run_cli(["layers", "add", "area", str(path), "--code-field", "LAD13CD",
                    "--name-field", "LAD13NM"], url)
    assert done.returncode == 0, done.stderr
    assert "Loaded 11 area feature(s)" in done.stdout
    areas = load_layer(get_engine(url), "area")
    assert dict(zip(areas["code"], areas["name"], strict=True)) == dict(
        zip(chosen["LAD13CD"], chosen["LAD13NM"], strict=True))
    assert resolve_area(get_engine(url), "Guildford").code == "E07000209"

    again = run_cli(["layers", "add", "area", str(path)], url)  # fields guessed: LAD13CD/NM
    assert again.returncode == 0, again.stderr
    assert len(load_layer(get_engine(url), "area")) == 11


def test_cli_names_a_missing_field_and_an_area_file_with_no_names(tmp_path):
    from geo.bundled import england_districts

    districts = england_districts().head(3)
    path = tmp_path / "three.geojson"
    districts.to_file(path, driver="GeoJSON")
    url = f"sqlite:///{tmp_path}/cli.sqlite"
    done = run_cli(["layers", "add", "area", str(path), "--name-field", "LAD13XX"], url)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no field 'LAD13XX'" in done.stderr and "LAD13NM" in done.stderr

    unnamed = tmp_path / "unnamed.geojson"
    districts[["geometry"]].assign(ref=range(3)).to_file(unnamed, driver="GeoJSON")
    refused = run_cli(["layers", "add", "area", str(unnamed)], url)
    assert refused.returncode == 1
    assert "unnamed.geojson: no field names the areas" in refused.stderr
    assert load_layer(get_engine(url), "area").empty

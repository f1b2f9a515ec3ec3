"""Hotspots on the imported real sample: result shape, Staines town centre shoplifting, counts,
determinism, errors, exports and the `hotspots detect` command."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import pytest
import shapely

from access.incidents import load_incidents
from geo.areas import UnknownAreaError
from geo.crs import BNG
from geo.joins import CONTEXT_COLUMNS
from geo.layers import load_layer
from hotspots.analysis import find_hotspots
from hotspots.result import HOTSPOT_COLUMNS, HotspotInputError
from present.export import hotspots_csv, hotspots_geojson
from tests.sample_data import SPELTHORNE, has_coordinates, police_dicts, run_cli

FROM, TO = "2023-02", "2024-01"
MONTHS = [f"2023-{m:02d}" for m in range(2, 13)] + ["2024-01"]
SHOP = ["Shoplifting"]
LABELS = [*CONTEXT_COLUMNS, "top_types", "top_location"]
METHODS = ["grid", "dbscan"]


def spelthorne_shoplifting_rows() -> list[dict]:
    """Located Shoplifting records in Spelthorne LSOAs, 2023-02..2024-01, from the raw CSVs."""
    return [r for m in MONTHS for r in police_dicts(m)
            if r["Crime type"] == "Shoplifting" and r["LSOA name"].startswith("Spelthorne")
            and has_coordinates(r)]


@pytest.fixture(scope="module")
def reports(sample_db):
    """Shoplifting hotspots in Spelthorne by both methods, default 1% coverage."""
    return {m: find_hotspots(sample_db.engine, "spelthorne", FROM, TO, SHOP, method=m)
            for m in METHODS}


@pytest.fixture(scope="module")
def staines_high_street(sample_db):
    """Mean position of the 'On or near High Street' snap points inside Staines ward."""
    wards = load_layer(sample_db.engine, "ward", SPELTHORNE).to_crs(BNG)
    staines = wards.loc[wards["name"] == "Staines", "geometry"].iloc[0]
    rows = load_incidents(sample_db.engine, FROM, TO)
    rows = rows[rows["location"] == "On or near High Street"]
    inside = shapely.contains_xy(staines, rows["easting"], rows["northing"])
    points = rows.loc[inside, ["easting", "northing"]].drop_duplicates().to_numpy()
    assert len(points) >= 1
    return shapely.Point(points.mean(axis=0))


@pytest.mark.parametrize("method", METHODS)
def test_result_shape(reports, method):
    report = reports[method]
    found = report.hotspots
    assert list(found.columns) == HOTSPOT_COLUMNS + LABELS
    assert len(found) > 0
    assert found["rank"].tolist() == list(range(1, len(found) + 1))
    assert found.crs.to_epsg() == 27700
    assert set(found["method"]) == {method}
    params = json.loads(found["parameters"].iloc[0])
    assert params["coverage"] == 0.01
    assert params == report.parameters
    assert (found["count"] > 0).all()
    assert found["score"].is_monotonic_decreasing
    assert found.geometry.area.sum() <= 0.01 * report.area.land_area_m2
    assert report.area.land_area_m2 < report.area.boundary.area  # the Thames is taken out


def test_staines_high_street_point_is_where_expected(staines_high_street):
    # Staines High Street is at about E 503500, N 171600 on the National Grid
    assert staines_high_street.distance(shapely.Point(503500, 171600)) < 300


@pytest.mark.parametrize("method", METHODS)
def test_staines_town_centre_is_a_top_three_shoplifting_hotspot(reports, staines_high_street,
                                                               method):
    top = reports[method].hotspots.head(3)
    near = top[(top["ward"] == "Staines")
               & (top.geometry.centroid.distance(staines_high_street) < 500)]
    assert len(near) >= 1
    assert near["top_types"].str.startswith("Shoplifting (").all()


def test_grid_counts_add_up_to_the_incidents_inside_the_area(sample_db):
    report = find_hotspots(sample_db.engine, "Spelthorne", FROM, TO, SHOP, "grid",
                           coverage=None)
    raw = spelthorne_shoplifting_rows()
    assert len(raw) == 535
    assert report.hotspots["count"].sum() == len(report.incidents) == len(raw)
    assert sorted(report.incidents["crime_id"]) == sorted(r["Crime ID"] for r in raw)


def test_incidents_outside_the_area_are_left_out(sample_db, reports):
    report = reports["grid"]
    inside = shapely.contains_xy(report.area.boundary, report.incidents["easting"],
                                 report.incidents["northing"])
    assert inside.all()
    everywhere = load_incidents(sample_db.engine, FROM, TO, SHOP)
    assert len(everywhere) > len(report.incidents)  # Runnymede and Woking are in the sample
    assert len(report.incidents) == len(spelthorne_shoplifting_rows())


@pytest.mark.parametrize("method", METHODS)
def test_same_answer_twice(sample_db, reports, method):
    again = find_hotspots(sample_db.engine, "spelthorne", FROM, TO, SHOP, method=method)
    first = reports[method].hotspots
    assert again.hotspots.drop(columns="geometry").equals(first.drop(columns="geometry"))
    assert again.hotspots.geometry.to_wkt().tolist() == first.geometry.to_wkt().tolist()


@pytest.mark.parametrize("method", METHODS)
def test_empty_selection_gives_empty_result_with_message(sample_db, method):
    report = find_hotspots(sample_db.engine, "spelthorne", FROM, TO, ["Piracy"], method=method)
    assert report.hotspots.empty
    assert list(report.hotspots.columns) == HOTSPOT_COLUMNS + LABELS
    assert len(report.incidents) == 0
    assert "no incidents match the selection" in report.notes


def test_period_ending_before_it_starts_is_refused(sample_db):
    with pytest.raises(HotspotInputError, match=r"starts \(2024-01\) after it ends \(2023-02\)"):
        find_hotspots(sample_db.engine, "spelthorne", "2024-01", "2023-02", SHOP)


def test_unknown_area_lists_the_known_areas(sample_db):
    with pytest.raises(UnknownAreaError) as caught:
        find_hotspots(sample_db.engine, "Elmbridge", FROM, TO, SHOP)
    message = str(caught.value)
    for known in ("Runnymede (E07000212)", "Spelthorne (E07000213)", "Woking (E07000217)"):
        assert known in message


@pytest.mark.parametrize("method", METHODS)
def test_geojson_export(sample_db, reports, method):
    found = reports[method].hotspots
    doc = json.loads(hotspots_geojson(found))
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == len(found)
    area = load_layer(sample_db.engine, "area")
    minx, miny, maxx, maxy = area[area["code"] == SPELTHORNE].total_bounds
    pad = 0.005  # a grid cell round an incident near the border may poke out a little
    for feature, (_, row) in zip(doc["features"], found.iterrows(), strict=True):
        props = feature["properties"]
        assert {"rank", "count", "score", "method", "parameters"} <= set(props)
        assert (props["rank"], props["count"]) == (row["rank"], row["count"])
        assert props["method"] == method
        assert isinstance(props["parameters"], dict)
        assert props["parameters"] == json.loads(row["parameters"])
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        xy = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
        assert (xy[:, 0] > minx - pad).all() and (xy[:, 0] < maxx + pad).all()
        assert (xy[:, 1] > miny - pad).all() and (xy[:, 1] < maxy + pad).all()


def test_csv_export_has_header_and_guards_formulas(reports):
    found = reports["grid"].hotspots.copy()
    found.loc[0, "top_location"] = "=HYPERLINK(\"http://example.com\",\"x\")"
    found.loc[1, "ward"] = "@SUM(A1:A9)"
    rows = list(csv.DictReader(io.StringIO(hotspots_csv(found))))
    assert list(rows[0]) == ["rank", "ward", "count", "top_types", "top_location", "town_centre",
                             "water_distance_m", "river_frontage", "pspo", "lsoa", "score",
                             "area_m2", "centroid_lat", "centroid_lon", "method", "parameters",
                             "geometry_wkt"]
    assert len(rows) == len(found)
    assert rows[0]["top_location"] == "'=HYPERLINK(\"http://example.com\",\"x\")"
    assert rows[1]["ward"] == "'@SUM(A1:A9)"
    assert rows[2]["ward"] == found.loc[2, "ward"]  # ordinary text untouched
    assert int(rows[0]["count"]) == found.loc[0, "count"]
    assert float(rows[0]["area_m2"]) == pytest.approx(found.geometry.area[0])
    lat, lon = float(rows[0]["centroid_lat"]), float(rows[0]["centroid_lon"])
    assert 51.37 < lat < 51.48 and -0.55 < lon < -0.38
    assert rows[0]["geometry_wkt"].startswith("POLYGON ((")


def test_cli_detect_writes_geojson_by_name_and_by_code(sample_db, reports, tmp_path):
    by_name, by_code = tmp_path / "x.geojson", tmp_path / "y.geojson"
    common = ["--from", FROM, "--to", TO, "--crime-type", "Shoplifting", "--method", "grid",
              "--coverage", "0.01"]
    first = run_cli(["detect", "--area", "spelthorne", *common, "--out", str(by_name)],
                    sample_db.url)
    second = run_cli(["detect", "--area", SPELTHORNE, *common, "--out", str(by_code)],
                     sample_db.url)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    doc = json.loads(by_name.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    found = reports["grid"].hotspots
    assert [f["properties"]["rank"] for f in doc["features"]] == found["rank"].tolist()
    assert [f["properties"]["count"] for f in doc["features"]] == found["count"].tolist()
    assert f"Wrote {len(found)} hotspots" in first.stdout
    assert by_code.read_text(encoding="utf-8") == by_name.read_text(encoding="utf-8")
    frame = gpd.read_file(by_name)
    assert frame.crs.to_epsg() == 4326 and len(frame) == len(found)


@pytest.mark.parametrize(("months", "message"), [
    (["--from", "2023-02", "--to", "2024-13"], "'2024-13' is not a month in YYYY-MM form"),
    (["--from", "2024-01", "--to", "2023-02"], "the period starts (2024-01) after it ends"),
])
def test_cli_detect_bad_months_fail_cleanly(sample_db, tmp_path, months, message):
    out = tmp_path / "z.geojson"
    done = run_cli(["detect", "--area", "spelthorne", *months, "--out", str(out)],
                   sample_db.url)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists()


def test_every_method_says_in_words_what_its_ranking_rests_on(sample_db):
    from hotspots import METHOD_NAMES
    from hotspots import METHODS as ALL_METHODS
    from hotspots.captions import ranking_sentence, selection_noun

    assert METHOD_NAMES["forecast"].startswith("Where it is likely next month")
    assert set(METHOD_NAMES) == set(ALL_METHODS)
    for method in ALL_METHODS:
        report = find_hotspots(sample_db.engine, "spelthorne", FROM, TO, ["Burglary"],
                               method=method)
        assert report.parameters["ranking"], method  # in the result's parameters
        caption = report.caption()
        assert caption.startswith(f"{method} hotspots for Spelthorne") and "Parameters:" in caption
        assert report.ranking in caption and "burglaries" in report.ranking, method
        assert "ranking = " not in caption  # said in words, not listed again
    default = find_hotspots(sample_db.engine, "spelthorne", FROM, TO, ["Burglary"])
    assert default.ranking.startswith("Ranked by burglaries in each 50 m square; ties broken")
    everything = find_hotspots(sample_db.engine, "spelthorne", FROM, TO)
    assert everything.ranking == ("Ranked by incidents in each 50 m square (all crime and "
                                  "ASB); squares with the same count are listed west to east.")
    assert selection_noun(["Burglary", "Robbery"]) == "burglaries and robberies"
    assert selection_noun(["Drugs", "Robbery", "Burglary", "Shoplifting"]) == \
        "incidents of the 4 selected types"
    assert selection_noun(["Knife crime"]) == "incidents of Knife crime"
    assert ranking_sentence("unknown", {"ranking": "as said"}, None) == "as said"

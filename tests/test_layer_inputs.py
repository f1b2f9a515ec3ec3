"""Bad and replacement layers: every kind of bad layer file or feature gets a clear message,
good features are kept, re-loading never doubles; population files; town-centre
approximations replaced by a real outline; the formatted spreadsheet export."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
import shapely.geometry
from openpyxl import load_workbook
from shapely.geometry import Point, Polygon

from geo.crs import BNG
from geo.layers import LayerError, add_layer_file, check_layer_file, load_layer
from geo.population import import_population
from geo.town_centres import approximate_town_centre
from report.compare import jag_comparison, parse_targets
from report.spreadsheet import Sheet, workbook_bytes
from report.summary import incident_summary
from tests.sample_data import BOUNDARIES, SPELTHORNE, run_cli

WARDS_FILE = BOUNDARIES / f"wards_2013_{SPELTHORNE}.geojson"


@pytest.fixture(scope="module")
def wards_bng() -> gpd.GeoDataFrame:
    return gpd.read_file(WARDS_FILE).to_crs(BNG)


def test_metres_declared_as_degrees_and_degrees_declared_as_metres(tmp_path, wards_bng):
    degrees = wards_bng.to_crs(4326)
    mislabelled = gpd.GeoDataFrame(degrees.drop(columns="geometry"),
                                   geometry=degrees.geometry.to_numpy(), crs=BNG)
    path = tmp_path / "wards_degrees_as_bng.gpkg"
    mislabelled.to_file(path, driver="GPKG")
    with pytest.raises(LayerError) as caught:
        check_layer_file(path, "ward")
    assert "look like longitude/latitude degrees" in str(caught.value)
    assert "EPSG:4326" in str(caught.value)


def test_file_without_crs_is_refused(tmp_path, wards_bng):
    folder = tmp_path / "shp"
    folder.mkdir()
    wards_bng.to_file(folder / "wards.shp")
    (folder / "wards.prj").unlink()
    path = tmp_path / "wards_no_prj.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    with pytest.raises(LayerError, match="does not declare its coordinate reference system"):
        check_layer_file(path, "ward")


def test_zipped_shapefile_with_crs_is_read(tmp_path, wards_bng):
    folder = tmp_path / "shp"
    folder.mkdir()
    wards_bng.to_file(folder / "wards.shp")
    path = tmp_path / "wards.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    checked = check_layer_file(path, "ward")
    assert len(checked.features) == 13 and checked.rejected.empty
    assert checked.features.crs.to_epsg() == 4326


def test_unreadable_and_empty_files(tmp_path):
    junk = tmp_path / "wards.geojson"
    junk.write_bytes(b"\x89PNG\r\n\x1a\nnot a layer")
    with pytest.raises(LayerError, match="wards.geojson: cannot be read"):
        check_layer_file(junk, "ward")
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(LayerError, match="empty.geojson: .*no features"):
        check_layer_file(empty, "ward")


def test_invalid_polygon_is_repaired_and_wrong_types_set_aside(tmp_path, wards_bng):
    staines = wards_bng[wards_bng["WD13NM"] == "Staines"].geometry.iloc[0]
    minx, miny, maxx, maxy = staines.bounds
    # a bow-tie: the corners of Staines ward's bounding box joined crosswise
    bowtie = Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    assert not bowtie.is_valid
    frame = gpd.GeoDataFrame(
        {"name": ["Bow-tie centre", "Ward outline", "A point", "A line"]},
        geometry=[bowtie, staines, Point(staines.centroid), staines.exterior], crs=BNG)
    path = tmp_path / "centres.gpkg"
    frame.to_file(path, driver="GPKG")

    checked = check_layer_file(path, "town-centre")

    assert checked.repaired == 1
    assert checked.features["name"].tolist() == ["Bow-tie centre", "Ward outline"]
    assert checked.features.geometry.is_valid.all()
    repaired = checked.features.to_crs(BNG).geometry.iloc[0]
    assert repaired.geom_type == "MultiPolygon" and repaired.area == pytest.approx(
        (maxx - minx) * (maxy - miny) / 2, rel=1e-6)
    assert checked.rejected[["feature", "field"]].values.tolist() == [[4, "geometry"],
                                                                     [3, "geometry"]]
    reasons = " | ".join(checked.rejected["reason"])
    assert "A point: a town-centre layer needs Polygon geometry; this feature is a Point" \
        in reasons
    assert "A line: a town-centre layer needs Polygon geometry; this feature is a " \
        "LineString" in reasons


def test_features_outside_every_area_are_set_aside(layers_db, tmp_path, wards_bng):
    far = wards_bng.iloc[[0]].copy()
    far["geometry"] = far.geometry.translate(xoff=-150_000)  # the same ward moved to Devon
    far["WD13NM"] = "Moved away"
    mixed = gpd.GeoDataFrame(
        pd.concat([wards_bng.iloc[[1]], far]), crs=BNG)
    path = tmp_path / "mixed.geojson"
    mixed.to_file(path, driver="GeoJSON")
    checked = add_layer_file(layers_db.engine, "pspo", path)
    assert checked.features["WD13NM"].tolist() == [wards_bng.iloc[1]["WD13NM"]]
    assert checked.rejected["reason"].tolist() == [
        "Moved away: lies outside every loaded area (less than 1% of it overlaps); load the "
        "area first or check the file"]
    with pytest.raises(LayerError, match="no area called 'Elmbridge'"):
        add_layer_file(layers_db.engine, "ward", path, parent="Elmbridge")


def test_new_ward_vintage_replaces_the_old_one_without_doubling(layers_db, tmp_path, wards_bng):
    subset = wards_bng.iloc[:5]  # a borough re-warded into fewer, bigger wards, say
    path = tmp_path / "new_wards.gpkg"
    subset.to_file(path, driver="GPKG")
    for _ in range(2):
        add_layer_file(layers_db.engine, "ward", path, code_field="WD13CD", name_field="WD13NM")
    stored = load_layer(layers_db.engine, "ward", SPELTHORNE)
    assert sorted(stored["code"]) == sorted(subset["WD13CD"])
    assert stored["source"].unique().tolist() == ["new_wards.gpkg"]
    assert len(load_layer(layers_db.engine, "ward", "E07000212")) == 14  # Runnymede untouched
    full = tmp_path / "wards.gpkg"
    wards_bng.to_file(full, driver="GPKG")
    add_layer_file(layers_db.engine, "ward", full)
    assert len(load_layer(layers_db.engine, "ward", SPELTHORNE)) == 13


def test_real_town_centre_outline_replaces_the_approximation(fresh_db, tmp_path, wards_bng):
    from geo.bundled import seed_bundled_layers

    seed_bundled_layers(fresh_db.engine)
    before = load_layer(fresh_db.engine, "town-centre", SPELTHORNE)
    assert before["approximate"].all() and len(before) == 3
    outline = wards_bng[wards_bng["WD13NM"] == "Staines"][["geometry"]].copy()
    outline["name"] = "Staines-upon-Thames"
    path = tmp_path / "staines_centre.geojson"
    outline.to_file(path, driver="GeoJSON")

    add_layer_file(fresh_db.engine, "town-centre", path)

    after = load_layer(fresh_db.engine, "town-centre", SPELTHORNE)
    assert after[["name", "approximate"]].values.tolist() == [["Staines-upon-Thames", False]]
    assert load_layer(fresh_db.engine, "town-centre", "E07000212")["approximate"].all()
    with pytest.raises(LayerError, match="not a postcode"):
        approximate_town_centre(fresh_db.engine, "Ashford", SPELTHORNE, "TW15 XYZ")
    with pytest.raises(LayerError, match="lies outside Spelthorne"):
        approximate_town_centre(fresh_db.engine, "Woking", SPELTHORNE, "GU21 6HX")
    with pytest.raises(LayerError, match="not plausible"):
        approximate_town_centre(fresh_db.engine, "Ashford", SPELTHORNE, "TW15 2UT", 10_000)


def test_population_file_rows_set_aside_and_rates_per_1000(sample_db, tmp_path):
    """Populations here are test inputs (no ward population figures are bundled): the test
    checks that rates use them and that bad rows are reported, not the figures themselves."""
    wards = load_layer(sample_db.engine, "ward", SPELTHORNE)
    codes = dict(zip(wards["name"], wards["code"], strict=True))
    path = tmp_path / "population.csv"
    path.write_text(
        "Geography code,Population\n"
        f"{codes['Staines']},\"10,000\"\n"
        f"{codes['Ashford East']},7000\n"
        "E05999999,5000\n"
        f"{codes['Staines South']},many\n"
        f"{codes['Staines']},9000\n"
        ",100\n", encoding="utf-8")
    result = import_population(sample_db.engine, "ward", path)
    assert result.accepted["population"].tolist() == [10_000, 7_000]
    assert result.rejected[["row", "column"]].values.tolist() == [
        [4, "Geography code"], [5, "Population"], [6, "Geography code"], [7, "Geography code"]]
    assert "'E05999999' is not a loaded ward code" in result.rejected["reason"].iloc[0]
    table = incident_summary(sample_db.engine, "Spelthorne", "ward", "2024-01", "2024-01").table
    staines = table[(table["unit"] == "Staines") & (table["crime_type"] == "All crime and ASB")]
    assert staines["per_1000_residents"].iloc[0] == pytest.approx(
        staines["incidents"].iloc[0] / 10, abs=0.01)
    others = table[~table["unit"].isin(["Staines", "Ashford East"])]
    assert others["per_1000_residents"].isna().all()
    bad = tmp_path / "nocode.csv"
    bad.write_text("ward,people\nStaines,10\n", encoding="utf-8")
    with pytest.raises(LayerError, match="nocode.csv: no code column"):
        import_population(sample_db.engine, "ward", bad)


def test_cli_layers_add_reports_set_aside_features(layers_db, tmp_path, wards_bng):
    frame = gpd.GeoDataFrame({"name": ["Centre", "Pin"]},
                             geometry=[wards_bng.geometry.iloc[0], Point(505000, 170000)],
                             crs=BNG)
    path = tmp_path / "pspos.geojson"
    frame.to_file(path, driver="GeoJSON")
    done = run_cli(["layers", "add", "pspo", str(path)], layers_db.url)
    assert done.returncode == 0, done.stderr
    assert "Loaded 1 pspo feature(s)" in done.stdout and "1 set aside" in done.stdout
    assert "pspos.geojson feature 2 [geometry]: Pin: a pspo layer needs Polygon geometry" \
        in done.stderr
    listed = run_cli(["layers", "list"], layers_db.url)
    assert any(line.startswith("pspo\tSpelthorne\t") for line in listed.stdout.splitlines())
    assert "(approximate)" in listed.stdout


def test_comparison_spreadsheet_is_formatted(sample_db):
    result = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", 6, by="ward",
                            targets=parse_targets(["*=reduce:5"]))
    data = workbook_bytes([Sheet("Comparison", result.title(), result.table, result.notes)],
                          "Source: data.police.uk")
    sheet = load_workbook(io.BytesIO(data))["Comparison"]
    assert sheet["A1"].value == result.title() and sheet["A1"].font.bold
    header = [c.value for c in sheet[4]]
    assert header[:6] == ["Unit", "Crime type", "Current", "Previous", "Change", "Change pct"]
    assert sheet.freeze_panes == "A5"
    rag_col = header.index("Rag") + 1
    first = result.table.iloc[0]
    rag_cell = sheet.cell(row=5, column=rag_col)
    assert rag_cell.value == first["rag"] != ""
    assert rag_cell.fill.fgColor.rgb.endswith({"Green": "C6EFCE", "Amber": "FFEB9C",
                                               "Red": "FFC7CE"}[first["rag"]])
    pct = sheet.cell(row=5, column=6)
    assert pct.number_format == "0.0%" and pct.value == pytest.approx(first["change_pct"] / 100)
    assert sheet.max_row >= 4 + len(result.table)


def test_spreadsheet_guards_text_that_looks_like_a_formula():
    table = pd.DataFrame({"unit": ["=HYPERLINK(\"http://x\")", "Staines"], "incidents": [1, 2]})
    sheet = load_workbook(io.BytesIO(workbook_bytes([Sheet("S", "t", table)], "s")))["S"]
    assert sheet["A5"].value == "'=HYPERLINK(\"http://x\")" and sheet["A5"].data_type == "s"


def test_hotspot_polygons_in_a_pspo_are_named(sample_db, tmp_path):
    from hotspots.analysis import find_hotspots

    report = find_hotspots(sample_db.engine, "Spelthorne", "2023-02", "2024-01")
    top = report.hotspots.sort_values("rank").iloc[[0]]
    order = gpd.GeoDataFrame({"name": ["Test order around the top hotspot"]},
                             geometry=[shapely.buffer(top.geometry.iloc[0], 100)], crs=BNG)
    path = tmp_path / "order.geojson"
    order.to_file(path, driver="GeoJSON")
    add_layer_file(sample_db.engine, "pspo", path)
    again = find_hotspots(sample_db.engine, "Spelthorne", "2023-02", "2024-01")
    first = again.hotspots.sort_values("rank").iloc[0]
    assert "Test order around the top hotspot" in first["pspo"]
    inside = again.incidents[again.incidents["pspo"].str.contains("Test order", regex=False)]
    assert len(inside) >= first["count"]


def test_drawn_town_centre_is_checked_and_replaces_the_approximation(fresh_db, wards_bng):
    from geo.bundled import seed_bundled_layers
    from geo.layers import add_drawn_feature

    seed_bundled_layers(fresh_db.engine)
    staines = wards_bng[wards_bng["WD13NM"] == "Staines"].to_crs(4326).geometry.iloc[0]
    drawn = shapely.geometry.mapping(staines.envelope)  # a rectangle drawn over the ward
    code = add_drawn_feature(fresh_db.engine, "town-centre", "Staines (drawn)", drawn,
                             SPELTHORNE)
    centres = load_layer(fresh_db.engine, "town-centre", SPELTHORNE)
    assert centres[["code", "name", "approximate", "source"]].values.tolist() == [
        [code, "Staines (drawn)", False, "drawn on the map"]]
    with pytest.raises(LayerError, match="draw an outline"):
        add_drawn_feature(fresh_db.engine, "town-centre", "Pin", {
            "type": "Point", "coordinates": [-0.51, 51.43]}, SPELTHORNE)
    moved = shapely.affinity.translate(staines.envelope, xoff=-2.0)  # the same shape in Devon
    with pytest.raises(LayerError, match="lies outside 'Spelthorne'"):
        add_drawn_feature(fresh_db.engine, "pspo", "Far away", shapely.geometry.mapping(moved),
                          SPELTHORNE)
    with pytest.raises(LayerError, match="give the drawn shape a name"):
        add_drawn_feature(fresh_db.engine, "pspo", "  ", drawn, SPELTHORNE)
    with pytest.raises(LayerError, match="not a GeoJSON geometry"):
        add_drawn_feature(fresh_db.engine, "pspo", "Broken", {"type": "Polygon"}, SPELTHORNE)


def test_distance_to_a_river_drawn_as_a_line(layers_db):
    """A user's river layer may be a centreline: distances are to the line itself."""
    from geo.joins import ContextLayers, Units, water_distance

    thames = load_layer(layers_db.engine, "water").to_crs(BNG)
    bank = max(thames.geometry, key=lambda g: g.area)
    line = bank.exterior if bank.geom_type == "Polygon" else max(
        bank.geoms, key=lambda g: g.area).exterior
    empty = Units.of(load_layer(layers_db.engine, "pspo", "none"))
    layers = ContextLayers(empty, empty, empty, empty, water=np.array([line]))
    points = shapely.points(np.array([[503654.0, 171645.0], [505000, 168000]]))
    measured = water_distance(points, layers)
    assert measured == pytest.approx(shapely.distance(line, points), abs=1e-9)
    assert (measured > 0).all()

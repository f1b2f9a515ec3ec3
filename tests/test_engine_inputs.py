"""Bad inputs to every hotspot method: each gives a clear HotspotInputError or a well-defined
empty result (HOTSPOT_COLUMNS, with a reason in attrs["message"]), never another traceback or a
nonsense result. On the real Spelthorne land (Thames taken out) and real police.uk points, plus
the `hotspots detect` command's handling of options and its default method."""

from __future__ import annotations

import json
import re
import time
import tracemalloc

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.areas import resolve_area
from geo.crs import BNG, lonlat_to_bng
from geo.layers import load_layer, store_layer
from hotspots import METHODS, method_options, takes_cell_size
from hotspots.analysis import DEFAULT_METHOD, find_hotspots
from hotspots.cells import Raster
from hotspots.result import HOTSPOT_COLUMNS, HotspotInputError
from tests.sample_data import has_coordinates, police_dicts, run_cli

ALL_METHODS = list(METHODS)
CELL_METHODS = [m for m in METHODS if takes_cell_size(m)]
CLUSTER_METHODS = ["dbscan", "hdbscan"]
STAINES_HIGH_STREET = (503500.0, 171600.0)  # E, N of Staines High Street
NO_LAND = "the area has no land"
NO_INCIDENTS = "no incidents match the selection"


def incidents_at(xy) -> pd.DataFrame:
    """Incidents as the methods take them: easting/northing columns in BNG metres."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return pd.DataFrame({"easting": xy[:, 0], "northing": xy[:, 1]})


def check_shape(found, method: str) -> None:
    """The one result shape every method returns, ranked 1..n."""
    assert isinstance(found, gpd.GeoDataFrame)
    assert list(found.columns) == HOTSPOT_COLUMNS
    assert found.crs.to_epsg() == 27700
    assert found["rank"].tolist() == list(range(1, len(found) + 1))
    assert set(found["method"]) <= {method}
    assert "message" in found.attrs


@pytest.fixture(scope="module")
def spelthorne(layers_db):
    """Spelthorne with its land (the Thames taken out), from the bundled boundaries."""
    return resolve_area(layers_db.engine, "spelthorne")


@pytest.fixture(scope="module")
def land(spelthorne):
    return spelthorne.land


@pytest.fixture(scope="module")
def month_points(land) -> pd.DataFrame:
    """Real located police.uk incidents of 2024-01 on Spelthorne's land, read from the raw
    CSV and projected to BNG independently of the importer."""
    rows = [r for r in police_dicts("2024-01")
            if r["LSOA name"].startswith("Spelthorne") and has_coordinates(r)]
    east, north = lonlat_to_bng([float(r["Longitude"]) for r in rows],
                                [float(r["Latitude"]) for r in rows])
    points = incidents_at(np.column_stack([east, north]))
    points = points[shapely.contains_xy(land, points["easting"], points["northing"])]
    assert len(points) > 700
    return points.reset_index(drop=True)


@pytest.fixture(scope="module")
def one_real_point(month_points) -> tuple[float, float]:
    """Where one real 2024-01 Spelthorne incident lies (the first in the file)."""
    first = month_points.iloc[0]
    return float(first["easting"]), float(first["northing"])


@pytest.fixture(scope="module")
def thames_piece(layers_db, spelthorne) -> gpd.GeoDataFrame:
    """The largest bundled Thames polygon that crosses Spelthorne, as stored (WGS84)."""
    water = load_layer(layers_db.engine, "water")
    bng = water.to_crs(BNG)
    crossing = bng[bng.intersects(spelthorne.boundary)]
    assert len(crossing) >= 1
    return water.loc[[crossing.geometry.area.idxmax()]]


@pytest.fixture(scope="module")
def river_areas(layers_db, thames_piece) -> dict:
    """Areas whose boundary is that stretch of the Thames itself, stored and resolved as any
    user-loaded area is, so their land (boundary minus water) is nothing: one stored from the
    water layer's own geometry, one from a file of it in British National Grid (as an analyst
    exporting the river from a GIS would load it)."""
    store_layer(layers_db.engine, "area", thames_piece, source="test: Thames polygon",
                name="Thames as stored")
    store_layer(layers_db.engine, "area", thames_piece.to_crs(BNG),
                source="test: Thames polygon in BNG", name="Thames from BNG")
    return {"same polygon": resolve_area(layers_db.engine, "thames as stored"),
            "loaded in BNG": resolve_area(layers_db.engine, "thames from bng")}


# 1. Empty selection ------------------------------------------------------------------------

@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("frame", ["dataframe", "geodataframe"])
def test_empty_selection_gives_empty_result_with_message(land, method, frame):
    empty = incidents_at(np.empty((0, 2)))
    if frame == "geodataframe":
        empty = gpd.GeoDataFrame(empty, geometry=gpd.points_from_xy([], []), crs=BNG)
    found = METHODS[method](empty, land)
    check_shape(found, method)
    assert found.empty
    assert found.attrs["message"] == NO_INCIDENTS


@pytest.mark.parametrize("method", ALL_METHODS)
def test_empty_selection_through_find_hotspots(sample_db, method):
    report = find_hotspots(sample_db.engine, "spelthorne", "2024-01", "2024-01", ["Piracy"],
                           method=method)
    assert len(report.incidents) == 0
    assert report.hotspots.empty
    assert list(report.hotspots.columns)[:len(HOTSPOT_COLUMNS)] == HOTSPOT_COLUMNS
    assert NO_INCIDENTS in report.notes


# 2. One incident ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ALL_METHODS)
def test_one_incident(land, one_real_point, method):
    point = shapely.Point(one_real_point)
    assert land.contains(point)
    found = METHODS[method](incidents_at(one_real_point), land)
    check_shape(found, method)
    counts = found["count"].to_numpy()
    assert (counts >= 0).all() and (counts <= 1).all()
    assert counts.sum() <= 1
    if method in ("grid", "weighted", "forecast", "kde"):
        top = found.iloc[0]
        assert top["count"] == 1
        assert top.geometry.contains(point)
        assert counts.sum() == 1
        assert found.attrs["message"] == ""
    if method == "grid":
        assert len(found) == 1
    if method in CLUSTER_METHODS:
        # One incident cannot reach a cluster's minimum size (at least 5 by rule).
        params = found.attrs["parameters"]
        size = params["min_samples"] if method == "dbscan" else params["min_cluster_size"]
        assert size >= 2
        assert found.empty
        assert "no cluster" in found.attrs["message"]
        assert str(size) in found.attrs["message"]
    if method == "gistar":
        if found.empty:
            assert found.attrs["message"]
        else:
            assert counts.sum() == 1
            holding = found[found["count"] == 1]
            assert len(holding) == 1 and holding.geometry.iloc[0].contains(point)


# 3. All incidents at one point -------------------------------------------------------------

@pytest.mark.parametrize("method", ALL_METHODS)
def test_five_hundred_incidents_at_one_point(land, method):
    point = shapely.Point(STAINES_HIGH_STREET)
    assert land.contains(point)
    found = METHODS[method](incidents_at([STAINES_HIGH_STREET] * 500), land)
    check_shape(found, method)
    assert len(found) >= 1
    assert found["count"].sum() == 500  # counted once, though the point lies on a cell edge
    holding = found[found["count"] == 500]
    assert len(holding) == 1
    assert holding.geometry.iloc[0].covers(point)
    if method != "gistar":
        # Gi* ranks by z-score, and cells at the land's edge have fewer neighbours and so
        # higher z: the cell holding the incidents is a hot spot but need not be rank 1.
        assert found.iloc[0]["count"] == 500
        assert found.iloc[0].geometry.covers(point)
    if method == "kde":
        # one distinct location: no spacing to measure, so the rule's stated street-scale
        # default, on the cells that suit it
        params = found.attrs["parameters"]
        assert params["bandwidth_m"] == 250.0 and params["cell_size_m"] == 50.0
        assert "fewer than 2 distinct locations" in params["bandwidth_rule"]
        assert json.loads(found["parameters"].iloc[0]) == params
    if method == "weighted":
        assert len(found) == 1  # no empty neighbour is added


# 4. Bandwidth / distance below the cell size -----------------------------------------------

@pytest.mark.parametrize(("method", "option"), [("kde", "bandwidth"), ("gistar", "distance")])
def test_reach_shorter_than_the_cell_size_is_refused(land, month_points, method, option):
    with pytest.raises(HotspotInputError) as caught:
        METHODS[method](month_points, land, cell_size=50, **{option: 10})
    message = str(caught.value)
    assert re.search(r"\b10 m\b", message) and re.search(r"\b50 m\b", message)
    assert option in message


# 5. A grid too big for memory --------------------------------------------------------------

def test_every_cell_method_is_listed():
    assert set(CELL_METHODS) == {"grid", "kde", "gistar", "weighted", "forecast"}


@pytest.mark.parametrize("method", CELL_METHODS)
def test_grid_too_big_for_memory_is_refused_before_allocating(land, month_points, method):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(HotspotInputError) as caught:
            METHODS[method](month_points, land, cell_size=0.5)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 50e6  # a 0.5 m float grid over Spelthorne would take ~3.6 GB
    message = str(caught.value)
    assert "0.5 m grid" in message
    suggested = re.search(r"choose a cell size of at least (\d+) m", message)
    assert suggested, message
    least = int(suggested.group(1))
    assert 1 <= least <= 50
    # The suggestion is one that fits (weighted and forecast pad their raster by one cell).
    pad = least if method in ("weighted", "forecast") else 0.0
    raster = Raster.over(land, least, pad=pad)
    assert raster.ncols * raster.nrows <= 4_000_000


# 6. An area with no land -------------------------------------------------------------------

def test_river_areas_lie_in_the_river(thames_piece, river_areas):
    river = thames_piece.to_crs(BNG).geometry.iloc[0]
    for area in river_areas.values():
        assert area.boundary.area == pytest.approx(river.area, rel=1e-6)
        assert river.buffer(0.01).covers(area.boundary)
        # Whatever is left of the land is thinner than a centimetre: round-off, not land.
        assert area.land.buffer(-0.01).is_empty


NO_LAND_CASES = ["empty polygon", "river minus itself", "river area (same polygon)",
                 "river area (loaded in BNG)"]


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("case", NO_LAND_CASES)
def test_area_with_no_land_is_refused(thames_piece, river_areas, month_points, method, case):
    river = thames_piece.to_crs(BNG).geometry.iloc[0]
    area = {"empty polygon": shapely.Polygon(),
            "river minus itself": river.difference(river),
            "river area (same polygon)": river_areas["same polygon"].land,
            "river area (loaded in BNG)": river_areas["loaded in BNG"].land}[case]
    # Real incidents, plus some on the river itself (police.uk snaps some to bridges).
    on_river = river.representative_point()
    points = pd.concat([month_points, incidents_at([(on_river.x, on_river.y)] * 20)],
                       ignore_index=True)
    with pytest.raises(HotspotInputError, match=NO_LAND):
        METHODS[method](points, area)
    with pytest.raises(HotspotInputError, match=NO_LAND):
        METHODS[method](incidents_at(np.empty((0, 2))), area)


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("which", ["same polygon", "loaded in BNG"])
def test_find_hotspots_on_an_area_of_river_is_refused(layers_db, river_areas, method, which):
    with pytest.raises(HotspotInputError, match=NO_LAND):
        find_hotspots(layers_db.engine, river_areas[which].name, "2024-01", "2024-01",
                      method=method)


# 7. Negative and zero parameters -----------------------------------------------------------

BAD_PARAMETERS = [
    ("weighted", {"cell_size": -5}), ("weighted", {"pool": -1}),
    ("weighted", {"smooth": -0.1}),
    ("forecast", {"cell_size": -5}), ("forecast", {"pool": -1}), ("forecast", {"smooth": -1}),
    ("grid", {"cell_size": -5}), ("grid", {"cell_size": float("nan")}),
    ("kde", {"cell_size": -5}), ("kde", {"bandwidth": 0}), ("kde", {"bandwidth": -5}),
    ("dbscan", {"eps": -5}), ("dbscan", {"min_samples": -1}),
    ("hdbscan", {"min_cluster_size": -1}), ("hdbscan", {"min_samples": -1}),
    ("gistar", {"cell_size": -5}), ("gistar", {"k": 0}), ("gistar", {"k": -1}),
    ("gistar", {"distance": 0}), ("gistar", {"distance": -5}),
]


def test_bad_parameters_cover_every_method():
    assert {m for m, _ in BAD_PARAMETERS} == set(METHODS)
    for method, params in BAD_PARAMETERS:
        assert set(params) <= method_options(method)


@pytest.mark.parametrize(("method", "params"), BAD_PARAMETERS,
                         ids=[f"{m}-{next(iter(p))}={next(iter(p.values()))}"
                              for m, p in BAD_PARAMETERS])
def test_negative_or_zero_parameter_is_refused(land, month_points, method, params):
    with pytest.raises(HotspotInputError) as caught:
        METHODS[method](month_points, land, **params)
    name = next(iter(params))
    words = {"cell_size": "cell size", "k": "k ", "distance": "distance",
             "min_samples": "min_samples", "min_cluster_size": "min_cluster_size",
             "pool": "pool", "smooth": "smooth", "eps": "eps", "bandwidth": "bandwidth"}
    assert words[name] in str(caught.value)


# The command line --------------------------------------------------------------------------

def one_line_error(done) -> str:
    """The single 'Error: ...' line of a failed command, checking there is no traceback."""
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_cli_option_that_does_not_apply_to_the_method(sample_db, tmp_path):
    out = tmp_path / "x.geojson"
    done = run_cli(["detect", "--area", "spelthorne", "--from", "2024-01", "--to", "2024-01",
                    "--method", "grid", "--eps", "100", "--out", str(out)], sample_db.url)
    assert one_line_error(done) == "Error: --eps does not apply to the grid method"
    assert done.returncode == 2
    assert not out.exists()


@pytest.mark.parametrize(("method", "option", "value"), [
    ("dbscan", "--eps", "-5"),
    ("kde", "--bandwidth", "0"),  # refused, not silently replaced by the rule
])
def test_cli_bad_parameter_fails_cleanly(sample_db, tmp_path, method, option, value):
    out = tmp_path / "x.geojson"
    done = run_cli(["detect", "--area", "spelthorne", "--from", "2024-01", "--to", "2024-01",
                    "--method", method, option, value, "--out", str(out)], sample_db.url)
    assert option.strip("-") in one_line_error(done)
    assert not out.exists()


def test_cli_detect_uses_the_default_method(sample_db, tmp_path):
    assert DEFAULT_METHOD == "weighted"
    out = tmp_path / "default.geojson"
    done = run_cli(["detect", "--area", "spelthorne", "--from", "2023-02", "--to", "2024-01",
                    "--out", str(out)], sample_db.url)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    features = doc["features"]
    assert len(features) > 0
    assert {f["properties"]["method"] for f in features} == {"weighted"}
    assert features[0]["properties"]["parameters"]["cell_size_m"] == 50.0
    assert "weighted hotspots for Spelthorne" in done.stderr
    report = find_hotspots(sample_db.engine, "spelthorne", "2023-02", "2024-01",
                           method=DEFAULT_METHOD)
    assert [f["properties"]["count"] for f in features] == report.hotspots["count"].tolist()
    assert f"Wrote {len(report.hotspots)} hotspots" in done.stdout


def test_hdbscan_refuses_a_selection_too_big_to_finish(land):
    from hotspots.hdbscan import MAX_INCIDENTS

    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = land.bounds
    many = pd.DataFrame({"easting": rng.uniform(minx, maxx, MAX_INCIDENTS + 1),
                         "northing": rng.uniform(miny, maxy, MAX_INCIDENTS + 1)})
    with pytest.raises(HotspotInputError, match="choose fewer months or crime types, or DBSCAN"):
        METHODS["hdbscan"](many, land)

"""Map layers added for the meeting: CCTV cameras loaded from a council's real published list
(Trafford's 163 cameras, OGL), refused when the file is not points; adopted problem locations
drawn on the hotspot map; and the lighter GeoJSON the map is drawn from (simplified to about a
metre, coordinates to about 10 cm) keeping every feature where it was."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.layers import LayerError, add_layer_file, load_layer
from present.map import build_map, geojson_text
from tests.sample_data import BOUNDARIES, SAMPLE

CCTV = SAMPLE / "cctv" / "trafford_cctv_cameras.geojson"
HOSTILE = '<img src=x onerror="alert(1)">'


def test_cctv_cameras_load_and_draw_as_points(fresh_db) -> None:
    engine = fresh_db.engine
    added = add_layer_file(engine, "cctv", CCTV)  # camera_id and location found by name
    assert len(added.features) == 163 and added.rejected.empty
    cameras = load_layer(engine, "cctv")
    raw = json.loads(CCTV.read_text())["features"]
    assert len(cameras) == len(raw) == 163
    assert set(cameras["name"]) == {f["properties"]["location"] for f in raw}
    assert (cameras.geometry.geom_type == "Point").all()
    cameras.loc[cameras.index[0], "name"] = HOSTILE
    area = gpd.GeoSeries([shapely.box(*cameras.to_crs(27700).total_bounds)], crs=27700)
    fmap = build_map(area, cameras.iloc[:0], cameras.iloc[:0], pd.DataFrame(columns=["lat",
                                                                               "lon"]),
                     gpd.GeoDataFrame(geometry=[], crs=4326), cctv=cameras)
    html = fmap.get_root().render()
    assert "CCTV cameras (163)" in html
    assert HOSTILE not in html and "\\u0026lt;img src=x" in html  # escaped, JSON-quoted


def test_a_cctv_file_of_outlines_is_refused(fresh_db) -> None:
    with pytest.raises(LayerError, match="needs Point geometry"):
        add_layer_file(fresh_db.engine, "cctv", BOUNDARIES / "lad_2013_sample.geojson")
    assert load_layer(fresh_db.engine, "cctv").empty


def test_problem_locations_are_a_layer_of_the_hotspot_map() -> None:
    wards = gpd.read_file(BOUNDARIES / "wards_2013_E07000213.geojson")
    problems = gpd.GeoDataFrame({"name": [f"Staines {HOSTILE}"]},
                                geometry=[wards.geometry.iloc[0]], crs=wards.crs)
    fmap = build_map(gpd.GeoSeries([wards.union_all()], crs=wards.crs).to_crs(27700),
                     wards.rename(columns={"WD13NM": "name"}), wards.iloc[:0],
                     pd.DataFrame(columns=["lat", "lon"]),
                     gpd.GeoDataFrame(geometry=[], crs=4326), problems=problems)
    html = fmap.get_root().render()
    assert '"Problem locations"' in html or "Problem locations" in html
    assert HOSTILE not in html


def test_the_map_geometry_is_lighter_but_in_place() -> None:
    wards = gpd.read_file(BOUNDARIES / "wards_2013_E07000213.geojson")[["WD13NM", "geometry"]]
    full = wards.to_json()
    light = json.loads(geojson_text(wards))
    assert len(geojson_text(wards)) < len(full)
    assert len(light["features"]) == len(wards)
    shown = gpd.GeoDataFrame.from_features(light["features"], crs=4326).to_crs(27700)
    original = wards.to_crs(27700)
    for before, after in zip(original.geometry, shown.geometry, strict=True):
        assert after.is_valid
        assert before.hausdorff_distance(after) < 2.0  # metres: nothing moves visibly
        assert after.area == pytest.approx(before.area, rel=1e-3)

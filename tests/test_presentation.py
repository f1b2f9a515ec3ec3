"""What the pages show, checked without a browser on the bundled real sample: plain words and
readable tables, the heat picture (one density surface, warped onto the web map), the map's
key, credits and street-map setting, the map script staying the same however often a cached
map is drawn, the hotspot profile counting what the hotspot counted, what a role does not
see, the notes exports carry, and the page script surviving Streamlit's HTML cleaning."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image
from pyproj import Transformer
from streamlit_folium import _get_map_string

from access.restricted import withheld
from access.roles import Principal
from access.scope import acting_as
from core.words import (
    cell_text,
    month_name,
    month_span,
    months_in_words,
    readable,
    settings_table,
    street_name,
)
from geo.areas import resolve_area
from geo.layers import load_layer
from hotspots.analysis import find_hotspots
from hotspots.kde import density_surface
from hotspots.profile import hotspot_profile, inside_outline
from hotspots.repeat import repeat_locations
from present.export import hotspots_csv, hotspots_geojson
from present.heat import FLOOR, heat_picture
from present.map import build_map, street_tiles, surface_picture
from present.tables import before_after_table, change_reading
from tests.sample_data import SPELTHORNE
from views.shell import SCRIPT

MONTHS = ("2023-02", "2024-01")
VSO = "Violence and sexual offences"


@pytest.fixture(scope="module")
def report(sample_db):
    return find_hotspots(sample_db.engine, "Spelthorne", *MONTHS)


# ---------------------------------------------------------------- words and tables


def test_months_and_cells_read_as_people_say_them() -> None:
    assert month_name("2024-01") == "Jan 2024"
    assert month_span("2023-02", "2024-01") == "Feb 2023 to Jan 2024 (12 months)"
    assert month_span("2024-01", "2024-01") == "Jan 2024"
    assert cell_text(None) == cell_text(float("nan")) == cell_text(pd.NaT) == ""
    assert cell_text("None") == "" and cell_text(True) == "yes" and cell_text(False) == "no"
    assert cell_text(pd.Timestamp("2026-11-20 10:05")) == "20/11/2026 10:05"
    assert cell_text(date(2026, 11, 20)) == "20/11/2026"
    assert cell_text(12345) == "12,345" and cell_text(3.0) == "3"
    # counts as pandas gives them (numpy integers) read with separators too: the Data page
    assert cell_text(np.int64(4006)) == "4,006" and cell_text(np.float64(49482.0)) == "49,482"
    frame = pd.DataFrame({"imported_at": [datetime(2026, 1, 2, 9, 30), None],
                          "error": [None, "bad"], "extra": [1, 2]})
    shown = readable(frame, {"imported_at": "Imported", "error": "Problem"})
    assert list(shown.columns) == ["Imported", "Problem"]  # chosen and named for people
    assert shown.to_dict("list") == {"Imported": ["02/01/2026 09:30", ""],
                                     "Problem": ["", "bad"]}


def test_street_names_come_from_police_uk_snap_points() -> None:
    assert street_name("On or near High Street") == "High Street"
    assert street_name("  On or near   Church   Road ") == "Church Road"
    assert street_name("Petrol Station") == "Petrol Station"
    assert street_name("(no description)") == street_name("") == ""
    # a hotspot's busiest point carries its count: not part of the street's name
    assert street_name("On or near Theme/Adventure Park (244)") == "Theme/Adventure Park"
    assert street_name("On or near Bridge Street (1,204)") == "Bridge Street"
    assert street_name("On or near Flat 4 (Rear)") == "Flat 4 (Rear)"


def test_months_the_library_names_are_written_in_words() -> None:
    note = "11 of 12 months compared; dropped 2023-12 (no data for 2022-12)."
    assert months_in_words(note) == ("11 of 12 months compared; dropped Dec 2023 "
                                     "(no data for Dec 2022).")
    assert months_in_words("reviewed on 2026-12-01") == "reviewed on 2026-12-01"  # a date


def test_settings_are_written_in_words() -> None:
    table = settings_table({"cell_size_m": 50.0, "coverage": 0.01, "pool_rule": "not pooled"})
    assert table.to_dict("list") == {
        "Setting": ["Size of the squares (m)",
                    "Hotspots cover at most this share of the land", "How all crime is used"],
        "Value": ["50", "1.00%", "not pooled"]}


def test_a_change_is_read_out_with_its_test() -> None:
    assert change_reading(-40.0, 0.001) == "Fell by 40%: more than chance would explain"
    assert change_reading(5.2, 0.6) == "Rose by 5%: within what chance would give"
    assert change_reading(float("nan"), None) == "Nothing before to compare with"
    by_type = pd.DataFrame({"crime_type": ["All"], "before": [30], "after": [10],
                            "before_per_month": [3.0], "after_per_month": [1.0],
                            "change_pct": [-66.7], "p_value": [0.0003]})
    shown = before_after_table(by_type, "Before", "Since")
    assert shown.iloc[0].to_dict() == {
        "Crime type": "All", "Before": 30, "Since": 10, "Before, a month": "3.0",
        "Since, a month": "1.0", "The monthly rate": "Fell by 67%: more than chance would "
                                                     "explain"}


# ---------------------------------------------------------------- the heat picture


def test_the_heat_picture_is_the_density_surface_on_the_web_map(report) -> None:
    """Warped onto Web Mercator, the picture covers the surface's own bounds; it is clear
    where the surface is empty and strongest where the surface peaks."""
    surface = report.density()
    picture = surface_picture(surface)
    assert picture.data_uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(picture.data_uri.split(",", 1)[1])))
    assert max(image.size) <= 600 and len(picture.data_uri) < 60_000  # a light page
    image = image.convert("RGBA")
    alpha = np.asarray(image)[..., 3]
    assert (alpha == 0).mean() > 0.5  # most of a borough has no incident near it
    (south, west), (north, east) = picture.bounds
    to_wgs = Transformer.from_crs(27700, 4326, always_xy=True)
    minx, miny, maxx, maxy = surface.bounds
    lon, lat = to_wgs.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    assert west <= min(lon) + 1e-9 and east >= max(lon) - 1e-9
    assert south <= min(lat) + 1e-9 and north >= max(lat) - 1e-9
    # the picture's most opaque pixel is where the surface peaks (within a cell or two)
    row, col = np.unravel_index(np.argmax(surface.values), surface.values.shape)
    peak_lon, peak_lat = to_wgs.transform(surface.x0 + (col + 0.5) * surface.cell_size,
                                          surface.y0 + (row + 0.5) * surface.cell_size)
    to_web = Transformer.from_crs(4326, 3857, always_xy=True)
    (left, right), (bottom, top) = zip(*[to_web.transform(west, south),
                                         to_web.transform(east, north)], strict=True)
    px, py = to_web.transform(peak_lon, peak_lat)
    x = int((px - left) / (right - left) * image.size[0])
    y = int((top - py) / (top - bottom) * image.size[1])
    near = alpha[max(y - 3, 0):y + 4, max(x - 3, 0):x + 4]
    assert near.max() >= alpha.max() - 2


def test_an_empty_surface_draws_no_picture() -> None:
    assert heat_picture(np.zeros((5, 5)), 500000, 170000, 50) is None
    dot = np.zeros((5, 5))
    dot[2, 2] = 1.0
    picture = heat_picture(dot, 500000, 170000, 50)
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(
        picture.data_uri.split(",", 1)[1]))).convert("RGBA"))
    assert image[..., 3].max() > 0 and FLOOR > 0


# ---------------------------------------------------------------- the map


def test_street_tiles_follow_the_setting() -> None:
    assert street_tiles("osm")["url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert street_tiles("")["name"] == "OpenStreetMap"
    assert street_tiles("none") is None and street_tiles("OFF") is None
    own = street_tiles("https://tiles.council.example/os/{z}/{x}/{y}.png")
    assert own["name"] == "tiles.council.example"
    with pytest.raises(ValueError, match="with \\{z\\}, \\{x\\} and \\{y\\}"):
        street_tiles("https://tiles.council.example/map.png")


def hotspot_map(engine, report, **kwargs):
    place = resolve_area(engine, "Spelthorne")
    return build_map(gpd.GeoSeries([place.boundary], crs=27700),
                     load_layer(engine, "ward", SPELTHORNE), load_layer(engine, "water"),
                     report.incidents, report.hotspots,
                     streets=repeat_locations(report.incidents, top=15), **kwargs)


def setup_options(html: str) -> dict:
    """The options the map passes to its own script: the base map's (cspMap.setup) and the
    selection's layers' (cspMap.selection), which the key puts together."""
    base = json.loads(re.search(r"cspMap\.setup\([^,]+, (\{.*?\})\);", html, re.S).group(1))
    extra = json.loads(re.search(r"cspMap\.selection\([^,]+,\s*(\{.*?\})\);", html,
                                 re.S).group(1))
    return {**base, "key": base["key"] + extra["key"], "keyNotes": extra["notes"]}


def test_the_map_has_a_key_credits_and_no_attribution_box(sample_db, report) -> None:
    html = hotspot_map(sample_db.engine, report, tiles="none",
                       withheld=["Left out from this map for your role (viewer): X."]
                       ).get_root().render()
    options = setup_options(html)
    labels = [entry["label"] for entry in options["key"]]
    assert "Hotspot (outline, and a dot at its centre)" in labels
    assert "The 10 best-ranked hotspots, numbered as in the table" in labels
    assert any(label.startswith("Incidents per km²") for label in labels)
    assert "Borough boundary" in labels and "River Thames" in labels
    assert options["keyNotes"] == ["Left out from this map for your role (viewer): X."]
    assert any("Open Government Licence" in line for line in options["credits"])
    assert options["tiles"] is False  # no street map asked for
    assert '"attributionControl": false' in html  # credits fold behind the (i)
    assert "L.imageOverlay(" in html and "L.heatLayer(" not in html
    # the ten best are numbered, the street names of the busiest places written on the map
    assert len(re.findall(r'"className": "csp-rank"', html)) == 10
    top = street_name(repeat_locations(report.incidents, top=1)["location"].iloc[0])
    assert f"{top}" in html and '"className": "csp-street-label"' in html


def test_a_cached_map_draws_the_same_script_every_time(sample_db, report) -> None:
    """streamlit-folium keys a map by its script: a script that grew at each showing made a
    new map that had lost the user's click (folium's Marker added its icon again)."""
    fmap = hotspot_map(sample_db.engine, report, tiles="none")
    scripts = []
    for _ in range(3):
        names = {}
        pending = [fmap]
        while pending:  # as views.state.show_shared_map does
            element = pending.pop()
            names[id(element)] = (element, element._id)
            pending.extend(getattr(element, "_children", {}).values())
        fmap.get_root().render()
        scripts.append(re.sub(r"_[a-z0-9]+", "", _get_map_string(fmap)))
        for element, name in names.values():
            element._id = name
    assert scripts[0] == scripts[1] == scripts[2]


def test_the_profile_counts_what_the_hotspot_counted(report) -> None:
    """Every hotspot's profile holds as many incidents as its count (and its tooltip): a
    police.uk snap point on a square's edge counts in one square, not in both."""
    for rank in report.hotspots["rank"].head(40):
        row = report.hotspots[report.hotspots["rank"] == rank].iloc[0]
        assert hotspot_profile(report, int(rank)).count == int(row["count"]), rank
    cell = shapely.box(0, 0, 50, 50)
    x, y = np.array([0.0, 50.0, 25.0, 25.0]), np.array([25.0, 25.0, 0.0, 50.0])
    assert inside_outline(cell, x, y).tolist() == [True, False, True, False]
    triangle = shapely.Polygon([(0, 0), (50, 0), (0, 50)])
    assert inside_outline(triangle, np.array([25.0]), np.array([0.0])).tolist() == [True]


# ---------------------------------------------------------------- what a role does not see


def test_what_a_viewer_does_not_see_is_said_with_its_counts(sample_db) -> None:
    engine = sample_db.engine
    viewer = Principal("jag.member", "viewer")
    told = withheld(engine, {VSO: 2391}, principal=viewer)
    assert told.names[0] == VSO
    sentence = told.sentence("from this map")
    assert sentence.startswith("Left out from this map for your role (viewer): Violence and "
                               "sexual offences (2,391 in this selection; shown to your role "
                               "only as counts per ward")
    assert "any category whose name contains 'domestic'" in sentence
    assert not withheld(engine, principal=Principal("analyst", "analyst"))
    assert withheld(engine, principal=Principal("analyst", "analyst")).sentence() == ""


def test_exports_carry_what_was_left_out(sample_db) -> None:
    with acting_as(Principal("jag.member", "viewer")):
        report = find_hotspots(sample_db.engine, "Spelthorne", *MONTHS)
    note = "Left out from this file for your role (viewer): Violence and sexual offences."
    collection = json.loads(hotspots_geojson(report.hotspots, notes=[note, ""]))
    assert collection["notes"] == [note] and collection["features"]
    rows = pd.read_csv(io.StringIO(hotspots_csv(report.hotspots, note=note)))
    assert len(rows) == len(report.hotspots) and (rows["note"] == note).all()
    assert "note" not in pd.read_csv(io.StringIO(hotspots_csv(report.hotspots))).columns


def test_the_page_script_survives_streamlits_html_cleaning() -> None:
    """Streamlit cleans st.html with DOMPurify, which drops a script whose text holds '<'
    before a letter, '/' or '!': the shell's script has none (it once lost all of it)."""
    body = SCRIPT.removeprefix("<script>").removesuffix("</script>")
    assert re.findall(r"<[/\w!]", body) == []
    assert "__cspShell" in body and "stSidebarCollapseButton" in body


def test_the_density_surface_is_street_scale(sample_db) -> None:
    """One surface for the heat and the KDE hotspots: a few hundred metres of smoothing for a
    borough-year of burglary (issue 16), the same surface the map draws."""
    report = find_hotspots(sample_db.engine, "Spelthorne", *MONTHS, categories=["Burglary"],
                           method="kde")
    surface = report.density()
    assert 100 <= surface.bandwidth_m <= 600
    again = density_surface(report.incidents, report.area.boundary)
    assert np.allclose(again.values, surface.values)
    assert surface_picture(surface).data_uri == surface_picture(again).data_uri

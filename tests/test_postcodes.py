"""Postcodes to coordinates (bundled Code-Point Open) and BNG <-> WGS84 conversion, checked
against the raw Code-Point file and published reference points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.crs import bng_to_lonlat, in_gb_bng, in_gb_lonlat, lonlat_to_bng
from geo.postcodes import load_postcodes, normalise_postcode
from tests.sample_data import codepoint_rows, police_dicts


def raw_codepoint(postcode: str) -> dict:
    [row] = [r for r in codepoint_rows(postcode.split()[0] + " ") if r["postcode"] == postcode]
    return row


def test_known_postcode_gives_its_code_point_easting_northing():
    raw = raw_codepoint("TW18 4AB")  # Staines town centre
    lookup = load_postcodes()
    found = lookup.locate(pd.Series(["TW18 4AB", "tw184ab", "  Tw18   4aB "]))
    assert list(found["easting"]) == [raw["easting"]] * 3
    assert list(found["northing"]) == [raw["northing"]] * 3
    # Staines-upon-Thames is at about 51.43 N, 0.51 W
    assert found["lat"].iloc[0] == pytest.approx(51.43, abs=0.01)
    assert found["lon"].iloc[0] == pytest.approx(-0.51, abs=0.01)


def test_postcode_lookup_matches_every_bundled_tw18_record():
    raw = [r for r in codepoint_rows("TW18 ") if r["easting"] > 0]
    found = load_postcodes().locate(pd.Series([r["postcode"] for r in raw]))
    assert found["easting"].tolist() == [r["easting"] for r in raw]
    assert found["northing"].tolist() == [r["northing"] for r in raw]
    lon, lat = bng_to_lonlat(found["easting"], found["northing"])
    assert np.allclose(found["lon"], lon, atol=1e-6) and np.allclose(found["lat"], lat, atol=1e-6)


def test_unknown_and_invalid_postcodes_come_back_empty():
    found = load_postcodes().locate(pd.Series(["SW1A 1AA", "not a postcode", "", "TW18 4AB"]))
    assert found["easting"].isna().tolist() == [True, True, True, False]


@pytest.mark.parametrize(("text", "expected"), [
    ("tw184xx", "TW18 4XX"),
    (" TW18   4XX ", "TW18 4XX"),
    ("sw1a1aa", "SW1A 1AA"),
    ("W1A 0AX", "W1A 0AX"),
    ("m1 1ae", "M1 1AE"),
    ("B33 8TH", "B33 8TH"),
    ("DN551PT", "DN55 1PT"),
    ("TW18", None),
    ("TW18 4X", None),
    ("TW18 4XXX", None),
    ("18TW 4XX", None),
    ("not a postcode", None),
    ("", None),
    (None, None),
])
def test_normalise_postcode(text, expected):
    assert normalise_postcode(text) == expected


def test_os_reference_point_converts_within_metres():
    # Caister Water Tower, Ordnance Survey's worked example ("A guide to coordinate systems in
    # Great Britain"): ETRS89 52°39'28.8282"N 1°42'57.8663"E = E 651409.903, N 313177.270.
    lat = 52 + 39 / 60 + 28.8282 / 3600
    lon = 1 + 42 / 60 + 57.8663 / 3600
    e, n = lonlat_to_bng(lon, lat)
    assert float(e) == pytest.approx(651409.903, abs=10)  # Helmert, not OSTN15: a few metres
    assert float(n) == pytest.approx(313177.270, abs=10)
    back_lon, back_lat = bng_to_lonlat(651409.903, 313177.270)
    assert float(back_lon) == pytest.approx(lon, abs=1e-4)
    assert float(back_lat) == pytest.approx(lat, abs=1e-4)


def test_central_london_grid_reference_converts():
    lon, lat = bng_to_lonlat(530034, 180381)  # Trafalgar Square
    assert float(lat) == pytest.approx(51.5074, abs=0.001)
    assert float(lon) == pytest.approx(-0.1278, abs=0.001)


def test_round_trip_of_real_snap_points():
    rows = [r for r in police_dicts("2024-01") if r["Longitude"]]
    lon = np.array([float(r["Longitude"]) for r in rows])
    lat = np.array([float(r["Latitude"]) for r in rows])
    e, n = lonlat_to_bng(lon, lat)
    assert in_gb_bng(e, n).all()
    back_lon, back_lat = bng_to_lonlat(e, n)
    assert np.abs(back_lon - lon).max() < 1e-6
    assert np.abs(back_lat - lat).max() < 1e-6


def test_great_britain_bounds():
    assert in_gb_lonlat([-0.51, 2.35], [51.43, 48.86]).tolist() == [True, False]
    assert in_gb_lonlat([51.43], [-0.51]).tolist() == [False]  # swapped
    assert in_gb_bng([503654, -0.51, 503654], [171645, 51.43, 1_400_000]).tolist() == [
        True, False, False]

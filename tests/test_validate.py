"""Row checks shared by every importer (ingest/validate.py): months, UK and ISO dates, future
dates, and coordinates in both systems, on the real police.uk sample (longitude/latitude) and
real Code-Point Open postcodes (easting/northing), converted independently with pyproj, plus
the bad values people type: empty, not a number, swapped, the wrong system, outside Britain."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from ingest.validate import (
    NO_POSITION,
    RowReasons,
    check_bng,
    check_lonlat,
    future_dates,
    parse_dates,
    valid_months,
)
from tests.sample_data import codepoint_rows, has_coordinates, police_dicts

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def text(values) -> pd.Series:
    return pd.Series(values, dtype=object)


def test_real_month_values_pass_and_impossible_ones_do_not():
    months = text([r["Month"] for r in police_dicts("2023-12")])
    assert valid_months(months).all()
    odd = text(["2024-13", "2024-00", "2024-1", "24-01", " 2024-02 ", "", None, "2024-01-05"])
    assert valid_months(odd).tolist() == [False, False, False, False, True, False, False, False]


def test_dates_are_read_day_first_iso_and_with_times():
    values = text(["03/04/2024", "2024-04-03", "3-4-2024", "03.04.2024", "03/04/24",
                   "2024/04/03", "12/31/2024", "", None, "yesterday"])
    parsed = parse_dates(values)
    assert parsed[:6].tolist() == [pd.Timestamp("2024-04-03")] * 6  # 3 April, never 4 March
    assert parsed[6:].isna().all()  # month 31 does not exist: refused, not swapped
    with_times = parse_dates(text(["03/04/2024", "2024-04-03", "03/04/2024"]),
                             text(["14:05", "09:30:15", ""]))
    assert with_times.tolist() == [pd.Timestamp("2024-04-03 14:05"),
                                   pd.Timestamp("2024-04-03 09:30:15"),
                                   pd.Timestamp("2024-04-03")]
    # ISO 8601 with an offset is taken to UK local time (BST in July, GMT in January)
    zoned = parse_dates(text(["2024-07-01T12:00:00Z", "2024-01-15T12:00:00+01:00"]))
    assert zoned.tolist() == [pd.Timestamp("2024-07-01 13:00"), pd.Timestamp("2024-01-15 11:00")]


def test_future_dates_are_flagged_against_now():
    parsed = parse_dates(text(["01/01/2024", "02/01/2030", ""]))
    assert future_dates(parsed, now=datetime(2025, 6, 1)).tolist() == [False, True, False]
    assert future_dates(parsed, now=datetime(2031, 1, 1)).tolist() == [False, False, False]


def test_row_reasons_keep_the_first_failure():
    reasons = RowReasons(pd.RangeIndex(3))
    reasons.mark(pd.Series([True, False, False]), "first", "a")
    reasons.mark(pd.Series([True, True, False]), pd.Series(["second", "other", "x"]), "b")
    assert reasons.reason.tolist() == ["first", "other", ""]
    assert reasons.column.tolist() == ["a", "b", ""]
    assert reasons.ok.tolist() == [False, False, True]


def test_real_police_coordinates_convert_as_pyproj_does():
    rows = [r for r in police_dicts("2024-01") if has_coordinates(r)]
    assert len(rows) > 2000
    lon, lat = text([r["Longitude"] for r in rows]), text([r["Latitude"] for r in rows])
    points, reason, column = check_lonlat(lon, lat, "Longitude", "Latitude")
    assert (reason == "").all() and (column == "").all()
    e, n = TO_BNG.transform(lon.astype(float).to_numpy(), lat.astype(float).to_numpy())
    np.testing.assert_allclose(points["easting"], np.round(e, 1), atol=0.051)
    np.testing.assert_allclose(points["northing"], np.round(n, 1), atol=0.051)
    np.testing.assert_allclose(points["lon"], lon.astype(float), atol=5e-7)
    # every one is in Surrey, as police.uk says
    assert points["easting"].between(480000, 540000).all()
    assert points["northing"].between(130000, 180000).all()


def test_bad_longitude_latitude_get_their_reason_and_column():
    lon = text(["-0.5131", "", "", "west", "51.4318", "503500", "2.35", "-0.5131"])
    lat = text(["51.4318", "", "51.4", "51.4", "-0.5131", "171600", "48.85", " 51.4318 "])
    points, reason, column = check_lonlat(lon, lat, "Longitude", "Latitude")
    assert reason.tolist() == [
        "",
        NO_POSITION,
        "Longitude is empty",
        "Longitude 'west' is not a number",
        "Latitude and Longitude look swapped (Latitude -0.5131, Longitude 51.4318)",
        "coordinates 503500, 171600 look like eastings/northings, not longitude/latitude",
        "coordinates 2.35, 48.85 are outside Great Britain",  # Paris
        "",
    ]
    assert column.tolist() == ["", "Longitude/Latitude", "Longitude", "Longitude",
                               "Longitude/Latitude", "Longitude/Latitude", "Longitude/Latitude",
                               ""]
    assert points.iloc[[1, 2, 3, 4, 5, 6]].isna().all().all()
    assert points.iloc[0].tolist() == points.iloc[7].tolist()


def test_real_postcode_eastings_northings_convert_as_pyproj_does():
    postcodes = codepoint_rows("TW18")
    assert len(postcodes) > 100
    e = text([str(p["easting"]) for p in postcodes])
    n = text([str(p["northing"]) for p in postcodes])
    points, reason, _ = check_bng(e, n, "Easting", "Northing")
    assert (reason == "").all()
    lon, lat = TO_LONLAT.transform(e.astype(float).to_numpy(), n.astype(float).to_numpy())
    np.testing.assert_allclose(points["lon"], np.round(lon, 6), atol=1.1e-6)
    np.testing.assert_allclose(points["lat"], np.round(lat, 6), atol=1.1e-6)
    assert (points["easting"] == e.astype(float)).all()
    # Staines-upon-Thames and Laleham: TW18 lies around 51.42 N, 0.5 W
    assert points["lat"].between(51.39, 51.45).all() and points["lon"].between(-0.56, -0.46).all()


@pytest.mark.parametrize(("easting", "northing", "reason"), [
    ("503500", "171600", ""),
    ("", "", NO_POSITION),
    ("503500", "", "Northing is empty"),
    ("5035OO", "171600", "Easting '5035OO' is not a number"),
    ("-0.5131", "51.4318", "easting/northing -0.5131, 51.4318 look like longitude/latitude"),
    ("903500", "171600", "easting/northing 903500, 171600 are outside Great Britain"),
])
def test_bad_eastings_northings_get_their_reason(easting, northing, reason):
    points, got, _ = check_bng(text([easting]), text([northing]), "Easting", "Northing")
    assert got.tolist() == [reason]
    assert points.iloc[0].isna().all() == bool(reason)

"""One place typed by a person (geo/points.py): latitude/longitude, easting/northing or an OS
grid reference, each converted to the other system and checked against pyproj on the bundled
EXAMPLE equipment register and real Code-Point Open postcodes; and every way a typed place is
wrong (empty, not a number, swapped, the other system, outside Britain, a half-given pair)
refused with the field to correct."""

from __future__ import annotations

import csv
import math

import pytest
from pyproj import Transformer

from core.errors import UserError
from geo.points import Located, LocationError, locate
from tests.sample_data import SAMPLE, codepoint_rows

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def equipment() -> list[dict[str, str]]:
    """The bundled EXAMPLE water-safety register, read with the csv module."""
    with (SAMPLE / "registers" / "example_equipment.csv").open(encoding="utf-8-sig",
                                                              newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_register_item_is_located_from_its_latitude_and_longitude():
    items = equipment()
    assert len(items) >= 10
    for item in items:
        found = locate(latitude=item["Latitude"], longitude=item["Longitude"])
        assert found.given_as == "latitude/longitude" and found.precision_m == 1.0
        assert (found.lat, found.lon) == (float(item["Latitude"]), float(item["Longitude"]))
        e, n = TO_BNG.transform(found.lon, found.lat)
        assert found.easting == pytest.approx(e, abs=1e-6)
        assert found.northing == pytest.approx(n, abs=1e-6)
        # numbers, padded text and the other forms left blank all give the same place
        same = locate(latitude=f" {item['Latitude']} ", longitude=float(item["Longitude"]),
                      easting="", northing=None, grid_reference=float("nan"))
        assert same == found


def test_real_postcode_eastings_and_northings_are_located():
    for postcode in codepoint_rows("TW18 4")[:40]:
        found = locate(easting=str(postcode["easting"]), northing=postcode["northing"])
        assert found.given_as == "easting/northing"
        assert (found.easting, found.northing) == (postcode["easting"], postcode["northing"])
        lon, lat = TO_LONLAT.transform(postcode["easting"], postcode["northing"])
        assert (found.lon, found.lat) == pytest.approx((lon, lat), abs=1e-9)


def test_a_grid_reference_is_the_centre_of_its_square_with_its_precision():
    found = locate(grid_reference="TQ 036 715")  # Staines Bridge
    assert isinstance(found, Located)
    assert (found.easting, found.northing, found.precision_m) == (503650, 171550, 100)
    assert found.given_as == "grid reference"
    lon, lat = TO_LONLAT.transform(503650, 171550)
    assert (found.lon, found.lat) == pytest.approx((lon, lat), abs=1e-9)
    assert locate(grid_reference="tq0360071500").precision_m == 1


def test_latitude_and_longitude_win_over_the_other_forms():
    item = equipment()[0]
    found = locate(latitude=item["Latitude"], longitude=item["Longitude"], easting="1",
                   northing="1", grid_reference="NN 166 712")
    assert found.given_as == "latitude/longitude"
    assert locate(easting="503650", northing="171550", grid_reference="NN 166 712") \
        .given_as == "easting/northing"


@pytest.mark.parametrize(("given", "field", "words"), [
    ({}, "location", "no location: give latitude and longitude"),
    ({"latitude": "51.4318"}, "longitude", "longitude is empty"),
    ({"longitude": "-0.5131"}, "latitude", "latitude is empty"),
    ({"latitude": "51,4318", "longitude": "-0.5131"}, "latitude",
     "latitude '51,4318' is not a number"),
    ({"latitude": "inf", "longitude": "-0.5131"}, "latitude", "latitude 'inf' is not a number"),
    ({"latitude": "nan", "longitude": "-0.5131"}, "latitude", "latitude 'nan' is not a number"),
    ({"latitude": "-0.5131", "longitude": "51.4318"}, "latitude", "look swapped"),
    ({"latitude": "171550", "longitude": "503650"}, "latitude",
     "look like easting/northing metres"),
    ({"latitude": "48.8566", "longitude": "2.3522"}, "latitude", "is outside Great Britain"),
    ({"easting": "503650"}, "northing", "northing is empty"),
    ({"easting": "five", "northing": "171550"}, "easting", "easting 'five' is not a number"),
    ({"easting": "-0.5131", "northing": "51.4318"}, "easting",
     "look like longitude/latitude degrees"),
    ({"easting": "903650", "northing": "171550"}, "easting", "is off the British National Grid"),
    ({"grid_reference": "XX 036 715"}, "grid_reference", "not a 100 km square"),
    ({"grid_reference": "TQ 0367 15"}, "grid_reference", "as many digits"),
])
def test_a_wrong_place_is_refused_naming_the_field(given, field, words):
    with pytest.raises(LocationError) as caught:
        locate(**given)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert isinstance(caught.value, UserError) and isinstance(caught.value, ValueError)


def test_the_located_point_is_a_frozen_record():
    found = locate(latitude="51.4318", longitude="-0.5131")
    with pytest.raises(AttributeError):
        found.lat = 0.0  # type: ignore[misc]
    assert math.isfinite(found.easting) and 500000 < found.easting < 506000

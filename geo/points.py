"""One place typed by a person: latitude/longitude, easting/northing or an OS grid reference,
checked and returned in both WGS84 (for the map) and British National Grid (for metres).

Used by the registers' forms, CLI and imports, so a throwline typed at the riverside and one
in a spreadsheet are checked the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import UserError
from geo.crs import (
    GB_EASTING,
    GB_LAT,
    GB_LON,
    bng_to_lonlat,
    in_gb_bng,
    in_gb_lonlat,
    lonlat_to_bng,
)
from geo.gridref import GridReferenceError, parse_grid_reference


class LocationError(UserError, ValueError):
    """A location that cannot be used; `field` names the input that is wrong."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Located:
    """A checked point: WGS84 and BNG, how it was given and how precise it is (metres)."""

    lon: float
    lat: float
    easting: float
    northing: float
    given_as: str  # "latitude/longitude" | "easting/northing" | "grid reference"
    precision_m: float = 1.0


def _number(value: object, field: str) -> float:
    text = "" if value is None else str(value).strip()
    if not text:
        raise LocationError(f"{field} is empty", field)
    try:
        number = float(text)
    except ValueError:
        raise LocationError(f"{field} '{text}' is not a number", field) from None
    if not math.isfinite(number):
        raise LocationError(f"{field} '{text}' is not a number", field)
    return number


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        not str(value).strip()


def locate(latitude: object = None, longitude: object = None, easting: object = None,
           northing: object = None, grid_reference: object = None) -> Located:
    """The point given by whichever form is filled in (lat/lon, then easting/northing, then
    grid reference); refuses swapped, out-of-Britain or half-given coordinates."""
    if not (_blank(latitude) and _blank(longitude)):
        return _from_lonlat(latitude, longitude)
    if not (_blank(easting) and _blank(northing)):
        return _from_bng(easting, northing)
    if not _blank(grid_reference):
        try:
            e, n, size = parse_grid_reference(str(grid_reference))
        except GridReferenceError as exc:
            raise LocationError(str(exc), "grid_reference") from None
        lon, lat = bng_to_lonlat([e], [n])
        return Located(float(lon[0]), float(lat[0]), e, n, "grid reference", size)
    raise LocationError("no location: give latitude and longitude, easting and northing, or "
                        "an OS grid reference (e.g. TQ 036 715)", "location")


def _from_lonlat(latitude: object, longitude: object) -> Located:
    lat = _number(latitude, "latitude")
    lon = _number(longitude, "longitude")
    if not in_gb_lonlat([lon], [lat])[0]:
        if in_gb_lonlat([lat], [lon])[0]:
            raise LocationError(f"latitude {lat} and longitude {lon} look swapped (Great "
                                "Britain is at latitude 50-61, longitude -8 to 2)", "latitude")
        if min(abs(lat), abs(lon)) > 1000 and (in_gb_bng([lon], [lat])[0]
                                               or in_gb_bng([lat], [lon])[0]):
            raise LocationError(f"{lat}, {lon} look like easting/northing metres, not "
                                "latitude/longitude", "latitude")
        raise LocationError(f"latitude {lat}, longitude {lon} is outside Great Britain "
                            f"(latitude {GB_LAT[0]}-{GB_LAT[1]}, longitude {GB_LON[0]} to "
                            f"{GB_LON[1]})", "latitude")
    e, n = lonlat_to_bng([lon], [lat])
    return Located(lon, lat, float(e[0]), float(n[0]), "latitude/longitude")


def _from_bng(easting: object, northing: object) -> Located:
    e = _number(easting, "easting")
    n = _number(northing, "northing")
    if not in_gb_bng([e], [n])[0]:
        if in_gb_lonlat([e], [n])[0] or in_gb_lonlat([n], [e])[0]:
            raise LocationError(f"{e}, {n} look like longitude/latitude degrees, not "
                                "easting/northing metres", "easting")
        raise LocationError(f"easting {e:.0f}, northing {n:.0f} is off the British National "
                            f"Grid (eastings 0-{GB_EASTING[1]:.0f} m)", "easting")
    lon, lat = bng_to_lonlat([e], [n])
    return Located(float(lon[0]), float(lat[0]), e, n, "easting/northing")

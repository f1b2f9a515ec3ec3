"""Coordinate conversion between WGS84 (maps) and British National Grid (metres).

Offline, PROJ has no OSTN15 grid, so 4326<->27700 uses the Helmert transform, about 2 m off:
far below the police.uk snap-point anonymisation and fine for hotspots.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
BNG = "EPSG:27700"

# Great Britain with its islands, generously: mainland, Scilly, Shetland.
GB_LON = (-8.7, 1.9)
GB_LAT = (49.8, 60.9)
GB_EASTING = (0.0, 700_000.0)
GB_NORTHING = (0.0, 1_300_000.0)

CRSLike = Any  # what GeoPandas takes for a crs: "EPSG:27700", 27700, a pyproj CRS


@lru_cache(maxsize=2)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude arrays to BNG easting/northing in metres."""
    return _transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))


def bng_to_lonlat(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unproject BNG easting/northing arrays to WGS84 longitude/latitude."""
    return _transformer(BNG, WGS84).transform(
        np.asarray(easting, float), np.asarray(northing, float)
    )


def reproject(geometry: BaseGeometry, from_crs: CRSLike, to_crs: CRSLike) -> BaseGeometry:
    """One geometry moved from one coordinate system to another (a WGS84 outline into BNG
    metres, say); the same as projecting a one-row GeoSeries, without writing one out."""
    import geopandas as gpd  # heavy: only the callers that reproject pay for it

    return gpd.GeoSeries([geometry], crs=from_crs).to_crs(to_crs).iloc[0]


def in_gb_lonlat(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where a longitude/latitude pair lies in Great Britain's bounding box."""
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    return (lon >= GB_LON[0]) & (lon <= GB_LON[1]) & (lat >= GB_LAT[0]) & (lat <= GB_LAT[1])


def in_gb_bng(easting: np.ndarray, northing: np.ndarray) -> np.ndarray:
    """True where an easting/northing pair lies on the British National Grid's extent."""
    e = np.asarray(easting, float)
    n = np.asarray(northing, float)
    return (e > GB_EASTING[0]) & (e < GB_EASTING[1]) & (n > GB_NORTHING[0]) & (n < GB_NORTHING[1])

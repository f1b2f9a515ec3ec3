"""Outlines the registers hold (a PSPO's area, a problem location, an assessment's control
area): read from a council's map file in any of the usual formats, and checked to be one valid
outline lying in its borough. Shared by registers.pspo, registers.problems and
report.assessment."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import shapely.validation
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from geo.areas import Area
from geo.crs import BNG, WGS84, reproject
from geo.layer_files import LayerError, check_layer_file
from registers.common import RegisterError

# At most this share of an order's area may lie outside its borough: the bundled boundaries
# are generalised, so an order drawn on the council's own map can stray over them a little.
OUTSIDE_TOLERANCE = 0.05
AREA_FILE_TYPES = ("geojson", "json", "kml", "gpkg", "zip")


def checked_outline(area: Area, geometry: BaseGeometry | dict | None,
                   source: str = "the area", what: str = "a PSPO area",
                   owner: str = "a council's order") -> MultiPolygon:
    """An outline (a PSPO's area, a problem location) as a WGS84 MultiPolygon: refuses no
    shape, a shape that is not an outline, an invalid outline (naming where it goes wrong) and
    one mostly outside the borough; `what` and `owner` name it in the messages."""
    if isinstance(geometry, dict):
        try:
            geometry = shapely.geometry.shape(geometry)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise RegisterError(f"{source} is not a GeoJSON geometry ({exc})", "area") from None
    if geometry is None or geometry.is_empty:
        raise RegisterError(f"{source}: no outline given; upload the order's map (GeoJSON, "
                            "KML, GeoPackage or zipped Shapefile) or draw it", "area")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise RegisterError(f"{source} is a {geometry.geom_type}: {what} must be an "
                            "outline (polygon)", "area")
    if not geometry.is_valid:
        reason = shapely.validation.explain_validity(geometry)
        raise RegisterError(f"{source} is not a valid outline ({reason}, in longitude/latitude"
                            "): redraw it so its edges do not cross", "area")
    bng = reproject(geometry, WGS84, BNG)
    if bng.area < 1.0:
        raise RegisterError(f"{source} encloses no area", "area")
    outside = bng.difference(area.boundary).area / bng.area
    if outside > OUTSIDE_TOLERANCE:
        where = "lies wholly outside" if outside > 0.999 else \
            f"has {outside:.0%} of its area outside"
        raise RegisterError(f"{source} {where} {area.name}: {owner} covers only "
                            "its own borough", "area")
    if geometry.geom_type == "Polygon":
        geometry = MultiPolygon([geometry])
    return geometry


def read_area_file(path: str | Path, feature: str | None = None) -> tuple[BaseGeometry, str]:
    """The outline in an order's map file (GeoJSON, KML, GeoPackage, zipped Shapefile, any
    declared CRS), in WGS84, and a note of where it came from. Several features are merged
    into one area unless `feature` names one (by its name field)."""
    try:
        checked = check_layer_file(path, "pspo", repair_invalid=False)
    except LayerError as exc:
        raise RegisterError(str(exc), "area") from None
    features = checked.features
    name = checked.file
    if not checked.rejected.empty:
        raise RegisterError("; ".join(f"{name}: {r}" for r in checked.rejected["reason"]),
                            "area")
    if feature:
        labels = feature_labels(features)
        chosen = features[labels.str.lower() == feature.strip().lower()]
        if chosen.empty:
            raise RegisterError(f"{name} has no feature named '{feature}'; it has "
                                f"{', '.join(labels.head(20))}", "area")
        features = chosen
    invalid = features[~features.geometry.is_valid]
    if len(invalid):
        labels = feature_labels(invalid)
        reason = shapely.validation.explain_validity(invalid.geometry.iloc[0])
        raise RegisterError(f"{name}: feature '{labels.iloc[0]}' is not a valid outline "
                            f"({reason}): correct the map and upload it again", "area")
    merged = shapely.union_all(features.geometry.to_numpy())
    source = name if len(features) == 1 else f"{name} ({len(features)} features merged)"
    return merged, source


def feature_labels(features: gpd.GeoDataFrame) -> pd.Series:
    """Each feature's name (its name, title or label field, or an ONS ...NM field), else
    'feature N'."""
    for column in features.columns:
        if str(column).lower() in ("name", "title", "label") or str(column).upper().endswith(
                "NM"):
            return features[column].astype(str)
    return pd.Series([f"feature {i + 1}" for i in range(len(features))], index=features.index)

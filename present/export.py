"""Hotspots out of the product: GeoJSON (WGS84) and CSV, both safe to open anywhere."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from core.safe_text import json_value, safe_csv
from geo.crs import WGS84

CONTEXT_FIELDS = ("ward", "top_types", "top_location", "lsoa", "town_centre",
                  "water_distance_m", "river_frontage", "pspo")


def hotspots_geojson(hotspots: gpd.GeoDataFrame, notes: list[str] | None = None) -> str:
    """A FeatureCollection in WGS84; `parameters` is an object, other fields as in the table;
    `notes` (e.g. what the reader's role does not see) in a top-level "notes" member."""
    wgs = hotspots.to_crs(WGS84)
    features = []
    for _, row in wgs.iterrows():
        properties = {
            "rank": int(row["rank"]), "count": int(row["count"]), "score": float(row["score"]),
            "method": row["method"], "parameters": json.loads(row["parameters"]),
        }
        for column in CONTEXT_FIELDS:
            if column in wgs.columns:
                properties[column] = json_value(row[column])
        features.append({"type": "Feature", "properties": properties,
                         "geometry": row.geometry.__geo_interface__})
    collection = {"type": "FeatureCollection", "features": features}
    kept = [note for note in notes or [] if note]
    if kept:
        collection["notes"] = kept
    return json.dumps(collection)


def hotspots_table(hotspots: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ranked table users see and download: one row per hotspot, no geometry."""
    wgs = hotspots.to_crs(WGS84)
    centroids = hotspots.geometry.centroid.to_crs(WGS84)
    table = pd.DataFrame({
        "rank": hotspots["rank"].astype(int),
        "ward": hotspots.get("ward", ""),
        "count": hotspots["count"].astype(int),
        "top_types": hotspots.get("top_types", ""),
        "top_location": hotspots.get("top_location", ""),
        "town_centre": hotspots.get("town_centre", ""),
        "water_distance_m": hotspots.get("water_distance_m"),
        "river_frontage": hotspots.get("river_frontage"),
        "pspo": hotspots.get("pspo", ""),
        "lsoa": hotspots.get("lsoa", ""),
        "score": hotspots["score"],
        "area_m2": hotspots.geometry.area.round(0),
        "centroid_lat": centroids.y.round(6),
        "centroid_lon": centroids.x.round(6),
        "method": hotspots["method"],
        "parameters": hotspots["parameters"],
    })
    table["geometry_wkt"] = wgs.geometry.to_wkt(rounding_precision=6)
    return table


def hotspots_csv(hotspots: gpd.GeoDataFrame, note: str = "") -> str:
    """CSV of the ranked table with WKT outlines (WGS84); data text guarded against formulas.
    `note` (e.g. what the reader's role does not see) goes in a `note` column on every row,
    so it travels with any row copied out."""
    table = hotspots_table(hotspots)
    if note:
        table["note"] = note
    return safe_csv(table)

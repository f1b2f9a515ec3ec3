"""Name hotspots in the JAG's terms: which ward, and which crime types drive them."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.crs import BNG


def incidents_frame(incidents: pd.DataFrame) -> gpd.GeoDataFrame:
    """Incident rows as BNG points (from their stored easting/northing)."""
    return gpd.GeoDataFrame(
        incidents, geometry=gpd.points_from_xy(incidents["easting"], incidents["northing"]),
        crs=BNG)


def label_hotspots(hotspots: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame,
                   wards: gpd.GeoDataFrame, top: int = 3) -> gpd.GeoDataFrame:
    """Add `ward` (largest overlap), `top_types` ("Shoplifting (41); ...") and `location`."""
    labelled = hotspots.copy()
    labelled["ward"] = ""
    labelled["top_types"] = ""
    labelled["top_location"] = ""
    if labelled.empty:
        return labelled
    if len(wards):
        wards_bng = wards.to_crs(BNG)[["name", "geometry"]]
        pieces = gpd.overlay(labelled[["rank", "geometry"]], wards_bng, how="intersection",
                             keep_geom_type=True)
        if len(pieces):
            pieces["overlap"] = pieces.geometry.area
            best = pieces.sort_values("overlap", ascending=False).drop_duplicates("rank")
            labelled["ward"] = labelled["rank"].map(best.set_index("rank")["name"]).fillna("")
    if len(incidents):
        joined = gpd.sjoin(incidents[["category", "location", "geometry"]],
                           labelled[["rank", "geometry"]], predicate="intersects")
        joined = joined.sort_values("rank")
        joined = joined[~joined.index.duplicated(keep="first")]
        labelled["top_types"] = labelled["rank"].map(
            joined.groupby("rank")["category"].agg(lambda s: _top(s, top))).fillna("")
        labelled["top_location"] = labelled["rank"].map(
            joined.groupby("rank")["location"].agg(lambda s: _top(s.dropna(), 1))).fillna("")
    return labelled


def _top(values: pd.Series, n: int) -> str:
    counts = values.value_counts().head(n)
    return "; ".join(f"{name} ({count})" for name, count in counts.items())

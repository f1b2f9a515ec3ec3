"""Name hotspots in the JAG's terms: which crime types drive them and where (ward, town
centre, river and PSPO come from `geo.joins`)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.crs import BNG
from geo.joins import CONTEXT_COLUMNS, ContextLayers, attribute_polygons


def incidents_frame(incidents: pd.DataFrame) -> gpd.GeoDataFrame:
    """Incident rows as BNG points (from their stored easting/northing)."""
    return gpd.GeoDataFrame(
        incidents, geometry=gpd.points_from_xy(incidents["easting"], incidents["northing"]),
        crs=BNG)


def label_hotspots(hotspots: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame,
                   layers: ContextLayers | None = None, top: int = 3) -> gpd.GeoDataFrame:
    """Add `top_types` ("Shoplifting (41); ..."), `top_location`, and with `layers` the ward,
    LSOA, town centre, distance to water, river frontage and PSPOs of each hotspot."""
    labelled = hotspots.copy()
    for column in CONTEXT_COLUMNS:
        labelled[column] = "" if column not in ("water_distance_m", "river_frontage") else None
    labelled["top_types"] = ""
    labelled["top_location"] = ""
    if labelled.empty:
        return labelled
    if layers is not None:
        context = attribute_polygons(labelled.geometry, layers)
        for column in CONTEXT_COLUMNS:
            labelled[column] = context[column].to_numpy()
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

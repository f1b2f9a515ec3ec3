"""The hotspot map: boundaries and river drawn from bundled data, heat layer, hotspot outlines.

Readable with no tile server (boundaries and the Thames are the base); OpenStreetMap tiles are
an optional overlay for networks that allow them. All text from data is HTML-escaped.
"""

from __future__ import annotations

import html
import os

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import WGS84
from present.assets import add_offline_support

ATTRIBUTION = (
    "Crime and ASB: police.uk, Open Government Licence v3.0 | Boundaries: ONS, contains OS "
    "data © Crown copyright and database right | Postcodes: OS Code-Point Open | "
    "River Thames: © OpenStreetMap contributors (ODbL)"
)
HOTSPOT_COLOUR = "#c0392b"


def _escaped(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype(str).map(html.escape)
    return out


def heat_points(incidents: pd.DataFrame, limit: int = 20000) -> list[list[float]]:
    """[lat, lon, weight] per distinct location, weights scaled to 0-1 (95th percentile = 1).

    Aggregating by location keeps the page small: a borough-year is ~1,000 distinct points.
    """
    if incidents.empty:
        return []
    grouped = incidents.groupby(["lat", "lon"]).size().reset_index(name="n")
    grouped = grouped.sort_values("n", ascending=False).head(limit)
    top = max(float(np.percentile(grouped["n"], 95)), 1.0)
    grouped["w"] = (grouped["n"] / top).clip(upper=1.0).round(3)
    return grouped[["lat", "lon", "w"]].to_numpy().tolist()


def build_map(area_boundary: gpd.GeoSeries, wards: gpd.GeoDataFrame, water: gpd.GeoDataFrame,
              incidents: pd.DataFrame, hotspots: gpd.GeoDataFrame,
              tiles: str | None = None) -> folium.Map:
    """Compose the map: base boundaries and river, heat of incidents, outlined hotspots."""
    boundary = area_boundary.to_crs(WGS84)
    minx, miny, maxx, maxy = boundary.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None,
                   control_scale=True, prefer_canvas=False)
    m.options["maxZoom"] = 18
    add_offline_support(m, attribution=ATTRIBUTION)
    tiles = tiles if tiles is not None else os.environ.get("HOTSPOTS_TILES", "")
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap base map (needs internet)",
                     overlay=True, control=True, show=tiles == "osm").add_to(m)
    folium.map.CustomPane("base", z_index=350).add_to(m)

    if len(water):
        folium.GeoJson(water.to_crs(WGS84)[["name", "geometry"]].to_json(), name="River Thames",
                       pane="base", style_function=lambda _: {
                           "color": "#2c7fb8", "weight": 1, "fillColor": "#a6cee3",
                           "fillOpacity": 0.8}).add_to(m)
    if len(wards):
        folium.GeoJson(
            _escaped(wards.to_crs(WGS84)[["name", "geometry"]], ["name"]).to_json(),
            name="Wards", pane="base",
            style_function=lambda _: {"color": "#555555", "weight": 1, "fillOpacity": 0.03,
                                      "fillColor": "#888888"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ward"]),
        ).add_to(m)
    folium.GeoJson(boundary.to_json(), name="Area boundary", pane="base",
                   style_function=lambda _: {"color": "#222222", "weight": 3, "fill": False},
                   ).add_to(m)

    points = heat_points(incidents)
    if points:
        folium.plugins.HeatMap(points, name="Incidents (heat)", radius=14, blur=12,
                               min_opacity=0.25, max_zoom=16).add_to(m)

    if len(hotspots):
        shown = hotspots.to_crs(WGS84)[["rank", "count", "ward", "top_types", "top_location",
                                        "geometry"]].copy()
        shown = _escaped(shown, ["ward", "top_types", "top_location"])
        folium.GeoJson(
            shown.to_json(), name="Hotspots",
            style_function=lambda _: {"color": HOTSPOT_COLOUR, "weight": 2.5,
                                      "fillColor": HOTSPOT_COLOUR, "fillOpacity": 0.12},
            highlight_function=lambda _: {"weight": 4, "fillOpacity": 0.3},
            tooltip=folium.GeoJsonTooltip(
                fields=["rank", "count", "ward", "top_location"],
                aliases=["Hotspot", "Incidents", "Ward", "Most at"]),
            popup=folium.GeoJsonPopup(fields=["rank", "count", "ward", "top_types"],
                                      aliases=["Hotspot", "Incidents", "Ward", "Top types"]),
        ).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m

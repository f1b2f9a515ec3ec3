"""The hotspot map: boundaries and river drawn from bundled data, heat layer, hotspot outlines.

Readable with no tile server (boundaries and the Thames are the base); OpenStreetMap tiles are
an optional overlay for networks that allow them. Town centres (dashed where approximate), the
river frontage band and PSPO areas are optional base layers. All text from data is HTML-escaped.
"""

from __future__ import annotations

import functools
import html
import os

import branca.element
import folium
import folium.plugins
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely

from geo.crs import WGS84
from present.assets import add_offline_support

ATTRIBUTION = (
    "Crime and ASB: police.uk, Open Government Licence v3.0 | Boundaries: ONS, contains OS "
    "data © Crown copyright and database right | Postcodes: OS Code-Point Open | "
    "River Thames: © OpenStreetMap contributors (ODbL)"
)


@functools.lru_cache(maxsize=1024)
def _compiled_template(source: str) -> jinja2.Template:
    """One compiled jinja2 template per template text. branca compiles an element's template
    every time the element is made (folium makes dozens while rendering a map): 0.43 s of a
    1.4 s hotspot-map run on a three-borough year (bench/bench_app.py), now compiled once per
    server. Templates hold no state of their own, so sharing them is safe."""
    return jinja2.Template(source)


branca.element.Template = _compiled_template

HOTSPOT_COLOUR = "#c0392b"
TOWN_CENTRE_COLOUR = "#7b3294"
FRONTAGE_COLOUR = "#4a9fd8"
PSPO_COLOUR = "#e66101"
EQUIPMENT_COLOUR = "#1a9641"
CCTV_COLOUR = "#333333"
PROBLEM_COLOUR = "#6a3d9a"


DISPLAY_GRID = 1e-6  # degrees: ~0.1 m, finer than the map ever shows
DISPLAY_SIMPLIFY = 1e-5  # degrees: ~1 m, a pixel at the map's closest zoom


def geojson_text(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """GeoJSON (WGS84) of a layer as the map draws it: outlines simplified to about a metre
    and coordinates kept to about 10 cm, which halves the page (the river frontage band and
    the Thames have thousands of vertices) with no visible change; no feature ids."""
    shown = frame.to_crs(WGS84) if frame.crs is not None else frame
    geometry = shown.geometry if isinstance(shown, gpd.GeoDataFrame) else shown
    polygonal = geometry.geom_type.isin(["Polygon", "MultiPolygon", "LineString",
                                         "MultiLineString"])
    lighter = geometry.copy()
    lighter[polygonal] = geometry[polygonal].simplify(DISPLAY_SIMPLIFY, preserve_topology=True)
    lighter = gpd.GeoSeries(shapely.set_precision(lighter.to_numpy(), DISPLAY_GRID),
                            index=geometry.index, crs=geometry.crs)
    if isinstance(shown, gpd.GeoDataFrame):
        return shown.set_geometry(lighter).to_json(drop_id=True)
    return lighter.to_json(drop_id=True)


def _escaped(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype(str).map(html.escape)
    return out


def _distance_text(value: object) -> str:
    """Metres to the water as hotspot tooltips show it: '120 m', or '–' without water."""
    try:
        metres = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if np.isnan(metres) else f"{metres:,.0f} m"


def _or_none(value: object) -> str:
    """A context label for a tooltip; 'none' when the hotspot is in no such area."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text or "none"


def town_centre_labels(town_centres: gpd.GeoDataFrame) -> pd.Series:
    """What a town centre's tooltip says about its outline: the approximation note (always
    starting 'Approximate:') for approximations, else that it is the loaded boundary."""
    approximate = town_centres.get("approximate", pd.Series(False, index=town_centres.index))
    notes = town_centres.get("note", pd.Series("", index=town_centres.index)).fillna("")
    labels = []
    for is_approx, note in zip(approximate.fillna(False).astype(bool), notes, strict=True):
        note = str(note).strip()
        if is_approx:
            labels.append(note if note.lower().startswith("approximate") else
                          f"Approximate: {note or 'not the council boundary'}")
        else:
            labels.append(note or "Boundary as loaded")
    return pd.Series(labels, index=town_centres.index, dtype=object)


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
    grouped[["lat", "lon"]] = grouped[["lat", "lon"]].round(5)  # ~1 m: lighter page
    return grouped[["lat", "lon", "w"]].to_numpy().tolist()


def build_map(area_boundary: gpd.GeoSeries, wards: gpd.GeoDataFrame, water: gpd.GeoDataFrame,
              incidents: pd.DataFrame, hotspots: gpd.GeoDataFrame,
              tiles: str | None = None, *,
              town_centres: gpd.GeoDataFrame | None = None,
              frontage: gpd.GeoSeries | None = None,
              pspos: gpd.GeoDataFrame | None = None,
              frontage_m: float = 50.0,
              equipment: pd.DataFrame | None = None,
              equipment_shown: bool = True,
              cctv: gpd.GeoDataFrame | None = None,
              problems: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Compose the map: base boundaries and river (with, when given, the river frontage band,
    town centres and PSPO areas), heat of incidents, outlined hotspots, and water-safety
    equipment coloured by its check state, CCTV cameras where loaded (off until ticked) and
    the outlines of adopted problem locations (with `name`).
    `frontage_m` is the band's width, for its layer name."""
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
        folium.GeoJson(geojson_text(_escaped(water[["name", "geometry"]], ["name"])),
                       name="River Thames",
                       pane="base", style_function=lambda _: {
                           "color": "#2c7fb8", "weight": 1, "fillColor": "#a6cee3",
                           "fillOpacity": 0.8}).add_to(m)
    if len(wards):
        folium.GeoJson(
            geojson_text(_escaped(wards.to_crs(WGS84)[["name", "geometry"]], ["name"])),
            name="Wards", pane="base",
            style_function=lambda _: {"color": "#555555", "weight": 1, "fillOpacity": 0.03,
                                      "fillColor": "#888888"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ward"]),
        ).add_to(m)
    _add_context_layers(m, town_centres, frontage, pspos, frontage_m)
    folium.GeoJson(geojson_text(boundary), name="Area boundary", pane="base",
                   style_function=lambda _: {"color": "#222222", "weight": 3, "fill": False},
                   ).add_to(m)

    points = heat_points(incidents)
    if points:
        folium.plugins.HeatMap(points, name="Incidents (heat)", radius=14, blur=12,
                               min_opacity=0.25, max_zoom=16).add_to(m)

    if len(hotspots):
        shown = hotspots.to_crs(WGS84)
        shown = pd.DataFrame({
            "rank": shown["rank"], "count": shown["count"],
            "ward": shown.get("ward", ""), "top_types": shown.get("top_types", ""),
            "top_location": shown.get("top_location", ""),
            "town_centre": shown.get("town_centre", pd.Series("", index=shown.index)
                                     ).map(_or_none),
            "river": shown.get("water_distance_m", pd.Series(np.nan, index=shown.index)
                               ).map(_distance_text),
            "pspo": shown.get("pspo", pd.Series("", index=shown.index)).map(_or_none),
        }, index=shown.index)
        shown = gpd.GeoDataFrame(
            _escaped(shown, ["ward", "top_types", "top_location", "town_centre", "river",
                             "pspo"]),
            geometry=hotspots.to_crs(WGS84).geometry, crs=WGS84)
        folium.GeoJson(
            geojson_text(shown), name="Hotspots",
            style_function=lambda _: {"color": HOTSPOT_COLOUR, "weight": 2.5,
                                      "fillColor": HOTSPOT_COLOUR, "fillOpacity": 0.12},
            highlight_function=lambda _: {"weight": 4, "fillOpacity": 0.3},
            tooltip=folium.GeoJsonTooltip(
                fields=["rank", "count", "ward", "town_centre", "river", "pspo",
                        "top_location"],
                aliases=["Hotspot", "Incidents", "Ward", "Town centre", "River (to water)",
                         "PSPO", "Most at"]),
            popup=folium.GeoJsonPopup(
                fields=["rank", "count", "ward", "town_centre", "river", "pspo", "top_types"],
                aliases=["Hotspot", "Incidents", "Ward", "Town centre", "River (to water)",
                         "PSPO", "Top types"]),
        ).add_to(m)
    if equipment is not None and len(equipment):
        add_equipment_layer(m, equipment, show=equipment_shown)
    if cctv is not None and len(cctv):
        add_cctv_layer(m, cctv)
    if problems is not None and len(problems):
        add_outline_layer(m, problems, "Problem locations", PROBLEM_COLOUR,
                          {"name": "Problem location"})
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def add_equipment_layer(m: folium.Map, items: pd.DataFrame, show: bool = True) -> None:
    """Water-safety equipment as circles coloured by check state (the due report's `colour`
    and `state_label`), one GeoJSON layer so a thousand items stay light. Text escaped."""
    def text(column: str) -> pd.Series:
        values = items[column] if column in items else pd.Series("", index=items.index)
        return values.fillna("").astype(str).map(html.escape)

    last = items.get("last_checked_at", pd.Series(pd.NaT, index=items.index))
    shown = gpd.GeoDataFrame({
        "asset_id": text("asset_id"), "kind": text("kind_label"), "site": text("site"),
        "state": text("state_label"),
        "last": [("never" if pd.isna(t) else f"{pd.Timestamp(t):%d/%m/%Y %H:%M}: "
                  + html.escape(str(o or ""))) for t, o in
                 zip(last, items.get("last_outcome_label", [""] * len(items)), strict=True)],
        "colour": items.get("colour", pd.Series(EQUIPMENT_COLOUR, index=items.index)),
        "example": ["yes (example data)" if e else "" for e in
                    items.get("example", pd.Series(False, index=items.index))],
    }, geometry=gpd.points_from_xy(items["lon"], items["lat"]), crs=WGS84)
    fields = ["asset_id", "kind", "site", "state", "last", "example"]
    aliases = ["Asset", "Type", "Site", "State", "Last check", "Example"]
    folium.GeoJson(
        geojson_text(shown), name="Water-safety equipment", show=show,
        marker=folium.CircleMarker(radius=7, weight=2, fill=True, fill_opacity=0.9),
        style_function=lambda feature: {"color": "#ffffff",
                                        "fillColor": feature["properties"]["colour"]},
        tooltip=folium.GeoJsonTooltip(fields=fields[:4], aliases=aliases[:4]),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
    ).add_to(m)


def add_outline_layer(m: folium.Map, outlines: gpd.GeoDataFrame, name: str, colour: str,
                      fields: dict[str, str]) -> None:
    """Named outlines (problem locations) as one layer; `fields` maps a column to its tooltip
    label; text escaped. Add it before the layer control (build_map's `problems`)."""
    shown = gpd.GeoDataFrame(
        {column: outlines[column].fillna("").astype(str).map(html.escape) for column in fields},
        geometry=outlines.to_crs(WGS84).geometry, crs=WGS84)
    folium.GeoJson(
        geojson_text(shown), name=html.escape(name),
        style_function=lambda _: {"color": colour, "weight": 3, "fillColor": colour,
                                  "fillOpacity": 0.1},
        tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(fields.values())),
    ).add_to(m)


def add_cctv_layer(m: folium.Map, cameras: gpd.GeoDataFrame, show: bool = False) -> None:
    """CCTV cameras as small dark squares-ish circles (one GeoJSON layer), name escaped."""
    shown = gpd.GeoDataFrame({"name": cameras["name"].fillna("").astype(str).map(html.escape)},
                             geometry=cameras.to_crs(WGS84).geometry, crs=WGS84)
    folium.GeoJson(
        geojson_text(shown), name=f"CCTV cameras ({len(shown)})", show=show,
        marker=folium.CircleMarker(radius=4, weight=1, fill=True, fill_opacity=1.0),
        style_function=lambda _: {"color": "#ffffff", "fillColor": CCTV_COLOUR},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["CCTV camera"]),
    ).add_to(m)


def _add_context_layers(m: folium.Map, town_centres: gpd.GeoDataFrame | None,
                        frontage: gpd.GeoSeries | None, pspos: gpd.GeoDataFrame | None,
                        frontage_m: float) -> None:
    """River frontage band, town centres and PSPO areas in the lower "base" pane, each its own
    layer in the layer control."""
    if frontage is not None and len(frontage):
        band = gpd.GeoDataFrame(geometry=gpd.GeoSeries(frontage).to_crs(WGS84))
        band = band[~band.geometry.is_empty & band.geometry.notna()]
        if len(band):
            label = f"River frontage (within {frontage_m:g} m)"
            band["name"] = html.escape(label)
            folium.GeoJson(
                geojson_text(band), name=html.escape(label), pane="base",
                style_function=lambda _: {"color": FRONTAGE_COLOUR, "weight": 0.5,
                                          "opacity": 0.6, "fillColor": FRONTAGE_COLOUR,
                                          "fillOpacity": 0.25},
                tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
            ).add_to(m)
    if town_centres is not None and len(town_centres):
        centres = town_centres.to_crs(WGS84)
        shown = gpd.GeoDataFrame({
            "name": centres["name"].astype(str),
            "outline": town_centre_labels(centres),
            "approximate": centres.get("approximate", pd.Series(False, index=centres.index)
                                       ).fillna(False).astype(bool),
        }, geometry=centres.geometry, crs=WGS84)
        shown = _escaped(shown, ["name", "outline"])
        folium.GeoJson(
            geojson_text(shown), name="Town centres (dashed = approximate)", pane="base",
            style_function=lambda feature: {
                "color": TOWN_CENTRE_COLOUR, "weight": 2.5, "fillColor": TOWN_CENTRE_COLOUR,
                "fillOpacity": 0.04,
                "dashArray": "8 6" if feature["properties"].get("approximate") else None},
            tooltip=folium.GeoJsonTooltip(fields=["name", "outline"],
                                          aliases=["Town centre", "Outline"]),
        ).add_to(m)
    if pspos is not None and len(pspos):
        orders = pspos.to_crs(WGS84)
        shown = _escaped(gpd.GeoDataFrame({"name": orders["name"].astype(str)},
                                          geometry=orders.geometry, crs=WGS84), ["name"])
        folium.GeoJson(
            geojson_text(shown), name="PSPO areas", pane="base",
            style_function=lambda _: {"color": PSPO_COLOUR, "weight": 2.5, "fill": True,
                                      "fillColor": PSPO_COLOUR, "fillOpacity": 0.03},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["PSPO"]),
        ).add_to(m)


def drawing_map(area_boundary: gpd.GeoSeries, wards: gpd.GeoDataFrame,
                water: gpd.GeoDataFrame, town_centres: gpd.GeoDataFrame | None = None,
                pspos: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The area's map with Leaflet.draw (served offline) for outlining a town centre or PSPO:
    polygons and rectangles only."""
    m = build_map(area_boundary, wards, water, pd.DataFrame(columns=["lat", "lon"]),
                  gpd.GeoDataFrame(geometry=[], crs=WGS84), town_centres=town_centres,
                  pspos=pspos)
    folium.plugins.Draw(
        draw_options={"polyline": False, "circle": False, "marker": False,
                      "circlemarker": False, "polygon": {"allowIntersection": False},
                      "rectangle": True},
        edit_options={"edit": False, "remove": True}).add_to(m)
    return m

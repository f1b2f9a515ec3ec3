"""The service's maps: the bundled base (boundaries, the river, town centres, PSPOs) that is
readable with no tile server, a street map where one answers, the heat of incidents, hotspot
outlines with a dot (numbered for the best ten) at each centre, street names of the busiest
places, equipment by check state, CCTV and problem locations; a key for every colour and
shape, credits behind an (i), and gesture handling so a finger scrolls the page on a phone.

All text from data is HTML-escaped. The browser side is static/map/csp-map.js (the service's
own code, served by the app like Leaflet)."""

from __future__ import annotations

import functools
import html
import os
from urllib.parse import urlsplit

import branca.element
import folium
import folium.plugins
import folium.raster_layers
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.template import Template
from folium.utilities import JsCode

from core.words import street_name
from geo.crs import WGS84
from hotspots.kde import density_surface
from present.assets import add_offline_support, static_url
from present.heat import HeatPicture, heat_picture

CREDIT_POLICE = "Crime and ASB: police.uk, Open Government Licence v3.0"
CREDIT_BOUNDARIES = ("Boundaries: ONS, contains OS data © Crown copyright and database right; "
                     "postcodes: OS Code-Point Open")
CREDIT_RIVER = "River Thames: © OpenStreetMap contributors (ODbL)"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
NUMBERED = 10  # hotspots numbered on the map, as in the ranked table
# The map as tall as the window below it allows, within limits; on a phone a fixed height
# that leaves room above and below it to scroll past with a finger.
FIT_WINDOW = {"min": 380, "max": 1400, "margin": 12, "narrow": 640, "phone": 420}


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
WATER_SIMPLIFY = 3e-5  # degrees: ~3 m, for the river and its frontage band (smooth, long)


def geojson_text(frame: gpd.GeoDataFrame | gpd.GeoSeries,
                 simplify: float = DISPLAY_SIMPLIFY) -> str:
    """GeoJSON (WGS84) of a layer as the map draws it: outlines simplified to about a metre
    (`simplify`, degrees; the river and its frontage band by three) and coordinates written
    to six decimals (about 10 cm), which halves the page (the river frontage band and the
    Thames have thousands of vertices) with no visible change; no feature ids."""
    shown = frame.to_crs(WGS84) if frame.crs is not None else frame
    geometry = shown.geometry if isinstance(shown, gpd.GeoDataFrame) else shown
    polygonal = geometry.geom_type.isin(["Polygon", "MultiPolygon", "LineString",
                                         "MultiLineString"])
    lighter = geometry.copy()
    lighter[polygonal] = geometry[polygonal].simplify(simplify, preserve_topology=True)
    # rounded (not snapped to a grid): the nearest double to a 6-decimal number prints short
    rounded = shapely.transform(shapely.set_precision(lighter.to_numpy(), DISPLAY_GRID),
                                lambda xy: np.round(xy, 6))
    lighter = gpd.GeoSeries(rounded, index=geometry.index, crs=geometry.crs)
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


def street_tiles(setting: str | None = None) -> dict | None:
    """The street base map to try, from `HOTSPOTS_TILES`: unset or "osm" is OpenStreetMap's
    tile server; "none" (or "off") draws no tiles; anything else is a council's own server,
    an URL template with {z}/{x}/{y} (its credit from HOTSPOTS_TILES_ATTRIBUTION). The map
    tries the server and falls back quietly to the bundled boundaries when it cannot be
    reached, and says which it shows."""
    value = (setting if setting is not None else os.environ.get("HOTSPOTS_TILES", "osm"))
    value = value.strip()
    if value.lower() in ("none", "off", "no", "false", "0"):
        return None
    if value.lower() in ("", "osm", "openstreetmap"):
        return {"url": OSM_TILES, "name": "OpenStreetMap",
                "attribution": "© OpenStreetMap contributors (ODbL)"}
    if "{z}" not in value or "{x}" not in value or "{y}" not in value:
        raise ValueError(f"HOTSPOTS_TILES must be 'osm', 'none' or a tile URL with {{z}}, {{x}} "
                         f"and {{y}}, not '{value}'")
    host = urlsplit(value).hostname or "the council's tile server"
    return {"url": value, "name": host,
            "attribution": os.environ.get("HOTSPOTS_TILES_ATTRIBUTION", "").strip() or host}


class MapSetup(JSCSSMixin, folium.MacroElement):
    """Loads the service's own map script and styles (static/map/, served by the app) and the
    gesture-handling plugin, then sets the map up: credits behind an (i), the key, the street
    base map or the note that there is none, gesture handling on phones, the map sized to
    the window. Added last, so the key lists every layer."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            cspMap.setup({{ this._parent.get_name() }}, {{ this.options|tojson }});
        {% endmacro %}
        """)

    def __init__(self, options: dict) -> None:
        super().__init__()
        self._name = "MapSetup"
        self.options = options
        vendor = static_url()
        own = vendor.rsplit("/vendor", 1)[0] + "/map"
        self.default_js = [
            ("gesture_js", f"{vendor}/leaflet-gesture-handling/leaflet-gesture-handling.min.js"),
            ("csp_map_js", f"{own}/csp-map.js")]
        self.default_css = [
            ("gesture_css",
             f"{vendor}/leaflet-gesture-handling/leaflet-gesture-handling.min.css"),
            ("csp_map_css", f"{own}/csp-map.css")]


class StableMarker(folium.Marker):
    """A marker whose icon is set once however often the map is rendered. folium's Marker adds
    a new "set icon" step on every render, so a cached map shown again grew its script, and
    streamlit-folium, seeing a new script, made a new map that had lost the user's click."""

    def render(self, **kwargs) -> None:
        if self.icon:
            self.add_child(self.SetIcon(marker=self, icon=self.icon), name="set_icon")
        folium.MacroElement.render(self, **kwargs)


def new_map(boundary_wgs84: gpd.GeoSeries) -> folium.Map:
    """An empty map over an area: canvas drawing (fast with hundreds of outlines) whose
    clicks reach 8 px around every shape, no default attribution box (credits go behind
    the (i) that MapSetup adds), offline assets."""
    minx, miny, maxx, maxy = boundary_wgs84.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None,
                   control_scale=True, prefer_canvas=True, attribution_control=False)
    m.options["maxZoom"] = 18
    # fit an area in quarter steps of zoom: a whole step often leaves a borough at a third of
    # the map (Runnymede at 1366 x 768); the + and - buttons still move whole steps
    m.options["zoomSnap"] = 0.25
    m.options["renderer"] = JsCode("L.canvas({tolerance: 8, padding: 0.5})")
    add_offline_support(m)
    return m


def finish_map(m: folium.Map, key: list[dict], *, credits: list[str], label: str,
               tiles: dict | None, bounds: list[list[float]], fit_window: bool = False,
               fold_key: bool = False, gestures: bool = True,
               layer_control: bool = True) -> folium.Map:
    """The layer control, the key, credits, street map and size: the last step of every
    map the service draws. `gestures`: a finger scrolls the page and two move the map on a
    phone (not on maps drawn on with a finger). `layer_control`: False when the page sends
    the layer control with layers it adds later (streamlit-folium's feature groups)."""
    if layer_control:
        folium.LayerControl(collapsed=True).add_to(m)
    MapSetup({"key": key, "credits": credits, "label": label,
              "tiles": tiles if tiles is not None else False, "touch": gestures,
              "foldKey": fold_key, "bounds": bounds,
              "fit": FIT_WINDOW if fit_window else None}).add_to(m)
    m.fit_bounds(bounds)
    return m


class SelectionSetup(folium.MacroElement):
    """Tells the map's key what the selection's layers add (the heat's scale, hotspots,
    street names) and what the viewer's role does not see; it travels with those layers, so
    a filter change that sends only them updates the key too."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            cspMap.selection({{ this._parent._parent.get_name() }},
                             {{ this.options|tojson }});
        {% endmacro %}
        """)

    def __init__(self, key: list[dict], notes: list[str]) -> None:
        super().__init__()
        self._name = "SelectionSetup"
        self.options = {"key": key, "notes": notes}


def selection_layers(hotspots: gpd.GeoDataFrame, heat: HeatPicture | None = None,
                     streets: gpd.GeoDataFrame | None = None,
                     withheld: list[str] | None = None) -> list[folium.FeatureGroup]:
    """What changes with the selection, as feature groups: the heat picture, the hotspots
    and the street names of the busiest places (the first group also carries the key's
    entries for them). The hotspot page sends only these when a filter changes
    (streamlit-folium's feature_group_to_add): the base map stays as it is."""
    key: list[dict] = []
    groups = []
    heat_group = folium.FeatureGroup(name="Where incidents concentrate (heat)")
    if heat is not None:
        folium.raster_layers.ImageOverlay(
            heat.data_uri, bounds=heat.bounds, pane="heat", opacity=1.0, interactive=False,
            zindex=1).add_to(heat_group)
        key.append({"symbol": "gradient", "colours": heat.colours,
                    "label": f"Incidents per km², faint to strong (strongest about "
                             f"{heat.peak:,.0f})"})
    groups.append(heat_group)
    if len(hotspots):
        group = folium.FeatureGroup(name="Hotspots")
        key.extend(add_hotspot_layer(group, hotspots))
        groups.append(group)
    if streets is not None and len(streets):
        group = folium.FeatureGroup(name="Street names of the busiest places")
        add_street_labels(group, streets)
        key.append({"symbol": "text", "mark": "High St",
                    "label": "Street names of the busiest places (police.uk 'On or near')"})
        groups.append(group)
    SelectionSetup(key, [note for note in withheld or [] if note]).add_to(heat_group)
    return groups


def base_map(area_boundary: gpd.GeoSeries, wards: gpd.GeoDataFrame,
             water: gpd.GeoDataFrame, tiles: str | None = None, *,
             town_centres: gpd.GeoDataFrame | None = None,
             frontage: gpd.GeoSeries | None = None,
             pspos: gpd.GeoDataFrame | None = None,
             frontage_m: float = 50.0,
             equipment: pd.DataFrame | None = None,
             equipment_shown: bool = True,
             cctv: gpd.GeoDataFrame | None = None,
             problems: gpd.GeoDataFrame | None = None,
             label: str = "Map of the area",
             fit_window: bool = False,
             fold_key: bool = False,
             gestures: bool = True,
             selection: list[folium.FeatureGroup] | None = None,
             layer_control: bool = True) -> folium.Map:
    """The map of an area without a selection's layers: the bundled base (boundary, wards,
    the river, and, when given, the river frontage band, town centres and PSPO areas), the
    street base map where a tile server answers (`tiles`: see street_tiles), water-safety
    equipment by check state (a symbol as well as a colour), CCTV cameras (off until ticked)
    and adopted problem locations (with `name`); `selection` (selection_layers) drawn on it
    when given. Every colour and shape is in the key. `frontage_m` is the band's width."""
    boundary = area_boundary.to_crs(WGS84)
    minx, miny, maxx, maxy = boundary.total_bounds
    m = new_map(boundary)
    key: list[dict] = []
    credits = [CREDIT_POLICE, CREDIT_BOUNDARIES]
    folium.map.CustomPane("base", z_index=350).add_to(m)
    folium.map.CustomPane("heat", z_index=380).add_to(m)

    if len(water):
        folium.GeoJson(geojson_text(_escaped(water[["name", "geometry"]], ["name"]),
                                    WATER_SIMPLIFY),
                       name="River Thames",
                       pane="base", style_function=lambda _: {
                           "color": "#2c7fb8", "weight": 1, "fillColor": "#a6cee3",
                           "fillOpacity": 0.8}).add_to(m)
        key.append({"symbol": "fill", "colour": "#2c7fb8", "fill": "#a6cee3",
                    "label": "River Thames"})
        credits.append(CREDIT_RIVER)
    if len(wards):
        folium.GeoJson(
            geojson_text(_escaped(wards.to_crs(WGS84)[["name", "geometry"]], ["name"])),
            name="Wards", pane="base",
            style_function=lambda _: {"color": "#555555", "weight": 1, "fillOpacity": 0.03,
                                      "fillColor": "#888888"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ward"]),
        ).add_to(m)
        key.append({"symbol": "thinline", "colour": "#555555", "label": "Ward boundary"})
    key.extend(_add_context_layers(m, town_centres, frontage, pspos, frontage_m))
    folium.GeoJson(geojson_text(boundary), name="Area boundary", pane="base",
                   style_function=lambda _: {"color": "#222222", "weight": 3, "fill": False},
                   ).add_to(m)
    key.append({"symbol": "line", "colour": "#222222", "label": "Borough boundary"})
    for group in selection or []:
        group.add_to(m)
    if equipment is not None and len(equipment):
        key.extend(add_equipment_layer(m, equipment, show=equipment_shown))
    if cctv is not None and len(cctv):
        add_cctv_layer(m, cctv)
        key.append({"symbol": "dot", "colour": CCTV_COLOUR,
                    "label": f"CCTV camera (layer off until ticked; {len(cctv)} loaded)"})
    if problems is not None and len(problems):
        add_outline_layer(m, problems, "Problem locations", PROBLEM_COLOUR,
                          {"name": "Problem location"})
        key.append({"symbol": "outline", "colour": PROBLEM_COLOUR,
                    "label": "Problem location (adopted by the JAG)"})
    return finish_map(m, key, credits=credits, label=label, tiles=street_tiles(tiles),
                      bounds=[[miny, minx], [maxy, maxx]], fit_window=fit_window,
                      fold_key=fold_key, gestures=gestures, layer_control=layer_control)


def build_map(area_boundary: gpd.GeoSeries, wards: gpd.GeoDataFrame, water: gpd.GeoDataFrame,
              incidents: pd.DataFrame, hotspots: gpd.GeoDataFrame,
              tiles: str | None = None, *,
              heat: HeatPicture | None = None,
              streets: gpd.GeoDataFrame | None = None,
              withheld: list[str] | None = None,
              **base) -> folium.Map:
    """A whole map in one: base_map's layers (`base`: its keyword arguments) with the
    selection's on it: the heat of incidents (`heat`, a picture of a density surface; made
    from `incidents` when not given), hotspots as outlines with a dot at each centre
    (numbered for the ten best ranked) and the street names of the busiest places
    (`streets`: repeat locations); `withheld` notes what the viewer's role does not see."""
    if heat is None and len(incidents):
        heat = heat_of(incidents, area_boundary)
    selection = selection_layers(hotspots, heat, streets, withheld)
    return base_map(area_boundary, wards, water, tiles, selection=selection, **base)


def heat_of(incidents: pd.DataFrame, area_boundary: gpd.GeoSeries) -> HeatPicture | None:
    """The heat picture of incidents (easting/northing) by the street-scale density rule."""
    boundary = area_boundary.to_crs(27700).union_all()
    surface = density_surface(incidents, boundary)
    return surface_picture(surface)


def surface_picture(surface) -> HeatPicture | None:
    """A density surface (hotspots.kde.DensitySurface) as the map's heat picture."""
    if surface is None or surface.empty or surface.raster is None:
        return None
    return heat_picture(surface.values, surface.x0, surface.y0, surface.cell_size)


def add_hotspot_layer(m: folium.Map | folium.FeatureGroup, hotspots: gpd.GeoDataFrame
                      ) -> list[dict]:
    """Hotspot outlines and a dot at each one's centre (numbered for the ten best ranked), all
    with the same tooltip; a click on any of them picks the hotspot. Returns the key's
    entries."""
    wgs = hotspots.to_crs(WGS84)
    info = pd.DataFrame({
        "rank": hotspots["rank"].astype(int), "count": hotspots["count"].astype(int),
        "ward": hotspots.get("ward", ""), "top_types": hotspots.get("top_types", ""),
        "top_location": hotspots.get("top_location", ""),
        "town_centre": hotspots.get("town_centre", pd.Series("", index=hotspots.index)
                                    ).map(_or_none),
        "river": hotspots.get("water_distance_m", pd.Series(np.nan, index=hotspots.index)
                              ).map(_distance_text),
        "pspo": hotspots.get("pspo", pd.Series("", index=hotspots.index)).map(_or_none),
    }, index=hotspots.index)
    info = _escaped(info, ["ward", "top_types", "top_location", "town_centre", "river", "pspo"])
    fields = ["rank", "count", "ward", "town_centre", "river", "pspo", "top_location"]
    aliases = ["Hotspot", "Incidents", "Ward", "Town centre", "Metres to the river", "PSPO",
               "Most at"]
    group = m
    folium.GeoJson(
        geojson_text(gpd.GeoDataFrame(info, geometry=wgs.geometry, crs=WGS84)),
        name="Hotspot outlines",
        style_function=lambda _: {"color": HOTSPOT_COLOUR, "weight": 2,
                                  "fillColor": HOTSPOT_COLOUR, "fillOpacity": 0.15},
        highlight_function=lambda _: {"weight": 4, "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
    ).add_to(group)
    centres = hotspots.geometry.representative_point().to_crs(WGS84)
    dots = gpd.GeoDataFrame(info, geometry=centres.to_numpy(), crs=WGS84)
    later = dots[dots["rank"] > NUMBERED][["rank", "count", "top_location", "geometry"]]
    if len(later):  # the outline under each dot carries the rest of the tooltip
        folium.GeoJson(
            geojson_text(later), name="Hotspot centres",
            marker=folium.CircleMarker(radius=5, weight=1.5, fill=True, fill_opacity=1.0),
            style_function=lambda _: {"color": "#ffffff", "fillColor": HOTSPOT_COLOUR},
            tooltip=folium.GeoJsonTooltip(fields=["rank", "count", "top_location"],
                                          aliases=["Hotspot", "Incidents", "Most at"]),
        ).add_to(group)
    for row in dots[dots["rank"] <= NUMBERED].itertuples():
        StableMarker(
            [row.geometry.y, row.geometry.x],
            icon=folium.DivIcon(html=f"<span>{int(row.rank)}</span>", class_name="csp-rank",
                                icon_size=(24, 24), icon_anchor=(12, 12)),
            tooltip=folium.Tooltip(
                f"<b>Hotspot {int(row.rank)}</b>: {int(row.count):,} incidents; "
                f"{row.ward}; most at {row.top_location}", direction="top", offset=(0, -12)),
            title=f"Hotspot {int(row.rank)}", alt=f"Hotspot {int(row.rank)}",
            keyboard=False,  # the ranked table beside the map is the keyboard's way in
        ).add_to(group)
    return [{"symbol": "outline", "colour": HOTSPOT_COLOUR,
             "label": "Hotspot (outline, and a dot at its centre)"},
            {"symbol": "numbered", "colour": "#b03024", "mark": "1",
             "label": f"The {NUMBERED} best-ranked hotspots, numbered as in the table"}]


def add_street_labels(group: folium.FeatureGroup, streets: gpd.GeoDataFrame,
                      top: int = 15) -> None:
    """The street names of the busiest places (repeat locations: police.uk's "On or near
    ..."), written on the map so that it names streets with no street map; labels that would
    overlap a busier one are hidden at that zoom (csp-map.js)."""
    shown = streets.to_crs(WGS84).head(top)
    for rank, row in enumerate(shown.itertuples(), start=1):
        name = street_name(str(row.location))
        if not name:
            continue
        marker = StableMarker(
            [row.geometry.y, row.geometry.x], interactive=False, keyboard=False,
            icon=folium.DivIcon(html=html.escape(name), class_name="csp-street-label",
                                icon_size=None, icon_anchor=(0, -6)))
        marker.options.update({"cspStreetLabel": True, "cspRank": rank})
        marker.add_to(group)


# Equipment states: a symbol and a shape as well as a colour (WCAG 1.4.1), for the map and
# its key. (state -> symbol, what the key says)
KIT_SYMBOLS = {"attention": ("!", "Needs attention (diamond)"),
               "due": ("?", "Not yet checked this month (square)"),
               "missed": ("?", "Not checked that month (square)"),
               "checked": ("✓", "Checked, serviceable (circle)")}
KIT_COLOURS = {"attention": "#b03024", "due": "#8a4b00", "missed": "#8a4b00",
               "checked": "#1a7f37"}


def add_equipment_layer(m: folium.Map, items: pd.DataFrame, show: bool = True) -> list[dict]:
    """Water-safety equipment, each item a symbol whose shape, mark and colour all say its
    check state (from the due report's `state`), with its details on hover and click. Text
    escaped. Returns the key's entries for the states present."""
    def text(column: str) -> pd.Series:
        values = items[column] if column in items else pd.Series("", index=items.index)
        return values.fillna("").astype(str).map(html.escape)

    states = items.get("state", pd.Series("checked", index=items.index)).fillna("checked")
    last = items.get("last_checked_at", pd.Series(pd.NaT, index=items.index))
    outcomes = items.get("last_outcome_label", pd.Series("", index=items.index))
    group = folium.FeatureGroup(name="Water-safety equipment", show=show)
    rows = zip(text("asset_id"), text("kind_label"), text("site"), text("state_label"), last,
               outcomes, states, items["lat"], items["lon"],
               items.get("example", pd.Series(False, index=items.index)), strict=True)
    for asset, kind, site, label, when, outcome, state, lat, lon, example in rows:
        mark = KIT_SYMBOLS.get(state, ("?", ""))[0]
        checked = "never" if pd.isna(when) else \
            f"{pd.Timestamp(when):%d/%m/%Y %H:%M}: {html.escape(str(outcome or ''))}"
        details = (f"<b>{asset}</b> ({kind})<br>{site}<br>State: {label}<br>"
                   f"Last check: {checked}" + ("<br>EXAMPLE data" if example else ""))
        StableMarker(
            [float(lat), float(lon)],
            icon=folium.DivIcon(html=f"<span>{html.escape(mark)}</span>",
                                class_name=f"csp-kit csp-kit-{html.escape(str(state))}",
                                icon_size=(24, 24), icon_anchor=(12, 12)),
            tooltip=folium.Tooltip(details), popup=folium.Popup(details, max_width=280),
            title=f"{html.unescape(asset)}: {html.unescape(label)}",
            alt=f"{html.unescape(asset)}: {html.unescape(label)}",
            keyboard=False,  # the page's item list is the keyboard's way in
        ).add_to(group)
    group.add_to(m)
    present = [s for s in KIT_SYMBOLS if s in set(states)]
    return [{"symbol": "numbered", "colour": KIT_COLOURS[s], "mark": KIT_SYMBOLS[s][0],
             "label": f"Water-safety item: {KIT_SYMBOLS[s][1]}"} for s in present]


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
                        frontage_m: float) -> list[dict]:
    """River frontage band, town centres and PSPO areas in the lower "base" pane, each its own
    layer in the layer control; returns the key's entries for those drawn."""
    key: list[dict] = []
    if frontage is not None and len(frontage):
        band = gpd.GeoDataFrame(geometry=gpd.GeoSeries(frontage).to_crs(WGS84))
        band = band[~band.geometry.is_empty & band.geometry.notna()]
        if len(band):
            label = f"River frontage (within {frontage_m:g} m)"
            band["name"] = html.escape(label)
            folium.GeoJson(
                geojson_text(band, WATER_SIMPLIFY), name=html.escape(label), pane="base",
                style_function=lambda _: {"color": FRONTAGE_COLOUR, "weight": 0.5,
                                          "opacity": 0.6, "fillColor": FRONTAGE_COLOUR,
                                          "fillOpacity": 0.25},
                tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
            ).add_to(m)
            key.append({"symbol": "fill", "colour": FRONTAGE_COLOUR, "fill": "#c6e0f3",
                        "label": label})
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
        key.append({"symbol": "outline", "colour": TOWN_CENTRE_COLOUR,
                    "label": "Town centre"})
        if shown["approximate"].any():
            key.append({"symbol": "dashed", "colour": TOWN_CENTRE_COLOUR,
                        "label": "Town centre, approximate (a circle round its high street)"})
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
        key.append({"symbol": "outline", "colour": PSPO_COLOUR,
                    "label": "Public Spaces Protection Order (PSPO) area"})
    return key


def drawing_map(area_boundary: gpd.GeoSeries, wards: gpd.GeoDataFrame,
                water: gpd.GeoDataFrame, town_centres: gpd.GeoDataFrame | None = None,
                pspos: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The area's map with Leaflet.draw (served offline) for outlining a town centre or PSPO:
    polygons and rectangles only."""
    m = build_map(area_boundary, wards, water, pd.DataFrame(columns=["lat", "lon"]),
                  gpd.GeoDataFrame(geometry=[], crs=WGS84), town_centres=town_centres,
                  pspos=pspos, label="Map to draw an outline on", gestures=False)
    folium.plugins.Draw(
        draw_options={"polyline": False, "circle": False, "marker": False,
                      "circlemarker": False, "polygon": {"allowIntersection": False},
                      "rectangle": True},
        edit_options={"edit": False, "remove": True}).add_to(m)
    return m

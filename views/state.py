"""What the Streamlit pages share: the database engine and cached library calls.

Caching lives here so a filter change recomputes only what changed; the data version (latest
import, number of layers, when layers were last loaded, total population) is part of every key,
so a new import or layer is seen at once (even one made with the CLI while the app runs). It
is a `version` argument, not `_version`: st.cache_data leaves arguments whose names start with
an underscore out of the key.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from typing import NamedTuple

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy import Engine, case, func, select
from streamlit_folium import st_folium

from access.incidents import categories, coverage
from access.restricted import Withheld, visibility, withheld
from access.roles import Principal
from access.scope import SYSTEM, acting_as, current_principal
from geo.areas import area_names, area_names_by_code, resolve_area
from geo.crs import WGS84
from geo.joins import DEFAULT_FRONTAGE_M, context_layers
from geo.layers import load_layer
from hotspots.analysis import (
    Evaluation,
    HotspotReport,
    area_incidents,
    evaluate_area,
    find_hotspots,
)
from hotspots.repeat import repeat_locations
from present.export import hotspots_csv, hotspots_geojson
from present.heat import HeatPicture
from present.map import base_map, selection_layers, surface_picture
from registers.checks import due_report
from registers.problems import list_problems
from registers.setup import prepare_database
from report.compare import Comparison, Target, jag_comparison
from report.concentration import DEFAULT_CELL_M, area_concentration
from report.currency import Currency, data_currency
from report.summary import Summary, incident_summary
from report.themes import ThemeTable, theme_table
from store.models import (
    Equipment,
    EquipmentCheck,
    ImportRun,
    Layer,
    ProblemEvent,
    PspoEvent,
    ThemeMapping,
)

# (latest import id, number of layer features, when layers were last loaded, total population,
# latest PSPO register event id: every change to an order writes one, what the acting
# principal may see: restricted categories or not, so viewers and analysts never share a
# cached result)
Version = tuple[int, int, str, int, int, str]
# Hashable targets for the cache key: (line, direction, percent); line is a crime type,
# "UNIT/crime type" or "*".
TargetItems = tuple[tuple[str, str, float], ...]
_RENDER_LOCK = threading.Lock()


class MapLayers(NamedTuple):
    """What the map draws around the hotspots, all WGS84."""

    boundary: gpd.GeoSeries
    wards: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    town_centres: gpd.GeoDataFrame  # with approximate and note
    pspos: gpd.GeoDataFrame
    frontage: gpd.GeoSeries  # land within frontage_m of the water, inside the area
    cctv: gpd.GeoDataFrame  # CCTV cameras within 500 m of the area, where loaded


@st.cache_resource(show_spinner="Opening the database…")
def engine() -> Engine:
    """Migrate once per server, seed bundled boundaries if absent, make the first admin if
    there are no users (its password from HOTSPOTS_ADMIN_PASSWORD, else printed once in the
    server's log), and share one engine."""
    with acting_as(SYSTEM):
        ready = prepare_database()
    first = ready.first_admin
    if first is not None and first.password:
        print(f"First admin made: sign in as '{first.username}' with the password "
              f"{first.password} (shown only this once)", flush=True)
    return ready.engine


def data_version() -> Version:
    """Changes whenever an import is made, layers are added or replaced (even by as many
    features as before: the load time changes), populations are set or a PSPO order changes
    (cheap: one query each)."""
    with engine().connect() as conn:
        imports = conn.execute(select(func.max(ImportRun.id))).scalar() or 0
        layers, loaded, population = conn.execute(
            select(func.count(), func.max(Layer.loaded_at), func.sum(Layer.population))
        ).one()
        orders = conn.execute(select(func.max(PspoEvent.id))).scalar() or 0
    return (int(imports), int(layers or 0), str(loaded or ""), int(population or 0),
            int(orders), visibility(engine()).key)


@st.cache_data(show_spinner=False, max_entries=8)
def months_available(version: Version) -> list[str]:
    """Every month holding incidents, oldest first."""
    frame = coverage(engine())
    return sorted(frame["month"].unique().tolist()) if len(frame) else []


@st.cache_data(show_spinner=False, max_entries=8)
def category_list(version: Version) -> list[str]:
    """Every crime type / council category present."""
    return categories(engine())


@st.cache_data(show_spinner=False, max_entries=8)
def areas(version: Version) -> list[str]:
    """Names of loaded areas."""
    return area_names(engine())


@st.cache_data(show_spinner=False, max_entries=8)
def area_codes_to_names(version: Version) -> dict[str, str]:
    """Loaded areas' names by code."""
    return area_names_by_code(engine())


@st.cache_data(show_spinner=False, max_entries=16)
def map_layers(area: str, version: Version,
               frontage_m: float = DEFAULT_FRONTAGE_M) -> MapLayers:
    """The area's boundary, wards, the water near it, its town centres (with `approximate`
    and `note`), its PSPO areas, the river frontage band `frontage_m` wide and the CCTV cameras
    loaded there (all WGS84)."""
    eng = engine()
    place = resolve_area(eng, area)
    boundary = gpd.GeoSeries([place.boundary], crs=27700)
    wards = load_layer(eng, "ward", place.code)
    water = load_layer(eng, "water")
    water = water[water.to_crs(27700).intersects(place.boundary.buffer(2000))]
    layers = context_layers(eng, place, frontage_m)
    frontage = gpd.GeoSeries([layers.frontage(place.land)], crs=27700).to_crs(WGS84)
    frontage = frontage[~frontage.is_empty]
    cctv = load_layer(eng, "cctv")
    cctv = cctv[cctv.to_crs(27700).intersects(place.boundary.buffer(500))]
    return MapLayers(boundary, wards, water, layers.town_centres.frame.to_crs(WGS84),
                     layers.pspos.frame.to_crs(WGS84), frontage, cctv)


@st.cache_data(show_spinner="Finding hotspots…", max_entries=32)
def hotspot_report(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                   method: str, coverage_share: float,
                   params: tuple[tuple[str, float | int | str], ...],
                   version: Version,
                   frontage_m: float = DEFAULT_FRONTAGE_M) -> HotspotReport:
    """find_hotspots, cached on every input that changes the answer; `params` are
    (name, value) pairs of the method's keyword parameters; `frontage_m` how far from the
    water counts as river frontage."""
    return find_hotspots(engine(), area, month_from, month_to, list(crime_types), method,
                         coverage_share, frontage_m=frontage_m, **dict(params))


def show_shared_map(fmap: folium.Map, layers: list[folium.FeatureGroup] | None = None,
                    **kwargs) -> dict | None:
    """st_folium for a map shared between runs and sessions (a cached one), with `layers`
    (cached feature groups, e.g. a selection's) sent as streamlit-folium's
    feature_group_to_add: a filter change then sends only those, and the map already drawn
    in the browser stays (no new map, no lost click). st_folium renames the elements while
    it renders and adds the groups and the layer control to the map, so one run renders at a
    time and the names and the map's children are put back afterwards."""
    elements, pending = [], [fmap, *(layers or [])]
    while pending:
        element = pending.pop()
        elements.append(element)
        pending.extend(getattr(element, "_children", {}).values())
    names = [element._id for element in elements]
    children = dict(fmap._children)
    parents = [(group, group._parent) for group in layers or []]
    if layers:
        kwargs.update(feature_group_to_add=layers,
                      layer_control=folium.LayerControl(collapsed=True))
    with _RENDER_LOCK:
        try:
            # the whole page of a shared map is rendered once; st_folium renders its map
            # and scripts again anyway (a third of a filter change's server time, saved)
            if not getattr(fmap, "_csp_rendered", False):
                fmap.get_root().render()
                fmap._csp_rendered = True
            return st_folium(fmap, render=False, **kwargs)
        finally:
            for element, name in zip(elements, names, strict=True):
                element._id = name
            fmap._children = children
            for group, parent in parents:
                group._parent = parent


@st.cache_resource(show_spinner=False, max_entries=16)
def hotspot_base_map(area: str, version: Version, frontage_m: float, month: str,
                     equipment_version: tuple[int, int, int], problems: int) -> folium.Map:
    """The hotspot page's map without the selection's layers: the area's layers, the
    equipment's states for `month` and the open problem locations, sized to the window.
    Built once per area (and register version), shared: show it with show_shared_map and
    the selection's layers (hotspot_layers)."""
    context = map_layers(area, version, frontage_m)
    code = resolve_area(engine(), area).code
    return base_map(context.boundary, context.wards, context.water,
                    town_centres=context.town_centres, frontage=context.frontage,
                    pspos=context.pspos, frontage_m=frontage_m,
                    equipment=equipment_states(code, month, equipment_version),
                    equipment_shown=False, cctv=context.cctv,
                    problems=problem_outlines(code, problems), fit_window=True,
                    label=f"Hotspot map of {area}", layer_control=False)


@st.cache_resource(show_spinner=False, max_entries=32)
def hotspot_layers(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                   method: str, coverage_share: float,
                   params: tuple[tuple[str, float | int | str], ...], version: Version,
                   frontage_m: float) -> list[folium.FeatureGroup]:
    """A selection's layers for the hotspot map: its heat picture, hotspots and the busiest
    streets' names, with the key's entries and what the role does not see. Shared."""
    args = (area, month_from, month_to, crime_types, method, coverage_share, params, version,
            frontage_m)
    report = hotspot_report(*args)
    withheld = withheld_text(area, month_from, month_to, crime_types, where="from this map")
    return selection_layers(report.hotspots, heat_surface(*args), repeats(*args), [withheld])


@st.cache_data(show_spinner=False, max_entries=32)
def heat_surface(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                 method: str, coverage_share: float,
                 params: tuple[tuple[str, float | int | str], ...], version: Version,
                 frontage_m: float) -> HeatPicture | None:
    """The heat picture of the selection: for kernel density, the very surface its hotspots
    were taken from; for the other methods, the same street-scale density rule."""
    report = hotspot_report(area, month_from, month_to, crime_types, method, coverage_share,
                            params, version, frontage_m)
    return surface_picture(report.density())


@st.cache_data(show_spinner=False, max_entries=32)
def hotspot_files(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                  method: str, coverage_share: float,
                  params: tuple[tuple[str, float | int | str], ...], version: Version,
                  frontage_m: float, withheld: str) -> tuple[str, str]:
    """The selection's hotspots as GeoJSON and CSV (saying what the role does not see), made
    once per selection: ready when the button is pressed, whatever the server is doing."""
    report = hotspot_report(area, month_from, month_to, crime_types, method, coverage_share,
                            params, version, frontage_m)
    return (hotspots_geojson(report.hotspots, notes=[withheld]),
            hotspots_csv(report.hotspots, note=withheld))


@st.cache_data(show_spinner=False, max_entries=32)
def repeats(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
            method: str, coverage_share: float,
            params: tuple[tuple[str, float | int | str], ...], version: Version,
            frontage_m: float) -> gpd.GeoDataFrame:
    """The selection's top 15 repeat locations (the map names their streets; the page lists
    the top 10), cached with the report."""
    report = hotspot_report(area, month_from, month_to, crime_types, method, coverage_share,
                            params, version, frontage_m)
    return repeat_locations(report.incidents, top=15)


@st.cache_data(show_spinner="Measuring accuracy: fitting every method on the months before "
               "each test month…", max_entries=16)
def evaluation(area: str, crime_types: tuple[str, ...], coverage_share: float,
               version: Version) -> Evaluation:
    """evaluate_area (rolling-origin PAI / PEI* of every method) on all the area's stored
    months, for the crime types given (e.g. all crime and one chosen type)."""
    return evaluate_area(engine(), area, coverage=coverage_share,
                         crime_types=list(crime_types))


@st.cache_data(show_spinner="Summarising…", max_entries=32)
def summary(area: str, by: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
            version: Version, frontage_m: float = DEFAULT_FRONTAGE_M) -> Summary:
    """report.summary.incident_summary (by ward, lsoa, town-centre, river or pspo), cached."""
    return incident_summary(engine(), area, by, month_from, month_to, list(crime_types) or None,
                            frontage_m)


def target_items(targets: dict[str, Target]) -> TargetItems:
    """Targets as a hashable, ordered tuple for `comparison`."""
    return tuple(sorted((line, t.direction, float(t.percent)) for line, t in targets.items()))


@st.cache_data(show_spinner="Comparing periods…", max_entries=32)
def comparison(area: str, to_month: str, months: int, by: str | None, targets: TargetItems,
               since: str | None, crime_types: tuple[str, ...], version: Version) -> Comparison:
    """report.compare.jag_comparison, cached; `targets` are (line, direction, percent) items."""
    goals = {line: Target(direction, percent) for line, direction, percent in targets}
    return jag_comparison(engine(), area, to_month, months, by, goals, since,
                          list(crime_types) or None)


@st.cache_data(show_spinner="Measuring concentration…", max_entries=32)
def concentration_table(area: str, month_from: str, month_to: str,
                        crime_types: tuple[str, ...], version: Version,
                        cell_size: float = DEFAULT_CELL_M) -> pd.DataFrame:
    """report.concentration.area_concentration, cached."""
    return area_concentration(engine(), area, month_from, month_to, crime_types, cell_size)


def coverage_table() -> pd.DataFrame:
    """Incidents per month and dataset, months as rows."""
    frame = coverage(engine())
    if frame.empty:
        return frame
    return frame.pivot_table(index="month", columns="dataset", values="incidents",
                             aggfunc="sum", fill_value=0)


def register_version() -> tuple[int, int, int]:
    """Changes whenever an item is added or retired or a check is logged (one query)."""
    with engine().connect() as conn:
        items, in_service = conn.execute(select(
            func.max(Equipment.id), func.sum(case((Equipment.active, 1), else_=0)))).one()
        checks = conn.execute(select(func.max(EquipmentCheck.id))).scalar()
    return int(items or 0), int(in_service or 0), int(checks or 0)


@st.cache_data(show_spinner=False, max_entries=16)
def equipment_states(area_code: str, month: str,
                     version: tuple[int, int, int]) -> pd.DataFrame:
    """Each item in service in the area with its check state for the month (the map's
    equipment layer), computed again only when the register changes."""
    return due_report(engine(), month, area_code)


def mapping_version() -> tuple[int, str]:
    """Changes whenever the theme mapping is saved or reset (one query)."""
    with engine().connect() as conn:
        rows, saved = conn.execute(select(func.count(), func.max(ThemeMapping.updated_at))).one()
    return int(rows or 0), str(saved or "")


def problems_version() -> int:
    """Changes whenever a problem location or one of its actions changes."""
    with engine().connect() as conn:
        return int(conn.execute(select(func.max(ProblemEvent.id))).scalar() or 0)


@st.cache_data(show_spinner="Counting by priority theme…", max_entries=32)
def themes(area: str, month: str, version: Version,
           mapping: tuple[int, str]) -> ThemeTable:
    """report.themes.theme_table with the stored mapping, cached until data or mapping
    change."""
    return theme_table(engine(), area, month)


@st.cache_data(show_spinner=False, max_entries=16)
def problem_outlines(area_code: str, version: int) -> gpd.GeoDataFrame:
    """Open problem locations of a borough (name, WGS84 outline), for the hotspot map."""
    problems = list_problems(engine(), area_code, include_closed=False)
    return problems[["name", "geometry"]]


@st.cache_data(show_spinner=False, max_entries=64)
def withheld_here(area: str | None, month_from: str | None, month_to: str | None,
                  version: Version) -> Withheld:
    """What the signed-in role does not see as points, with the counts of the categories it
    sees by ward in the selection (area and months) where one is given. Keyed on the data
    version, which holds what the role may see."""
    eng = engine()
    bare = withheld(eng)
    if not bare.ward_only or area is None:
        return bare
    names = [name for name, _ in bare.ward_only]
    points = area_incidents(eng, resolve_area(eng, area), month_from, month_to, names,
                            for_ward_counts=True)
    counts = points["category"].value_counts()
    return withheld(eng, {name: int(counts.get(name, 0)) for name in names})


def withheld_text(area: str | None = None, month_from: str | None = None,
                  month_to: str | None = None, crime_types: tuple[str, ...] = (),
                  where: str = "here") -> str:
    """The sentence saying what the signed-in role does not see ('' when it sees all, or when
    crime types are chosen: the role can only choose types it sees)."""
    if crime_types:
        return ""
    return withheld_here(area, month_from, month_to, data_version()).sentence(where)


@st.cache_data(show_spinner=False, max_entries=32)
def _currency(area: str | None, day: date, version: Version) -> Currency:
    return data_currency(engine(), area, day)


def currency_text(area: str | None = None) -> str:
    """How current the data is, for every page with incident counts: the latest police.uk
    month loaded (for the area) and how many months before today that is; past three months
    it says so."""
    found = _currency(area, date.today(), data_version())
    text = found.sentence() + "."
    if found.stale and found.latest:
        text += " That is more than three months old: import the latest police.uk months."
    return text


def current_user() -> str:
    """Who is using the app, for `recorded_by` on register changes: the signed-in user."""
    return current_principal().label


def as_signed_in(callback):
    """A widget callback that runs as the user signed in now: Streamlit runs callbacks at the
    start of the next run, before the app says who is acting."""
    principal = current_principal()

    def run(*args, **kwargs):
        with acting_as(principal):
            return callback(*args, **kwargs)

    return run


def may(permission: str) -> bool:
    """Whether the signed-in user's role allows `permission` (to show or hide a form; the
    library function checks again)."""
    return current_principal().can(permission)


def data_or_stop() -> tuple[tuple, list[str], list[str]]:
    """The data version, stored months and areas; when nothing is imported yet, say where to
    import and stop the page."""
    version = data_version()
    months = months_available(version)
    area_list = areas(version)
    if not months or not area_list:
        st.warning("No incidents imported yet. Open the **Data** page to import police.uk or "
                   "council files.")
        st.stop()
    return version, months, area_list


# Default selection of the hotspot page, as its widgets start (views/hotspot_map.py).
DEFAULT_SELECTION = {"crime_types": (), "method": "weighted", "coverage": 0.01, "params": (),
                     "frontage_m": DEFAULT_FRONTAGE_M}
WARM_AS = (Principal("start-up (analysts' view)", "analyst", source="system"),
           Principal("start-up (viewers' view)", "viewer", source="system"))


def warm_up() -> None:
    """Fill the caches a newcomer's first pages need (the Overview and the hotspot map of
    every area, for what analysts see and for what viewers see), so that the first map after
    the server starts is not the one that pays for them. Runs in a background thread."""
    from hotspots.analysis import DEFAULT_METHOD

    selection = {**DEFAULT_SELECTION, "method": DEFAULT_METHOD}
    started = time.perf_counter()
    try:
        with acting_as(WARM_AS[0]):
            version = data_version()
            months = months_available(version)
            names = areas(version)
        if not months:
            return
        month_from = months[-12] if len(months) >= 12 else months[0]
        for area in names:  # area by area, the first one (the pages' default) first
            for principal in WARM_AS:
                with acting_as(principal):
                    version = data_version()
                    args = (area, month_from, months[-1], selection["crime_types"],
                            selection["method"], selection["coverage"], selection["params"],
                            version, selection["frontage_m"])
                    hotspot_report(*args)
                    hotspot_layers(*args)
                    hotspot_base_map(area, version, selection["frontage_m"],
                                     date.today().strftime("%Y-%m"), register_version(),
                                     problems_version())
                    repeats(*args)
                    themes(area, months[-1], version, mapping_version())
    except Exception as exc:  # a warm-up never stops the app; the pages will say
        print(f"Warming the caches stopped: {exc}", flush=True)
        return
    print(f"Caches warmed for {len(names)} areas in {time.perf_counter() - started:.1f} s",
          flush=True)


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread:
    """Start warm_up once per server, in the background (the first page is not held up). The
    thread has no page of its own (a page's context would end it when that page stops), so
    Streamlit's warning that a thread has none is silenced."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
        logging.ERROR)
    thread = threading.Thread(target=warm_up, name="warm-caches", daemon=True)
    thread.start()
    return thread

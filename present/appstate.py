"""What the Streamlit pages share: the database engine and cached library calls.

Caching lives here so a filter change recomputes only what changed; the data version (latest
import, number of layers, when layers were last loaded, total population) is part of every key,
so a new import or layer is seen at once (even one made with the CLI while the app runs). It
is a `version` argument, not `_version`: st.cache_data leaves arguments whose names start with
an underscore out of the key.
"""

from __future__ import annotations

import re
import threading
from typing import NamedTuple

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy import Engine, case, func, select
from streamlit_folium import st_folium

from access.accounts import ensure_first_admin
from access.restricted import visibility
from access.scope import SYSTEM, acting_as, current_principal
from geo.areas import area_names, area_names_by_code, resolve_area
from geo.crs import WGS84
from geo.joins import DEFAULT_FRONTAGE_M
from geo.joins import context_layers as join_layers
from geo.layers import load_layer, seed_bundled_layers
from hotspots.analysis import (
    Evaluation,
    HotspotReport,
    area_incidents,
    evaluate_area,
    find_hotspots,
)
from hotspots.repeat import repeat_locations
from present.map import build_map
from registers.checks import due_report
from registers.problems import list_problems
from report.compare import Comparison, Target, compare
from report.concentration import DEFAULT_CELL_M, concentration
from report.summary import Summary, summarise
from report.themes import ThemeTable, theme_table
from store.db import get_engine, migrate
from store.incidents import categories, coverage
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
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|:~$&])")


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
    migrate()
    eng = get_engine()
    with acting_as(SYSTEM):
        seed_bundled_layers(eng)
    first = ensure_first_admin(eng)
    if first is not None and first.password:
        print(f"First admin made: sign in as '{first.username}' with the password "
              f"{first.password} (shown only this once)", flush=True)
    return eng


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
def context_layers(area: str, version: Version,
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
    layers = join_layers(eng, place, frontage_m)
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


def show_shared_map(fmap: folium.Map, **kwargs) -> dict | None:
    """st_folium for a map shared between runs and sessions (a cached one). st_folium renames
    the map's elements while it renders, so one run renders at a time and the names are put
    back afterwards; cheaper than copying the map (its GeoJSON) for every run."""
    elements, pending = [], [fmap]
    while pending:
        element = pending.pop()
        elements.append(element)
        pending.extend(getattr(element, "_children", {}).values())
    names = [element._id for element in elements]
    with _RENDER_LOCK:
        try:
            return st_folium(fmap, **kwargs)
        finally:
            for element, name in zip(elements, names, strict=True):
                element._id = name


@st.cache_resource(show_spinner=False, max_entries=16)
def hotspot_map(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                 method: str, coverage_share: float,
                 params: tuple[tuple[str, float | int | str], ...], version: Version,
                 frontage_m: float, month: str, equipment_version: tuple[int, int, int],
                 problems: int) -> folium.Map:
    """The hotspot map for a selection, built once (half a second, mostly folium compiling
    its templates): the report's heat and hotspots over the area's layers, the equipment's
    states for `month` and the open problem locations. Keyed on the registers' versions so a
    new check or adoption redraws it. Shared: show it with show_shared_map."""
    report = hotspot_report(area, month_from, month_to, crime_types, method, coverage_share,
                            params, version, frontage_m)
    context = context_layers(area, version, frontage_m)
    return build_map(context.boundary, context.wards, context.water, report.incidents,
                     report.hotspots, town_centres=context.town_centres,
                     frontage=context.frontage, pspos=context.pspos, frontage_m=frontage_m,
                     equipment=equipment_states(report.area.code, month, equipment_version),
                     equipment_shown=False, cctv=context.cctv,
                     problems=problem_outlines(report.area.code, problems))


@st.cache_data(show_spinner=False, max_entries=32)
def repeats(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
            method: str, coverage_share: float,
            params: tuple[tuple[str, float | int | str], ...], version: Version,
            frontage_m: float) -> gpd.GeoDataFrame:
    """The selection's top 10 repeat locations, cached with the report."""
    report = hotspot_report(area, month_from, month_to, crime_types, method, coverage_share,
                            params, version, frontage_m)
    return repeat_locations(report.incidents, top=10)


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
    """report.summary.summarise (by ward, lsoa, town-centre, river or pspo), cached."""
    return summarise(engine(), area, by, month_from, month_to, list(crime_types) or None,
                     frontage_m)


def target_items(targets: dict[str, Target]) -> TargetItems:
    """Targets as a hashable, ordered tuple for `comparison`."""
    return tuple(sorted((line, t.direction, float(t.percent)) for line, t in targets.items()))


@st.cache_data(show_spinner="Comparing periods…", max_entries=32)
def comparison(area: str, to_month: str, months: int, by: str | None, targets: TargetItems,
               since: str | None, crime_types: tuple[str, ...], version: Version) -> Comparison:
    """report.compare.compare, cached; `targets` are (line, direction, percent) items."""
    return compare(engine(), area, to_month, months, by,
                   {line: Target(direction, percent) for line, direction, percent in targets},
                   since, list(crime_types) or None)


@st.cache_data(show_spinner="Measuring concentration…", max_entries=32)
def concentration_table(area: str, month_from: str, month_to: str,
                        crime_types: tuple[str, ...], version: Version,
                        cell_size: float = DEFAULT_CELL_M) -> pd.DataFrame:
    """report.concentration.concentration of the area's incidents of the months, cached."""
    eng = engine()
    place = resolve_area(eng, area)
    points = area_incidents(eng, place, month_from, month_to, list(crime_types) or None)
    return concentration(points, place.land, cell_size)


def markdown_text(value: object) -> str:
    """Text from data made literal for Streamlit's Markdown (st.caption, st.write, st.info,
    st.table cells): every Markdown character backslash-escaped, so a name such as
    `![x](http://…)` shows as typed instead of loading a remote image."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def markdown_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells show literally in `st.table` (which renders Markdown)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: markdown_text(v) if isinstance(v, str)
                                          else v)
    return out


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
                   "council files, or run `hotspots setup` to load the bundled sample.")
        st.stop()
    return version, months, area_list

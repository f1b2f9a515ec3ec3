"""What the Streamlit pages share: the database engine and cached library calls.

Caching lives here so a filter change recomputes only what changed; the data version (number
of imports and layers) is part of every key, so a new import is seen at once (even one made
with the CLI while the app runs). It is a `version` argument, not `_version`: st.cache_data
leaves arguments whose names start with an underscore out of the key.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy import Engine, func, select

from geo.areas import area_names, resolve_area
from geo.layers import load_layer, seed_bundled_layers
from hotspots.analysis import Evaluation, HotspotReport, evaluate_area, find_hotspots
from store.db import get_engine, migrate
from store.incidents import categories, coverage
from store.models import ImportRun, Layer


@st.cache_resource(show_spinner="Opening the database…")
def engine() -> Engine:
    """Migrate once per server, seed bundled boundaries if absent, and share one engine."""
    migrate()
    eng = get_engine()
    seed_bundled_layers(eng)
    return eng


def data_version() -> tuple[int, int]:
    """Changes whenever an import or a layer is added (cheap: two counts)."""
    with engine().connect() as conn:
        imports = conn.execute(select(func.max(ImportRun.id))).scalar() or 0
        layers = conn.execute(select(func.count()).select_from(Layer)).scalar() or 0
    return imports, layers


@st.cache_data(show_spinner=False, max_entries=8)
def months_available(version: tuple[int, int]) -> list[str]:
    """Every month holding incidents, oldest first."""
    frame = coverage(engine())
    return sorted(frame["month"].unique().tolist()) if len(frame) else []


@st.cache_data(show_spinner=False, max_entries=8)
def category_list(version: tuple[int, int]) -> list[str]:
    """Every crime type / council category present."""
    return categories(engine())


@st.cache_data(show_spinner=False, max_entries=8)
def areas(version: tuple[int, int]) -> list[str]:
    """Names of loaded areas."""
    return area_names(engine())


@st.cache_data(show_spinner=False, max_entries=16)
def context_layers(area: str, version: tuple[int, int]
                   ) -> tuple[gpd.GeoSeries, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The area's boundary, its wards and the water near it (WGS84)."""
    eng = engine()
    place = resolve_area(eng, area)
    boundary = gpd.GeoSeries([place.boundary], crs=27700)
    wards = load_layer(eng, "ward", place.code)
    water = load_layer(eng, "water")
    water = water[water.to_crs(27700).intersects(place.boundary.buffer(2000))]
    return boundary, wards, water


@st.cache_data(show_spinner="Finding hotspots…", max_entries=32)
def hotspot_report(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                   method: str, coverage_share: float,
                   params: tuple[tuple[str, float | int | str], ...],
                   version: tuple[int, int]) -> HotspotReport:
    """find_hotspots, cached on every input that changes the answer; `params` are
    (name, value) pairs of the method's keyword parameters."""
    return find_hotspots(engine(), area, month_from, month_to, list(crime_types), method,
                         coverage_share, **dict(params))


@st.cache_data(show_spinner="Measuring accuracy: fitting every method on the months before "
               "each test month…", max_entries=16)
def evaluation(area: str, crime_types: tuple[str, ...], coverage_share: float,
               version: tuple[int, int]) -> Evaluation:
    """evaluate_area (rolling-origin PAI / PEI* of every method) on all the area's stored
    months, for the crime types given (e.g. all crime and one chosen type)."""
    return evaluate_area(engine(), area, coverage=coverage_share,
                         crime_types=list(crime_types))


def coverage_table() -> pd.DataFrame:
    """Incidents per month and dataset, months as rows."""
    frame = coverage(engine())
    if frame.empty:
        return frame
    return frame.pivot_table(index="month", columns="dataset", values="incidents",
                             aggfunc="sum", fill_value=0)

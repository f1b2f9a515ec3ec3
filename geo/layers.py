"""Boundary and context layers: read, validate, store and load (areas, wards, LSOAs, water).

A layer file may be GeoJSON, GeoPackage or a zipped Shapefile in any CRS it declares; it is
checked to lie in Great Britain, repaired where invalid, and stored in WGS84.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from geo.crs import BNG, WGS84
from store.models import Layer

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
KINDS = ("area", "ward", "lsoa", "water")
OLD_WARDS_NOTE = ("2013 ward boundaries: {name} has been re-warded since; load current wards "
                  "with `hotspots layers add ward FILE`")
BUNDLED_SOURCE = "ONS/OS boundaries (OGL v3), via martinjc/UK-GeoJSON"
THAMES_SOURCE = "River Thames water polygons, © OpenStreetMap contributors (ODbL)"


class LayerError(ValueError):
    """A layer file that cannot be used, with a message saying what looks wrong."""


def slug(text: str) -> str:
    """A code made from a name, for layers whose file has no code field."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def read_layer_file(path: str | Path) -> gpd.GeoDataFrame:
    """Read a layer in any declared CRS; check it falls in Great Britain; return it in WGS84."""
    path = Path(path)
    name = path.name
    target = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        frame = gpd.read_file(target)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise LayerError(f"{name}: cannot be read as GeoJSON, GeoPackage or zipped Shapefile "
                         f"({exc})") from None
    if frame.empty:
        raise LayerError(f"{name}: the file holds no features")
    if frame.crs is None:
        raise LayerError(f"{name}: the file does not declare its coordinate reference system")
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
    if frame.empty:
        raise LayerError(f"{name}: every feature has an empty geometry")
    _check_coordinates_match_crs(name, frame)
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        frame.loc[invalid, "geometry"] = shapely.make_valid(frame.geometry[invalid].to_numpy())
    return frame.to_crs(WGS84)


def _check_coordinates_match_crs(name: str, frame: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = frame.total_bounds
    if frame.crs.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            raise LayerError(
                f"{name}: the file says its coordinates are longitude/latitude ({frame.crs.name})"
                f" but they run from {minx:.0f},{miny:.0f} to {maxx:.0f},{maxy:.0f}, which look "
                "like British National Grid metres: re-save it declaring EPSG:27700")
        if -8.7 <= miny <= 1.9 and 49.8 <= maxx <= 60.9:
            raise LayerError(f"{name}: longitude and latitude look swapped (x runs {minx:.2f}"
                             f" to {maxx:.2f}, y {miny:.2f} to {maxy:.2f})")
    bng = frame.to_crs(BNG).total_bounds
    if not (0 <= bng[0] and bng[2] <= 700_000 and 0 <= bng[1] and bng[3] <= 1_300_000):
        raise LayerError(f"{name}: the features do not fall in Great Britain in the CRS the "
                         f"file declares ({frame.crs.name}); check the file's CRS")


def _pick(frame: gpd.GeoDataFrame, wanted: str | None, patterns: tuple[str, ...]) -> str | None:
    if wanted:
        if wanted not in frame.columns:
            raise LayerError(f"no field '{wanted}'; fields are {', '.join(frame.columns)}")
        return wanted
    for column in frame.columns:
        if any(re.fullmatch(p, column, flags=re.I) for p in patterns):
            return column
    return None


def store_layer(engine: Engine, kind: str, frame: gpd.GeoDataFrame, source: str,
                name: str | None = None, code_field: str | None = None,
                name_field: str | None = None, parent_code: str | None = None,
                note: str | None = None, replace: bool = True) -> int:
    """Store features of one kind; an `area` is dissolved into one polygon named `name`."""
    if kind not in KINDS:
        raise LayerError(f"unknown layer kind '{kind}'; use one of {', '.join(KINDS)}")
    frame = frame.to_crs(WGS84)
    if kind == "area" and name:
        frame = gpd.GeoDataFrame({"code": [slug(name)], "name": [name]},
                                 geometry=[frame.union_all()], crs=WGS84)
        code_col, name_col = "code", "name"
    else:
        code_col = _pick(frame, code_field, (r".*CD", r"code", r"id", r"gss.*"))
        name_col = _pick(frame, name_field, (r".*NM", r"name", r"alt_name"))
    now = datetime.now()
    rows = []
    for i, (_, feature) in enumerate(frame.iterrows()):
        label = str(feature[name_col]) if name_col else f"{name or kind} {i + 1}"
        code = str(feature[code_col]) if code_col else f"{slug(name or kind)}-{i + 1}"
        rows.append({"kind": kind, "code": code, "name": label, "parent_code": parent_code,
                     "source": source, "note": note, "loaded_at": now,
                     "geometry_wkb": shapely.to_wkb(feature.geometry)})
    table = Layer.__table__
    with engine.begin() as conn:
        existing = {r[0] for r in conn.execute(
            select(table.c.code).where(table.c.kind == kind,
                                       table.c.code.in_([r["code"] for r in rows])))}
        if replace and existing:
            conn.execute(table.delete().where(table.c.kind == kind,
                                              table.c.code.in_(list(existing))))
            existing = set()
        fresh = [r for r in rows if r["code"] not in existing]
        if fresh:
            conn.execute(table.insert(), fresh)
    load_layer.cache_clear()
    return len(rows)


def seed_bundled_layers(engine: Engine) -> int:
    """Load the bundled boroughs, their wards and LSOAs, and the Thames, if not yet loaded."""
    if not load_layer(engine, "area").empty:
        return 0
    count = 0
    lads = gpd.read_file(SAMPLE / "boundaries" / "lad_2013_sample.geojson")
    count += store_layer(engine, "area", lads, BUNDLED_SOURCE, code_field="LAD13CD",
                         name_field="LAD13NM", replace=False)
    for _, lad in lads.iterrows():
        code, lad_name = lad["LAD13CD"], lad["LAD13NM"]
        note = None if lad_name == "Spelthorne" else OLD_WARDS_NOTE.format(name=lad_name)
        wards = gpd.read_file(SAMPLE / "boundaries" / f"wards_2013_{code}.geojson")
        count += store_layer(engine, "ward", wards, BUNDLED_SOURCE, code_field="WD13CD",
                             name_field="WD13NM", parent_code=code, note=note, replace=False)
        lsoas = gpd.read_file(SAMPLE / "boundaries" / f"lsoa_2011_{code}.geojson")
        count += store_layer(engine, "lsoa", lsoas, BUNDLED_SOURCE, code_field="LSOA11CD",
                             name_field="LSOA11NM", parent_code=code, replace=False)
    water = gpd.read_file(SAMPLE / "water" / "thames_sample.geojson")
    water["code"] = [f"thames-{i + 1}" for i in range(len(water))]
    water["name"] = "River Thames"
    count += store_layer(engine, "water", water, THAMES_SOURCE, code_field="code",
                         name_field="name", replace=False)
    return count


@lru_cache(maxsize=64)
def load_layer(engine: Engine, kind: str, parent_code: str | None = None) -> gpd.GeoDataFrame:
    """Features of one kind (optionally within one area) as WGS84 code/name/geometry."""
    table = Layer.__table__
    query = select(table.c.code, table.c.name, table.c.parent_code, table.c.source,
                   table.c.note, table.c.geometry_wkb).where(table.c.kind == kind)
    if parent_code:
        query = query.where(table.c.parent_code == parent_code)
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(query.order_by(table.c.name)).fetchall(),
                            columns=["code", "name", "parent_code", "source", "note", "wkb"])
    geometry = shapely.from_wkb(rows.pop("wkb").to_numpy()) if len(rows) else []
    return gpd.GeoDataFrame(rows, geometry=geometry, crs=WGS84)


def list_layers(engine: Engine) -> pd.DataFrame:
    """How many features of each kind are loaded, and from where."""
    table = Layer.__table__
    query = (select(table.c.kind, table.c.source, func.count().label("features"))
             .group_by(table.c.kind, table.c.source).order_by(table.c.kind))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).fetchall(), columns=["kind", "source", "features"])

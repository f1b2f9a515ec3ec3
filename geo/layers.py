"""Boundary and context layers: store and load areas, wards, LSOAs, town centres, water, PSPOs
and CCTV cameras (points, where a council loads its list).

Files are read and checked by `geo.layer_files`; here features are given their borough
(parent), replace what they supersede (a new ward vintage replaces the old one for that
borough; a drawn town centre replaces the approximation) and are stored in WGS84.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
from sqlalchemy import Engine, func, select

from access.audit import record
from access.roles import MANAGE_LAYERS
from access.scope import require
from geo.crs import BNG, WGS84
from geo.layer_files import (
    LayerError,
    LayerFile,
    check_coordinates_match_crs,
    check_layer_file,
    read_layer_file,
    repair,
)
from store.models import Layer

__all__ = ["LayerError", "LayerFile", "check_layer_file", "read_layer_file", "KINDS",
           "add_layer_file", "add_drawn_feature", "store_layer",
           "load_layer", "list_layers"]

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
KINDS = ("area", "ward", "lsoa", "town-centre", "water", "pspo", "cctv")
# Kinds that belong to one borough: each feature is given the area it overlaps most.
AREA_KINDS = ("ward", "lsoa", "town-centre", "pspo")
# A new file of these kinds replaces every feature of the kind in the boroughs it covers (a new
# ward vintage, say); for the other kinds a feature replaces the one with the same code.
REPLACED_BY_AREA = ("ward", "lsoa")
NAME_FIELDS = (r".*NM", r"name", r"alt_name", r"title")  # ONS's LAD13NM, WD13NM, ...
POPULATION_FIELDS = (r"population", r"pop(ulation)?_?\d{0,4}", r"usual_?residents",
                     r"all[ _]?ages", r"residents", r"observation")


def slug(text: str) -> str:
    """A code made from a name, for layers whose file has no code field."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def find_field(columns, patterns: tuple[str, ...]) -> str | None:
    """The first column whose name (any case, spaces trimmed) matches one of the patterns."""
    for column in columns:
        if any(re.fullmatch(p, str(column).strip(), flags=re.I) for p in patterns):
            return column
    return None


def _pick(frame: gpd.GeoDataFrame, wanted: str | None, patterns: tuple[str, ...]) -> str | None:
    if wanted:
        if wanted not in frame.columns:
            raise LayerError(f"no field '{wanted}'; fields are {', '.join(frame.columns)}")
        return wanted
    return find_field(frame.columns, patterns)


def store_layer(engine: Engine, kind: str, frame: gpd.GeoDataFrame, source: str,
                name: str | None = None, code_field: str | None = None,
                name_field: str | None = None, parent_code: str | None = None,
                note: str | None = None, replace: bool = True,
                population_field: str | None = None, approximate: bool = False) -> int:
    """Store features of one kind in one transaction; an `area` is dissolved into one polygon
    named `name`. A `parent_code` column in the frame gives each feature its own borough."""
    require(MANAGE_LAYERS)
    if kind not in KINDS:
        raise LayerError(f"unknown layer kind '{kind}'; use one of {', '.join(KINDS)}")
    frame = frame.to_crs(WGS84)
    if kind == "area" and name:
        frame = gpd.GeoDataFrame({"code": [slug(name)], "name": [name]},
                                 geometry=[frame.union_all()], crs=WGS84)
        code_col, name_col = "code", "name"
    else:
        # camera lists name each camera by its location and number it by a camera id
        points = (r"camera_?id", r"location", r"site") if kind == "cctv" else ()
        code_col = _pick(frame, code_field, (r".*CD", r"code", r"id", r"gss.*", r"ref.*",
                                             *points[:1]))
        name_col = _pick(frame, name_field, (*NAME_FIELDS, *points[1:]))
    pop_col = _pick(frame, population_field, POPULATION_FIELDS)
    now = datetime.now()
    rows = []
    for i, (_, feature) in enumerate(frame.iterrows()):
        label = str(feature[name_col]) if name_col else (
            name if name and len(frame) == 1 else f"{name or kind} {i + 1}")
        code = str(feature[code_col]) if code_col else slug(label)
        parent = feature.get("parent_code", parent_code) if "parent_code" in frame else \
            parent_code
        rows.append({"kind": kind, "code": code, "name": label, "parent_code": parent,
                     "source": source, "note": note, "loaded_at": now,
                     "population": _population(feature[pop_col]) if pop_col else None,
                     "approximate": approximate,
                     "geometry_wkb": shapely.to_wkb(feature.geometry)})
    codes = [r["code"] for r in rows]
    if len(set(codes)) < len(codes):
        doubled = sorted({c for c in codes if codes.count(c) > 1})[:5]
        raise LayerError(f"{source}: several features share the code {', '.join(doubled)}; "
                         "name the field that identifies each feature (code field)")
    table = Layer.__table__
    with engine.begin() as conn:
        replaced = 0
        if replace and kind in REPLACED_BY_AREA:
            parents = sorted({r["parent_code"] for r in rows if r["parent_code"]})
            replaced += conn.execute(table.delete().where(
                table.c.kind == kind, table.c.parent_code.in_(parents))).rowcount or 0
        if replace and kind == "town-centre" and not approximate:
            parents = sorted({r["parent_code"] for r in rows if r["parent_code"]})
            replaced += conn.execute(table.delete().where(
                table.c.kind == kind, table.c.approximate,
                table.c.parent_code.in_(parents))).rowcount or 0
        existing = {r[0] for r in conn.execute(
            select(table.c.code).where(table.c.kind == kind, table.c.code.in_(codes)))}
        if replace and existing:
            replaced += conn.execute(table.delete().where(
                table.c.kind == kind, table.c.code.in_(list(existing)))).rowcount or 0
            existing = set()
        fresh = [r for r in rows if r["code"] not in existing]
        if fresh:
            conn.execute(table.insert(), fresh)
        record(conn, "loaded", "layer", f"{kind}:{source}"[:300],
               before={"features replaced": replaced} if replaced else None,
               after={"kind": kind, "source": source, "features": len(fresh),
                      "codes": codes[:100], "approximate": approximate},
               summary=f"{kind} layer from {source}: {len(fresh)} features"
                       + (f", {replaced} replaced" if replaced else ""))
    load_layer.cache_clear()
    return len(rows)


def _population(value) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number >= 0 else None


def add_layer_file(engine: Engine, kind: str, path: str | Path, name: str | None = None,
                   parent: str | None = None, code_field: str | None = None,
                   name_field: str | None = None,
                   population_field: str | None = None) -> LayerFile:
    """Read, check and store a user's layer file; features outside every loaded borough (or
    outside `parent`) are set aside with a reason. An area file with `name` becomes one area
    (its features merged); without, each feature is an area of its own, named and coded from
    its fields (every district of a county or of England in one go). Returns what was kept
    and set aside."""
    if kind not in KINDS:
        raise LayerError(f"unknown layer kind '{kind}'; use one of {', '.join(KINDS)}")
    checked = check_layer_file(path, kind)
    if kind == "area" and not name and _pick(checked.features, name_field,
                                             NAME_FIELDS) is None:
        raise LayerError(f"{checked.file}: no field names the areas; give the field holding "
                         "each area's name (e.g. LAD13NM), or a name to merge every feature "
                         "into one area")
    if kind in AREA_KINDS:
        assign_parents(engine, checked, parent)
    elif parent:
        raise LayerError(f"a {kind} layer does not belong to one area; leave out the parent")
    if checked.features.empty:
        reasons = "; ".join(checked.rejected["reason"].head(3))
        raise LayerError(f"{checked.file}: no feature can be used ({reasons})")
    store_layer(engine, kind, checked.features, source=checked.file, name=name,
                code_field=code_field, name_field=name_field,
                population_field=population_field)
    return checked


def assign_parents(engine: Engine, layer: LayerFile, parent: str | None = None) -> None:
    """Give each feature the loaded area it overlaps most (or `parent`), in a `parent_code`
    column; set aside features that overlap none."""
    areas = load_layer(engine, "area")
    if parent:
        wanted = parent.strip().lower()
        areas = areas[(areas["name"].str.lower() == wanted) | (areas["code"].str.lower() == wanted)]
        if areas.empty:
            raise LayerError(f"no area called '{parent}'; load its boundary first as an "
                             "Area layer file (Data page, Layers)")
    features = layer.features.to_crs(BNG)
    areas_bng = areas.to_crs(BNG)
    best = []
    for geometry in features.geometry:
        overlap = areas_bng.geometry.intersection(geometry).area if len(areas_bng) else []
        share = (overlap.max() / geometry.area) if len(overlap) and geometry.area else 0.0
        best.append(areas_bng["code"].iloc[int(overlap.argmax())] if share >= 0.01 else None)
    layer.features["parent_code"] = best
    where = f"'{areas['name'].iloc[0]}'" if parent else "every loaded area"
    layer.reject(layer.features["parent_code"].isna(),
                 "{label}: lies outside " + where + " (less than 1% of it overlaps); load the "
                 "area first or check the file")


@lru_cache(maxsize=64)
def load_layer(engine: Engine, kind: str, parent_code: str | None = None) -> gpd.GeoDataFrame:
    """Features of one kind (optionally within one area) as WGS84 code, name, parent_code,
    source, note, population, approximate, geometry."""
    table = Layer.__table__
    query = select(table.c.code, table.c.name, table.c.parent_code, table.c.source,
                   table.c.note, table.c.population, table.c.approximate,
                   table.c.geometry_wkb).where(table.c.kind == kind)
    if parent_code:
        query = query.where(table.c.parent_code == parent_code)
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(query.order_by(table.c.name)).fetchall(),
                            columns=["code", "name", "parent_code", "source", "note",
                                     "population", "approximate", "wkb"])
    rows["approximate"] = rows["approximate"].astype(bool)
    geometry = shapely.from_wkb(rows.pop("wkb").to_numpy()) if len(rows) else []
    return gpd.GeoDataFrame(rows, geometry=geometry, crs=WGS84)


def list_layers(engine: Engine) -> pd.DataFrame:
    """How many features of each kind are loaded, per borough and source, with notes (ward
    vintage, approximations) and how many have a population."""
    table = Layer.__table__
    query = (select(table.c.kind, table.c.parent_code, table.c.source, table.c.approximate,
                    func.count().label("features"),
                    func.count(table.c.population).label("with_population"),
                    func.max(table.c.note).label("note"))
             .group_by(table.c.kind, table.c.parent_code, table.c.source, table.c.approximate)
             .order_by(table.c.kind, table.c.parent_code))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).fetchall(),
                             columns=["kind", "area_code", "source", "approximate", "features",
                                      "with_population", "note"])
    names = load_layer(engine, "area").set_index("code")["name"]
    frame.insert(1, "area", frame["area_code"].map(names).fillna(""))
    frame["approximate"] = frame["approximate"].astype(bool)
    return frame


def set_population(engine: Engine, kind: str, values: pd.DataFrame,
                   notes: pd.DataFrame | None = None) -> int:
    """Set the population of features of a kind from a frame of code, population (and, from
    `notes`, a frame of code, note, each feature's note: how its population was found);
    returns how many features were updated (codes not loaded are the caller's to report)."""
    require(MANAGE_LAYERS)
    table = Layer.__table__
    with engine.begin() as conn:
        updated, before, after = 0, {}, {}
        stored = dict(conn.execute(select(table.c.code, table.c.population)
                                   .where(table.c.kind == kind)).all())
        for code, population in zip(values["code"], values["population"], strict=True):
            old = stored.get(code)
            updated += conn.execute(table.update().where(
                table.c.kind == kind, table.c.code == code).values(
                population=int(population))).rowcount
            if old != int(population):
                before[str(code)], after[str(code)] = old, int(population)
        if notes is not None:
            for code, note in zip(notes["code"], notes["note"], strict=True):
                conn.execute(table.update().where(table.c.kind == kind, table.c.code == code)
                             .values(note=None if pd.isna(note) else str(note)))
        record(conn, "population set", "layer", kind, before=before, after=after,
               summary=f"population of {updated} {kind} features set "
                       f"({len(after)} changed)")
    load_layer.cache_clear()
    return updated


def add_drawn_feature(engine: Engine, kind: str, name: str, geometry: dict,
                      area_code: str, source: str = "drawn on the map") -> str:
    """Store one polygon drawn on the map (GeoJSON geometry in WGS84) as a town centre, PSPO
    or other area-kind feature of `area_code`; returns its code. Refuses a shape that is not
    a polygon, lies outside the area, or cannot be repaired."""
    if kind not in AREA_KINDS:
        raise LayerError(f"a drawn shape can be a {', '.join(AREA_KINDS)}, not a {kind}")
    name = (name or "").strip()
    if not name:
        raise LayerError("give the drawn shape a name")
    try:
        shape = shapely.geometry.shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise LayerError(f"the drawn shape is not a GeoJSON geometry ({exc})") from None
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise LayerError(f"draw an outline (a polygon or rectangle), not a {shape.geom_type}")
    frame = gpd.GeoDataFrame({"code": [f"{slug(name)}"], "name": [name]}, geometry=[shape],
                             crs=WGS84)
    checked = LayerFile(file="drawn shape", kind=kind, features=frame)
    check_coordinates_match_crs("drawn shape", frame)
    repair(checked)
    if checked.features.empty:
        raise LayerError(checked.rejected["reason"].iloc[0])
    assign_parents(engine, checked, area_code)
    if checked.features.empty:
        raise LayerError(checked.rejected["reason"].iloc[0])
    store_layer(engine, kind, checked.features, source=source, code_field="code",
                name_field="name")
    return str(checked.features["code"].iloc[0])

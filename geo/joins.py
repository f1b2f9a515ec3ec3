"""Put incidents and hotspots in the JAG's terms: ward, LSOA, town centre, river frontage
(and distance to the water), PSPO areas. Spatial indexes (shapely STRtree) do the joins, so a
force-year of points against every layer takes seconds.

Every point gets exactly one ward and one LSOA when it lies in the borough: a point on the line
between two wards goes to the one whose code sorts first, so counts never double.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from geo.areas import Area
from geo.crs import BNG
from geo.layers import load_layer
from geo.pspo_outlines import pspo_outlines

DEFAULT_FRONTAGE_M = 50.0
CONTEXT_COLUMNS = ["ward_code", "ward", "lsoa_code", "lsoa", "town_centre",
                   "water_distance_m", "river_frontage", "pspo"]


@dataclass(frozen=True)
class Units:
    """One kind of context polygon in BNG, sorted by code, with a spatial index over them."""

    frame: gpd.GeoDataFrame  # code, name, population, approximate, note, geometry (BNG)

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> Units:
        """Index a layer loaded by `load_layer` (any CRS)."""
        bng = frame.to_crs(BNG).sort_values("code").reset_index(drop=True)
        return cls(bng)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index over the polygons (built once, on first use)."""
        return shapely.STRtree(self.frame.geometry.to_numpy())

    def __len__(self) -> int:
        return len(self.frame)

    def first_containing(self, points: np.ndarray) -> np.ndarray:
        """For each point, the index of the first unit (by code) it lies in or on; -1 if none."""
        found = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
        if len(self) and len(points):
            pairs = self.tree.query(points, predicate="intersects")
            np.minimum.at(found, pairs[0], pairs[1])
        found[found == np.iinfo(np.int64).max] = -1
        return found

    def all_containing(self, points: np.ndarray) -> list[str]:
        """For each point, the names of every unit it lies in, joined by '; ' (may overlap)."""
        names = [""] * len(points)
        if len(self) and len(points):
            pairs = self.tree.query(points, predicate="intersects")
            labels = self.frame["name"].to_numpy()
            for point, unit in zip(*pairs, strict=True):
                names[point] = f"{names[point]}; {labels[unit]}" if names[point] else labels[unit]
        return names

    def largest_overlap(self, polygons: np.ndarray) -> np.ndarray:
        """For each polygon, the index of the unit it overlaps most; -1 if none."""
        best = np.full(len(polygons), -1, dtype=np.int64)
        if not (len(self) and len(polygons)):
            return best
        pairs = self.tree.query(polygons, predicate="intersects")
        if not pairs.shape[1]:
            return best
        units = self.frame.geometry.to_numpy()
        overlap = shapely.area(shapely.intersection(polygons[pairs[0]], units[pairs[1]]))
        table = pd.DataFrame({"polygon": pairs[0], "unit": pairs[1], "overlap": overlap})
        table = table.sort_values(["polygon", "overlap", "unit"], ascending=[True, False, True])
        first = table.drop_duplicates("polygon")
        best[first["polygon"].to_numpy()] = first["unit"].to_numpy()
        return best

    def label(self, index: np.ndarray, column: str) -> np.ndarray:
        """Column values for unit indexes, '' where the index is -1."""
        values = self.frame[column].to_numpy(dtype=object)
        out = np.full(len(index), "", dtype=object)
        hit = index >= 0
        out[hit] = values[index[hit]]
        return out


@dataclass(frozen=True)
class ContextLayers:
    """Everything incidents and hotspots are joined to, for one borough (or all loaded)."""

    wards: Units
    lsoas: Units
    town_centres: Units
    pspos: Units
    water: np.ndarray  # BNG geometries of rivers and other water (polygons or lines)
    frontage_m: float = DEFAULT_FRONTAGE_M

    @cached_property
    def water_tree(self) -> shapely.STRtree:
        """Spatial index over the water features (built once, on first use)."""
        return shapely.STRtree(self.water)

    @cached_property
    def water_edges(self) -> shapely.STRtree:
        """Spatial index over the water's edges cut into short pieces (for distances)."""
        return shapely.STRtree(edge_pieces(self.water))

    def frontage(self, boundary: BaseGeometry | None = None) -> BaseGeometry:
        """The land within `frontage_m` of the water (optionally inside a boundary)."""
        if not len(self.water):
            return shapely.Polygon()
        water = shapely.union_all(self.water)
        band = water.buffer(self.frontage_m).difference(water)
        return band.intersection(boundary) if boundary is not None else band


def context_layers(engine: Engine, area: Area | None = None,
                   frontage_m: float = DEFAULT_FRONTAGE_M,
                   pspos: gpd.GeoDataFrame | None = None) -> ContextLayers:
    """Load and index the context layers of one borough (every loaded one when area is None).
    PSPO areas are the register's orders in force plus any PSPO outline layer; `pspos`
    replaces both."""
    if not frontage_m > 0:
        raise ValueError(f"the river frontage distance must be more than 0 m, not {frontage_m}")
    code = area.code if area is not None else None
    pspo_frame = pspos if pspos is not None else pspo_outlines(engine, code)
    water = load_layer(engine, "water").to_crs(BNG).geometry.to_numpy()
    return ContextLayers(
        wards=Units.of(load_layer(engine, "ward", code)),
        lsoas=Units.of(load_layer(engine, "lsoa", code)),
        town_centres=Units.of(load_layer(engine, "town-centre", code)),
        pspos=Units.of(pspo_frame),
        water=water, frontage_m=float(frontage_m))


def water_distance(geometries: np.ndarray, layers: ContextLayers) -> np.ndarray:
    """Metres from each geometry to the nearest water (0 on or in it); NaN with no water."""
    if not len(layers.water):
        return np.full(len(geometries), np.nan)
    if not len(geometries):
        return np.zeros(0)
    index, distance = layers.water_edges.query_nearest(geometries, return_distance=True,
                                                       all_matches=False)
    out = np.full(len(geometries), np.nan)
    out[index[0]] = distance
    inside = layers.water_tree.query(geometries, predicate="intersects")[0]
    out[inside] = 0.0
    return out


def edge_pieces(geometries: np.ndarray, vertices: int = 16) -> np.ndarray:
    """The outlines of polygons (and lines as they are) cut into short pieces of at most
    `vertices` points, so a spatial index finds the nearest edge without measuring against
    whole river outlines (a 20x speed-up over nearest-polygon on a force-year)."""
    parts = shapely.get_parts(np.asarray(geometries, dtype=object))
    polygonal = shapely.get_type_id(parts) == 3  # Polygon: measure to its rings
    lines = shapely.get_parts(np.concatenate([shapely.boundary(parts[polygonal]),
                                              parts[~polygonal]]))
    pieces = []
    for line in lines:
        coords = shapely.get_coordinates(line)
        for start in range(0, max(len(coords) - 1, 1), vertices - 1):
            chunk = coords[start:start + vertices]
            if len(chunk) >= 2:
                pieces.append(shapely.linestrings(chunk))
    return np.array(pieces, dtype=object)


def attribute_points(easting: np.ndarray, northing: np.ndarray,
                     layers: ContextLayers) -> pd.DataFrame:
    """Ward, LSOA, town centre ('' for none), distance to water in metres, whether on the
    river frontage, and PSPO areas ('; '-joined) for BNG points."""
    points = shapely.points(np.asarray(easting, float), np.asarray(northing, float))
    return _context_frame(layers, points, layers.wards.first_containing(points),
                          layers.lsoas.first_containing(points),
                          layers.town_centres.first_containing(points))


def attribute_incidents(incidents: pd.DataFrame, layers: ContextLayers) -> pd.DataFrame:
    """The incidents with the context columns added (replacing any already there)."""
    context = attribute_points(incidents["easting"].to_numpy(), incidents["northing"].to_numpy(),
                               layers)
    context.index = incidents.index
    kept = incidents.drop(columns=[c for c in CONTEXT_COLUMNS if c in incidents.columns])
    kept = kept.drop(columns=["lsoa_code"], errors="ignore")  # police.uk's code: 2021 vintage
    return pd.concat([kept, context], axis=1)


def attribute_polygons(polygons: gpd.GeoSeries, layers: ContextLayers) -> pd.DataFrame:
    """For hotspot outlines (BNG): the ward, LSOA and town centre each overlaps most, the
    distance to water, whether it reaches the river frontage, and every PSPO it touches."""
    geoms = polygons.to_crs(BNG).to_numpy() if polygons.crs else polygons.to_numpy()
    context = _context_frame(layers, geoms, layers.wards.largest_overlap(geoms),
                             layers.lsoas.largest_overlap(geoms),
                             layers.town_centres.largest_overlap(geoms))
    context.index = polygons.index
    return context


def _context_frame(layers: ContextLayers, geoms: np.ndarray, ward: np.ndarray,
                   lsoa: np.ndarray, centre: np.ndarray) -> pd.DataFrame:
    """The context columns from unit indexes found for each geometry."""
    distance = water_distance(geoms, layers)
    return pd.DataFrame({
        "ward_code": layers.wards.label(ward, "code"),
        "ward": layers.wards.label(ward, "name"),
        "lsoa_code": layers.lsoas.label(lsoa, "code"),
        "lsoa": layers.lsoas.label(lsoa, "name"),
        "town_centre": layers.town_centres.label(centre, "name"),
        "water_distance_m": np.round(distance, 1),
        "river_frontage": distance <= layers.frontage_m,
        "pspo": layers.pspos.all_containing(geoms),
    })

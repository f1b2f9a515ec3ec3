"""From stored incidents to labelled hotspots: the one path the app and the CLI both call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import shapely
from sqlalchemy import Engine

from geo.areas import Area, resolve_area
from geo.context import incidents_frame, label_hotspots
from geo.layers import load_layer
from hotspots import METHODS
from hotspots.result import HotspotInputError, select_coverage
from store.incidents import load_incidents

DEFAULT_METHOD = "grid"
DEFAULT_COVERAGE = 0.01


@dataclass
class HotspotReport:
    """What a hotspot run found, over which incidents, with what method and parameters."""

    area: Area
    month_from: str
    month_to: str
    categories: list[str]
    method: str
    hotspots: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> dict:
        """The method's parameters, including those chosen by rule."""
        return dict(self.hotspots.attrs.get("parameters", {}))

    def caption(self) -> str:
        """One line for under the map: method, parameters, selection and data."""
        params = ", ".join(f"{k} = {v}" for k, v in self.parameters.items())
        types = ", ".join(self.categories) if self.categories else "all crime and ASB"
        return (f"{self.method} hotspots for {self.area.name}, {self.month_from} to "
                f"{self.month_to}, {types}; {len(self.incidents):,} incidents; "
                f"{len(self.hotspots)} hotspots shown. Parameters: {params}. "
                "Distances in metres on British National Grid (EPSG:27700).")


def find_hotspots(engine: Engine, area: str, month_from: str, month_to: str,
                  categories: list[str] | None = None, method: str = DEFAULT_METHOD,
                  coverage: float | None = DEFAULT_COVERAGE, **params) -> HotspotReport:
    """Load the selection, keep incidents inside the area, detect, limit coverage, label."""
    if method not in METHODS:
        raise HotspotInputError(f"unknown method '{method}'; choose one of {', '.join(METHODS)}")
    if month_from > month_to:
        raise HotspotInputError(f"the period starts ({month_from}) after it ends ({month_to})")
    place = resolve_area(engine, area)
    rows = load_incidents(engine, month_from, month_to, categories or None, place.bounds)
    points = incidents_frame(rows)
    inside = shapely.contains_xy(place.boundary, points["easting"], points["northing"])
    points = points[inside].reset_index(drop=True)
    found = METHODS[method](points, place.land, **{k: v for k, v in params.items() if v})
    notes = [found.attrs.get("message", "")]
    if coverage:
        found = select_coverage(found, place.land_area_m2, coverage)
        notes.append(found.attrs.get("message", ""))
    wards = load_layer(engine, "ward", place.code)
    labelled = label_hotspots(found, points, wards)
    labelled.attrs = dict(found.attrs)
    return HotspotReport(area=place, month_from=month_from, month_to=month_to,
                         categories=list(categories or []), method=method, hotspots=labelled,
                         incidents=points, notes=[n for n in notes if n])


def parameters_of(hotspots: gpd.GeoDataFrame) -> dict:
    """Parameters of a result, decoded from its JSON column."""
    if hotspots.empty:
        return dict(hotspots.attrs.get("parameters", {}))
    return json.loads(hotspots["parameters"].iloc[0])

"""From stored incidents to labelled hotspots: the one path the app and the CLI both call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine

from access.incidents import load_incidents
from access.roles import EVALUATE
from access.scope import require
from core.months import month_range, months_before
from core.themes import ALL_CRIME
from geo.areas import Area, resolve_area
from geo.context import incidents_frame, label_hotspots
from geo.crs import BNG
from geo.joins import DEFAULT_FRONTAGE_M, attribute_incidents, context_layers
from hotspots import METHODS, method_options
from hotspots.captions import listed_parameters, ranking_sentence
from hotspots.change import hotspot_change, hotspot_classify
from hotspots.evaluate import (
    accuracy_summary,
    default_candidates,
    recommend,
    rolling_origin,
)
from hotspots.kde import DensitySurface, density_surface
from hotspots.repeat import repeat_locations
from hotspots.result import HotspotInputError, select_coverage

# Hotspots of what was asked for: every hotspot holds the chosen crime, ranked by its count
# (hotspots.weighted). Out of sample on the bundled Surrey sample it is never behind grid counts
# (README "Which method"; `hotspots evaluate` measures it on your own data). The pooled
# forecast ("forecast") predicts next month better for sparse types but shows squares without
# the chosen crime, so it is a named choice, not the default.
DEFAULT_METHOD = "weighted"
DEFAULT_COVERAGE = 0.01
DEFAULT_TRAIN_MONTHS = 12


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

    @property
    def ranking(self) -> str:
        """What the ranking rests on, in plain English, for the crime chosen."""
        return ranking_sentence(self.method, self.parameters, self.categories)

    def caption(self) -> str:
        """One line for under the map: method, selection, data, what the ranking rests on,
        and the parameters."""
        types = ", ".join(self.categories) if self.categories else "all crime and ASB"
        return (f"{self.method} hotspots for {self.area.name}, {self.month_from} to "
                f"{self.month_to}, {types}; {len(self.incidents):,} incidents; "
                f"{len(self.hotspots)} hotspots shown. {self.ranking} Parameters: "
                f"{listed_parameters(self.parameters)}. "
                "Distances in metres on British National Grid (EPSG:27700).")

    def density(self) -> DensitySurface:
        """The kernel density surface of the incidents over the area: the KDE method's own
        surface, or one by the same street-scale rules for any other method (heat layer)."""
        surface = self.hotspots.attrs.get("surface")
        if isinstance(surface, DensitySurface):
            return surface
        return density_surface(self.incidents, self.area.boundary)


def find_hotspots(engine: Engine, area: str, month_from: str, month_to: str,
                  categories: list[str] | None = None, method: str = DEFAULT_METHOD,
                  coverage: float | None = DEFAULT_COVERAGE,
                  frontage_m: float = DEFAULT_FRONTAGE_M, **params) -> HotspotReport:
    """Load the selection, keep incidents inside the area, detect, limit coverage, and put
    hotspots and incidents in context (ward, LSOA, town centre, river frontage, PSPO)."""
    if method not in METHODS:
        raise HotspotInputError(f"unknown method '{method}'; choose one of {', '.join(METHODS)}")
    if month_from > month_to:
        raise HotspotInputError(f"the period starts ({month_from}) after it ends ({month_to})")
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, month_from, month_to, categories)
    params = {k: v for k, v in params.items() if v is not None}
    if "background" in method_options(method) and categories:
        params["background"] = area_incidents(engine, place, month_from, month_to, None)
    found = METHODS[method](points, place.land, **params)
    notes = [found.attrs.get("message", "")]
    if coverage:
        found = select_coverage(found, place.land_area_m2, coverage)
        notes.append(found.attrs.get("message", ""))
    borrowed = int((found["count"] == 0).sum()) if len(found) else 0
    if borrowed and method == "forecast":
        notes.append(f"{borrowed} of the {len(found)} squares had none of the selected crime "
                     "types in the period: this is a forecast of where they are likely next "
                     "month, from all crime there (pooling); choose the default method for "
                     "places where they happened")
    layers = context_layers(engine, place, frontage_m)
    labelled = label_hotspots(found, points, layers)
    points = gpd.GeoDataFrame(attribute_incidents(points, layers), geometry="geometry", crs=BNG)
    labelled.attrs = dict(found.attrs)
    return HotspotReport(area=place, month_from=month_from, month_to=month_to,
                         categories=list(categories or []), method=method, hotspots=labelled,
                         incidents=points, notes=[n for n in notes if n])


def area_incidents(engine: Engine, place: Area, month_from: str | None, month_to: str | None,
                   categories: list[str] | None = None, *,
                   for_ward_counts: bool = False) -> gpd.GeoDataFrame:
    """Stored incidents of the months and categories that lie inside the area's boundary
    (that the acting principal may see; `for_ward_counts`: see store.incidents)."""
    rows = load_incidents(engine, month_from, month_to, categories or None, place.bounds,
                          for_ward_counts=for_ward_counts)
    points = incidents_frame(rows)
    inside = shapely.contains_xy(place.boundary, points["easting"], points["northing"])
    return points[inside].reset_index(drop=True)


@dataclass
class Evaluation:
    """A rolling-origin evaluation of every method on one area's stored incidents."""

    area: Area
    test_months: list[str]
    train_months: int
    coverage: float
    cell_size: float
    results: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> pd.DataFrame:
        """Mean PEI*, PAI and hit rate per crime type and method, best first."""
        return accuracy_summary(self.results)

    def best(self, crime_type: str = ALL_CRIME) -> str | None:
        """The method with the highest mean PEI* for the crime type."""
        return recommend(self.summary, crime_type)

    def to_dict(self) -> dict:
        """Everything, for `--json`."""
        def records(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.to_json(orient="records", double_precision=4))
        return {"area": self.area.name, "area_code": self.area.code,
                "test_months": self.test_months, "train_months": self.train_months,
                "coverage": self.coverage, "cell_size_m": self.cell_size,
                "best": {c: self.best(c) for c in self.summary["crime_type"].unique()},
                "summary": records(self.summary), "results": records(self.results),
                "notes": self.notes}


def testable_months(months: list[str], train_months: int) -> list[str]:
    """Months that have `train_months` stored months before them."""
    have = set(months)
    return [m for m in sorted(have)
            if all(p in have for p in months_before(m, train_months))]


def evaluate_area(engine: Engine, area: str, test_months: list[str] | None = None,
                  train_months: int = DEFAULT_TRAIN_MONTHS,
                  coverage: float = DEFAULT_COVERAGE, cell_size: float = 50.0,
                  crime_types: list[str] | None = None, methods: list[str] | None = None,
                  progress=None) -> Evaluation:
    """Rolling-origin PAI / PEI* of every method on the area's stored incidents."""
    require(EVALUATE)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, None, None, None)
    stored = sorted(points["month"].unique()) if len(points) else []
    if test_months is None:
        test_months = testable_months(stored, train_months)
        if not test_months:
            raise HotspotInputError(
                f"no month has {train_months} months of incidents before it for {place.name} "
                f"(stored: {stored[0] if stored else 'none'} to "
                f"{stored[-1] if stored else 'none'}): import more months or use "
                "fewer training months")
    candidates = [c for c in default_candidates() if not methods or c.method in methods
                  or c.label in methods]
    if not candidates:
        raise HotspotInputError(f"unknown methods {methods}; choose from {', '.join(METHODS)}")
    results = rolling_origin(points, place.land, test_months, train_months, coverage,
                             cell_size, crime_types, candidates, progress)
    notes = []
    missing = [m for m in test_months if m not in stored]
    if missing:
        notes.append(f"no incidents stored for test month(s) {', '.join(missing)}")
    return Evaluation(place, list(test_months), train_months, coverage, cell_size, results,
                      notes)


def months_between(month_from: str, month_to: str) -> list[str]:
    """Every month from one YYYY-MM to another, inclusive."""
    if month_from > month_to:
        raise HotspotInputError(f"the period starts ({month_from}) after it ends ({month_to})")
    return month_range(month_from, month_to)


def find_repeats(engine: Engine, area: str, month_from: str, month_to: str,
                 categories: list[str] | None = None, top: int = 20) -> gpd.GeoDataFrame:
    """The area's repeat locations for the months and crime types, with counts per month."""
    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    return repeat_locations(area_incidents(engine, place, month_from, month_to, categories), top)


def change_by_cell(engine: Engine, area: str, before: tuple[str, str], after: tuple[str, str],
                   categories: list[str] | None = None,
                   cell_size: float | None = None) -> gpd.GeoDataFrame:
    """Per-cell change between two periods (each a (from, to) pair of months)."""
    before_months, after_months = months_between(*before), months_between(*after)
    place = resolve_area(engine, area)
    first = area_incidents(engine, place, before[0], before[1], categories)
    second = area_incidents(engine, place, after[0], after[1], categories)
    return hotspot_change(first, second, place.land, cell_size, len(before_months),
                          len(after_months))


def classify_periods(engine: Engine, area: str, month_from: str, month_to: str,
                     categories: list[str] | None = None, cell_size: float | None = None,
                     period_months: int = 1) -> gpd.GeoDataFrame:
    """Emerging, persistent, intermittent and former hot spots over consecutive periods of
    `period_months` months (oldest first)."""
    if period_months < 1:
        raise HotspotInputError("a period is at least one month")
    months = months_between(month_from, month_to)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, month_from, month_to, categories)
    periods = [points[points["month"].isin(months[i:i + period_months])]
               for i in range(0, len(months), period_months)]
    return hotspot_classify(periods, place.land, cell_size)


def parameters_of(hotspots: gpd.GeoDataFrame) -> dict:
    """Parameters of a result, decoded from its JSON column."""
    if hotspots.empty:
        return dict(hotspots.attrs.get("parameters", {}))
    return json.loads(hotspots["parameters"].iloc[0])

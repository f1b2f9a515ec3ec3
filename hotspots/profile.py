"""One hotspot's profile, for the JAG when it is clicked on the map: what happens inside it by
type and month, whether it is rising or falling, where it is (ward, town centre, river, PSPO)
and its repeat locations."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import BNG, WGS84, reproject
from hotspots import METHOD_NAMES
from hotspots.analysis import HotspotReport, months_between
from hotspots.change import change_test
from hotspots.repeat import repeat_locations

TREND_MIN_MONTHS = 4  # fewer months than this: no trend, only the counts


@dataclass
class HotspotProfile:
    """Everything the profile panel and an adopted problem location need about one hotspot."""

    rank: int
    outline: BaseGeometry  # British National Grid
    count: int
    context: dict  # ward, town_centre, water_distance_m, pspo, area_ha
    by_type: pd.DataFrame  # crime_type, count, share
    by_month: pd.DataFrame  # month, count (every month of the period, zeros kept)
    trend: str
    repeats: gpd.GeoDataFrame
    incidents: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def outline_wgs84(self) -> BaseGeometry:
        """The outline in longitude/latitude, as the registers keep outlines."""
        return reproject(self.outline, BNG, WGS84)


def hotspot_at(report: HotspotReport, lat: float, lon: float) -> int | None:
    """The rank of the hotspot under a clicked point (the smallest, if they overlap), or
    None when the point is in no hotspot."""
    if report.hotspots.empty:
        return None
    point = reproject(shapely.Point(lon, lat), WGS84, BNG)
    hit = report.hotspots[report.hotspots.covers(point)]
    if hit.empty:
        return None
    return int(hit.loc[hit.area.idxmin(), "rank"])


def hotspot_profile(report: HotspotReport, rank: int) -> HotspotProfile:
    """The profile of hotspot `rank` of a report, counted from the report's own incidents."""
    found = report.hotspots[report.hotspots["rank"] == rank]
    if found.empty:
        raise ValueError(f"there is no hotspot ranked {rank} (there are "
                         f"{len(report.hotspots)})")
    row = found.iloc[0]
    outline = row.geometry
    points = report.incidents
    inside = points[inside_outline(outline, points["easting"].to_numpy(),
                                   points["northing"].to_numpy())]
    inside = pd.DataFrame(inside.drop(columns="geometry", errors="ignore"))
    by_type = (inside["category"].value_counts().rename_axis("crime_type").reset_index(
        name="count"))
    by_type["share"] = (by_type["count"] / max(len(inside), 1)).round(3)
    months = months_between(report.month_from, report.month_to)
    by_month = (inside["month"].value_counts().reindex(months, fill_value=0)
                .rename_axis("month").reset_index(name="count"))
    water = row.get("water_distance_m")
    context = {
        "ward": _text(row.get("ward")), "town_centre": _text(row.get("town_centre")),
        "water_distance_m": None if water is None or pd.isna(water) else float(water),
        "pspo": _text(row.get("pspo")), "area_ha": round(outline.area / 10_000, 2),
    }
    notes = []
    if len(inside) != int(row["count"]):
        notes.append(f"The method scored this hotspot {int(row['count'])}; {len(inside)} "
                     "incidents lie inside its outline (methods that smooth or pool count "
                     "differently).")
    return HotspotProfile(int(rank), outline, len(inside), context, by_type, by_month,
                          trend_text(by_month["count"].to_numpy()),
                          repeat_locations(inside, top=10), inside, notes)


def inside_outline(outline: BaseGeometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which points a hotspot holds, counted as its method counted them: a square cell holds
    the points on its west and south edges but not those on its east and north edges (so a
    police.uk snap point on a shared edge counts in one cell, as in the hotspot's count and
    tooltip); any other outline holds the points inside it or on its edge."""
    minx, miny, maxx, maxy = outline.bounds
    if abs(outline.area - (maxx - minx) * (maxy - miny)) < 1e-6 * max(outline.area, 1.0):
        return (x >= minx) & (x < maxx) & (y >= miny) & (y < maxy)
    return shapely.intersects_xy(outline, x, y)


def trend_text(counts: np.ndarray) -> str:
    """Rising, falling or no clear change: the second half of the months against the first,
    with an exact Poisson test (the middle month of an odd run counts in neither)."""
    n = len(counts)
    if n < TREND_MIN_MONTHS:
        return f"Too few months ({n}) to tell a trend: choose at least {TREND_MIN_MONTHS}."
    half = n // 2
    first, second = int(counts[:half].sum()), int(counts[n - half:].sum())
    if first + second == 0:
        return "No incidents in the period."
    p = float(change_test(np.array([first]), np.array([second]))[0])
    change = "" if first == 0 else f" ({(second / first - 1):+.0%})"
    direction = "Rising" if second > first else "Falling" if second < first else "Level"
    verdict = (f"{direction}: {second} in the last {half} months against {first} in the first "
               f"{half}{change}")
    if p < 0.05:
        return f"{verdict}: more than chance would explain."
    return f"{verdict}: within what chance would give, so no clear change."


def adoption_origin(report: HotspotReport, rank: int) -> str:
    """How an adopted outline was found, kept with the problem location."""
    types = ", ".join(report.categories) if report.categories else "all crime and ASB"
    return (f"Hotspot {rank} of {METHOD_NAMES.get(report.method, report.method)}, "
            f"{report.area.name}, {report.month_from} to {report.month_to}, {types}")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)

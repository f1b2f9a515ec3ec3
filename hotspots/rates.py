"""Rate hotspots (sfhotspot's hotspot_dual_kde): where incidents are high for the people or the
activity there, not only many. Two kernel density surfaces on one raster, both from
hotspots.kde.density_surface with the same bandwidth and cells: the incidents (numerator) and
a denominator, either

- residents: Census 2021 usual residents by LSOA (loaded at `hotspots setup`), each LSOA's
  residents shared equally among the Code-Point Open postcode centroids inside it (where the
  addresses are: spreading by area would put Spelthorne's people on its reservoirs and
  fields), or, for an LSOA holding no postcode centroid or with `spread="area"`, among the
  land cells whose centre lies in it (by area at the raster's resolution; an LSOA holding no
  cell centre puts them under its representative point); whole residents by largest
  remainder, so each LSOA keeps its total; then smoothed like the incidents; or
- a second incident set (e.g. burglary over all the incidents of residential crime types).

Measures, cell by cell, with d the density (per km²) and N the total of each surface:
- ratio: d(incidents) / d(denominator): incidents per 1,000 residents in the period, or the
  share of the denominator's incidents (e.g. 0.25: a quarter of them were burglaries);
- log-ratio: ln[(d(incidents)/N(incidents)) / (d(denominator)/N(denominator))], the log
  relative risk: 0 where the place has its fair share, +0.69 twice it, -0.69 half;
- difference: d(incidents)/N(incidents) - d(denominator)/N(denominator), per km²: the excess
  share (each surface scaled to its total, since raw residents and incidents per km² have
  different units; sfhotspot subtracts raw densities).

The floor: cells with less denominator around them than the floor are left out, so nothing
lights up where almost nobody lives or almost nothing happens. It is a number of residents (or
denominator incidents) within the kernel's reach (the bandwidth for the quartic kernel, twice
it for the Gaussian), turned into a density: floor / (pi reach²). Default: 100 residents, or 10
incidents; both stated in the parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from geo.crs import BNG
from hotspots.cells import Raster, check_land, check_positive
from hotspots.kde import DensitySurface, density_surface
from hotspots.result import HOTSPOT_COLUMNS, HotspotInputError, points_xy

MEASURES = ("ratio", "log-ratio", "difference")
Denominator = pd.DataFrame | Callable[[Raster], pd.DataFrame]
FLOOR_RESIDENTS = 100
FLOOR_INCIDENTS = 10
RESIDENTS = "residents"
SPREADS = ("postcodes", "area")


def residents_points(lsoas: gpd.GeoDataFrame, raster: Raster, land: BaseGeometry,
                     postcodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each LSOA's residents as whole-person points (module docstring): at its postcode
    centroids (`postcodes`: easting, northing) when it holds any, else at the centres of its
    land cells on the raster; easting, northing, the LSOA code and how it was spread."""
    lsoas = lsoas.to_crs(BNG)
    cx, cy = raster.centres()
    rows, cols = np.nonzero(raster.land_mask(land))
    cell_tree = shapely.STRtree(shapely.points(cx[rows, cols], cy[rows, cols]))
    post_xy = None if postcodes is None or not len(postcodes) else postcodes[
        ["easting", "northing"]].to_numpy(dtype=float)
    post_tree = None if post_xy is None else shapely.STRtree(shapely.points(post_xy))
    parts = []
    for code, people, shape in zip(lsoas["code"], lsoas["population"], lsoas.geometry,
                                   strict=True):
        if people is None or pd.isna(people) or int(people) <= 0 or shape is None:
            continue
        people = int(people)
        inside = np.array([], dtype=int) if post_tree is None else np.sort(
            post_tree.query(shape, predicate="contains"))
        how = "postcodes"
        if len(inside):
            px, py = post_xy[inside, 0], post_xy[inside, 1]
        else:
            how = "area"
            inside = np.sort(cell_tree.query(shape, predicate="contains"))
            px, py = cx[rows[inside], cols[inside]], cy[rows[inside], cols[inside]]
        if len(inside) == 0:
            spot = shapely.point_on_surface(shape)
            px, py, how = np.array([spot.x]), np.array([spot.y]), "area"
        share = _largest_remainder(people, len(px))
        parts.append(pd.DataFrame({"easting": np.repeat(px, share),
                                   "northing": np.repeat(py, share),
                                   "lsoa_code": code, "spread": how}))
    if not parts:
        return pd.DataFrame({"easting": [], "northing": [], "lsoa_code": [], "spread": []})
    return pd.concat(parts, ignore_index=True)


def _largest_remainder(total: int, parts: int) -> np.ndarray:
    """`total` whole units shared as evenly as possible among `parts` (first ones get the
    remainder), summing exactly to `total`."""
    share = np.full(parts, total // parts)
    share[: total - share.sum()] += 1
    return share


def dual_surfaces(incidents: pd.DataFrame, denominator: Denominator, area: BaseGeometry,
                  bandwidth: float | None = None, cell_size: float | None = None,
                  kernel: str = "quartic"
                  ) -> tuple[DensitySurface, DensitySurface, pd.DataFrame]:
    """The incidents' surface (its own rules unless given) and the denominator's on the very
    same raster, bandwidth and kernel; and the denominator's points (a callable denominator
    is given the raster to lay its points on)."""
    top = density_surface(incidents, area, bandwidth, cell_size, kernel)
    if top.raster is None or top.bandwidth_m is None:
        raise HotspotInputError("no incidents match the selection: nothing to rate")
    if callable(denominator):
        denominator = denominator(top.raster)
    bottom = density_surface(denominator, area, top.bandwidth_m, top.raster.size, kernel)
    if (bottom.raster is None or (bottom.raster.x0, bottom.raster.y0, bottom.raster.shape)
            != (top.raster.x0, top.raster.y0, top.raster.shape)):
        raise HotspotInputError("the two surfaces did not land on one raster")  # never: same
    return top, bottom, denominator


def rate_values(top: np.ndarray, bottom: np.ndarray, measure: str, scale: float = 1.0
                ) -> np.ndarray:
    """The measure per cell from two density arrays (module docstring); `scale` multiplies
    the ratio (1,000 for residents). NaN where it is undefined."""
    if measure not in MEASURES:
        raise HotspotInputError(f"measure must be one of {', '.join(MEASURES)}, not "
                                f"'{measure}'")
    total_top, total_bottom = top.sum(), bottom.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "ratio":
            return np.where(bottom > 0, top / bottom * scale, np.nan)
        share_top = top / total_top if total_top else np.zeros_like(top)
        share_bottom = bottom / total_bottom if total_bottom else np.zeros_like(bottom)
        if measure == "log-ratio":
            return np.where((share_top > 0) & (share_bottom > 0),
                            np.log(share_top / share_bottom), np.nan)
        return share_top - share_bottom


def hotspot_rate(incidents: pd.DataFrame, denominator: Denominator, area: BaseGeometry,
                 measure: str = "ratio", floor: float | None = None,
                 bandwidth: float | None = None, cell_size: float | None = None,
                 kernel: str = "quartic", scale: float = 1.0,
                 denominator_name: str = "the denominator") -> gpd.GeoDataFrame:
    """Land cells ranked by the rate of incidents over the denominator, in the hotspot result
    shape: rank, count (incidents in the cell), score (the measure), method ("rate"),
    parameters, geometry, then incidents_per_km2, denominator_per_km2 and denominator (in the
    cell). Cells under the floor, or where incidents are under 1/1000 of their peak, are left
    out."""
    check_land(area)
    if measure not in MEASURES:
        raise HotspotInputError(f"measure must be one of {', '.join(MEASURES)}, not "
                                f"'{measure}'")
    check_positive("the floor", floor, unit="")
    top, bottom, denominator = dual_surfaces(incidents, denominator, area, bandwidth,
                                             cell_size, kernel)
    if len(points_xy(denominator)) == 0:
        raise HotspotInputError(f"{denominator_name} is empty: nothing to divide by")
    raster = top.raster
    land = raster.land_mask(area)
    reach = top.bandwidth_m * (1 if kernel == "quartic" else 2)
    if floor is None:
        floor = FLOOR_RESIDENTS if scale != 1 else FLOOR_INCIDENTS
        floor_rule = "by rule: 100 residents, or 10 incidents, within the kernel's reach"
    else:
        floor_rule = "given"
    floor_value = floor / (math.pi * reach * reach) * 1e6
    values = rate_values(top.values, bottom.values, measure, scale)
    keep = land & (bottom.values >= floor_value) & (bottom.values > 0) & (
        top.values >= top.peak * 1e-3) & np.isfinite(values)
    rows, cols = np.nonzero(keep)
    counts = raster.count(points_xy(incidents))[rows, cols]
    in_cell = raster.count(points_xy(denominator))[rows, cols]
    unit = {"ratio": f"incidents per {scale:,.0f} {denominator_name}" if scale != 1
            else f"incidents per one of {denominator_name}",
            "log-ratio": "log relative risk (0 = the area's share)",
            "difference": "share of incidents minus share of the denominator, per km²"}[measure]
    params = {**top.parameters(), "measure": measure, "score_unit": unit,
              "denominator": denominator_name, "denominator_total": int(len(
                  points_xy(denominator))), "floor": floor, "floor_rule": floor_rule,
              "floor_reach_m": round(reach, 1), "floor_per_km2": round(floor_value, 3),
              "ranking": f"the {measure} of incidents to {denominator_name}, smoothed "
                         "with the same kernel; cells under the floor left out"}
    frame = gpd.GeoDataFrame({
        "count": counts.astype(int), "score": np.round(values[rows, cols], 6),
        "method": "rate", "parameters": json.dumps(params, sort_keys=True, default=str),
        "incidents_per_km2": np.round(top.values[rows, cols], 6),
        "denominator_per_km2": np.round(bottom.values[rows, cols], 6),
        "denominator": in_cell.astype(int),
    }, geometry=list(raster.boxes(rows, cols)), crs=BNG)
    centres = frame.geometry.centroid
    order = np.lexsort([centres.y.to_numpy(), centres.x.to_numpy(), -frame["count"].to_numpy(),
                        -frame["score"].to_numpy()])
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame = frame[[*HOTSPOT_COLUMNS[:-1], "incidents_per_km2", "denominator_per_km2",
                   "denominator", "geometry"]]
    frame.attrs["parameters"] = params
    frame.attrs["surfaces"] = (top, bottom)
    frame.attrs["denominator_points"] = denominator
    left_out = int((land & ~keep).sum())
    frame.attrs["message"] = (
        f"{len(frame):,} cells rated; {left_out:,} land cells left out (fewer than {floor:g} "
        f"{denominator_name} within {reach:,.0f} m, or no incidents near)")
    return frame


def rate_hotspots(engine: Engine, area: str, month_from: str, month_to: str,
                  categories: list[str] | None = None, per: str | list[str] = RESIDENTS,
                  measure: str = "ratio", floor: float | None = None,
                  bandwidth: float | None = None, cell_size: float | None = None,
                  spread: str = "postcodes") -> gpd.GeoDataFrame:
    """Rate hotspots of the area's stored incidents (hotspot_rate) over its residents
    (per="residents", Census 2021 by LSOA) or over the incidents of other crime types
    (per=[types...]) in the same months."""
    from geo.areas import resolve_area
    from geo.layers import load_layer
    from geo.postcodes import load_postcodes
    from hotspots.analysis import area_incidents, months_between

    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, month_from, month_to, categories)
    if isinstance(per, str) and per.lower() == RESIDENTS:
        lsoas = load_layer(engine, "lsoa", place.code)
        lsoas = lsoas[lsoas["population"].notna()]
        if lsoas.empty:
            raise HotspotInputError(
                f"no residents are loaded for {place.name}'s LSOAs: run `hotspots setup` (it "
                "loads Census 2021) or `hotspots layers population lsoa FILE.csv`, or rate "
                "per crime type instead")
        table = load_postcodes().table if spread == "postcodes" else None
        if spread not in SPREADS:
            raise HotspotInputError(f"spread residents by {' or '.join(SPREADS)}, not "
                                    f"'{spread}'")

        def bottom(raster: Raster) -> pd.DataFrame:
            return residents_points(lsoas, raster, place.land, table)
        name, scale = "residents", 1000.0
    else:
        types = [per] if isinstance(per, str) else list(per)
        if not types:
            raise HotspotInputError("say what to rate per: residents, or crime types")
        bottom = area_incidents(engine, place, month_from, month_to, types)
        name, scale = f"incidents of {', '.join(types)}", 1.0
    found = hotspot_rate(points, bottom, place.land, measure, floor, bandwidth, cell_size,
                         scale=scale, denominator_name=name)
    found.attrs.update(area=place.name, incidents=len(points),
                       denominator_total=len(found.attrs["denominator_points"]))
    return found

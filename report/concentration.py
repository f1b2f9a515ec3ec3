"""How concentrated crime is: the share of incidents in the busiest 1%, 5% and 10% of the
area's cells, and the Gini coefficient of cell counts, per crime type.

With fewer incidents than cells the ordinary Gini cannot fall below 1 - incidents/cells even
when every incident is in a different cell, so the generalised Gini of Bernasco & Steenbeek
(2017, J Quant Criminol 33:451) is given beside it: 0 = as evenly spread as that many incidents
can be, 1 = all in one cell.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from core.themes import ALL_CRIME
from geo.areas import resolve_area
from hotspots.analysis import area_incidents, months_between
from hotspots.cells import Raster, check_positive
from hotspots.result import HotspotInputError

DEFAULT_CELL_M = 100.0
SHARES = (0.01, 0.05, 0.10)
COLUMNS = ["crime_type", "incidents", "cells", "cell_size_m", "top_1pct_share",
           "top_5pct_share", "top_10pct_share", "gini", "gini_generalised"]


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (0 = equal, towards 1 = all in one place)."""
    x = np.sort(np.asarray(counts, dtype=float))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float(2 * (ranks * x).sum() / (n * total) - (n + 1) / n)


def most_even(total: int, cells: int) -> np.ndarray:
    """`total` incidents spread over `cells` as evenly as whole incidents allow."""
    base, extra = divmod(int(total), int(cells))
    out = np.full(cells, base, dtype=float)
    out[:extra] += 1
    return out


def generalised_gini(counts: np.ndarray) -> float:
    """Gini rescaled so that the most even spread of this many incidents scores 0."""
    counts = np.asarray(counts, dtype=float)
    total = int(round(counts.sum()))
    if total == 0 or len(counts) < 2:
        return float("nan")
    floor = gini(most_even(total, len(counts)))
    ceiling = gini(np.r_[np.zeros(len(counts) - 1), total])
    if ceiling <= floor:  # one incident: spread evenly and all in one cell are the same
        return float("nan")
    return float(max(0.0, (gini(counts) - floor) / (ceiling - floor)))


def top_share(counts: np.ndarray, fraction: float) -> float:
    """Share of incidents in the busiest `fraction` of cells (at least one cell)."""
    total = counts.sum()
    if total == 0:
        return float("nan")
    k = max(1, math.ceil(fraction * len(counts) - 1e-9))
    return float(np.sort(counts)[::-1][:k].sum() / total)


def concentration(incidents: pd.DataFrame, land: BaseGeometry,
                  cell_size: float = DEFAULT_CELL_M) -> pd.DataFrame:
    """Per crime type (and all together): incidents, cells, top 1/5/10% shares, Gini and
    generalised Gini, over square cells on the area's land (plus any cell an incident is in,
    so no incident is dropped at the riverbank)."""
    check_positive("cell size", cell_size)
    if land.is_empty:
        raise HotspotInputError("the area has no land to divide into cells")
    xy = incidents[["easting", "northing"]].to_numpy(dtype=float)
    minx, miny, maxx, maxy = land.bounds
    if len(xy):  # widen to every incident, so none falls off the grid
        minx, miny = min(minx, xy[:, 0].min()), min(miny, xy[:, 1].min())
        maxx, maxy = max(maxx, xy[:, 0].max()), max(maxy, xy[:, 1].max())
    raster = Raster.over(shapely.box(minx, miny, maxx, maxy), cell_size)
    on_land = raster.land_mask(land)
    occupied = raster.count(xy) > 0
    cells = (on_land | occupied).ravel()
    rows = []
    groups = [(ALL_CRIME, np.ones(len(incidents), dtype=bool))]
    groups += [(t, (incidents["category"] == t).to_numpy())
               for t in sorted(incidents["category"].unique())]
    for crime_type, mask in groups:
        counts = raster.count(xy[mask]).ravel()[cells]
        rows.append({"crime_type": crime_type, "incidents": int(counts.sum()),
                     "cells": int(cells.sum()), "cell_size_m": float(cell_size),
                     **{f"top_{round(f * 100)}pct_share": top_share(counts, f) for f in SHARES},
                     "gini": gini(counts), "gini_generalised": generalised_gini(counts)})
    return pd.DataFrame(rows, columns=COLUMNS)


def area_concentration(engine: Engine, area: str, month_from: str, month_to: str,
                       crime_types: list[str] | tuple[str, ...] | None = None,
                       cell_size: float = DEFAULT_CELL_M) -> pd.DataFrame:
    """`concentration` of an area's stored incidents of the months (the crime types, or all),
    on its land: the app's Concentration table and `hotspots concentration` both."""
    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, month_from, month_to, list(crime_types or []) or None)
    return concentration(points, place.land, cell_size)

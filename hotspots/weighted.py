"""Weighted counts: grid counts that borrow strength where a crime type is sparse.

The rolling-origin evaluation (`hotspots evaluate`, README "Which method") showed three things
on the Surrey sample. Plain counts on small cells are hard to beat because police.uk snaps
crime to fixed points, so spreading mass away from them (KDE) loses. For sparse types
(burglary, vehicle crime, criminal damage) the places where all crime concentrates predict
next month far better than the type's own few past incidents. And a light touch of the
neighbouring cells breaks ties among cells with one or two past incidents. Recency weighting,
damping bursts (log, square root, caps) and stacked regressions across types gained nothing
over 12 months of data, so they are not used.

score(cell) = own + pool x all x (own total / all total) + smooth x mean of the 8 neighbours
where own = the selection's incidents in the cell and all = every incident of the period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import convolve
from shapely.geometry.base import BaseGeometry

from hotspots.cells import Raster, check_area, check_positive
from hotspots.result import HotspotInputError, empty_result, make_result, points_xy

CELL_SIZE = 50.0  # the evaluation's cell size: street scale, where the method was measured
POOL = 1.0
SMOOTH = 0.1
NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]]) / 8


def weighted_surface(own: np.ndarray, every: np.ndarray | None, pool: float = POOL,
                     smooth: float = SMOOTH) -> np.ndarray:
    """The weighted count of every cell from (rows, columns) arrays of own and all counts."""
    score = own.astype(float).copy()
    if every is not None and pool and every.sum() > 0:
        score += pool * every * (own.sum() / every.sum())
    if smooth:
        score += smooth * convolve(score, NEIGHBOURS, mode="constant")
    return score


def hotspot_weighted(incidents: pd.DataFrame, area: BaseGeometry, cell_size: float | None = None,
                     background: pd.DataFrame | None = None, pool: float = POOL,
                     smooth: float = SMOOTH) -> object:
    """Cells ranked by weighted count: the selection's own incidents, plus all crime of the
    same period scaled to the selection's size (`background`, when the selection is one or
    some crime types), plus a tenth of the neighbouring cells' mean.

    score = weighted count; count = the selection's own incidents in the cell.
    """
    check_area(area)
    if pool < 0 or smooth < 0:
        raise HotspotInputError("pool and smooth weights cannot be negative")
    check_positive("cell size", cell_size)
    cell_size, rule = (float(cell_size), "given") if cell_size is not None else (
        CELL_SIZE, "50 m, the street-scale cells it was evaluated on")
    raster = Raster.over(area, cell_size, pad=cell_size)
    xy = points_xy(incidents)
    pooled = background is not None and len(background) > len(incidents)
    params = {"cell_size_m": cell_size, "cell_size_rule": rule,
              "pool": pool if pooled else 0.0, "smooth": smooth,
              "pool_rule": "all crime of the period, scaled to the selection" if pooled
              else "not pooled: the selection is all crime"}
    if len(xy) == 0:
        return empty_result("weighted", params, "no incidents match the selection")
    own = raster.count(xy)
    every = raster.count(points_xy(background)) if pooled else None
    score = weighted_surface(own, every, pool if pooled else 0.0, smooth)
    keep = (own > 0) | ((score > 0) & raster.land_mask(area))
    rows, cols = np.nonzero(keep)
    return make_result(list(raster.boxes(rows, cols)), own[rows, cols], score[rows, cols],
                       "weighted", params)

"""Weighted counts, the default: the squares where the chosen crime happened, ranked by how
often it happened there, with all crime nearby breaking ties.

A JAG reading "burglary hotspots" reads them as places where burglary happened, so every
hotspot holds at least one incident of the chosen types in the period, and the squares are
ranked first by that count. Among squares with the same count (for a sparse type most have
one or two), those where the crime recurred in more months come first, then those where all
crime concentrates (the weighted count below: pooling with all crime and a light touch of the
neighbouring squares). These only order squares: they never add one. For all crime the squares
are ranked by their count alone, in grid order when tied: neither the neighbouring squares nor
the months told tied squares apart better out of sample there (README "Which method").

The pooled forecast, which also shows squares with none of the chosen crime where all crime
concentrates, is `hotspots.forecast` ("Where it is likely next month").

weighted count(cell) = own + pool x all x (own total / all total) + smooth x mean of the 8
neighbours, where own = the selection's incidents in the cell and all = every incident of the
period. Recency weighting, damping bursts (log, square root, caps) and stacked regressions
across types gained nothing over 12 months of data, so they are not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import convolve
from shapely.geometry.base import BaseGeometry

from hotspots.cells import Raster, check_land, check_positive
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


def weighted_parameters(cell_size: float, rule: str, pool: float, smooth: float,
                        pooled: bool) -> dict:
    """The parameters both weighted methods state, with the pooling rule in words."""
    return {"cell_size_m": cell_size, "cell_size_rule": rule,
            "pool": pool if pooled else 0.0, "smooth": smooth,
            "pool_rule": "all crime of the period, scaled to the selection" if pooled
            else "not pooled: the selection is all crime"}


def weighted_counts(incidents: pd.DataFrame, area: BaseGeometry, cell_size: float | None,
                    background: pd.DataFrame | None, pool: float, smooth: float
                    ) -> tuple[Raster, np.ndarray, np.ndarray, dict]:
    """The raster, own counts, weighted counts and parameters shared by `hotspot_weighted`
    and the pooled forecast; checks the inputs."""
    check_land(area)
    if pool < 0 or smooth < 0:
        raise HotspotInputError("pool and smooth weights cannot be negative")
    check_positive("cell size", cell_size)
    cell_size, rule = (float(cell_size), "given") if cell_size is not None else (
        CELL_SIZE, "50 m, the street-scale cells it was evaluated on")
    raster = Raster.over(area, cell_size, pad=cell_size)
    xy = points_xy(incidents)
    pooled = background is not None and len(background) > len(incidents)
    params = weighted_parameters(cell_size, rule, pool, smooth, pooled)
    if len(xy) == 0:
        return raster, np.zeros(0), np.zeros(0), params
    own = raster.count(xy)
    every = raster.count(points_xy(background)) if pooled else None
    score = weighted_surface(own, every, pool if pooled else 0.0, smooth)
    return raster, own, score, params


def months_with_incidents(incidents: pd.DataFrame, raster: Raster) -> np.ndarray | None:
    """How many distinct months had at least one incident in each cell (None without a
    month column): a burst of several incidents in one month counts once."""
    if "month" not in incidents.columns or len(incidents) == 0:
        return None
    row, col, inside = raster.locate(points_xy(incidents))
    cell = row[inside] * raster.ncols + col[inside]
    months = pd.factorize(incidents["month"].to_numpy()[inside])[0]
    pairs = np.unique(cell.astype(np.int64) * (months.max() + 1) + months)
    seen = np.bincount(pairs // (months.max() + 1), minlength=raster.nrows * raster.ncols)
    return seen.reshape(raster.shape).astype(float)


def hotspot_weighted(incidents: pd.DataFrame, area: BaseGeometry, cell_size: float | None = None,
                     background: pd.DataFrame | None = None, pool: float = POOL,
                     smooth: float = SMOOTH) -> object:
    """The squares holding at least one incident of the selection, ranked by how many. For a
    crime type (all crime of the same period given as `background`), squares with the same
    count are ranked by the months with an incident there, then by the weighted count (all
    crime in the square scaled to the selection's size, plus a tenth of the neighbouring
    squares' mean); for all crime, by position. Pooling orders squares; it never adds one.

    count = the selection's own incidents in the square; score = the weighted count (for all
    crime, the count itself).
    """
    raster, own, score, params = weighted_counts(incidents, area, cell_size, background, pool,
                                                 smooth)
    pooled = bool(params["pool"])
    months = months_with_incidents(incidents, raster) if pooled and own.size else None
    if pooled:
        by_months = "the months with at least one of them there, then by " if months is not \
            None or not own.size else ""
        params["tie_break"] = (
            by_months.replace("them", "the selection's incidents") + "the weighted count (all "
            "crime in the square, scaled to the selection's size, plus a tenth of the 8 "
            "neighbouring squares' mean)")
        params["ranking"] = ("incidents of the selection in each square; squares with the same "
                             f"count ranked by {by_months}all crime in and around the square")
    else:
        params["smooth"] = 0.0
        params["tie_break"] = ("none: squares with the same count are listed west to east "
                               "(for all crime, neither the neighbouring squares nor the "
                               "months told them apart better out of sample)")
        params["ranking"] = "incidents in each square"
    params["ranking"] += "; only squares with at least one incident of the selection are shown"
    if own.size == 0:
        return empty_result("weighted", params, "no incidents match the selection")
    rows, cols = np.nonzero(own > 0)
    keys = [own[rows, cols]]
    if pooled:
        keys += ([months[rows, cols]] if months is not None else []) + [score[rows, cols]]
    shown = score[rows, cols] if pooled else own[rows, cols]
    return make_result(list(raster.boxes(rows, cols)), own[rows, cols], shown, "weighted",
                       params, rank_keys=keys)

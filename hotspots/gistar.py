"""Getis-Ord Gi* on grid counts: cells whose neighbourhood holds significantly more incidents
than the area as a whole, with a false-discovery-rate correction and ArcGIS's classes.

Gi* (Ord and Getis 1995), binary weights with the cell itself included, n cells, counts x:
    z_i = (sum_j w_ij x_j - mean(x) W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1)))
with W_i = sum_j w_ij, S1_i = sum_j w_ij^2 and S the population standard deviation of x.
This is esda's G_Local(star=True, transform="B") z-score (tests/test_gistar.py checks both
it and a case worked by hand). We compute it directly on a sparse matrix: on 250k cells esda
takes ~1 s to build its libpysal graph and ~1 s more for the analytical z-scores, and ~70 s
with its permutation test (no numba here), where this takes ~0.2 s in all, the same z-scores
to 1e-14 (bench/bench_hotspots.py prints both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.crs import BNG
from hotspots.cells import Raster, check_land, check_positive, choose_cell_size
from hotspots.result import HotspotInputError, empty_result, make_result, points_xy

# ArcGIS Gi_Bin: +-3 at 99% confidence, +-2 at 95%, +-1 at 90%, 0 not significant.
CONFIDENCE_BINS = ((3, 0.01), (2, 0.05), (1, 0.10))
BIN_LABELS = {3: "hot spot, 99% confidence", 2: "hot spot, 95% confidence",
              1: "hot spot, 90% confidence", 0: "not significant",
              -1: "cold spot, 90% confidence", -2: "cold spot, 95% confidence",
              -3: "cold spot, 99% confidence"}


def neighbour_matrix(xy: np.ndarray, distance: float | None = None,
                     k: int | None = None) -> sp.csr_matrix:
    """Binary weights between cell centres, each cell its own neighbour (the * in Gi*):
    all cells within `distance` metres, or each cell's k nearest others."""
    n = len(xy)
    tree = cKDTree(xy)
    if k:
        k = min(int(k), n - 1)
        _, idx = tree.query(xy, k=k + 1)
        idx = np.asarray(idx).reshape(n, -1)
        rows = np.repeat(np.arange(n), idx.shape[1])
        matrix = sp.csr_matrix((np.ones(rows.size), (rows, idx.ravel())), shape=(n, n))
        matrix.data[:] = 1.0
        return (matrix + sp.identity(n, format="csr")).minimum(1).tocsr()
    pairs = tree.query_pairs(distance * (1 + 1e-9), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))


def gistar_z(values: np.ndarray, weights: sp.csr_matrix) -> np.ndarray:
    """Gi* z-scores for values under binary weights that include each cell itself."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = x.mean()
    spread = math.sqrt(max((x * x).mean() - mean * mean, 0.0))
    w_sum = np.asarray(weights.sum(axis=1)).ravel()
    w_sq = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    lagged = weights @ x
    denominator = spread * np.sqrt(np.clip(n * w_sq - w_sum * w_sum, 0, None) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lagged - mean * w_sum) / denominator
    return np.where(denominator > 0, z, 0.0)


def confidence_bins(z: np.ndarray, p_adjusted: np.ndarray) -> np.ndarray:
    """ArcGIS's Gi_Bin from z-scores and (FDR-adjusted) two-sided p-values."""
    bins = np.zeros(len(z), dtype=int)
    for level, alpha in reversed(CONFIDENCE_BINS):
        bins = np.where(p_adjusted <= alpha, level, bins)
    return bins * np.sign(z).astype(int)


@dataclass(frozen=True)
class LandCells:
    """The land cells of a Gi* grid and their neighbour weights: built once, then used for
    the counts of any number of periods."""

    raster: Raster
    rows: np.ndarray
    cols: np.ndarray
    weights: sp.csr_matrix
    fdr: bool
    parameters: dict

    def frame(self, incidents: pd.DataFrame) -> gpd.GeoDataFrame:
        """Gi* of these incidents on every land cell: count, z, p, adjusted p and class."""
        counts = self.raster.count(points_xy(incidents))[self.rows, self.cols]
        z = gistar_z(counts, self.weights)
        p = 2 * stats.norm.sf(np.abs(z))
        p_adjusted = stats.false_discovery_control(p, method="bh") if self.fdr else p
        frame = gpd.GeoDataFrame({
            "count": counts.astype(int), "z": z, "p": p, "p_adjusted": p_adjusted,
            "gi_bin": confidence_bins(z, p_adjusted),
        }, geometry=list(self.raster.boxes(self.rows, self.cols)), crs=BNG)
        frame["class"] = frame["gi_bin"].map(BIN_LABELS)
        frame.attrs["parameters"] = dict(self.parameters)
        return frame


def land_cells(area: BaseGeometry, cell_size: float | None = None,
               distance: float | None = None, k: int | None = None,
               fdr: bool = True) -> LandCells:
    """Check the parameters, lay the cells over the area's land and link neighbours."""
    check_land(area)
    cell_size, cell_rule = choose_cell_size(area, cell_size)
    check_positive("the neighbour distance", distance)
    if distance and distance < cell_size:
        raise HotspotInputError(
            f"a neighbour distance of {distance:g} m is shorter than the {cell_size:g} m "
            "cells, so no cell would have a neighbour: use at least the cell size")
    if k is not None and k < 1:
        raise HotspotInputError("k must be at least 1 neighbour")
    band_rule = "given" if distance else "cell size x sqrt(2): the 8 touching cells"
    distance = None if k else float(distance or cell_size * math.sqrt(2))
    raster = Raster.over(area, cell_size)
    land = raster.land_mask(area)
    rows, cols = np.nonzero(land)
    params = {"cell_size_m": cell_size, "cell_size_rule": cell_rule,
              "neighbours": f"{k} nearest cells" if k else f"within {distance:g} m",
              "neighbours_rule": "given" if k else band_rule,
              "p_adjust": "Benjamini-Hochberg FDR" if fdr else "none", "cells": int(land.sum()),
              "ranking": "the Gi* z-score: how far a square and its neighbours together hold "
                         "more incidents than the area's average; only squares beyond chance "
                         "(90% confidence or more) are shown"}
    if len(rows) < 3:
        raise HotspotInputError(f"only {len(rows)} cells of {cell_size:g} m fit on this "
                                "area's land; Gi* needs more: use smaller cells")
    cx, cy = raster.centres()
    weights = neighbour_matrix(np.column_stack([cx[rows, cols], cy[rows, cols]]), distance, k)
    return LandCells(raster, rows, cols, weights, fdr, params)


def gistar_cells(incidents: pd.DataFrame, area: BaseGeometry, cell_size: float | None = None,
                 distance: float | None = None, k: int | None = None,
                 fdr: bool = True) -> gpd.GeoDataFrame:
    """Gi* for every land cell (empty ones included): count, z, p, adjusted p and class."""
    return land_cells(area, cell_size, distance, k, fdr).frame(incidents)


def hotspot_gistar(incidents: pd.DataFrame, area: BaseGeometry, cell_size: float | None = None,
                   distance: float | None = None, k: int | None = None) -> object:
    """Cells that are significant hot spots (90% confidence or more after the FDR correction).

    score = Gi* z-score; count = incidents in the cell. `gistar_cells` has cold spots too.
    """
    if len(points_xy(incidents)) == 0:
        check_land(area)
        cell_size, _ = choose_cell_size(area, cell_size)
        check_positive("the neighbour distance", distance)
        if k is not None and k < 1:
            raise HotspotInputError("k must be at least 1 neighbour")
        return empty_result("gistar", {"cell_size_m": cell_size},
                            "no incidents match the selection")
    cells = gistar_cells(incidents, area, cell_size, distance, k)
    params = dict(cells.attrs["parameters"])
    hot = cells[cells["gi_bin"] > 0]
    params["hot_cells"] = {f"{c}%": int((hot["gi_bin"] == b).sum())
                           for b, c in ((3, 99), (2, 95), (1, 90))}
    if hot.empty:
        return empty_result("gistar", params, "no cell is a significant hot spot after the "
                            "false discovery rate correction")
    return make_result(list(hot.geometry), hot["count"].to_numpy(), hot["z"].to_numpy(),
                       "gistar", params)

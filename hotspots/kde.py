"""Kernel density on a grid, by binning and FFT convolution.

Scoring every cell against every point costs cells x points (sklearn's KernelDensity: ~110 s
for 100k points on 200x200 cells). Spreading the points onto the grid (linear binning) and
convolving with the kernel sampled on the same grid costs one FFT, whatever the number of
points, and differs from the exact sum by the binning error only (see tests/test_methods.py).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.signal import fftconvolve
from shapely.geometry.base import BaseGeometry

from hotspots.cells import Raster, check_area, check_positive, choose_cell_size
from hotspots.result import HotspotInputError, empty_result, make_result, points_xy

KERNELS = ("quartic", "gaussian")
GAUSSIAN_REACH = 4.0  # the Gaussian is cut at 4 standard deviations (mass beyond: 0.03%)


def bandwidth_nrd(values: np.ndarray) -> float:
    """MASS::bandwidth.nrd (as sfhotspot uses): 4 x 1.06 x min(sd, IQR/1.34) x n^(-1/5)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return 0.0
    q1, q3 = np.quantile(values, [0.25, 0.75])
    spread = min(float(np.std(values, ddof=1)), (q3 - q1) / 1.34)
    return 4 * 1.06 * spread * len(values) ** -0.2


def set_bandwidth(xy: np.ndarray) -> float:
    """Rule: the mean of bandwidth.nrd over eastings and northings, in metres. It is used as
    the quartic kernel's radius; the Gaussian's standard deviation is a quarter of it, as in
    MASS::kde2d, so both kernels smooth over about the same distance."""
    return (bandwidth_nrd(xy[:, 0]) + bandwidth_nrd(xy[:, 1])) / 2


def kernel_weights(kernel: str, bandwidth: float, cell_size: float) -> np.ndarray:
    """The kernel sampled at cell-centre offsets, as density per m² for one point."""
    reach = bandwidth if kernel == "quartic" else GAUSSIAN_REACH * bandwidth
    half = max(1, math.ceil(reach / cell_size))
    offsets = np.arange(-half, half + 1) * cell_size
    dx, dy = np.meshgrid(offsets, offsets)
    d2 = dx * dx + dy * dy
    if kernel == "quartic":
        h2 = bandwidth * bandwidth
        return np.where(d2 < h2, 3 / (math.pi * h2) * (1 - d2 / h2) ** 2, 0.0)
    s2 = bandwidth * bandwidth
    return np.exp(-d2 / (2 * s2)) / (2 * math.pi * s2)


def linear_bin(raster: Raster, xy: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Share each point among the four nearest cell centres by bilinear weights."""
    fx = (xy[:, 0] - raster.x0) / raster.size - 0.5
    fy = (xy[:, 1] - raster.y0) / raster.size - 0.5
    c0, r0 = np.floor(fx).astype(np.int64), np.floor(fy).astype(np.int64)
    tx, ty = fx - c0, fy - r0
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    total = np.zeros(raster.nrows * raster.ncols)
    for dr, dc, share in ((0, 0, (1 - tx) * (1 - ty)), (0, 1, tx * (1 - ty)),
                          (1, 0, (1 - tx) * ty), (1, 1, tx * ty)):
        r, c = r0 + dr, c0 + dc
        ok = (r >= 0) & (r < raster.nrows) & (c >= 0) & (c < raster.ncols)
        total += np.bincount(r[ok] * raster.ncols + c[ok], weights=(w * share)[ok],
                             minlength=total.size)
    return total.reshape(raster.shape)


def kde_surface(xy: np.ndarray, raster: Raster, bandwidth: float, kernel: str = "quartic",
                weights: np.ndarray | None = None) -> np.ndarray:
    """Density at every cell centre, in incidents per km², as a (rows, columns) array."""
    if kernel not in KERNELS:
        raise HotspotInputError(f"kernel must be one of {', '.join(KERNELS)}, not '{kernel}'")
    binned = linear_bin(raster, xy, weights)
    stencil = kernel_weights(kernel, bandwidth, raster.size)
    density = fftconvolve(binned, stencil, mode="same")
    return np.clip(density, 0, None) * 1e6  # FFT round-off can leave tiny negatives


def hotspot_kde(incidents: pd.DataFrame, area: BaseGeometry, bandwidth: float | None = None,
                cell_size: float | None = None, kernel: str = "quartic") -> object:
    """Kernel density of incidents on square cells over the area's land.

    score = density at the cell centre (incidents per km²); count = incidents in the cell.
    Cells whose density is below 1/1000 of the peak are left out, as nothing would draw them.
    """
    check_area(area)
    if kernel not in KERNELS:
        raise HotspotInputError(f"kernel must be one of {', '.join(KERNELS)}, not '{kernel}'")
    cell_size, cell_rule = choose_cell_size(area, cell_size)
    xy = points_xy(incidents)
    params = {"cell_size_m": cell_size, "cell_size_rule": cell_rule, "kernel": kernel}
    check_positive("bandwidth", bandwidth)
    if bandwidth and bandwidth < cell_size:
        raise HotspotInputError(
            f"a bandwidth of {bandwidth:g} m is smaller than the {cell_size:g} m cells, so the "
            "kernel would not reach the next cell: choose a bandwidth of at least the cell "
            "size, or smaller cells")
    raster = Raster.over(area, cell_size)
    if len(xy) == 0:
        params.update(bandwidth_m=bandwidth, bandwidth_rule="given" if bandwidth else None)
        return empty_result("kde", params, "no incidents match the selection")
    if bandwidth:
        rule = "given"
    else:
        bandwidth, rule = set_bandwidth(xy), "bandwidth.nrd (MASS), mean of x and y"
        if kernel == "gaussian":
            bandwidth, rule = bandwidth / 4, rule + "; Gaussian sd = 1/4 of it, as MASS::kde2d"
        if bandwidth < cell_size:
            bandwidth, rule = cell_size, rule + "; below the cell size, so raised to it"
    params.update(bandwidth_m=round(float(bandwidth), 1), bandwidth_rule=rule)
    density = kde_surface(xy, raster, bandwidth, kernel)
    counts = raster.count(xy)
    keep = raster.land_mask(area) & (density >= density.max() * 1e-3)
    rows, cols = np.nonzero(keep)
    return make_result(list(raster.boxes(rows, cols)), counts[rows, cols], density[rows, cols],
                       "kde", params)

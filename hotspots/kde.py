"""Kernel density on a grid, by binning and FFT convolution: the one density surface that the
KDE hotspots and the map's heat layer are both drawn from (`density_surface`).

Scoring every cell against every point costs cells x points (sklearn's KernelDensity: ~110 s
for 100k points on 200x200 cells). Spreading the points onto the grid (linear binning) and
convolving with the kernel sampled on the same grid costs one FFT, whatever the number of
points, and differs from the exact sum by the binning error only (see tests/test_kde.py).

The bandwidth and cell size follow the street-scale rules of `hotspots.bandwidth` unless given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.signal import fftconvolve
from shapely.geometry.base import BaseGeometry

from hotspots.bandwidth import (
    KDE_CELL_RULE,
    bandwidth_nrd_rule,
    kde_cell_size,
    nearest_neighbour_bandwidth,
)
from hotspots.cells import Raster, check_land, check_positive
from hotspots.result import (
    HotspotInputError,
    empty_result,
    make_result,
    nice_length,
    points_xy,
)

KERNELS = ("quartic", "gaussian")
GAUSSIAN_REACH = 4.0  # the Gaussian is cut at 4 standard deviations (mass beyond: 0.03%)
MAX_SURFACE_CELLS = 1_000_000  # ~8 MB and ~0.1 s: a county at the rule's cells, not a country
KDE_RANKING = ("the density of incidents around each square, smoothed with the kernel over "
               "the bandwidth")


def set_bandwidth(xy: np.ndarray) -> float:
    """sfhotspot's bandwidth.nrd rule (hotspots.bandwidth.bandwidth_nrd_rule), kept for
    comparison with the street-scale rule that hotspot_kde uses."""
    return bandwidth_nrd_rule(xy)


def kernel_weights(kernel: str, bandwidth: float, cell_size: float) -> np.ndarray:
    """The kernel sampled at cell-centre offsets, as density per m² for one point, scaled so
    the samples hold exactly one point's mass (on cells coarse for the bandwidth the raw
    samples would gain or lose a few per cent)."""
    reach = bandwidth if kernel == "quartic" else GAUSSIAN_REACH * bandwidth
    half = max(1, math.ceil(reach / cell_size))
    offsets = np.arange(-half, half + 1) * cell_size
    dx, dy = np.meshgrid(offsets, offsets)
    d2 = dx * dx + dy * dy
    if kernel == "quartic":
        h2 = bandwidth * bandwidth
        weights = np.where(d2 < h2, 3 / (math.pi * h2) * (1 - d2 / h2) ** 2, 0.0)
    else:
        s2 = bandwidth * bandwidth
        weights = np.exp(-d2 / (2 * s2)) / (2 * math.pi * s2)
    return weights / (weights.sum() * cell_size * cell_size)


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


@dataclass(frozen=True, eq=False)
class DensitySurface:
    """Kernel density of incidents on square cells: `values[row, col]` is the density at the
    cell's centre in incidents per km² (row 0 is the southernmost row, column 0 the western),
    on `raster` in British National Grid metres (EPSG:27700). `bandwidth_rule` and
    `cell_size_rule` say in words how each was chosen. Treat it as read-only: the same surface
    is shared by the hotspots and the map (copies of a result share it, not copy it)."""

    values: np.ndarray
    raster: Raster | None
    bandwidth_m: float | None
    kernel: str
    bandwidth_rule: str
    cell_size_rule: str
    incidents: int

    @property
    def rule(self) -> str:
        """Both rules in one sentence, for a caption."""
        if self.bandwidth_m is None or self.raster is None:
            return self.bandwidth_rule
        return (f"{self.kernel} kernel, bandwidth {self.bandwidth_m:,.0f} m ("
                f"{self.bandwidth_rule}); {self.raster.size:g} m cells ({self.cell_size_rule})")

    def __deepcopy__(self, memo: dict) -> DensitySurface:
        return self  # read-only: pandas copies a frame's attrs on every operation

    @property
    def empty(self) -> bool:
        """True when there were no incidents to smooth (values all 0, or 0 x 0 without an
        area to lay cells over)."""
        return self.incidents == 0

    @property
    def cell_size(self) -> float | None:
        """Cell size in metres."""
        return None if self.raster is None else self.raster.size

    @property
    def x0(self) -> float | None:
        """Easting of the raster's western edge."""
        return None if self.raster is None else self.raster.x0

    @property
    def y0(self) -> float | None:
        """Northing of the raster's southern edge."""
        return None if self.raster is None else self.raster.y0

    @property
    def nrows(self) -> int:
        """Rows of cells (south to north)."""
        return 0 if self.raster is None else self.raster.nrows

    @property
    def ncols(self) -> int:
        """Columns of cells (west to east)."""
        return 0 if self.raster is None else self.raster.ncols

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of the raster in EPSG:27700 metres."""
        r = self.raster
        return None if r is None else (r.x0, r.y0, r.x0 + r.ncols * r.size,
                                       r.y0 + r.nrows * r.size)

    @property
    def peak(self) -> float:
        """The highest density, incidents per km² (0 when empty)."""
        return float(self.values.max()) if self.values.size else 0.0

    def cells(self, min_share: float = 1e-3) -> pd.DataFrame:
        """Cell centres (easting, northing) and density of the cells at least `min_share` of
        the peak, densest first: what a heat layer draws."""
        if self.raster is None or self.peak <= 0:
            return pd.DataFrame({"easting": [], "northing": [], "density": []})
        rows, cols = np.nonzero(self.values >= self.peak * min_share)
        size = self.raster.size
        frame = pd.DataFrame({"easting": self.raster.x0 + (cols + 0.5) * size,
                              "northing": self.raster.y0 + (rows + 0.5) * size,
                              "density": self.values[rows, cols]})
        return frame.sort_values("density", ascending=False, kind="stable").reset_index(
            drop=True)

    def parameters(self) -> dict:
        """Bandwidth, kernel, cell size and the rule, for captions and exports."""
        return {"bandwidth_m": None if self.bandwidth_m is None else round(self.bandwidth_m, 1),
                "bandwidth_rule": self.bandwidth_rule, "kernel": self.kernel,
                "cell_size_m": self.cell_size, "cell_size_rule": self.cell_size_rule,
                "incidents": self.incidents}


def choose_bandwidth(xy: np.ndarray, kernel: str, bandwidth: float | None,
                     cell_size: float | None) -> tuple[float, str]:
    """The bandwidth given, or the street-scale rule's (the quartic radius; the Gaussian's
    standard deviation is a quarter of it, as MASS::kde2d), raised to a given cell size."""
    check_positive("bandwidth", bandwidth)
    if bandwidth:
        if cell_size and bandwidth < cell_size:
            raise HotspotInputError(
                f"a bandwidth of {bandwidth:g} m is smaller than the {cell_size:g} m cells, so "
                "the kernel would not reach the next cell: choose a bandwidth of at least the "
                "cell size, or smaller cells")
        return float(bandwidth), "given"
    bandwidth, rule = nearest_neighbour_bandwidth(xy)
    if kernel == "gaussian":
        bandwidth, rule = bandwidth / 4, rule + "; Gaussian sd = 1/4 of it, as MASS::kde2d"
    if cell_size and bandwidth < cell_size:
        bandwidth, rule = float(cell_size), rule + "; below the cell size, so raised to it"
    return bandwidth, rule


def fitting_cell(frame: BaseGeometry, cell: float, rule: str) -> tuple[float, str]:
    """The rule's cell size, raised to the next nice length while the frame would need more
    than MAX_SURFACE_CELLS cells (a county rather than a borough), and the rule saying so."""
    minx, miny, maxx, maxy = frame.bounds
    raised = cell
    while (maxx - minx) * (maxy - miny) / (raised * raised) > MAX_SURFACE_CELLS:
        raised = nice_length(raised * 1.5, floor=raised + 25)
    if raised == cell:
        return cell, rule
    return raised, (f"{rule}; raised from {cell:g} m so the surface stays within "
                    f"{MAX_SURFACE_CELLS:,} cells")


def density_surface(incidents: pd.DataFrame, area: BaseGeometry | None = None,
                    bandwidth: float | None = None, cell_size: float | None = None,
                    kernel: str = "quartic") -> DensitySurface:
    """Kernel density of any incidents (easting/northing in EPSG:27700, or a BNG
    GeoDataFrame) over the area's bounding box (or the incidents' own, widened by the
    bandwidth), with the street-scale bandwidth and cell-size rules unless given."""
    if kernel not in KERNELS:
        raise HotspotInputError(f"kernel must be one of {', '.join(KERNELS)}, not '{kernel}'")
    check_positive("cell size", cell_size)
    check_positive("bandwidth", bandwidth)
    xy = points_xy(incidents)
    xy = xy[np.isfinite(xy).all(axis=1)] if len(xy) else xy
    raster = Raster.over(area, cell_size) if area is not None and cell_size else None
    if len(xy) == 0:
        values = np.zeros(raster.shape) if raster is not None else np.zeros((0, 0))
        return DensitySurface(values, raster, float(bandwidth) if bandwidth else None, kernel,
                              "no incidents to smooth", "given" if cell_size else "", 0)
    width, rule = choose_bandwidth(xy, kernel, bandwidth, cell_size)
    if cell_size:
        cell, cell_rule = float(cell_size), "given"
    else:
        cell, cell_rule = kde_cell_size(width if kernel == "quartic" else 4 * width), \
            KDE_CELL_RULE
    if raster is None:
        frame = area if area is not None else shapely.box(
            *xy.min(axis=0), *xy.max(axis=0)).buffer(
                width * (1 if kernel == "quartic" else GAUSSIAN_REACH), join_style="mitre")
        if not cell_size:
            cell, cell_rule = fitting_cell(frame, cell, cell_rule)
        raster = Raster.over(frame, cell)
    values = kde_surface(xy, raster, width, kernel)
    values.setflags(write=False)
    return DensitySurface(values, raster, float(width), kernel, rule, cell_rule, len(xy))


def hotspot_kde(incidents: pd.DataFrame, area: BaseGeometry, bandwidth: float | None = None,
                cell_size: float | None = None, kernel: str = "quartic") -> object:
    """Kernel density of incidents on square cells over the area's land.

    score = density at the cell centre (incidents per km²); count = incidents in the cell.
    Cells whose density is below 1/1000 of the peak are left out, as nothing would draw them.
    The surface itself is attached as `attrs["surface"]` (a DensitySurface), so the map's
    heat layer draws the very same one.
    """
    check_land(area)
    if kernel not in KERNELS:
        raise HotspotInputError(f"kernel must be one of {', '.join(KERNELS)}, not '{kernel}'")
    check_positive("cell size", cell_size)
    check_positive("bandwidth", bandwidth)
    if bandwidth and cell_size and bandwidth < cell_size:
        choose_bandwidth(np.empty((0, 2)), kernel, bandwidth, cell_size)  # refuses, says why
    if cell_size:
        Raster.over(area, cell_size)  # refuses a grid too big for memory before any work
    xy = points_xy(incidents)
    if len(xy) == 0:
        params = {"cell_size_m": cell_size, "cell_size_rule": "given" if cell_size else None,
                  "kernel": kernel, "bandwidth_m": bandwidth,
                  "bandwidth_rule": "given" if bandwidth else None, "ranking": KDE_RANKING}
        return empty_result("kde", params, "no incidents match the selection")
    surface = density_surface(incidents, area, bandwidth, cell_size, kernel)
    params = {"cell_size_m": surface.cell_size, "cell_size_rule": surface.cell_size_rule,
              "kernel": kernel, "bandwidth_m": round(float(surface.bandwidth_m), 1),
              "bandwidth_rule": surface.bandwidth_rule, "ranking": KDE_RANKING}
    raster, density = surface.raster, surface.values
    counts = raster.count(xy)
    keep = raster.land_mask(area) & (density >= density.max() * 1e-3)
    rows, cols = np.nonzero(keep)
    found = make_result(list(raster.boxes(rows, cols)), counts[rows, cols], density[rows, cols],
                        "kde", params)
    found.attrs["surface"] = surface
    return found

"""A raster of square cells over an area, aligned to the national grid: the frame that grid
counts, kernel density, Gi*, change, classification and the evaluation all share.

Cells are anchored at multiples of the cell size, so the same area and cell size always give
the same cells, and a 50 m cell here is the same 50 m cell in every method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from hotspots.result import HotspotInputError, nice_length

MAX_CELLS = 4_000_000  # ~32 MB per float64 layer; far beyond any borough at street scale


def set_cell_size(area: BaseGeometry) -> float:
    """Rule (as sfhotspot): 1/50 of the shorter side of the area's bounding box, rounded
    down to a nice length (25, 50, 75, 100, 150, 200 m...)."""
    minx, miny, maxx, maxy = area.bounds
    return nice_length(min(maxx - minx, maxy - miny) / 50)


def check_land(area: BaseGeometry) -> None:
    """Refuse an area with no land: nothing could be a hotspot in it. Slivers left where a
    boundary and a river nearly coincide (under 5 cm wide) do not count as land."""
    if area is None or area.is_empty or area.area <= 0 or area.buffer(-0.05).is_empty:
        raise HotspotInputError(
            "the area has no land to find hotspots in (is it all water, or empty?): "
            "check the boundary, or the water layer taken out of it")


@dataclass(frozen=True)
class Raster:
    """Square cells covering a bounding box: column i, row j has its lower-left corner at
    (x0 + i * size, y0 + j * size). Arrays are indexed [row, column]."""

    x0: float
    y0: float
    size: float
    ncols: int
    nrows: int

    @classmethod
    def over(cls, area: BaseGeometry, size: float, pad: float = 0.0) -> Raster:
        """The aligned raster covering `area`'s bounds (widened by `pad` metres)."""
        if not size or size <= 0 or not math.isfinite(size):
            raise HotspotInputError("cell size must be a positive number of metres")
        minx, miny, maxx, maxy = area.bounds
        x0 = math.floor((minx - pad) / size) * size
        y0 = math.floor((miny - pad) / size) * size
        ncols = max(1, math.ceil((maxx + pad - x0) / size))
        nrows = max(1, math.ceil((maxy + pad - y0) / size))
        if ncols * nrows > MAX_CELLS:
            least = math.sqrt((maxx - minx + 2 * pad) * (maxy - miny + 2 * pad) / MAX_CELLS)
            raise HotspotInputError(
                f"a {size:g} m grid over this area needs {ncols * nrows:,} cells, more than "
                f"the {MAX_CELLS:,} that fit in memory: choose a cell size of at least "
                f"{math.ceil(least)} m")
        return cls(x0, y0, float(size), ncols, nrows)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns), for arrays over the raster."""
        return (self.nrows, self.ncols)

    def locate(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row and column of each point, and whether it falls on the raster at all."""
        col = np.floor((xy[:, 0] - self.x0) / self.size).astype(np.int64)
        row = np.floor((xy[:, 1] - self.y0) / self.size).astype(np.int64)
        inside = (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)
        return row, col, inside

    def count(self, xy: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Incidents (or summed weights) per cell, as a (rows, columns) array."""
        row, col, inside = self.locate(xy)
        flat = row[inside] * self.ncols + col[inside]
        w = None if weights is None else np.asarray(weights, dtype=float)[inside]
        return np.bincount(flat, weights=w, minlength=self.nrows * self.ncols).reshape(
            self.shape).astype(float)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centre x and y, each a (rows, columns) array."""
        xs = self.x0 + (np.arange(self.ncols) + 0.5) * self.size
        ys = self.y0 + (np.arange(self.nrows) + 0.5) * self.size
        return np.meshgrid(xs, ys)

    def land_mask(self, land: BaseGeometry) -> np.ndarray:
        """True for cells whose centre is on the land (rivers and outside the area excluded)."""
        cx, cy = self.centres()
        shapely.prepare(land)
        return shapely.contains_xy(land, cx, cy)

    def boxes(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Cell outlines for the given rows and columns."""
        x = self.x0 + np.asarray(cols) * self.size
        y = self.y0 + np.asarray(rows) * self.size
        return shapely.box(x, y, x + self.size, y + self.size)

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km²."""
        return self.size * self.size / 1e6


def check_positive(name: str, value: float | None, unit: str = " of metres") -> None:
    """Refuse a given parameter that is zero, negative or not a number (None = by rule)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise HotspotInputError(f"{name} must be a positive number{unit}, not {value}")


def choose_cell_size(area: BaseGeometry, cell_size: float | None) -> tuple[float, str]:
    """The cell size given, or the rule's; with the rule's name for the parameters."""
    check_positive("cell size", cell_size)
    if cell_size is not None:
        return float(cell_size), "given"
    return set_cell_size(area), "1/50 of the area's shorter side, rounded down"

"""Grid counts: incidents per square cell, the plainest hotspot method analysts use."""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely import box
from shapely.geometry.base import BaseGeometry

from hotspots.result import (
    HotspotInputError,
    empty_result,
    make_result,
    nice_length,
    points_xy,
)

MAX_CELLS = 4_000_000


def set_cell_size(area: BaseGeometry) -> float:
    """Rule (as sfhotspot): 1/50 of the shorter side of the area's bounding box, rounded
    down to a nice length (25, 50, 75, 100, 150, 200 m...)."""
    minx, miny, maxx, maxy = area.bounds
    return nice_length(min(maxx - minx, maxy - miny) / 50)


def hotspot_grid(incidents: pd.DataFrame, area: BaseGeometry,
                 cell_size: float | None = None) -> object:
    """Count incidents in square cells aligned to the national grid; non-empty cells ranked.

    Cells are anchored at multiples of the cell size, so the same data gives the same cells
    every time. score = incidents per km².
    """
    rule = "given" if cell_size else "1/50 of the area's shorter side, rounded down"
    cell_size = float(cell_size) if cell_size else set_cell_size(area)
    params = {"cell_size_m": cell_size, "cell_size_rule": rule}
    if cell_size <= 0:
        raise HotspotInputError("cell size must be a positive number of metres")
    minx, miny, maxx, maxy = area.bounds
    n_cells = ((maxx - minx) / cell_size + 1) * ((maxy - miny) / cell_size + 1)
    if n_cells > MAX_CELLS:
        raise HotspotInputError(
            f"a {cell_size:g} m grid over this area needs {n_cells:,.0f} cells, more than "
            f"{MAX_CELLS:,}: choose a cell size of at least "
            f"{np.sqrt((maxx - minx) * (maxy - miny) / MAX_CELLS):.0f} m")
    xy = points_xy(incidents)
    if len(xy) == 0:
        return empty_result("grid", params, "no incidents match the selection")
    col = np.floor(xy[:, 0] / cell_size).astype(np.int64)
    row = np.floor(xy[:, 1] / cell_size).astype(np.int64)
    cells, counts = np.unique(np.column_stack([col, row]), axis=0, return_counts=True)
    x0 = cells[:, 0] * cell_size
    y0 = cells[:, 1] * cell_size
    geometries = box(x0, y0, x0 + cell_size, y0 + cell_size)
    per_km2 = counts / (cell_size * cell_size / 1e6)
    return make_result(list(geometries), counts, per_km2, "grid", params)

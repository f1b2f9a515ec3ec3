"""Grid counts: incidents per square or hexagonal cell, the plainest hotspot method analysts use."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspots.cells import Raster, check_land, choose_cell_size
from hotspots.result import (
    HotspotInputError,
    empty_result,
    make_result,
    points_xy,
    unique_pairs,
)

SHAPES = ("square", "hex")


def hex_cells(xy: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial (q, r) of the pointy-topped hexagon holding each point. `width` is the distance
    between opposite flat sides (= between neighbouring centres); hexagons tile from the
    national grid origin, so they are the same every time."""
    radius = width / math.sqrt(3)
    q = (math.sqrt(3) / 3 * xy[:, 0] - xy[:, 1] / 3) / radius
    r = (2 / 3 * xy[:, 1]) / radius
    # Cube rounding: round all three cube coordinates, then fix the one that moved most.
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def hex_polygons(q: np.ndarray, r: np.ndarray, width: float) -> np.ndarray:
    """Outlines of the hexagons with axial coordinates (q, r)."""
    radius = width / math.sqrt(3)
    cx = radius * math.sqrt(3) * (q + r / 2)
    cy = radius * 1.5 * r
    angles = np.radians(60 * np.arange(6) - 30)
    xs = cx[:, None] + radius * np.cos(angles)[None, :]
    ys = cy[:, None] + radius * np.sin(angles)[None, :]
    rings = np.stack([xs, ys], axis=-1)
    return shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))


def hotspot_grid(incidents: pd.DataFrame, area: BaseGeometry, cell_size: float | None = None,
                 shape: str = "square") -> object:
    """Count incidents in square or hexagonal cells; non-empty cells ranked by density.

    Squares are aligned to the national grid; hexagons (`shape="hex"`, flat-to-flat width =
    cell size) tile from its origin. score = incidents per km².
    """
    if shape not in SHAPES:
        raise HotspotInputError(f"cell shape must be 'square' or 'hex', not '{shape}'")
    check_land(area)
    cell_size, rule = choose_cell_size(area, cell_size)
    params = {"cell_size_m": cell_size, "cell_size_rule": rule, "shape": shape,
              "ranking": f"incidents in each {'hexagon' if shape == 'hex' else 'square'}, "
                         "per km²; ties listed west to east"}
    Raster.over(area, cell_size)  # refuses a grid too big for memory before any work
    xy = points_xy(incidents)
    if len(xy) == 0:
        return empty_result("grid", params, "no incidents match the selection")
    if shape == "hex":
        q, r = hex_cells(xy, cell_size)
        cells, counts = unique_pairs(q, r)
        geometries = hex_polygons(cells[:, 0], cells[:, 1], cell_size)
        cell_km2 = math.sqrt(3) / 2 * cell_size * cell_size / 1e6
    else:
        col = np.floor(xy[:, 0] / cell_size).astype(np.int64)
        row = np.floor(xy[:, 1] / cell_size).astype(np.int64)
        cells, counts = unique_pairs(col, row)
        x0, y0 = cells[:, 0] * cell_size, cells[:, 1] * cell_size
        geometries = shapely.box(x0, y0, x0 + cell_size, y0 + cell_size)
        cell_km2 = cell_size * cell_size / 1e6
    return make_result(list(geometries), counts, counts / cell_km2, "grid", params)

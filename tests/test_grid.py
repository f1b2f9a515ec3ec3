"""Square and hexagonal grid counts (hotspots/grid.py): every point in the hexagon of its
cell, hexagon areas and counts, and the hex grid on the real sample.
"""

from __future__ import annotations

import json
import math

import numpy as np
import shapely

from geo.joins import CONTEXT_COLUMNS
from hotspots.analysis import find_hotspots
from hotspots.grid import hex_cells, hex_polygons, hotspot_grid
from hotspots.result import HOTSPOT_COLUMNS
from tests.support.hotspot_data import FROM, TO, frame

LABELS = [*CONTEXT_COLUMNS, "top_types", "top_location"]


def test_each_point_lies_in_the_hexagon_of_its_cell():
    width = 100.0
    rng = np.random.default_rng(1)
    radius = width / math.sqrt(3)
    random = rng.uniform([500000, 150000], [503000, 153000], (5000, 2))
    # Awkward points too: hexagon centres, corners and mid-edges, where rounding is tightest.
    q, r = np.meshgrid(np.arange(-3, 4), np.arange(-3, 4))
    cx = radius * math.sqrt(3) * (q.ravel() + r.ravel() / 2)
    cy = radius * 1.5 * r.ravel()
    corners = [(cx + radius * math.cos(a), cy + radius * math.sin(a))
               for a in np.radians(60 * np.arange(6) - 30)]
    awkward = np.concatenate([np.column_stack([cx, cy])]
                             + [np.column_stack(c) for c in corners]
                             + [np.column_stack([cx + width / 2, cy])])
    xy = np.concatenate([random, awkward])
    cq, cr = hex_cells(xy, width)
    outlines = hex_polygons(cq, cr, width)
    assert shapely.distance(outlines, shapely.points(xy)).max() < 1e-6
    # Random points (never on an edge) are strictly inside, and no farther from the centre of
    # their hexagon than its corners are.
    inside = shapely.contains_xy(outlines[: len(random)], random[:, 0], random[:, 1])
    assert inside.all()
    centre = shapely.get_coordinates(shapely.centroid(outlines[: len(random)]))
    assert np.hypot(*(centre - random).T).max() <= radius + 1e-9


def test_hexagon_area_and_counts():
    width = 100.0
    rng = np.random.default_rng(2)
    xy = rng.uniform([500000, 150000], [502000, 152000], (3000, 2))
    area = shapely.box(500000, 150000, 502000, 152000)
    found = hotspot_grid(frame(xy), area, cell_size=width, shape="hex")
    assert list(found.columns) == HOTSPOT_COLUMNS
    assert found["count"].sum() == len(xy)
    hex_km2 = math.sqrt(3) / 2 * width * width / 1e6
    assert np.allclose(found.geometry.area, hex_km2 * 1e6)
    assert np.allclose(found["score"], found["count"] / hex_km2, rtol=1e-6, atol=1e-4)
    # Each hexagon holds exactly the points counted in it.
    held = [shapely.contains_xy(g, xy[:, 0], xy[:, 1]).sum() for g in found.geometry]
    assert held == found["count"].tolist()
    assert json.loads(found["parameters"].iloc[0])["shape"] == "hex"


def test_hex_grid_on_the_real_sample(sample_db):
    report = find_hotspots(sample_db.engine, "spelthorne", FROM, TO, ["Shoplifting"], "grid",
                           coverage=None, shape="hex")
    found = report.hotspots
    assert list(found.columns) == HOTSPOT_COLUMNS + LABELS
    assert found["count"].sum() == len(report.incidents) == 535
    assert report.parameters["shape"] == "hex"
    assert np.allclose(found.geometry.area, math.sqrt(3) / 2 * report.parameters[
        "cell_size_m"] ** 2)
    assert found["rank"].tolist() == list(range(1, len(found) + 1))

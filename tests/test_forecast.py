"""The pooled forecast (hotspots/forecast.py): smoothing without a background, and pooling
with all crime for a sparse type on the real sample.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.forecast import hotspot_forecast
from hotspots.weighted import hotspot_weighted
from tests.support.hotspot_data import in_cell


def test_forecast_smoothing_without_background():
    origin = np.array([500000.0, 160000.0])
    area = shapely.box(*origin, *(origin + 1000))
    points = pd.concat([in_cell(origin, 5, 5, 5), in_cell(origin, 6, 5, 3),
                        in_cell(origin, 4, 6, 8), in_cell(origin, 15, 15, 4)])
    found = hotspot_forecast(points, area)
    params = json.loads(found["parameters"].iloc[0])
    assert params["cell_size_m"] == 50.0 and params["pool"] == 0.0
    assert "forecast" in params["ranking"]

    def row(col, r):
        return found[found.geometry.contains(shapely.Point(*(origin + [col * 50 + 25,
                                                                        r * 50 + 25])))]
    # own + smooth x mean of the 8 neighbours: 5 + 0.1 x (3 + 8) / 8.
    assert row(5, 5)["score"].iloc[0] == pytest.approx(5 + 0.1 * 11 / 8, abs=1e-4)
    assert row(5, 5)["count"].iloc[0] == 5
    assert row(15, 15)["score"].iloc[0] == pytest.approx(4.0)  # isolated: no neighbours
    # An empty cell next to them is kept, with its share of the smoothing only.
    assert row(5, 6)["count"].iloc[0] == 0
    assert row(5, 6)["score"].iloc[0] == pytest.approx(0.1 * 16 / 8, abs=1e-4)
    assert found["count"].sum() == len(points)
    assert found["rank"].iloc[0] == 1 and found["count"].iloc[0] == 8


def test_forecast_pools_all_crime_for_a_sparse_type(all_crime, spelthorne):
    burglary = all_crime[all_crime["category"] == "Burglary"]
    found = hotspot_forecast(burglary, spelthorne.land, background=all_crime)
    params = json.loads(found["parameters"].iloc[0])
    assert params["cell_size_m"] == 50.0 and params["pool"] == 1.0
    assert found["count"].sum() == len(burglary)

    def cells(points):
        return Counter(zip(np.floor(points["easting"] / 50).astype(int),
                           np.floor(points["northing"] / 50).astype(int), strict=True))
    own, every = cells(burglary), cells(all_crime)
    # The busiest all-crime cell without a burglary borrows from all crime.
    (cx, cy), n_all = max(((c, n) for c, n in every.items() if c not in own),
                          key=lambda item: item[1])
    assert n_all > 50
    scale = len(burglary) / len(all_crime)

    def base(c):
        return own.get(c, 0) + every.get(c, 0) * scale
    ring = [(cx + dx, cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
    expected = base((cx, cy)) + 0.1 * sum(base(c) for c in ring) / 8
    centre = shapely.Point(cx * 50 + 25, cy * 50 + 25)
    hit = found[found.geometry.contains(centre)]
    assert len(hit) == 1
    assert hit["count"].iloc[0] == 0
    assert hit["score"].iloc[0] == pytest.approx(expected, abs=1e-3)
    assert hit["score"].iloc[0] > 0.5
    # The default method never shows that cell: it held no burglary.
    default = hotspot_weighted(burglary, spelthorne.land, background=all_crime)
    assert default[default.geometry.contains(centre)].empty

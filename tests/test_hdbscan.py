"""HDBSCAN (hotspots/hdbscan.py) on the real sample: counts inside the outlines, parameters,
and Staines town centre among the biggest clusters.
"""

from __future__ import annotations

import json

import numpy as np
import shapely

from hotspots.hdbscan import hotspot_hdbscan
from hotspots.result import HOTSPOT_COLUMNS
from tests.support.hotspot_data import STAINES


def test_hdbscan_on_the_real_sample(all_crime, spelthorne):
    found = hotspot_hdbscan(all_crime, spelthorne.land)
    assert list(found.columns) == HOTSPOT_COLUMNS
    assert len(found) > 1
    xy = np.round(all_crime[["easting", "northing"]].to_numpy(), 0)
    inside = [int(shapely.contains_xy(g, xy[:, 0], xy[:, 1]).sum()) for g in found.geometry]
    assert inside == found["count"].tolist()
    assert (found["score"] == found["count"]).all()
    assert found["count"].is_monotonic_decreasing
    params = json.loads(found["parameters"].iloc[0])
    assert params["min_cluster_size"] >= 5
    assert params["distinct_locations"] == len(np.unique(xy, axis=0))
    # Staines town centre is among the biggest clusters.
    assert found.head(3).geometry.distance(STAINES).min() < 300

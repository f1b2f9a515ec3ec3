"""DBSCAN (hotspots/dbscan.py): weighted distinct points against duplicated points, and fixed
against rule-chosen parameters on a dense 1M-incident set.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
from sklearn.cluster import DBSCAN

from hotspots.dbscan import hotspot_dbscan
from tests.support.hotspot_data import frame


def test_dbscan_on_weighted_locations_equals_dbscan_on_every_incident():
    rng = np.random.default_rng(5)
    origin = np.array([500000.0, 160000.0])
    snap = origin + rng.uniform(0, 2000, (300, 2)).round()
    hot = np.concatenate([c + rng.normal(0, 40, (25, 2)) for c in ([500, 500], [1400, 1200],
                                                                  [700, 1600])])
    snap = np.concatenate([snap, (origin + hot).round()])
    weights = np.concatenate([rng.poisson(2, 300), rng.poisson(6, 75)])
    keep = weights > 0
    snap, weights = snap[keep], weights[keep]
    incidents = np.repeat(snap, weights, axis=0)
    eps, min_samples = 60.0, 25
    every = DBSCAN(eps=eps, min_samples=min_samples).fit(incidents)
    weighted = DBSCAN(eps=eps, min_samples=min_samples).fit(snap, sample_weight=weights)
    # The core locations, and the clusters, are the same.
    owner = np.repeat(np.arange(len(snap)), weights)
    core_every = np.zeros(len(incidents), dtype=bool)
    core_every[every.core_sample_indices_] = True
    core_snap = np.zeros(len(snap), dtype=bool)
    core_snap[weighted.core_sample_indices_] = True
    assert np.array_equal(core_every, core_snap[owner])
    n_clusters = len(set(every.labels_) - {-1})
    assert n_clusters == len(set(weighted.labels_) - {-1}) >= 3
    pairs = {(a, b) for a, b in zip(every.labels_, weighted.labels_[owner], strict=True)}
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})
    # hotspot_dbscan gives one outline per cluster of the duplicated points, holding every
    # member, and counts the incidents inside it.
    area = shapely.box(*origin, *(origin + 2000))
    found = hotspot_dbscan(frame(incidents), area, eps=eps, min_samples=min_samples)
    assert len(found) == n_clusters
    params = json.loads(found["parameters"].iloc[0])
    assert params["distinct_locations"] == len(snap)
    assert (params["eps_m"], params["min_samples"]) == (eps, min_samples)
    for label in set(every.labels_) - {-1}:
        members = incidents[every.labels_ == label]
        holders = [shapely.contains_xy(g, members[:, 0], members[:, 1]).all()
                   for g in found.geometry]
        assert sum(holders) == 1
    inside = [shapely.contains_xy(g, incidents[:, 0], incidents[:, 1]).sum()
              for g in found.geometry]
    assert inside == found["count"].tolist()
    assert found["count"].sum() >= (every.labels_ >= 0).sum()


def test_fixed_dbscan_parameters_merge_a_dense_set_into_one_cluster():
    """The issue: with eps = 100 m and min_samples = 20, 1M police.uk-style incidents become
    one cluster; the rule's parameters, which scale with the data, find the hot spots."""
    rng = np.random.default_rng(11)
    side, origin = 5000.0, np.array([500000.0, 160000.0])
    grid = np.arange(35.0, side, 70.0)  # snap points every 70 m, jittered by up to 10 m
    gx, gy = np.meshgrid(grid, grid)
    streets = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-10, 10, (gx.size, 2))
    # 16 town centres ~1 km apart, each 40 extra snap points within 100 m holding 6x the
    # incidents of a street snap point (about 40% of all incidents).
    ticks = np.arange(1000.0, side, 1000.0)
    cx, cy = np.meshgrid(ticks, ticks)
    centres = np.column_stack([cx.ravel(), cy.ravel()]) + rng.uniform(-150, 150, (16, 2))
    town = np.concatenate([c + rng.uniform(-100, 100, (40, 2)) for c in centres])
    snap = origin + np.concatenate([streets, town]).round()
    share = np.concatenate([np.ones(len(streets)), np.full(len(town), 6.0)])
    counts = rng.multinomial(1_000_000, share / share.sum())
    incidents = frame(np.repeat(snap, counts, axis=0))
    area = shapely.box(*origin, *(origin + side))

    fixed = hotspot_dbscan(incidents, area, eps=100, min_samples=20)
    assert len(fixed) == 1
    assert fixed["count"].iloc[0] > 0.99 * len(incidents)
    assert fixed.geometry.iloc[0].area > 0.9 * area.area

    ruled = hotspot_dbscan(incidents, area)
    params = json.loads(ruled["parameters"].iloc[0])
    assert params["eps_rule"] != "given" and params["min_samples"] > 20
    assert len(ruled) >= len(centres) == 16
    assert ruled.geometry.area.sum() < 0.1 * area.area
    for centre in origin + centres:
        assert ruled.geometry.contains(shapely.Point(centre)).any()

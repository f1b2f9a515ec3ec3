"""Weighted counts, the default method (hotspots/weighted.py): only squares holding the
selection, ranked by its count, ties by the months and by all crime nearby; and a one-type
map on the real sample holding that type in every hotspot.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.analysis import find_hotspots
from hotspots.weighted import hotspot_weighted
from tests.support.hotspot_data import FROM, TO, in_cell


def test_weighted_all_crime_shows_only_cells_with_incidents_ranked_by_count():
    origin = np.array([500000.0, 160000.0])
    area = shapely.box(*origin, *(origin + 1000))
    # two cells of 3 (the eastern one has busy neighbours), one of 8, one of 5
    points = pd.concat([in_cell(origin, 10, 5, 3), in_cell(origin, 2, 5, 3),
                        in_cell(origin, 11, 5, 8), in_cell(origin, 11, 6, 5)])
    found = hotspot_weighted(points, area)
    params = found.attrs["parameters"]
    assert params["pool"] == 0.0 and params["smooth"] == 0.0
    assert "west to east" in params["tie_break"]
    assert len(found) == 4 and (found["count"] > 0).all()  # no empty neighbour is added
    assert found["count"].tolist() == [8, 5, 3, 3]
    assert (found["score"] == found["count"]).all()
    # the tie is left in grid order: the western cell first, whatever its neighbours hold
    tied = found[found["count"] == 3]
    assert tied.geometry.centroid.x.tolist() == [origin[0] + 125, origin[0] + 525]


def test_weighted_breaks_ties_by_months_then_all_crime():
    origin = np.array([500000.0, 160000.0])
    area = shapely.box(*origin, *(origin + 2000))
    burglary = pd.concat([
        in_cell(origin, 2, 2, 2, "2023-03"),  # 2 in one month
        in_cell(origin, 20, 2, 1, "2023-03"), in_cell(origin, 20, 2, 1, "2023-09"),  # 2 months
        in_cell(origin, 8, 8, 1), in_cell(origin, 30, 30, 1)])  # singles
    crime = pd.concat([burglary, in_cell(origin, 30, 30, 40), in_cell(origin, 2, 2, 60),
                       in_cell(origin, 12, 12, 90)])  # a busy cell with no burglary at all
    found = hotspot_weighted(burglary, area, background=crime)
    params = found.attrs["parameters"]
    assert params["pool"] == 1.0 and params["tie_break"].startswith("the months with at least one")
    centres = list(zip(found.geometry.centroid.x - origin[0],
                       found.geometry.centroid.y - origin[1], strict=True))
    # 2 incidents in two months beats 2 in one month, though the latter has more crime around;
    # among the singles the one where all crime concentrates comes first
    assert centres == [(1025, 125), (125, 125), (1525, 1525), (425, 425)]
    assert found["count"].tolist() == [2, 2, 1, 1]
    assert (612.5, 612.5) not in centres and len(found) == 4  # pooling adds no cell


def test_weighted_pools_all_crime_only_to_order_cells(all_crime, spelthorne):
    burglary = all_crime[all_crime["category"] == "Burglary"]
    assert 0 < len(burglary) < 0.05 * len(all_crime)
    found = hotspot_weighted(burglary, spelthorne.land, background=all_crime)
    params = json.loads(found["parameters"].iloc[0])
    assert params["cell_size_m"] == 50.0 and params["pool"] == 1.0
    assert np.allclose(found.geometry.area, 2500)
    assert found["count"].sum() == len(burglary) and (found["count"] > 0).all()

    def cells(points):
        return Counter(zip(np.floor(points["easting"] / 50).astype(int),
                           np.floor(points["northing"] / 50).astype(int), strict=True))
    own, every = cells(burglary), cells(all_crime)
    assert len(found) == len(own)  # exactly the cells with a burglary
    months = Counter(c for c, _ in {(c, m) for c, m in zip(
        zip(np.floor(burglary["easting"] / 50).astype(int),
            np.floor(burglary["northing"] / 50).astype(int), strict=True),
        burglary["month"], strict=True)})
    scale = len(burglary) / len(all_crime)

    def base(c):
        return own.get(c, 0) + every.get(c, 0) * scale

    def weighted(c):
        ring = [(c[0] + dx, c[1] + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
        return base(c) + 0.1 * sum(base(r) for r in ring) / 8
    keys = []
    for geometry in found.geometry:
        cell = (int(geometry.bounds[0] // 50), int(geometry.bounds[1] // 50))
        keys.append((own[cell], months[cell], round(weighted(cell), 4)))
    assert keys == sorted(keys, reverse=True)  # count, then months, then the weighted count
    assert found["score"].tolist() == pytest.approx([k[2] for k in keys], abs=1e-3)


def test_a_one_type_map_holds_that_type_in_every_hotspot(sample_db):
    """The issue's case: Runnymede burglary and shoplifting, Woking and Spelthorne
    shoplifting, a year to 2024-01, default method, 1% of the land."""
    for area, crime in (("runnymede", "Burglary"), ("runnymede", "Shoplifting"),
                        ("woking", "Shoplifting"), ("spelthorne", "Shoplifting")):
        report = find_hotspots(sample_db.engine, area, FROM, TO, [crime])
        assert report.method == "weighted" and len(report.hotspots)
        assert (report.hotspots["count"] > 0).all(), (area, crime)
        assert not any("had none" in n for n in report.notes)
        inside = report.incidents[report.incidents["category"] == crime]
        held = sum(int(shapely.contains_xy(g, inside["easting"], inside["northing"]).sum())
                   for g in report.hotspots.geometry)
        assert held >= len(report.hotspots)  # each holds at least one (edges aside)
        assert "Ranked by" in report.caption() and "ties broken" in report.caption()
        forecast = find_hotspots(sample_db.engine, area, FROM, TO, [crime], method="forecast")
        empty = int((forecast.hotspots["count"] == 0).sum())
        assert empty and any(f"{empty} of the" in n for n in forecast.notes), (area, crime)

"""Repeat locations (hotspots/repeat.py) on the real sample, against the raw police.uk CSVs
read with the csv module.
"""

from __future__ import annotations

from collections import Counter

from hotspots.analysis import area_incidents
from hotspots.repeat import repeat_locations
from tests.sample_data import has_coordinates, police_dicts


def test_repeat_locations_on_the_real_sample(sample_db, spelthorne):
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    points = area_incidents(sample_db.engine, spelthorne, "2023-01", "2023-12")
    top = repeat_locations(points, top=10)
    assert len(top) == 10
    assert top["rank"].tolist() == list(range(1, 11))
    assert top["count"].is_monotonic_decreasing
    assert [c for c in top.columns if c.startswith("20")] == months
    assert (top[months].sum(axis=1) == top["count"]).all()
    assert top.crs.to_epsg() == 27700
    # The top place from the raw CSVs: Spelthorne LSOAs, located rows, by text and point.
    raw = Counter((r["Location"].strip(), r["Longitude"], r["Latitude"])
                  for m in months for r in police_dicts(m)
                  if r["LSOA name"].startswith("Spelthorne") and has_coordinates(r))
    (location, _, _), count = raw.most_common(1)[0]
    assert raw.most_common(2)[1][1] < count  # a clear winner
    assert (top["location"].iloc[0], top["count"].iloc[0]) == (location, count)
    per_month = Counter(r["Month"] for m in months for r in police_dicts(m)
                        if r["LSOA name"].startswith("Spelthorne") and has_coordinates(r)
                        and (r["Location"].strip(), r["Longitude"], r["Latitude"])
                        == raw.most_common(1)[0][0])
    assert top.iloc[0][months].tolist() == [per_month[m] for m in months]

"""Change between two periods and hot spot classification over many (hotspots/change.py):
the exact binomial test, the real sample counted independently, persistent, emerging and
former hot spots.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import stats

from hotspots.change import change_test, hotspot_change, hotspot_classify
from tests.support.hotspot_data import frame


@pytest.mark.parametrize(("before", "after", "ratio"), [
    (10, 20, 1.0), (5, 5, 1.0), (0, 7, 1.0), (12, 3, 1.0), (40, 61, 1.0),
    (10, 20, 0.5), (3, 15, 2.0), (30, 10, 3.0), (4, 0, 2.0),
])
def test_change_test_is_the_exact_binomial_test(before, after, ratio):
    # Given the total, after ~ Binomial(before + after, ratio / (1 + ratio)) when the rate is
    # unchanged: the exact test is the binomial test, as R's poisson.test does it (binom.test,
    # two-sided p = total probability of outcomes no likelier than the one seen). With equal
    # periods the binomial is symmetric; with unequal ones (ratio != 1) it is not.
    expected = stats.binomtest(after, before + after, ratio / (1 + ratio)).pvalue
    got = change_test(np.array([before]), np.array([after]), ratio)
    assert got[0] == pytest.approx(expected, rel=1e-9)


def test_hotspot_change_on_the_real_sample(all_crime, spelthorne):
    before = all_crime[all_crime["month"] <= "2023-07"]
    after = all_crime[all_crime["month"] >= "2023-08"]
    assert before["month"].nunique() == after["month"].nunique() == 6
    changed = hotspot_change(before, after, spelthorne.land, before_months=6, after_months=6)
    assert changed["before"].sum() == len(before)
    assert changed["after"].sum() == len(after)
    assert (changed["change"] == changed["after"] - changed["before"]).all()
    assert ((changed["before"] + changed["after"]) > 0).all()
    np.testing.assert_allclose(changed["p_value"],
                               change_test(changed["before"], changed["after"], 1.0))
    assert (changed["p_adjusted"] >= changed["p_value"] - 1e-15).all()
    assert (changed["significant"] == (changed["p_adjusted"] < 0.05)).all()
    # One cell counted independently: the one holding Staines High Street's snap point.
    size = changed.attrs["parameters"]["cell_size_m"]
    cell = changed[changed.geometry.contains(shapely.Point(503500 + 1, 171600 + 1))].iloc[0]
    x0, y0 = 503500 // size * size, 171600 // size * size

    def in_cell(points):
        return int(((points["easting"] >= x0) & (points["easting"] < x0 + size)
                    & (points["northing"] >= y0) & (points["northing"] < y0 + size)).sum())
    assert (cell["before"], cell["after"]) == (in_cell(before), in_cell(after))
    assert cell["before"] > 20


def test_hotspot_classify_persistent_emerging_and_former():
    rng = np.random.default_rng(9)
    origin = np.array([500000.0, 160000.0])
    area = shapely.box(*origin, *(origin + 1000))
    size = 50.0
    persistent, emerging, former = (origin + [225, 225], origin + [775, 275],
                                    origin + [475, 775])  # cell centres
    periods = []
    for period in range(10):
        parts = [rng.uniform(0, 1000, (150, 2)) + origin,
                 persistent + rng.uniform(-20, 20, (25, 2))]
        if period >= 8:
            parts.append(emerging + rng.uniform(-20, 20, (25, 2)))
        if period < 5:
            parts.append(former + rng.uniform(-20, 20, (25, 2)))
        periods.append(frame(np.concatenate(parts)))
    classes = hotspot_classify(periods, area, cell_size=size)
    assert len(classes) == 400 and (classes["periods"] == 10).all()
    assert classes.attrs["parameters"]["recent_periods"] == 2

    def at(point):
        return classes[classes.geometry.contains(shapely.Point(point))].iloc[0]
    assert at(persistent)["category"] == "persistent hotspot"
    assert at(persistent)["hot_periods"] == 10
    assert at(emerging)["category"] == "emerging hotspot"
    assert at(emerging)["hot_periods"] == 2
    assert at(former)["category"] == "former hotspot"
    assert at(former)["hot_periods"] == 5
    assert classes["count"].sum() == sum(len(p) for p in periods)
    assert (classes["category"] == "no pattern").mean() > 0.8

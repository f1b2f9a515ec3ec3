"""The bandwidth rules of hotspots/bandwidth.py: bandwidth.nrd worked by hand, and the
street-scale nearest-neighbour rule (distances by hand, repeated locations counted once).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hotspots.bandwidth import (
    bandwidth_nrd,
    distinct_locations,
    kde_cell_size,
    nearest_neighbour_bandwidth,
)


def test_bandwidth_nrd_matches_mass_by_hand():
    values = [1, 2, 3, 4, 5, 7, 9, 12, 20, 30]  # already sorted, n = 10
    n = len(values)
    # Quantiles, type 7 (R's and numpy's default): position (n - 1) p, linear in between.
    q1 = values[2] + 0.25 * (values[3] - values[2])  # (n-1) * 0.25 = 2.25 -> 3.25
    q3 = values[6] + 0.75 * (values[7] - values[6])  # (n-1) * 0.75 = 6.75 -> 11.25
    assert (q1, q3) == (3.25, 11.25)
    mean = sum(values) / n
    assert mean == pytest.approx(9.3)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))  # 764.1 / 9 = 84.9
    assert sd == pytest.approx(math.sqrt(84.9))
    spread = min(sd, (q3 - q1) / 1.34)  # min(9.214, 5.970): the IQR wins here
    assert spread == pytest.approx(8 / 1.34)
    expected = 4 * 1.06 * spread * n ** -0.2
    assert expected == pytest.approx(15.9717, abs=1e-4)
    assert bandwidth_nrd(np.array(values)) == pytest.approx(expected, rel=1e-12)
    # Order does not matter.
    assert bandwidth_nrd(np.array(values[::-1])) == pytest.approx(expected, rel=1e-12)
    split = [0.0, 1.0, 9.0, 10.0]  # two tight pairs: here the sd is the smaller spread
    sd_split = math.sqrt((25 + 16 + 16 + 25) / 3)  # mean 5: sqrt(82 / 3) = 5.228
    q1s, q3s = 0 + 0.75 * 1, 9 + 0.25 * 1  # positions 0.75 and 2.25: IQR / 1.34 = 6.343
    assert sd_split < (q3s - q1s) / 1.34
    assert bandwidth_nrd(np.array(split)) == pytest.approx(
        4 * 1.06 * sd_split * 4 ** -0.2, rel=1e-12)


def test_nearest_neighbour_bandwidth_by_hand():
    # four corners of a 300 x 400 m rectangle: each corner's 1st, 2nd and 3rd nearest other
    # corners are 300, 400 and 500 m away; a repeated location counts once
    corners = np.array([[0, 0], [300, 0], [0, 400], [300, 400], [0, 0], [0, 0]], dtype=float)
    assert len(distinct_locations(corners)) == 4
    width, rule = nearest_neighbour_bandwidth(corners + 500000)
    assert width == pytest.approx(500.0) and "3rd-nearest distinct location" in rule
    assert nearest_neighbour_bandwidth(corners, k=1)[0] == pytest.approx(300.0)
    # three locations: the 3rd neighbour does not exist, so the 2nd is used and said
    width, rule = nearest_neighbour_bandwidth(corners[:3])
    assert width == pytest.approx((400 + 500 + 500) / 3) and "2nd-nearest" in rule
    width, rule = nearest_neighbour_bandwidth(np.array([[1.0, 2.0]] * 40))
    assert width == 250.0 and "fewer than 2 distinct locations" in rule
    far = np.array([[0, 0], [5000, 0], [0, 5000], [5000, 5000]], dtype=float)
    width, rule = nearest_neighbour_bandwidth(far)
    assert width == 1000.0 and "capped at 1000 m" in rule
    assert [kde_cell_size(w) for w in (120, 160, 300, 441, 600)] == [25, 25, 50, 75, 100]

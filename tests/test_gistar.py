"""Getis-Ord Gi* (hotspots/gistar.py): cases worked by hand, esda's G_Local, ArcGIS
confidence bins, the FDR correction, k nearest neighbours and Staines town centre on the
real sample.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from esda import G_Local
from libpysal.graph import Graph
from scipy import stats

from hotspots.gistar import confidence_bins, gistar_cells, gistar_z, neighbour_matrix
from tests.support.hotspot_data import STAINES


def grid_centres(side: int, cell: float) -> np.ndarray:
    """Centres of a side x side block of cells, row by row from the lower left."""
    xs = (np.arange(side) + 0.5) * cell
    gx, gy = np.meshgrid(xs, xs)
    return np.column_stack([gx.ravel(), gy.ravel()])


def gi_star_by_hand(values: list[float], neighbours: list[int], n: int) -> float:
    """Ord and Getis (1995) Gi* with binary weights, the cell among its own neighbours."""
    mean = sum(values) / n
    s = math.sqrt(sum(v * v for v in values) / n - mean * mean)
    w_i = len(neighbours)  # sum of the weights
    s1_i = len(neighbours)  # sum of the squared weights (all 1)
    lagged = sum(values[j] for j in neighbours)
    return (lagged - mean * w_i) / (s * math.sqrt((n * s1_i - w_i * w_i) / (n - 1)))


def test_gistar_worked_by_hand():
    cell = 100.0
    # 3 x 3 cells (index = row * 3 + column): queen neighbours from the distance band.
    values = [1.0, 2.0, 3.0, 4.0, 10.0, 5.0, 0.0, 2.0, 1.0]
    w = neighbour_matrix(grid_centres(3, cell), distance=cell * math.sqrt(2))
    assert w[4].nnz == 9 and w[0].nnz == 4 and w[1].nnz == 6
    assert sorted(w[0].indices) == [0, 1, 3, 4]
    z = gistar_z(np.array(values), w)
    n = 9
    mean = 28 / 9
    s = math.sqrt(160 / 9 - mean ** 2)  # sum of squares 1+4+9+16+100+25+0+4+1 = 160
    # Corner (cell 0): neighbours 0, 1, 3, 4 hold 1 + 2 + 4 + 10 = 17; W = S1 = 4.
    corner = (17 - mean * 4) / (s * math.sqrt((n * 4 - 16) / (n - 1)))
    assert corner == pytest.approx(gi_star_by_hand(values, [0, 1, 3, 4], n))
    assert corner == pytest.approx(1.0124, abs=1e-4)
    assert z[0] == pytest.approx(corner, rel=1e-12)
    # Centre (cell 4): its neighbourhood is every cell, so W = S1 = n and the numerator
    # sum(x) - mean * n and the variance n * S1 - W^2 are both 0: z is 0, not NaN.
    assert 28 - mean * 9 == pytest.approx(0) and n * 9 - 9 * 9 == 0
    assert z[4] == 0.0
    # Edge (cell 1): neighbours 0, 1, 2, 3, 4, 5 hold 25; W = S1 = 6.
    edge = (25 - mean * 6) / (s * math.sqrt((n * 6 - 36) / (n - 1)))
    assert z[1] == pytest.approx(edge, rel=1e-12)


def test_gistar_worked_by_hand_on_a_bigger_grid():
    # 5 x 5 cells: the centre cell (12) sees 9 of 25 cells, so its z is a real test.
    values = [0, 1, 0, 2, 0,
              1, 3, 4, 1, 0,
              0, 5, 9, 6, 1,
              0, 2, 4, 1, 0,
              1, 0, 0, 0, 2]
    w = neighbour_matrix(grid_centres(5, 50.0), distance=50.0 * math.sqrt(2))
    z = gistar_z(np.array(values, dtype=float), w)
    centre = [6, 7, 8, 11, 12, 13, 16, 17, 18]  # sum 35
    n, mean = 25, 43 / 25
    s = math.sqrt(sum(v * v for v in values) / n - mean ** 2)  # sum of squares 201
    assert sum(v * v for v in values) == 201
    by_hand = (35 - mean * 9) / (s * math.sqrt((25 * 9 - 81) / 24))
    assert by_hand == pytest.approx(gi_star_by_hand(values, centre, n))
    assert z[12] == pytest.approx(by_hand, rel=1e-12)
    # Corner (cell 0): neighbours 0, 1, 5, 6 hold 0 + 1 + 1 + 3 = 5.
    assert z[0] == pytest.approx((5 - mean * 4) / (s * math.sqrt((25 * 4 - 16) / 24)),
                                 rel=1e-12)


def test_gistar_matches_esda():
    rng = np.random.default_rng(3)
    cell = 50.0
    y = rng.poisson(2.0, 400).astype(float)
    y[[150, 151, 170, 171]] += 12  # a hot patch
    matrix = neighbour_matrix(grid_centres(20, cell), distance=cell * math.sqrt(2))
    ours = gistar_z(y, matrix)
    off_diagonal = (matrix - sp.identity(400, format="csr")).tocsr()
    off_diagonal.eliminate_zeros()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = Graph.from_sparse(off_diagonal)
        reference = G_Local(y, graph, star=True, transform="B", permutations=0)
    np.testing.assert_allclose(ours, reference.Zs, rtol=0, atol=1e-8)
    assert ours[150] > 3


def test_confidence_bins_follow_arcgis():
    z = np.array([4.0, 2.2, 1.7, 0.5, -1.7, -2.2, -4.0, 3.0, -3.0, 1.0])
    p = np.array([0.001, 0.03, 0.08, 0.6, 0.08, 0.03, 0.001, 0.2, 0.2, 0.10])
    # 99% (p <= 0.01) -> 3, 95% -> 2, 90% -> 1, otherwise 0; signed by z. The p given is the
    # adjusted one, so a large z with a large adjusted p is not significant.
    assert confidence_bins(z, p).tolist() == [3, 2, 1, 0, -1, -2, -3, 0, 0, 1]
    assert confidence_bins(np.array([2.0]), np.array([0.011])).tolist() == [2]
    assert confidence_bins(np.array([-2.0]), np.array([0.051])).tolist() == [-1]


@pytest.fixture(scope="module")
def gistar_real(all_crime, spelthorne):
    """Gi* on every land cell of Spelthorne, with and without the FDR correction."""
    return (gistar_cells(all_crime, spelthorne.land),
            gistar_cells(all_crime, spelthorne.land, fdr=False))


def test_gistar_fdr_on_the_real_sample(gistar_real):
    cells, raw = gistar_real
    assert len(cells) > 1000
    assert cells.attrs["parameters"]["p_adjust"] == "Benjamini-Hochberg FDR"
    assert np.allclose(cells["p"], 2 * stats.norm.sf(np.abs(cells["z"])))
    assert (cells["p_adjusted"] >= cells["p"] - 1e-15).all()
    np.testing.assert_allclose(cells["p_adjusted"], stats.false_discovery_control(cells["p"]),
                               rtol=1e-12)
    assert (raw["p_adjusted"] == raw["p"]).all()
    assert np.array_equal(raw["z"], cells["z"])
    hot_fdr, hot_raw = (cells["gi_bin"] > 0).sum(), (raw["gi_bin"] > 0).sum()
    assert 0 < hot_fdr <= hot_raw
    # The correction only ever weakens a class, never strengthens or flips one.
    assert (np.abs(cells["gi_bin"]) <= np.abs(raw["gi_bin"])).all()
    assert (cells["gi_bin"] * raw["gi_bin"] >= 0).all()


def test_staines_town_centre_is_a_99_percent_hot_spot(gistar_real):
    cells, _ = gistar_real
    size = cells.attrs["parameters"]["cell_size_m"]
    around = cells[cells.geometry.intersects(STAINES.buffer(1))]
    assert len(around) >= 1
    assert (around["gi_bin"] == 3).all()
    assert (around["class"] == "hot spot, 99% confidence").all()
    # ...and the strongest z-scores of the borough are within a few cells of it.
    top = cells.nlargest(3, "z")
    assert (top.geometry.centroid.distance(STAINES) < 3 * size).all()


def test_k_nearest_neighbours():
    cell = 50.0
    xy = grid_centres(12, cell)
    for k in (1, 4, 8):
        w = neighbour_matrix(xy, k=k)
        assert (np.diff(w.indptr) == k + 1).all()
        assert (w.diagonal() == 1).all() and set(w.data) == {1.0}
    # Away from the edges the 8 nearest cells are exactly the 8 touching ones.
    w8 = neighbour_matrix(xy, k=8).toarray()
    queen = neighbour_matrix(xy, distance=cell * math.sqrt(2)).toarray()
    interior = [r * 12 + c for r in range(1, 11) for c in range(1, 11)]
    assert np.array_equal(w8[interior], queen[interior])
    rook = neighbour_matrix(xy, k=4).toarray()
    assert np.array_equal(rook[interior], neighbour_matrix(xy, distance=cell).toarray()[
        interior])


def test_gistar_cells_with_k_nearest_on_the_real_sample(all_crime, spelthorne):
    cells = gistar_cells(all_crime, spelthorne.land, k=8)
    assert cells.attrs["parameters"]["neighbours"] == "8 nearest cells"
    assert np.isfinite(cells["z"]).all()
    assert (cells["gi_bin"] > 0).any()

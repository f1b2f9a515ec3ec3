"""The hotspot methods checked against hand calculations, reference libraries and the real sample.

Covers kernel density (bandwidth.nrd by hand; the FFT surface against sklearn's KernelDensity
and a brute-force quartic sum; total mass), hexagonal grid counts, Getis-Ord Gi* (a case
worked by hand, esda's G_Local, ArcGIS confidence bins, the FDR correction, k nearest
neighbours, Staines town centre), DBSCAN and HDBSCAN (weighted distinct points against
duplicated points, fixed against rule-chosen parameters on a dense 1M-incident set, counts
inside outlines), change between two periods and hot spot classification over many, repeat
locations, weighted counts (only squares holding the selection, ranked by its count, ties by
the months and by all crime nearby) and the pooled forecast (smoothing, pooling with all
crime), and the street-scale bandwidth rule (nearest-neighbour distances by hand and on the
sample).
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from esda import G_Local
from libpysal.graph import Graph
from scipy import stats
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN
from sklearn.neighbors import KernelDensity

from geo.areas import resolve_area
from geo.joins import CONTEXT_COLUMNS
from hotspots.analysis import area_incidents, find_hotspots
from hotspots.bandwidth import (
    bandwidth_nrd,
    bandwidth_nrd_rule,
    distinct_locations,
    kde_cell_size,
    nearest_neighbour_bandwidth,
)
from hotspots.cells import Raster
from hotspots.change import change_test, hotspot_change, hotspot_classify
from hotspots.dbscan import hotspot_dbscan
from hotspots.forecast import hotspot_forecast
from hotspots.gistar import confidence_bins, gistar_cells, gistar_z, neighbour_matrix
from hotspots.grid import hex_cells, hex_polygons, hotspot_grid
from hotspots.hdbscan import hotspot_hdbscan
from hotspots.kde import DensitySurface, density_surface, hotspot_kde, kde_surface, linear_bin
from hotspots.repeat import repeat_locations
from hotspots.result import HOTSPOT_COLUMNS, HotspotInputError
from hotspots.weighted import hotspot_weighted
from tests.sample_data import has_coordinates, police_dicts

FROM, TO = "2023-02", "2024-01"
LABELS = [*CONTEXT_COLUMNS, "top_types", "top_location"]
STAINES = shapely.Point(503500, 171600)  # Staines High Street on the National Grid


def frame(xy: np.ndarray) -> pd.DataFrame:
    """Synthetic incidents: easting and northing columns, as every method takes."""
    return pd.DataFrame({"easting": xy[:, 0], "northing": xy[:, 1]})


@pytest.fixture(scope="module")
def spelthorne(sample_db):
    """Spelthorne's area (land without the Thames)."""
    return resolve_area(sample_db.engine, "spelthorne")


@pytest.fixture(scope="module")
def all_crime(sample_db, spelthorne):
    """Every incident inside Spelthorne, 2023-02..2024-01, from the imported sample."""
    points = area_incidents(sample_db.engine, spelthorne, FROM, TO)
    assert len(points) > 9000
    return points


# --- Kernel density -------------------------------------------------------------------------

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


@pytest.fixture(scope="module")
def kde_points():
    """2,000 points in clusters and a thin background, kept more than 4 Gaussian sds (600 m)
    inside a 100 x 100 raster of 25 m cells, so no kernel mass falls off its edge."""
    rng = np.random.default_rng(42)
    clusters = [((1000, 1050), 100, 800), ((1500, 1400), 140, 700), ((1150, 1550), 70, 300)]
    parts = [rng.normal(centre, sd, (k, 2)) for centre, sd, k in clusters]
    parts.append(rng.uniform(650, 1850, (300, 2)))
    xy = rng.permutation(np.concatenate(parts))
    xy = xy[((xy > 650) & (xy < 1850)).all(axis=1)][:2000]
    assert len(xy) == 2000
    return xy


RASTER = Raster(x0=0.0, y0=0.0, size=25.0, ncols=100, nrows=100)


def cell_centres(raster: Raster) -> np.ndarray:
    """Every cell centre of the raster as an (n, 2) array, row by row."""
    cx, cy = raster.centres()
    return np.column_stack([cx.ravel(), cy.ravel()])


def assert_close_where_dense(approx: np.ndarray, exact: np.ndarray, rel: float = 0.015,
                             above: float = 0.01):
    """Relative error below `rel` on every cell denser than `above` x the peak."""
    dense = exact > above * exact.max()
    assert dense.sum() > 1000
    error = np.abs(approx[dense] - exact[dense]) / exact[dense]
    assert error.max() < rel, f"worst relative error {error.max():.4f}"


def test_gaussian_kde_matches_sklearn(kde_points):
    sd = 150.0
    density = kde_surface(kde_points, RASTER, sd, kernel="gaussian")
    assert density.shape == (100, 100)
    model = KernelDensity(kernel="gaussian", bandwidth=sd).fit(kde_points)
    # sklearn's density is per m² and averaged over the points: x n, per km².
    exact = np.exp(model.score_samples(cell_centres(RASTER))) * len(kde_points) * 1e6
    assert_close_where_dense(density.ravel(), exact.reshape(-1))


def quartic_sum(at: np.ndarray, points: np.ndarray, h: float,
                weights: np.ndarray | None = None) -> np.ndarray:
    """Brute force: sum over points of 3 / (pi h^2) (1 - d^2 / h^2)^2 for d < h, per km²."""
    weights = np.ones(len(points)) if weights is None else weights
    pairs = cKDTree(at).sparse_distance_matrix(cKDTree(points), h, output_type="ndarray")
    pairs = pairs[pairs["v"] < h]
    k = 3 / (math.pi * h * h) * (1 - pairs["v"] ** 2 / (h * h)) ** 2
    return np.bincount(pairs["i"], weights=k * weights[pairs["j"]], minlength=len(at)) * 1e6


def test_quartic_kde_matches_a_direct_sum(kde_points):
    h = 300.0
    density = kde_surface(kde_points, RASTER, h, kernel="quartic").ravel()
    centres = cell_centres(RASTER)
    exact = quartic_sum(centres, kde_points, h)
    # The FFT convolution itself is exact: it equals the direct sum over the binned points,
    # with the sampled kernel scaled to hold exactly one point's mass (here by 1 +- 0.1%).
    binned = linear_bin(RASTER, kde_points).ravel()
    assert binned.sum() == pytest.approx(len(kde_points))
    held = np.nonzero(binned)[0]
    direct = quartic_sum(centres, centres[held], h, binned[held])
    offsets = np.arange(-12, 13) * 25.0
    d2 = np.add.outer(offsets ** 2, offsets ** 2)
    samples = np.where(d2 < h * h, 3 / (math.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0)
    scale = 1 / (samples.sum() * 25.0 ** 2)
    assert scale == pytest.approx(1, abs=1e-3)
    assert np.abs(density - direct * scale).max() < 1e-9 * direct.max()
    # Against the points themselves the difference is linear binning's error: under 1% on
    # cells above a tenth of the peak and under 1.5% above 5% of it. A compact kernel's edge
    # is steep in relative terms, though: where a cell is reached only by the last few per
    # cent of some points' kernels, moving a point by a fraction of a cell changes that small
    # density by more (here up to 2% on cells at 1-5% of the peak, and 6% if the points end
    # at a sharp edge). There the error is still tiny against the peak.
    assert_close_where_dense(density, exact, rel=0.015, above=0.05)
    assert np.abs(density - exact).max() < 0.005 * exact.max()


@pytest.mark.parametrize(("kernel", "bandwidth"), [("gaussian", 150.0), ("quartic", 300.0)])
def test_kde_total_mass_is_the_number_of_points(kde_points, kernel, bandwidth):
    density = kde_surface(kde_points, RASTER, bandwidth, kernel=kernel)
    total = density.sum() * RASTER.cell_area_km2
    assert total == pytest.approx(len(kde_points), rel=0.01)


# --- Hexagonal grid -------------------------------------------------------------------------

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


# --- Getis-Ord Gi* --------------------------------------------------------------------------

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


# --- DBSCAN and HDBSCAN ---------------------------------------------------------------------

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


# --- Change and classification --------------------------------------------------------------

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


# --- Repeat locations -----------------------------------------------------------------------

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


# --- Weighted counts (the default) and the pooled forecast -----------------------------------

def in_cell(origin: np.ndarray, col: int, row: int, k: int, month: str = "2023-05") -> pd.DataFrame:
    """k incidents inside the 50 m cell (col, row) from origin, in one month."""
    xy = np.tile(origin + [col * 50 + 20, row * 50 + 30], (k, 1))
    return frame(xy).assign(month=month)


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


# --- The street-scale bandwidth rule ------------------------------------------------------

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


@pytest.mark.parametrize("area", ["spelthorne", "runnymede", "woking"])
def test_kde_bandwidth_for_a_borough_year_of_burglary_is_street_scale(sample_db, area):
    place = resolve_area(sample_db.engine, area)
    points = area_incidents(sample_db.engine, place, FROM, TO, ["Burglary"])
    found = hotspot_kde(points, place.land)
    params = found.attrs["parameters"]
    # a few hundred metres, where the borough-wide bandwidth.nrd rule gave 2-4 km
    assert 200 <= params["bandwidth_m"] <= 600, params
    xy = points[["easting", "northing"]].to_numpy(float)
    assert bandwidth_nrd_rule(xy) > 2000
    # independently: the mean distance from each distinct snap point to its 3rd nearest
    places = np.unique(np.round(xy), axis=0)
    expected = cKDTree(places).query(places, k=4)[0][:, 3].mean()
    assert params["bandwidth_m"] == pytest.approx(expected, abs=0.05)
    assert params["cell_size_m"] == kde_cell_size(expected)
    assert "3rd-nearest" in params["bandwidth_rule"]


def test_one_surface_for_the_kde_hotspots_and_the_map(all_crime, spelthorne):
    found = hotspot_kde(all_crime, spelthorne.land)
    surface = found.attrs["surface"]
    assert isinstance(surface, DensitySurface) and surface.incidents == len(all_crime)
    # every hotspot's score is the surface's value at its cell
    for geometry, score in zip(found.geometry[:50], found["score"][:50], strict=True):
        col = int(round((geometry.bounds[0] - surface.x0) / surface.cell_size))
        row = int(round((geometry.bounds[1] - surface.y0) / surface.cell_size))
        assert surface.values[row, col] == pytest.approx(score, abs=1e-3)
    # the same surface from density_surface, and mass conserved (incidents per km² x km²)
    again = density_surface(all_crime, spelthorne.land)
    assert np.array_equal(again.values, surface.values) and again.bounds == surface.bounds
    total = surface.values.sum() * (surface.cell_size / 1000) ** 2
    assert total == pytest.approx(len(all_crime), rel=0.01)
    assert surface.nrows, surface.ncols == surface.values.shape
    cells = surface.cells()
    assert cells["density"].is_monotonic_decreasing and cells["density"].iloc[0] == surface.peak
    with pytest.raises(ValueError):
        surface.values[0, 0] = 1.0  # read-only: shared by the map and the hotspots


def test_the_surface_survives_coverage_and_context(sample_db):
    report = find_hotspots(sample_db.engine, "spelthorne", FROM, TO, method="kde")
    surface = report.hotspots.attrs["surface"]
    assert isinstance(surface, DensitySurface)
    assert report.density() is surface
    assert report.parameters["coverage"] == 0.01
    other = find_hotspots(sample_db.engine, "spelthorne", FROM, TO, ["Burglary"])
    assert "surface" not in other.hotspots.attrs
    heat = other.density()
    assert heat.incidents == len(other.incidents) and heat.bandwidth_m > 100


def test_density_surface_of_any_frame_and_of_nothing():
    xy = np.array([[503000.0, 171000.0], [503100.0, 171050.0], [503900.0, 171800.0]])
    alone = density_surface(frame(xy))  # no area: the incidents' own extent, widened
    minx, miny, maxx, maxy = alone.bounds
    assert minx <= 503000 - alone.bandwidth_m and maxx >= 503900 + alone.bandwidth_m
    empty = density_surface(frame(np.empty((0, 2))))
    assert empty.empty and empty.values.shape == (0, 0) and empty.cells().empty
    area = shapely.box(502000, 170000, 505000, 173000)
    zeros = density_surface(frame(np.empty((0, 2))), area, cell_size=100)
    assert zeros.empty and zeros.values.shape == (30, 30) and zeros.peak == 0
    with pytest.raises(HotspotInputError, match="kernel"):
        density_surface(frame(xy), kernel="box")
    with pytest.raises(HotspotInputError, match="bandwidth"):
        density_surface(frame(xy), bandwidth=-5)
    with pytest.raises(HotspotInputError, match="cell size"):
        density_surface(frame(xy), area, cell_size=0)
    with pytest.raises(HotspotInputError, match="smaller than the 100 m cells"):
        density_surface(frame(xy), area, bandwidth=50, cell_size=100)


def test_a_county_sized_surface_gets_larger_cells_and_says_so():
    rng = np.random.default_rng(7)  # 60 km x 50 km, the size of a county, 90k incidents
    xy = np.column_stack([rng.uniform(480000, 540000, 90000),
                          rng.uniform(130000, 180000, 90000)])
    surface = density_surface(frame(np.round(xy)))
    assert surface.nrows * surface.ncols <= 1_000_000
    assert surface.cell_size > kde_cell_size(surface.bandwidth_m)
    assert "raised from 25 m so the surface stays within 1,000,000 cells" in \
        surface.cell_size_rule
    total = surface.values.sum() * (surface.cell_size / 1000) ** 2
    assert total == pytest.approx(90000, rel=0.01)

"""Kernel density (hotspots/kde.py): the FFT surface against sklearn's KernelDensity and a
brute-force quartic sum, total mass, the street-scale bandwidth on the real sample, one
surface shared by the hotspots and the map, and bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree
from sklearn.neighbors import KernelDensity

from geo.areas import resolve_area
from hotspots.analysis import area_incidents, find_hotspots
from hotspots.bandwidth import (
    bandwidth_nrd_rule,
    kde_cell_size,
)
from hotspots.cells import Raster
from hotspots.kde import DensitySurface, density_surface, hotspot_kde, kde_surface, linear_bin
from hotspots.result import HotspotInputError
from tests.support.hotspot_data import FROM, TO, frame

RASTER = Raster(x0=0.0, y0=0.0, size=25.0, ncols=100, nrows=100)


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

"""Rate hotspots (hotspots/rates.py): the three measures worked by hand, residents laid onto
cells from real Census 2021 LSOAs and Code-Point Open postcodes, both surfaces from
hotspots.kde.density_surface on one raster, the floor, and the CLI, on the bundled sample."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
import shapely

from geo.areas import resolve_area
from geo.crs import BNG
from geo.layers import load_layer
from geo.population import load_census_population
from geo.postcodes import load_postcodes
from hotspots.analysis import area_incidents
from hotspots.cells import Raster
from hotspots.kde import density_surface
from hotspots.rates import hotspot_rate, rate_hotspots, rate_values, residents_points
from hotspots.result import HOTSPOT_COLUMNS, HotspotInputError
from tests.sample_data import run_cli

YEAR = ("2023-02", "2024-01")
RESIDENTIAL = ["Burglary", "Criminal damage and arson", "Other theft"]


@pytest.fixture(scope="module")
def residents_db(sample_db):
    """The sample with Census 2021 residents on its LSOAs, as `hotspots setup` loads them."""
    load_census_population(sample_db.engine)
    return sample_db


def test_measures_worked_by_hand():
    """Densities top = 4 0 / 2 2 and bottom = 2 0 / 4 2 (each sums to 8).
    ratio = 2, -, 0.5, 1. Shares: top .5 0 .25 .25, bottom .25 0 .5 .25, so log-ratio =
    ln 2 = 0.693, -, ln .5 = -0.693, 0 and difference = .25, 0, -.25, 0."""
    top = np.array([[4.0, 0.0], [2.0, 2.0]])
    bottom = np.array([[2.0, 0.0], [4.0, 2.0]])
    np.testing.assert_allclose(rate_values(top, bottom, "ratio"), [[2, np.nan], [0.5, 1]])
    np.testing.assert_allclose(rate_values(top, bottom, "ratio", 1000),
                               [[2000, np.nan], [500, 1000]])
    np.testing.assert_allclose(rate_values(top, bottom, "log-ratio"),
                               [[math.log(2), np.nan], [math.log(0.5), 0]])
    np.testing.assert_allclose(rate_values(top, bottom, "difference"), [[0.25, 0], [-0.25, 0]])
    with pytest.raises(HotspotInputError, match="measure must be one of"):
        rate_values(top, bottom, "odds")


@pytest.mark.parametrize("spread", ["postcodes", "area"])
def test_residents_keep_each_lsoa_total_and_stay_inside_it(residents_db, spread):
    engine = residents_db.engine
    place = resolve_area(engine, "spelthorne")
    lsoas = load_layer(engine, "lsoa", place.code)
    assert lsoas["population"].notna().all() and lsoas["population"].sum() == 102_954
    raster = Raster.over(place.land, 50.0)
    table = load_postcodes().table if spread == "postcodes" else None
    people = residents_points(lsoas, raster, place.land, table)
    assert len(people) == 102_954
    per_lsoa = people.groupby("lsoa_code").size()
    expected = lsoas.set_index("code")["population"].astype(int)
    assert per_lsoa.reindex(expected.index).tolist() == expected.tolist()
    shapes = lsoas.to_crs(BNG).set_index("code").geometry
    for code, group in people.groupby("lsoa_code"):
        inside = shapely.intersects_xy(shapes[code].buffer(0.5), group["easting"].to_numpy(),
                                       group["northing"].to_numpy())
        assert inside.all(), code
    if spread == "postcodes":
        # every LSOA of the sample holds postcode centroids, and people sit on them
        assert set(people["spread"]) == {"postcodes"}
        spots = table[["easting", "northing"]].drop_duplicates()
        placed = people[["easting", "northing"]].drop_duplicates()
        assert len(placed.merge(spots)) == len(placed)
    else:
        assert set(people["spread"]) == {"area"}
        # on cell centres of the land
        assert ((people["easting"] - raster.x0) % 50 == 25).all()


def test_burglary_over_residential_crime_is_a_share(residents_db):
    """Burglary is one of the denominator's types, so with the same kernel, bandwidth and
    cells its density can never exceed theirs: every ratio lies in (0, 1]."""
    engine = residents_db.engine
    place = resolve_area(engine, "spelthorne")
    burglary = area_incidents(engine, place, *YEAR, ["Burglary"])
    residential = area_incidents(engine, place, *YEAR, RESIDENTIAL)
    rated = hotspot_rate(burglary, residential, place.land, denominator_name="residential")
    assert list(rated.columns[:6]) == HOTSPOT_COLUMNS[:-1] + ["incidents_per_km2"]
    assert len(rated) > 100
    assert (rated["score"] > 0).all() and (rated["score"] <= 1 + 1e-9).all()
    assert rated["rank"].tolist() == list(range(1, len(rated) + 1))
    assert (np.diff(rated["score"].to_numpy()) <= 1e-12).all()
    # the numerator's surface is density_surface's, with its own rules
    top, bottom = rated.attrs["surfaces"]
    own = density_surface(burglary, place.land)
    np.testing.assert_array_equal(top.values, own.values)
    assert (bottom.raster, bottom.bandwidth_m) == (top.raster, top.bandwidth_m)
    params = rated.attrs["parameters"]
    assert params["bandwidth_rule"] == own.bandwidth_rule
    # score = numerator density / denominator density, and the floor holds
    np.testing.assert_allclose(
        rated["score"], rated["incidents_per_km2"] / rated["denominator_per_km2"], rtol=1e-4,
        atol=1e-6)
    reach = params["bandwidth_m"]
    assert params["floor"] == 10
    assert params["floor_per_km2"] == pytest.approx(10 / (math.pi * reach ** 2) * 1e6, rel=1e-3)
    assert (rated["denominator_per_km2"] >= params["floor_per_km2"] - 1e-3).all()
    # counts in the cells are the burglaries there
    assert rated["count"].sum() <= len(burglary)


def test_rates_per_residents_on_the_sample(residents_db):
    rated = rate_hotspots(residents_db.engine, "spelthorne", *YEAR, ["Burglary"])
    params = rated.attrs["parameters"]
    assert params["denominator"] == "residents" and params["floor"] == 100
    assert params["score_unit"] == "incidents per 1,000 residents"
    assert rated.attrs["denominator_total"] == 102_954
    np.testing.assert_allclose(
        rated["score"], rated["incidents_per_km2"] / rated["denominator_per_km2"] * 1000,
        rtol=1e-4, atol=1e-6)
    top, bottom = rated.attrs["surfaces"]
    # the residents' surface holds the borough's residents, bar what the kernel spreads
    # beyond the raster's edge
    mass = bottom.values.sum() * top.raster.cell_area_km2
    assert 0.97 * 102_954 <= mass <= 102_954 * 1.0001
    # a higher floor leaves more places out
    strict = rate_hotspots(residents_db.engine, "spelthorne", *YEAR, ["Burglary"], floor=400)
    assert len(strict) < len(rated)
    assert (strict["denominator_per_km2"] >= strict.attrs["parameters"]["floor_per_km2"]
            - 1e-3).all()
    logged = rate_hotspots(residents_db.engine, "spelthorne", *YEAR, ["Burglary"],
                           measure="log-ratio")
    top, bottom = logged.attrs["surfaces"]
    best = logged.iloc[0]
    col = int((best.geometry.centroid.x - top.raster.x0) // top.raster.size)
    row = int((best.geometry.centroid.y - top.raster.y0) // top.raster.size)
    expected = math.log((top.values[row, col] / top.values.sum())
                        / (bottom.values[row, col] / bottom.values.sum()))
    assert best["score"] == pytest.approx(expected, abs=1e-5)
    assert best["score"] > 0  # the top place has more than its fair share


def test_rates_refuse_what_they_cannot_rate(residents_db, layers_db):
    with pytest.raises(HotspotInputError, match="no residents are loaded"):
        rate_hotspots(layers_db.engine, "spelthorne", *YEAR)  # layers without the census
    with pytest.raises(HotspotInputError, match="nothing to divide by"):
        rate_hotspots(residents_db.engine, "spelthorne", *YEAR, ["Burglary"],
                      per=["No such crime"])
    with pytest.raises(HotspotInputError, match="measure must be one of"):
        rate_hotspots(residents_db.engine, "spelthorne", *YEAR, ["Burglary"], measure="odds")


def test_rates_cli(residents_db, tmp_path):
    out = tmp_path / "rates.csv"
    done = run_cli(["rates", "--area", "spelthorne", "--from", YEAR[0], "--to", YEAR[1],
                    "--crime-type", "Burglary", "--per-crime-type", "Burglary",
                    "--per-crime-type", "Criminal damage and arson", "--per-crime-type",
                    "Other theft", "--coverage", "0.01", "--out", str(out)], residents_db.url)
    assert done.returncode == 0, done.stderr
    assert "floor 10 (by rule" in done.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows and rows[0]["rank"] == "1" and rows[0]["method"] == "rate"
    assert all(0 < float(r["score"]) <= 1 + 1e-9 for r in rows)
    assert json.loads(rows[0]["parameters"])["coverage"] == 0.01
    done = run_cli(["rates", "--area", "spelthorne", "--from", YEAR[0], "--to", YEAR[1],
                    "--per", "residents", "--per-crime-type", "Burglary", "--out",
                    str(out)], residents_db.url)
    assert done.returncode != 0 and "not both" in done.stderr

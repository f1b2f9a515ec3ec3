"""Emerging hot spots (hotspots/emerging.py): the Mann-Kendall trend test worked by hand and
against scipy, the space-time Gi* against esda, ArcGIS's pattern rules against hand-worked
series, and the analysis on the bundled Spelthorne sample through the library and the CLI."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from esda import G_Local
from libpysal.graph import Graph
from scipy import stats

from geo.areas import resolve_area
from hotspots.analysis import area_incidents
from hotspots.emerging import (
    PATTERNS,
    classify_patterns,
    emerging_hotspots,
    hotspot_emerging,
    mann_kendall,
    pattern_counts,
    spacetime_weights,
    split_periods,
)
from hotspots.gistar import gistar_z, neighbour_matrix
from hotspots.result import HOTSPOT_COLUMNS, HotspotInputError
from tests.sample_data import run_cli

YEAR = ("2023-02", "2024-01")


def test_mann_kendall_worked_by_hand():
    """x = 1..5: all 10 pairs rise, S = 10, Var S = 5*4*15/18 = 16.667, z = (10-1)/4.0825 =
    2.2045, p = 2*(1 - Phi(2.2045)) = 0.0275, tau = 1. x = 3, 1, 3, 2: pair signs -1, 0, -1,
    +1, +1, -1, so S = -1; one tie group of two 3s, Var S = (4*3*13 - 2*1*9)/18 = 7.667;
    with the continuity correction z = (S + 1)/sd = 0 and p = 1; tau-b = -1/sqrt(6*5) =
    -0.1826 (6 pairs, 1 tied)."""
    rising = mann_kendall([1, 2, 3, 4, 5])
    assert rising.s[0] == 10
    assert rising.var_s[0] == pytest.approx(16.6667, abs=1e-4)
    assert rising.z[0] == pytest.approx(2.2045, abs=1e-4)
    assert rising.p[0] == pytest.approx(0.0275, abs=1e-4)
    assert rising.tau[0] == pytest.approx(1.0)
    tied = mann_kendall([3, 1, 3, 2])
    assert tied.s[0] == -1
    assert tied.var_s[0] == pytest.approx(7.6667, abs=1e-4)
    assert tied.z[0] == 0 and tied.p[0] == 1
    assert tied.tau[0] == pytest.approx(-1 / math.sqrt(30), abs=1e-12)
    flat = mann_kendall([2, 2, 2, 2])
    assert flat.z[0] == 0 and flat.p[0] == 1  # no variance left: no trend


def test_mann_kendall_matches_scipy_kendalltau():
    """Without the continuity correction, Mann-Kendall is Kendall's tau-b of the series
    against time: S / sqrt(Var S) gives scipy's asymptotic p, and our tau is scipy's tau-b,
    ties included (values rounded to one decimal so that many tie)."""
    rng = np.random.default_rng(18)
    series = np.round(rng.normal(size=(200, 12)).cumsum(axis=1), 1)
    series[:20] = rng.integers(0, 3, size=(20, 12))  # heavy ties, as counts have
    result = mann_kendall(series)
    time = np.arange(12)
    for i, x in enumerate(series):
        reference = stats.kendalltau(time, x, method="asymptotic")
        if np.isnan(reference.statistic):
            continue
        plain_p = 2 * stats.norm.sf(abs(result.s[i]) / math.sqrt(result.var_s[i]))
        assert plain_p == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-12)
        assert result.tau[i] == pytest.approx(reference.statistic, abs=1e-12)
        # the continuity correction only ever moves z towards 0
        assert abs(result.z[i]) <= abs(result.s[i]) / math.sqrt(result.var_s[i]) + 1e-12


def test_spacetime_gistar_matches_esda_g_local():
    """Our Gi* on the space-time weights (each bin's 8 touching cells and itself, now and one
    period back) is esda's G_Local(star=True, binary) on the same graph, to 1e-8."""
    rng = np.random.default_rng(7)
    side, periods, cell = 8, 4, 100.0
    xs, ys = np.meshgrid(np.arange(side) * cell, np.arange(side) * cell)
    spatial = neighbour_matrix(np.column_stack([xs.ravel(), ys.ravel()]),
                               distance=cell * math.sqrt(2))
    weights = spacetime_weights(spatial, periods, 1)
    counts = rng.poisson(1.5, periods * side * side).astype(float)
    counts[[27, 27 + 64, 27 + 128, 27 + 192]] += [2, 5, 9, 14]  # a cell heating up
    ours = gistar_z(counts, weights)
    off_diagonal = (weights - sp.identity(len(counts), format="csr")).tocsr()
    off_diagonal.eliminate_zeros()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = G_Local(counts, Graph.from_sparse(off_diagonal), star=True,
                            transform="B", permutations=0)
    np.testing.assert_allclose(ours, reference.Zs, rtol=0, atol=1e-8)
    # a bin's neighbours: 9 cells now (inner cell) and 9 one period back, none in period 0's
    # past and none forward in time
    row = weights[2 * 64 + 27].toarray().ravel()
    assert row.sum() == 18 and row[3 * 64:].sum() == 0 and row[:64].sum() == 0


@pytest.mark.parametrize(("bins", "trend_z", "trend_p", "expected"), [
    # hot only in the last of 12 periods, never before: new
    ([0] * 11 + [1], 2.0, 0.04, "new hot spot"),
    # a run of three at the end, never hot before it, 3/12 < 90%: consecutive
    ([0] * 9 + [1, 1, 1], 2.5, 0.01, "consecutive hot spot"),
    # a run of three at the end but hot once before: on and off, never cold: sporadic
    ([0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1], 2.5, 0.01, "sporadic hot spot"),
    # 11/12 = 92% hot including the last, significant upward trend: intensifying
    ([0] + [1] * 11, 3.1, 0.002, "intensifying hot spot"),
    # hot every period, no significant trend: persistent
    ([1] * 12, 0.4, 0.69, "persistent hot spot"),
    # hot every period, significant downward trend: diminishing
    ([1] * 12, -2.6, 0.009, "diminishing hot spot"),
    # hot at the end and before, a cold spot once earlier: oscillating
    ([-1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], 1.2, 0.23, "oscillating hot spot"),
    # a cold spot once, then hot only in the last period: new comes before oscillating
    ([-1] + [0] * 10 + [1], 1.9, 0.06, "new hot spot"),
    # hot in 11/12 but not the last: historical
    ([1] * 11 + [0], -1.0, 0.32, "historical hot spot"),
    # hot in 10/12 = 83% but not the last: under 90%, not hot now: no pattern
    ([1] * 10 + [0, 0], -1.5, 0.13, "no pattern"),
    ([0] * 12, 0.0, 1.0, "no pattern"),
    # cold spots mirror: new, and intensifying = getting colder (z falling)
    ([0] * 11 + [-1], -2.0, 0.04, "new cold spot"),
    ([-1] * 12, -3.0, 0.003, "intensifying cold spot"),
    ([-1] * 12, 3.0, 0.003, "diminishing cold spot"),
    ([0] * 10 + [-1, -1], -2.2, 0.03, "consecutive cold spot"),
    # the side that holds the last period decides: hot 11/12, cold in the last: new cold
    ([1] * 11 + [-1], -3.0, 0.003, "new cold spot"),
    # the trend must be significant at 0.10: p = 0.12 is persistent, not intensifying
    ([1] * 12, 1.6, 0.12, "persistent hot spot"),
    # with 5 periods, 90% means all 5: 4 hot then the last is not: no pattern, not historical
    ([1, 1, 1, 1, 0], -1.0, 0.3, "no pattern"),
])
def test_pattern_rules_worked_by_hand(bins, trend_z, trend_p, expected):
    assert classify_patterns(np.array([bins]), np.array([trend_z]),
                             np.array([trend_p]))[0] == expected


def test_periods_must_split_evenly():
    assert split_periods(["2023-01", "2023-02", "2023-03", "2023-04"], 2) == [
        ["2023-01", "2023-02"], ["2023-03", "2023-04"]]
    with pytest.raises(HotspotInputError, match="do not split into whole periods of 3"):
        split_periods([f"2023-{m:02d}" for m in range(1, 11)], 3)


@pytest.fixture(scope="module")
def year(sample_db):
    """Emerging hot spots of all crime in Spelthorne over the sample's last 12 months."""
    return emerging_hotspots(sample_db.engine, "spelthorne", *YEAR)


def test_emerging_on_the_sample_is_a_ranked_cell_per_land_cell(sample_db, year):
    place = resolve_area(sample_db.engine, "spelthorne")
    points = area_incidents(sample_db.engine, place, *YEAR)
    assert list(year.columns[:5]) == HOTSPOT_COLUMNS[:5]
    assert {"pattern", "trend_z", "trend_p", "geometry"} <= set(year.columns)
    assert year["rank"].tolist() == list(range(1, len(year) + 1))
    params = year.attrs["parameters"]
    assert len(year) == params["cells"] and params["periods"] == 12
    # every incident on a land cell is counted once (those in the river are not on land)
    assert 0.97 * len(points) <= year["count"].sum() <= len(points)
    assert set(year["pattern"]) <= set(PATTERNS)
    # the score is the trend z, and the trend is Mann-Kendall of each cell's Gi* series
    np.testing.assert_allclose(year["score"], year["trend_z"])
    again = mann_kendall(np.round(year.attrs["gi_z"], 9))
    np.testing.assert_allclose(year["trend_z"], np.round(again.z, 4))
    assert year.attrs["periods"][0] == "2023-02" and year.attrs["periods"][-1] == "2024-01"


def test_emerging_patterns_follow_their_rules_on_the_sample(year):
    counts = pattern_counts(year).set_index("pattern")["cells"]
    # Spelthorne's busy places stay hot all year: persistent and intensifying hot spots
    assert counts.get("persistent hot spot", 0) >= 10
    assert counts.get("intensifying hot spot", 0) >= 5
    assert counts["no pattern"] > 0.8 * len(year)
    steady = year[year["pattern"].isin(["persistent hot spot", "intensifying hot spot",
                                        "diminishing hot spot"])]
    assert (steady["hot_periods"] >= 11).all() and (steady["last_bin"] > 0).all()
    rising = year[year["pattern"] == "intensifying hot spot"]
    assert ((rising["trend_z"] > 0) & (rising["trend_p"] <= 0.10)).all()
    new = year[year["pattern"] == "new hot spot"]
    assert (new["hot_periods"] == 1).all() and (new["last_bin"] > 0).all()
    # the hot patterns are ranked before the cells with none
    first_plain = year.index[year["pattern"] == "no pattern"].min()
    assert (year.loc[:first_plain - 1, "pattern"].str.endswith("hot spot")).all()
    # the trend's p-value is scipy's, before the continuity correction, on a real cell
    cell = year.index[year["pattern"] == "intensifying hot spot"][0]
    series = np.round(year.attrs["gi_z"][cell], 9)
    reference = stats.kendalltau(np.arange(12), series, method="asymptotic")
    mk = mann_kendall(series)
    assert 2 * stats.norm.sf(abs(mk.s[0]) / math.sqrt(mk.var_s[0])) == pytest.approx(
        reference.pvalue, rel=1e-9)


def test_emerging_by_quarter_and_for_one_crime_type(sample_db):
    quarters = emerging_hotspots(sample_db.engine, "spelthorne", *YEAR,
                                 categories=["Anti-social behaviour"], period_months=3,
                                 cell_size=250)
    assert quarters.attrs["parameters"]["periods"] == 4
    assert quarters.attrs["periods"] == ["2023-02 to 2023-04", "2023-05 to 2023-07",
                                         "2023-08 to 2023-10", "2023-11 to 2024-01"]
    place = resolve_area(sample_db.engine, "spelthorne")
    asb = area_incidents(sample_db.engine, place, *YEAR, ["Anti-social behaviour"])
    assert quarters["count"].sum() <= len(asb)
    assert quarters.attrs["parameters"]["cell_size_m"] == 250


def test_a_month_not_loaded_is_refused(sample_db):
    # the sample has no 2022-12: a gap would read as a sudden cold spell
    with pytest.raises(HotspotInputError, match="2022-12"):
        emerging_hotspots(sample_db.engine, "spelthorne", "2022-10", "2023-03")


def test_too_few_periods_are_refused(layers_db):
    place = resolve_area(layers_db.engine, "spelthorne")
    empty = area_incidents(layers_db.engine, place, "2023-01", "2023-01")
    with pytest.raises(HotspotInputError, match="at least 3 periods"):
        hotspot_emerging([empty, empty], place.land)


def test_classify_cli_ehsa_and_the_default_scheme(sample_db, tmp_path):
    out = tmp_path / "ehsa.geojson"
    done = run_cli(["classify", "--area", "spelthorne", "--from", YEAR[0], "--to", YEAR[1],
                    "--scheme", "ehsa", "--out", str(out)], sample_db.url)
    assert done.returncode == 0, done.stderr
    assert "cells: persistent hot spot" in done.stdout
    assert "12 periods of 1 month(s)" in done.stdout
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    props = features[0]["properties"]
    assert {"rank", "count", "score", "method", "pattern", "trend_z", "trend_p"} <= set(props)
    assert props["method"] == "ehsa" and props["rank"] == 1
    # today's classes stay the default scheme
    plain = tmp_path / "classes.csv"
    done = run_cli(["classify", "--area", "spelthorne", "--from", "2023-01", "--to", "2023-12",
                    "--out", str(plain)], sample_db.url)
    assert done.returncode == 0, done.stderr
    assert "category" in plain.read_text(encoding="utf-8").splitlines()[0]
    done = run_cli(["classify", "--area", "spelthorne", "--from", "2023-01", "--to", "2023-12",
                    "--time-lag", "2", "--out", str(plain)], sample_db.url)
    assert done.returncode != 0 and "apply to --scheme ehsa only" in done.stderr

"""Stability of hotspots between two periods (hotspots/stability.py): rank-biased overlap worked
by hand, the comparison of two rankings against scipy, and the table on the bundled sample
through the library and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from core.themes import ALL_CRIME
from geo.areas import resolve_area
from hotspots.analysis import area_incidents
from hotspots.result import HotspotInputError
from hotspots.stability import (
    STABILITY_COLUMNS,
    compare_rankings,
    rank_biased_overlap,
    stability,
    stability_table,
)
from tests.sample_data import run_cli


def test_rank_biased_overlap_worked_by_hand():
    """S = a b c, L = a c b, p = 0.9: overlaps at depth 1, 2, 3 are 1, 1, 3, so
    sum X_d/d p^d = 0.9 + 0.5 x 0.81 + 1 x 0.729 = 2.034; (1 - p)/p x 2.034 = 0.22600;
    plus (X_3/3) p^3 = 0.729; RBO = 0.95500."""
    assert rank_biased_overlap(list("abc"), list("acb")) == pytest.approx(0.955, abs=1e-9)
    assert rank_biased_overlap(list("abcd"), list("abcd")) == pytest.approx(1.0, abs=1e-12)
    assert rank_biased_overlap(list("ab"), list("cd")) == 0.0
    assert math.isnan(rank_biased_overlap([], list("ab")))


def test_rank_biased_overlap_of_uneven_lists_worked_by_hand():
    """S = a b (s = 2) is the top of L = a b c (l = 3): X = 1, 2, 2;
    sum_{d=1..3} X_d/d p^d = 0.9 + 0.81 + (2/3) 0.729 = 2.196; the tail sum at d = 3 is
    X_s (d - s)/(s d) p^d = 2 x 1/6 x 0.729 = 0.243; (0.1/0.9)(2.439) = 0.271; plus
    [(X_l - X_s)/l + X_s/s] p^3 = 1 x 0.729: RBO = 1.000 (a list that is the other's top
    agrees with it as far as it goes). S = b a against L = a b c: X = 0, 2, 2:
    0 + 0.81 + 0.486 = 1.296, + 0.243 = 1.539, x 0.1/0.9 = 0.17100, + 0.729 = 0.90000."""
    assert rank_biased_overlap(list("ab"), list("abc")) == pytest.approx(1.0, abs=1e-12)
    assert rank_biased_overlap(list("abc"), list("ba")) == pytest.approx(0.9, abs=1e-12)


def test_comparing_two_rankings_worked_by_hand():
    """Cells 5, 3, 9, 1 before and 3, 5, 7 after: 2 of the 4 again (50%). Spearman over last
    period's hotspots 5, 3, 9, 1 of their counts then (8, 6, 4, 1) and now (3, 5, 0, 0): ranks
    4 3 2 1 against 3 4 1.5 1.5 (ties averaged); centred, 1.5 0.5 -0.5 -1.5 and
    0.5 1.5 -1 -1; products 0.75 + 0.75 + 0.5 + 1.5 = 3.5 over sqrt(5 x 4.5) = 4.743:
    rho = 0.7379, as scipy."""
    before_counts = np.zeros(10)
    after_counts = np.zeros(10)
    before_counts[[1, 3, 5, 7, 9]] = [1, 6, 8, 0, 4]
    after_counts[[1, 3, 5, 7, 9]] = [0, 5, 3, 2, 0]
    row = compare_rankings(np.array([5, 3, 9, 1]), np.array([3, 5, 7]), before_counts,
                           after_counts)
    assert (row["hotspots_before"], row["hotspots_after"], row["again"]) == (4, 3, 2)
    assert row["share"] == 0.5
    reference = stats.spearmanr([8, 6, 4, 1], [3, 5, 0, 0]).statistic
    assert row["spearman"] == pytest.approx(reference, abs=1e-12)
    assert row["spearman"] == pytest.approx(3.5 / math.sqrt(5 * 4.5), abs=1e-12)
    assert row["rbo"] == pytest.approx(rank_biased_overlap([5, 3, 9, 1], [3, 5, 7]))


@pytest.fixture(scope="module")
def table(sample_db):
    """Spelthorne's stability: 2023-08..2024-01 against 2023-02..2023-07."""
    return stability(sample_db.engine, "spelthorne", "2024-01", 6)


def test_stability_on_the_sample(sample_db, table):
    assert list(table.columns) == STABILITY_COLUMNS
    assert table.iloc[0]["crime_type"] == ALL_CRIME
    assert table.iloc[0]["before"] == "2023-02 to 2023-07"
    assert table.iloc[0]["after"] == "2023-08 to 2024-01"
    budget = table.attrs["parameters"]["cells_budget"]
    assert (table["hotspots_before"] <= budget).all() and (table["hotspots_after"] <= budget).all()
    assert (table["again"] <= table[["hotspots_before", "hotspots_after"]].min(axis=1)).all()
    shown = table[table["hotspots_before"] > 0]
    np.testing.assert_allclose(shown["share"], shown["again"] / shown["hotspots_before"])
    assert table["rbo"].between(0, 1).all()
    assert table["spearman"].dropna().between(-1, 1).all()
    # the incidents per period add up to the stored ones, type by type
    place = resolve_area(sample_db.engine, "spelthorne")
    points = area_incidents(sample_db.engine, place, "2023-02", "2024-01")
    first = points["month"] <= "2023-07"
    assert table.iloc[0]["incidents_before"] == int(first.sum())
    assert table.iloc[0]["incidents_after"] == int((~first).sum())
    shoplifting = table.set_index("crime_type").loc["Shoplifting"]
    assert shoplifting["incidents_before"] == int(
        (first & (points["category"] == "Shoplifting")).sum())
    # all crime concentrates in the same places from one half-year to the next
    everything = table.iloc[0]
    assert everything["share"] > 0.5 and everything["rbo"] > 0.5
    assert "hotspots again" in everything["reading"]


def test_a_period_against_itself_is_perfectly_stable(sample_db):
    place = resolve_area(sample_db.engine, "spelthorne")
    months = [f"2023-{m:02d}" for m in range(1, 7)]
    points = area_incidents(sample_db.engine, place, months[0], months[-1])
    same = stability_table(points, place.land, months, months,
                           [ALL_CRIME, "Shoplifting", "Burglary"])
    assert (same["share"] == 1).all()
    assert same["rbo"].to_numpy() == pytest.approx(1.0, abs=1e-12)
    assert same["spearman"].to_numpy() == pytest.approx(1.0, abs=1e-12)


def test_periods_with_no_data_are_refused_or_noted(sample_db):
    with pytest.raises(HotspotInputError, match="no incidents are loaded"):
        stability(sample_db.engine, "spelthorne", "2021-06", 3)
    # 2022-12 is missing from the sample: it counts as empty, and the notes say so
    gap = stability(sample_db.engine, "spelthorne", "2023-03", 3, [ALL_CRIME])
    assert any("2022-12" in note for note in gap.attrs["notes"])


def test_stability_cli(sample_db):
    done = run_cli(["stability", "--area", "spelthorne", "--to", "2024-01", "--months", "6",
                    "--crime-type", "all", "--crime-type", "Shoplifting", "--json"],
                   sample_db.url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [r["crime_type"] for r in result["table"]] == [ALL_CRIME, "Shoplifting"]
    assert result["area"] == "Spelthorne"
    done = run_cli(["stability", "--area", "spelthorne", "--to", "2024-01"], sample_db.url)
    assert done.returncode == 0, done.stderr
    assert "All crime and ASB" in done.stdout and "RBO" in done.stdout

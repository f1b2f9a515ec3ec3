"""The rolling-origin evaluation on the imported police.uk sample (2022-01..2022-11 and
2023-01..2024-01): which test months, scores within bounds and consistent with each other,
incidents recounted independently, PEI* of an oracle, a case scored by hand, the default method
against the grid-count baseline on every crime type of the three boroughs, the pooled
forecast's gain, and the `hotspots evaluate` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.months import months_before
from core.themes import ALL_CRIME
from geo.areas import resolve_area
from hotspots import hotspot_grid
from hotspots.analysis import DEFAULT_METHOD, area_incidents, evaluate_area
from hotspots.evaluate import EvaluationGrid, default_candidates, score_selection
from hotspots.result import HotspotInputError, points_xy
from tests.sample_data import run_cli

BOROUGHS = ["spelthorne", "runnymede", "woking"]
TEST_MONTH = "2024-01"
TRAIN_2023 = [f"2023-{m:02d}" for m in range(1, 13)]
STORED_2022 = [f"2022-{m:02d}" for m in range(1, 12)]  # 2022-12 is not in the sample
COVERAGE = 0.01
CELL = 50.0
LABELS = {c.label for c in default_candidates()}
ROW_FIELDS = {"method", "crime_type", "test_month", "pai", "pei_star", "hit_rate", "area_km2",
              "incidents"}


def of_type(points: pd.DataFrame, crime: str) -> pd.DataFrame:
    """Incidents of one crime type, or all of them for ALL_CRIME."""
    return points if crime == ALL_CRIME else points[points["category"] == crime]


@pytest.fixture(scope="module")
def spelthorne(sample_db):
    return resolve_area(sample_db.engine, "spelthorne")


@pytest.fixture(scope="module")
def default_eval(sample_db):
    """evaluate_area with every default: each crime type, every method, 12 training months."""
    return evaluate_area(sample_db.engine, "spelthorne")


@pytest.fixture(scope="module")
def spelthorne_incidents(sample_db, spelthorne) -> pd.DataFrame:
    """Every stored incident inside Spelthorne, all months."""
    return area_incidents(sample_db.engine, spelthorne, None, None, None)


@pytest.fixture(scope="module")
def borough_evals(sample_db, default_eval) -> dict:
    """Every crime type evaluated on each borough (Spelthorne's from the default run; the
    others with the default, the pooled forecast and grid counts)."""
    found = {"spelthorne": default_eval}
    for borough in BOROUGHS[1:]:
        found[borough] = evaluate_area(sample_db.engine, borough,
                                       methods=["weighted", "forecast", "grid"])
    return found


def pei(evaluation, crime: str, label: str) -> float:
    """Mean PEI* of one method for one crime type."""
    summary = evaluation.summary
    row = summary[(summary["crime_type"] == crime) & (summary["method"] == label)]
    assert len(row) == 1, (crime, label)
    return float(row["pei_star"].iloc[0])


# 1. The default evaluation -----------------------------------------------------------------

def test_default_test_month_is_the_only_one_with_twelve_before_it(default_eval,
                                                                   spelthorne_incidents):
    assert sorted(spelthorne_incidents["month"].unique()) == [*STORED_2022, *TRAIN_2023,
                                                               TEST_MONTH]
    assert default_eval.test_months == [TEST_MONTH]
    assert default_eval.train_months == 12
    assert default_eval.coverage == COVERAGE and default_eval.cell_size == CELL
    results = default_eval.results
    assert set(results["test_month"]) == {TEST_MONTH}
    in_test = spelthorne_incidents[spelthorne_incidents["month"] == TEST_MONTH]
    assert set(results["crime_type"]) == {ALL_CRIME, *in_test["category"].unique()}
    assert set(results["method"]) == LABELS
    assert not results.duplicated(["method", "crime_type", "test_month"]).any()


def test_training_incidents_are_the_twelve_months_before(default_eval, spelthorne_incidents):
    train = spelthorne_incidents[spelthorne_incidents["month"].isin(TRAIN_2023)]
    for crime, rows in default_eval.results.groupby("crime_type"):
        assert set(rows["train_incidents"]) == {len(of_type(train, crime))}, crime


def test_pei_star_is_between_zero_and_one_on_every_row(default_eval):
    results = default_eval.results
    bad = results[~results["pei_star"].between(0, 1)]
    assert bad.empty, bad[["method", "crime_type", "pei_star", "hits", "area_share", "note"]]


def test_scores_are_consistent(default_eval, spelthorne):
    results = default_eval.results
    assert (results["hits"] <= results["incidents"]).all()
    assert (results["hits"] >= 0).all() and (results["incidents"] > 0).all()
    assert np.allclose(results["hit_rate"], results["hits"] / results["incidents"])
    assert (results["area_share"] <= COVERAGE + 1e-9).all()
    land_km2 = spelthorne.land_area_m2 / 1e6
    assert np.allclose(results["area_km2"], results["area_share"] * land_km2)
    assert np.allclose(results["area_km2"] * 1e6 / CELL**2,
                       np.round(results["area_km2"] * 1e6 / CELL**2))  # whole cells
    took = results[results["area_share"] > 0]
    assert len(took) >= 0.9 * len(results)
    assert np.allclose(took["pai"], took["hit_rate"] / took["area_share"])
    # A method that took no cells hit nothing, and the row says why.
    none = results[results["area_share"] == 0]
    assert (none["hits"] == 0).all() and (none["note"] != "").all()


def test_incidents_are_the_areas_incidents_of_the_test_month(default_eval,
                                                             spelthorne_incidents):
    in_test = spelthorne_incidents[spelthorne_incidents["month"] == TEST_MONTH]
    got = default_eval.results.groupby("crime_type")["incidents"].agg(set).to_dict()
    expected = {crime: {len(of_type(in_test, crime))} for crime in got}
    assert got == expected


# 2. PEI* of an oracle and by hand ----------------------------------------------------------

@pytest.fixture(scope="module")
def grid(spelthorne) -> EvaluationGrid:
    return EvaluationGrid.over(spelthorne.land, CELL, COVERAGE)


def test_evaluation_grid_budget(grid, spelthorne):
    assert grid.budget == int(COVERAGE * spelthorne.land_area_m2 // CELL**2)
    assert len(grid.rows) == len(grid.cols) > 100 * grid.budget


def test_the_test_months_own_top_cells_score_pei_one(grid, spelthorne, spelthorne_incidents):
    test = spelthorne_incidents[spelthorne_incidents["month"] == TEST_MONTH]
    counts = grid.counts(points_xy(test))
    top = np.argsort(-counts, kind="stable")[:grid.budget]
    scored = score_selection(top, counts, CELL**2, spelthorne.land_area_m2)
    assert scored["pei_star"] == 1.0
    assert scored["hits"] == counts[top].sum() > 0
    assert scored["area_share"] <= COVERAGE
    # The same oracle as hotspots: 50 m grid counts of the test month itself, chosen on the
    # evaluation grid by rank, score PEI* 1.
    own = hotspot_grid(test, spelthorne.land, cell_size=CELL)
    chosen = grid.choose(own, counts)
    assert len(chosen) == grid.budget
    assert score_selection(chosen, counts, CELL**2, spelthorne.land_area_m2)["pei_star"] == 1.0


def test_score_selection_by_hand():
    counts = np.array([5, 0, 3, 2, 0, 10], dtype=float)  # 20 incidents in six cells
    cell, land = 2500.0, 100 * 2500.0  # 50 m cells on 100 cells' worth of land
    scored = score_selection(np.array([0, 2]), counts, cell, land)
    # Hits 5 + 3 = 8 of 20; the best two cells hold 10 + 5 = 15; two cells are 2% of land.
    assert scored["hits"] == 8 and scored["incidents"] == 20
    assert scored["hit_rate"] == pytest.approx(0.4)
    assert scored["area_share"] == pytest.approx(0.02)
    assert scored["area_km2"] == pytest.approx(0.005)
    assert scored["pai"] == pytest.approx(20.0)
    assert scored["pei_star"] == pytest.approx(8 / 15)
    best = score_selection(np.array([5, 0]), counts, cell, land)
    assert best["pei_star"] == 1.0 and best["pai"] == pytest.approx(0.75 / 0.02)
    worst = score_selection(np.array([1, 4]), counts, cell, land)
    assert worst["pei_star"] == 0.0 and worst["hit_rate"] == 0.0


def test_no_cells_chosen_scores_zero_not_missing():
    counts = np.array([5, 0, 3, 2, 0, 10], dtype=float)
    scored = score_selection(np.array([], dtype=int), counts, 2500.0, 250000.0)
    assert scored["hits"] == 0 and scored["incidents"] == 20
    assert scored["hit_rate"] == 0.0
    # Finding nothing when there was something to find is the worst forecast, PEI* 0; a
    # missing value would be left out of the mean PEI* and never count against the method.
    assert scored["pei_star"] == 0.0


# 3. The recommended method against the grid-count baseline ---------------------------------

@pytest.mark.parametrize("borough", BOROUGHS)
def test_recommended_method_beats_or_equals_grid_counts(borough_evals, borough):
    evaluation = borough_evals[borough]
    assert evaluation.test_months == [TEST_MONTH]
    for crime in (ALL_CRIME, "Burglary"):
        best = evaluation.best(crime)
        assert best in LABELS
        assert pei(evaluation, crime, best) >= pei(evaluation, crime, "grid counts")
        assert pei(evaluation, crime, best) == evaluation.summary.loc[
            evaluation.summary["crime_type"] == crime, "pei_star"].max()


@pytest.mark.parametrize("borough", BOROUGHS)
def test_the_default_is_never_behind_grid_counts(borough_evals, borough):
    """Issue 16's bar: the default (which shows only squares holding the crime asked for)
    is no worse than 12-month grid counts on all crime and on each crime type."""
    evaluation = borough_evals[borough]
    assert DEFAULT_METHOD == "weighted"
    crimes = sorted(evaluation.summary["crime_type"].unique())
    assert ALL_CRIME in crimes and len(crimes) >= 13
    for crime in crimes:
        assert pei(evaluation, crime, "weighted counts") >= pei(evaluation, crime,
                                                                "grid counts") - 1e-12, crime
    # for all crime there is nothing to pool with: its ties stay in grid order, the same
    # cells as grid counts
    assert pei(evaluation, ALL_CRIME, "weighted counts") == pytest.approx(
        pei(evaluation, ALL_CRIME, "grid counts"), abs=1e-12)


@pytest.mark.parametrize("borough", BOROUGHS)
def test_the_pooled_forecast_gains_on_sparse_burglary(borough_evals, borough):
    evaluation = borough_evals[borough]
    assert pei(evaluation, "Burglary", "pooled forecast") >= pei(evaluation, "Burglary",
                                                                 "weighted counts")


# 4. Training months ------------------------------------------------------------------------

def test_six_training_months_give_twelve_test_months(sample_db, spelthorne_incidents):
    evaluation = evaluate_area(sample_db.engine, "spelthorne", train_months=6,
                               crime_types=[ALL_CRIME], methods=["grid counts"])
    # 2022-07..2022-11 have six 2022 months before them; 2023-01..2023-06 miss 2022-12
    months = ([f"2022-{m:02d}" for m in range(7, 12)]
              + [f"2023-{m:02d}" for m in range(7, 13)] + [TEST_MONTH])
    assert evaluation.test_months == months
    results = evaluation.results
    assert results["test_month"].tolist() == months
    assert set(results["method"]) == {"grid counts"}
    by_month = spelthorne_incidents.groupby("month").size()
    for _, row in results.iterrows():
        assert row["train_incidents"] == by_month[months_before(row["test_month"], 6)].sum()
        assert row["train_months"] == 6
        assert 0 <= row["pei_star"] <= 1


def test_thirteen_training_months_ask_for_more_data(sample_db):
    with pytest.raises(HotspotInputError, match="import more months") as caught:
        evaluate_area(sample_db.engine, "spelthorne", train_months=13)
    assert "2022-01 to 2024-01" in str(caught.value)


# 5. Months before --------------------------------------------------------------------------

def test_previous_months():
    assert months_before("2024-01", 3) == ["2023-10", "2023-11", "2023-12"]
    assert months_before("2024-03", 2) == ["2024-01", "2024-02"]
    assert months_before("2024-01", 12) == TRAIN_2023


# 6. The command line -----------------------------------------------------------------------

def test_cli_evaluate_json(sample_db, default_eval):
    done = run_cli(["evaluate", "--area", "spelthorne", "--crime-type", "all",
                    "--crime-type", "Burglary", "--json"], sample_db.url)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert {"area", "test_months", "train_months", "coverage", "best", "summary",
            "results"} <= set(doc)
    assert doc["area"] == "Spelthorne"
    assert doc["test_months"] == [TEST_MONTH]
    assert doc["train_months"] == 12 and doc["coverage"] == COVERAGE
    assert set(doc["best"]) == {ALL_CRIME, "Burglary"}
    assert doc["best"][ALL_CRIME] in LABELS
    assert doc["best"][ALL_CRIME] == default_eval.best(ALL_CRIME)
    assert len(doc["results"]) == 2 * len(LABELS)
    for row in doc["results"]:
        assert ROW_FIELDS <= set(row)
        assert row["crime_type"] in (ALL_CRIME, "Burglary")
        assert row["method"] in LABELS and row["test_month"] == TEST_MONTH
    library = default_eval.results.set_index(["crime_type", "method"])
    for row in doc["results"]:
        assert row["pei_star"] == pytest.approx(
            library.loc[(row["crime_type"], row["method"]), "pei_star"], abs=1e-4)


def test_cli_evaluate_text_table(sample_db):
    done = run_cli(["evaluate", "--area", "spelthorne", "--crime-type", "all",
                    "--method", "grid", "--method", "weighted"], sample_db.url)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Spelthorne: test months 2024-01" in out
    assert "PEI*" in out and "PAI" in out and "hit rate" in out
    assert f"{ALL_CRIME} (best: " in out
    for label in ("grid counts", "hex grid counts", "weighted counts"):
        assert label in out
    assert "KDE" not in out


def test_cli_evaluate_bad_month_fails_cleanly(sample_db):
    done = run_cli(["evaluate", "--area", "spelthorne", "--test-month", "2024-13"],
                   sample_db.url)
    assert done.returncode == 2
    assert "'2024-13' is not a month in YYYY-MM form" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr

"""Near repeat (hotspots/near_repeat.py): the Knox table worked by hand and against a brute
count, the Monte Carlo test on seeded synthetic incidents with a planted near-repeat pattern
(beyond chance) and without one (not), risk zones, a council log imported with dates and grid
references, and the plain refusal of police.uk data (the bundled sample)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest
import shapely

from geo.areas import resolve_area
from geo.bundled import seed_bundled_layers
from hotspots.near_repeat import (
    POLICE_REASON,
    knox_test,
    near_repeat,
    risk_extent,
)
from hotspots.result import HotspotInputError
from ingest.run import ingest_paths
from tests.conftest import new_database
from tests.sample_data import codepoint_rows, month_file, run_cli, write_csv


def test_knox_table_worked_by_hand():
    """A (0, 0) day 0, B (100, 0) day 1, C (0, 0) day 10, D (1500, 0) day 2. Pairs: AB 100 m
    1 day; AC same place 10 days; AD 1,500 m 2 days; BC 100 m 9 days; BD 1,400 m 1 day;
    CD 1,500 m 8 days. So: same place / 7+ days 1; 1-200 m / 1 day 1; 1-200 m / 7+ 1;
    beyond 1,000 m: 1 day 1, 2 days 1, 7+ 1. Shuffling the days keeps the gaps' multiset
    (1, 10, 2, 9, 1, 8): every shuffle has 2 pairs a day apart, 1 two days apart and 3 a week
    or more, so each column of expected pairs sums to that."""
    xy = np.array([[0, 0], [100, 0], [0, 0], [1500, 0]], dtype=float)
    days = np.array([0, 1, 10, 2])
    knox = knox_test(xy, days, simulations=99, seed=1)
    table = knox.table.set_index(["distance_band", "days_band"])
    observed = table["observed"]
    assert observed.sum() == 6 == knox.pairs
    assert observed[("same place", "7 days or more")] == 1
    assert observed[("1-200 m", "1 day")] == 1
    assert observed[("1-200 m", "7 days or more")] == 1
    assert observed[("more than 1,000 m", "1 day")] == 1
    assert observed[("more than 1,000 m", "2 days")] == 1
    assert observed[("more than 1,000 m", "7 days or more")] == 1
    columns = knox.table.groupby("days_band", sort=False)["expected"].sum()
    # (expected counts are shown to 2 decimals, so their sums may be off by a few 0.01)
    assert columns["1 day"] == pytest.approx(2, abs=0.05)
    assert columns["2 days"] == pytest.approx(1, abs=0.05)
    assert columns["7 days or more"] == pytest.approx(3, abs=0.05) and columns["0 days"] == 0
    assert (knox.table["p_value"] >= 1 / 100).all()
    # the bands: same place, five of 200 m, beyond; days 0..6, a week or more
    assert list(knox.table["distance_band"].unique()) == [
        "same place", "1-200 m", "201-400 m", "401-600 m", "601-800 m", "801-1,000 m",
        "more than 1,000 m"]
    assert list(knox.table["days_band"].unique()) == [
        "0 days", "1 day", "2 days", "3 days", "4 days", "5 days", "6 days",
        "7 days or more"]


def test_knox_observed_counts_match_a_brute_count():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1500, (60, 2))
    days = rng.integers(0, 30, 60)
    knox = knox_test(xy, days, distance=600, distance_step=150, days=10, day_step=3,
                     simulations=9)
    counts: dict = {}
    for i in range(60):
        for j in range(i + 1, 60):
            d = float(np.hypot(*(xy[i] - xy[j])))
            band = 0 if d < 1 else min(int(np.ceil(d / 150)), 5)
            gap = min(abs(int(days[i]) - int(days[j])) // 3, 4)  # 0-2, 3-5, 6-8, 9, 10+
            counts[(band, gap)] = counts.get((band, gap), 0) + 1
    table = knox.table
    dist = {name: k for k, name in enumerate(table["distance_band"].unique())}
    time = {name: k for k, name in enumerate(table["days_band"].unique())}
    assert list(time) == ["0-2 days", "3-5 days", "6-8 days", "9 days", "10 days or more"]
    for _, row in table.iterrows():
        assert row["observed"] == counts.get((dist[row["distance_band"]],
                                              time[row["days_band"]]), 0)


def synthetic(planted: bool, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """600 incidents spread at random over a 5 km square and a year; with `planted`, 120 more,
    each within about 60 m (normal, sd 60 m) and 0-3 days after one of the 600."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 5000, (600, 2))
    days = rng.integers(0, 365, 600)
    if planted:
        seeds = rng.choice(600, 120, replace=False)
        xy = np.vstack([xy, xy[seeds] + rng.normal(0, 60, (120, 2))])
        days = np.concatenate([days, days[seeds] + rng.integers(0, 4, 120)])
    return xy, days


def test_planted_near_repeats_are_found_beyond_chance():
    xy, days = synthetic(planted=True)
    knox = knox_test(xy, days, simulations=999, seed=18)
    table = knox.table.set_index(["distance_band", "days_band"])
    for band in ("0 days", "1 day", "2 days", "3 days"):
        row = table.loc[("1-200 m", band)]
        assert row["p_value"] == pytest.approx(0.001)  # no shuffle of 999 came close
        assert row["knox_ratio"] > 3 and row["significant"]
    assert not table.loc[("1-200 m", "5 days"), "significant"]
    assert risk_extent(knox.table) == (200.0, 4)


def test_a_pattern_free_set_shows_no_near_repeats():
    xy, days = synthetic(planted=False)
    knox = knox_test(xy, days, simulations=999, seed=18)
    table = knox.table.set_index(["distance_band", "days_band"])
    for band in ("0 days", "1 day", "2 days", "3 days"):
        assert not table.loc[("1-200 m", band), "significant"]
        assert table.loc[("1-200 m", band), "p_value"] > 0.05
    # 42 bands tested at 5% give a couple beyond chance by chance alone; none joins the
    # closest bands, so there is no near-repeat pattern and no risk zone
    assert table["significant"].sum() <= 3
    assert risk_extent(knox.table) is None


def test_bad_bands_are_refused():
    xy, days = synthetic(planted=False)
    with pytest.raises(HotspotInputError, match="distance step"):
        knox_test(xy, days, distance=100, distance_step=200)
    with pytest.raises(HotspotInputError, match="day step"):
        knox_test(xy, days, days=7, day_step=0)
    with pytest.raises(HotspotInputError, match="at least 3 incidents"):
        knox_test(xy[:2], days[:2])


def test_police_uk_data_is_refused_plainly(sample_db):
    result = near_repeat(sample_db.engine, "spelthorne", "2023-01", "2023-12",
                         simulations=9)
    assert not result.applies and result.reason == POLICE_REASON
    assert "not the day" in result.reason and "snap point" in result.reason
    assert result.table.empty and result.sentence().startswith("Not applicable")
    assert any("police.uk incidents left out" in note for note in result.notes)
    done = run_cli(["near-repeat", "--area", "spelthorne", "--from", "2023-01", "--to",
                    "2023-12"], sample_db.url)
    assert done.returncode == 1
    assert "does not apply to police.uk data" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.fixture(scope="module")
def council_db(tmp_path_factory):
    """Layers, one police.uk month (2023-06), and a council fly-tipping log for Spelthorne
    with dates and OS grid references: 300 reports at random over the borough and 2023, and
    90 more each within about 50 m and 0-2 days after one of them; plus 4 reports located by
    postcode only. Synthetic (no council publishes its log with dates and locations), seeded,
    written as a council would (day-first dates), and imported through the importer."""
    folder = tmp_path_factory.mktemp("council")
    database = new_database(folder)
    seed_bundled_layers(database.engine)
    land = resolve_area(database.engine, "spelthorne").boundary
    rng = np.random.default_rng(2023)
    minx, miny, maxx, maxy = land.bounds
    spots = []
    while len(spots) < 300:  # whole metres, as a log gives them
        x, y = round(rng.uniform(minx, maxx)), round(rng.uniform(miny, maxy))
        if land.contains(shapely.Point(x, y)):
            spots.append((x, y, int(rng.integers(0, 365))))
    for k in rng.choice(300, 90, replace=False):
        x, y, d = spots[k]
        nx, ny = round(x + rng.normal(0, 50)), round(y + rng.normal(0, 50))
        if land.contains(shapely.Point(nx, ny)) and d + 2 < 365:
            spots.append((nx, ny, d + int(rng.integers(0, 3))))
    rows = []
    for i, (x, y, d) in enumerate(spots):
        when = date(2023, 1, 1) + timedelta(days=d)
        rows.append([f"FT/{i + 1:05d}", when.strftime("%d/%m/%Y"), "Fly-tipping",
                     str(x), str(y), "", "Verge"])
    for i, pc in enumerate(codepoint_rows("TW18 4")[:4]):
        rows.append([f"FT/P{i}", "03/05/2023", "Fly-tipping", "", "", pc["postcode"], ""])
    header = ["Reference", "Date Reported", "Incident Type", "Easting", "Northing",
              "Postcode", "Details"]
    log = write_csv(folder / "spelthorne_flytipping.csv", header, rows)
    report = ingest_paths(database.engine, [log, month_file("2023-06")])
    database.report = report
    database.planted = len(spots)
    database.spots = spots
    yield database
    database.engine.dispose()


def test_near_repeats_in_a_council_log(council_db):
    result = near_repeat(council_db.engine, "spelthorne", "2023-01", "2023-12",
                         ["Fly-tipping"], simulations=999)
    assert result.applies, result.reason
    assert result.knox.incidents == council_db.planted  # every dated, grid-referenced report
    assert any("postcode centroid left out" in note for note in result.notes)
    table = result.table.set_index(["distance_band", "days_band"])
    assert table.loc[("1-200 m", "0 days"), "significant"]
    assert table.loc[("1-200 m", "0 days"), "knox_ratio"] > 3
    radius, window = risk_extent(result.table)
    assert radius >= 200 and 2 <= window <= 7
    zones = result.zones
    assert len(zones) > 0 and (zones["radius_m"] == radius).all()
    dates = [date.fromisoformat(d) for d in zones["date"]]
    until = [date.fromisoformat(d) for d in zones["at_risk_until"]]
    assert all((max(dates) - d).days < window for d in dates)
    assert all((u - d).days == window for d, u in zip(dates, until, strict=True))
    assert zones.geometry.area.iloc[0] == pytest.approx(np.pi * radius ** 2, rel=0.02)
    assert result.sentence().startswith("Near repeats beyond chance")
    # the same seed gives the same answer
    again = near_repeat(council_db.engine, "spelthorne", "2023-01", "2023-12",
                        ["Fly-tipping"], simulations=999)
    assert again.table.equals(result.table)


def test_a_mixed_selection_leaves_police_uk_out_and_says_so(council_db):
    result = near_repeat(council_db.engine, "spelthorne", "2023-06", "2023-06",
                         simulations=99)
    assert result.applies
    assert any("police.uk incidents left out" in note for note in result.notes)
    june = sum(1 for _, _, d in council_db.spots
               if (date(2023, 1, 1) + timedelta(days=d)).month == 6)
    assert result.knox.incidents == june > 3


def test_near_repeat_cli(council_db, tmp_path):
    zones = tmp_path / "zones.geojson"
    done = run_cli(["near-repeat", "--area", "spelthorne", "--from", "2023-01", "--to",
                    "2023-12", "--category", "Fly-tipping", "--simulations", "199",
                    "--zones", str(zones)], council_db.url)
    assert done.returncode == 0, done.stderr
    assert "Knox ratios" in done.stdout and "1-200 m" in done.stdout
    features = json.loads(zones.read_text(encoding="utf-8"))["features"]
    assert features and "at_risk_until" in features[0]["properties"]
    done = run_cli(["near-repeat", "--area", "spelthorne", "--from", "2023-01", "--to",
                    "2023-12", "--category", "Fly-tipping", "--simulations", "99", "--json"],
                   council_db.url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["applies"] and result["parameters"]["simulations"] == 99
    assert len(result["table"]) == 7 * 8

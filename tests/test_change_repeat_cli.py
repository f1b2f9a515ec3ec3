"""The command line for repeat locations, period change and hot spot classification, on the
real sample: the numbers it prints and writes match the stored incidents, bad input fails
with one line and no traceback."""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo.areas import resolve_area
from hotspots.analysis import area_incidents, change_by_cell, classify_periods
from tests.sample_data import run_cli


@pytest.fixture(scope="module")
def spelthorne(sample_db):
    """Spelthorne's stored incidents, 2023-01..2023-12."""
    place = resolve_area(sample_db.engine, "spelthorne")
    return area_incidents(sample_db.engine, place, "2023-01", "2023-12")


def test_repeats_json_matches_the_stored_incidents(sample_db, spelthorne):
    done = run_cli(["repeats", "--area", "spelthorne", "--from", "2023-01", "--to", "2023-12",
                    "--top", "5", "--json"], sample_db.url)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    counts = [r["count"] for r in rows]
    assert counts == sorted(counts, reverse=True)
    top = rows[0]
    at_top = spelthorne[spelthorne["location"] == top["location"]]
    assert len(at_top) >= top["count"]  # one place; the same street name may recur elsewhere
    months = {k: v for k, v in top.items() if k[:2] == "20" and len(k) == 7}
    assert sum(months.values()) == top["count"]
    assert top["location"] == "On or near Matthews Lane"


def test_change_csv_adds_up_to_each_period(sample_db, spelthorne, tmp_path):
    out = tmp_path / "change.csv"
    done = run_cli(["change", "--area", "spelthorne", "--before", "2023-01", "2023-06",
                    "--after", "2023-07", "2023-12", "--cell-size", "100", "--out", str(out)],
                   sample_db.url)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    first_half = spelthorne["month"] <= "2023-06"
    assert sum(int(r["before"]) for r in rows) == int(first_half.sum())
    assert sum(int(r["after"]) for r in rows) == int((~first_half).sum())
    for r in rows[:50]:
        assert int(r["change"]) == int(r["after"]) - int(r["before"])
        assert float(r["p_adjusted"]) >= float(r["p_value"]) - 1e-12
        assert 51.3 < float(r["centroid_lat"]) < 51.5
    assert "cells: no significant change" in done.stdout


def test_classify_writes_every_land_cell(sample_db, tmp_path):
    out = tmp_path / "classes.geojson"
    done = run_cli(["classify", "--area", "runnymede", "--from", "2023-01", "--to", "2023-12",
                    "--out", str(out)], sample_db.url)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    classes = {f["properties"]["category"] for f in doc["features"]}
    assert "persistent hotspot" in classes and "no pattern" in classes
    assert classes <= {"persistent hotspot", "emerging hotspot", "former hotspot",
                       "intermittent hotspot", "persistent coldspot", "emerging coldspot",
                       "former coldspot", "intermittent coldspot", "mixed hot/coldspot",
                       "no pattern"}
    frame = classify_periods(sample_db.engine, "runnymede", "2023-01", "2023-12")
    assert len(doc["features"]) == len(frame)
    assert set(frame["periods"]) == {12}
    persistent = frame[frame["category"] == "persistent hotspot"]
    assert (persistent["hot_periods"] >= 0.8 * 12).all()


def test_change_between_unequal_periods_is_scaled(sample_db):
    frame = change_by_cell(sample_db.engine, "spelthorne", ("2023-01", "2023-09"),
                            ("2023-10", "2023-12"), cell_size=200)
    assert frame.attrs["parameters"]["before_months"] == 9
    assert frame.attrs["parameters"]["after_months"] == 3
    seen = frame[frame["before"] > 0]
    expected = seen["before"] * 3 / 9  # the after period's share at the same monthly rate
    pct = ((seen["after"] - expected) / expected * 100).round(1)
    assert (seen["change_pct"] - pct).abs().max() < 0.051
    assert (frame["change"] == frame["after"] - frame["before"]).all()


@pytest.mark.parametrize(("args", "message"), [
    (["change", "--area", "spelthorne", "--before", "2023-06", "2023-01", "--after",
      "2023-07", "2023-12", "--out", "x.csv"], "the period starts (2023-06) after it ends"),
    (["classify", "--area", "spelthorne", "--from", "2023-01", "--to", "2023-01", "--out",
      "x.geojson"], "needs at least two periods"),
    (["repeats", "--area", "atlantis", "--from", "2023-01", "--to", "2023-02"],
     "no area called 'atlantis'"),
    (["repeats", "--area", "spelthorne", "--from", "2023-1", "--to", "2023-02"],
     "is not a month in YYYY-MM form"),
])
def test_bad_input_fails_in_one_line(sample_db, tmp_path, args, message):
    done = run_cli(args, sample_db.url)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout

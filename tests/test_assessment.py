"""The weighted displacement difference (report/assessment.py): Wheeler's published examples
and a borough-trend case worked by hand, the sentence a JAG member reads, and assessments of
real outlines on the bundled sample (the EXAMPLE PSPOs, an adopted problem location, a ward
file) through the library and the CLI, with their counts checked against the registers' own
count of incidents inside an outline."""

from __future__ import annotations

import json
import math
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.areas import resolve_area
from geo.crs import BNG, WGS84, reproject
from geo.layers import load_layer
from hotspots.analysis import area_incidents, find_hotspots
from hotspots.result import HotspotInputError
from registers.example import seed_example_registers
from registers.place_incidents import place_incidents
from registers.problems import adopt_problem
from registers.pspo import find_order_id, get_order
from report.assessment import (
    Assessment,
    assess_order,
    assess_outline,
    assess_problem,
    assessment_figures,
    counts_table,
    wdd,
    wdq,
    wdq_reading,
)
from tests.sample_data import run_cli

BEFORE, AFTER = ("2023-01", "2023-06"), ("2023-08", "2024-01")


def test_wdd_matches_wheelers_published_calculator_example():
    """Wheeler's WDD calculator (crimede-coder.com, 'Some extensions to the WDD statistic',
    2025): control 100 -> 90, treated 100 -> 80, no displacement areas: the treated area fell
    by 10 more than the control, standard error 19. By hand: WDD = (80 - 100) - (90 - 100) =
    -10; Var = 100 + 80 + 100 + 90 = 370; SE = 19.235; z = -0.520; p = 0.603."""
    result = wdd(100, 80, 100, 90)
    assert result.estimate == -10
    assert result.se == pytest.approx(math.sqrt(370)) == pytest.approx(19.235, abs=1e-3)
    assert result.z == pytest.approx(-0.5199, abs=1e-4)
    assert result.p == pytest.approx(0.6032, abs=1e-4)


def test_wdd_with_displacement_areas_and_area_weights():
    """Wheeler's ptools example (same blog post): pre/post counts treated 207 -> 110, control
    308 -> 318, displacement 178 -> 157, its control 150 -> 140. By hand, unweighted: WDD =
    -97 - 10 + (-21) - (-10) = -118; Var = 207+110+308+318+178+157+150+140 = 1568; SE =
    39.598; z = -2.980. Weighted by area (treated 1.2 km², control 0.9 km²), the local effect
    is the published -91.9 (31.5): (110 - 207)/1.2 - (318 - 308)/0.9 = -80.833 - 11.111 =
    -91.944; Var = 317/1.44 + 626/0.81 = 992.98; SE = 31.51."""
    full = wdd(207, 110, 308, 318, 178, 157, 150, 140)
    assert full.estimate == -118
    assert full.se == pytest.approx(math.sqrt(1568))
    assert full.z == pytest.approx(-2.9800, abs=1e-4)
    local = wdd(207, 110, 308, 318, w_t=1 / 1.2, w_c=1 / 0.9)
    assert round(local.estimate, 1) == -91.9 and round(local.se, 1) == 31.5


def test_borough_trend_figures_worked_by_hand():
    """See report.assessment.assessment_figures: target 60 -> 31, ring 40 -> 44, rest of the
    borough 1000 -> 900. Target -23 (SE 9.891, z -2.325, p 0.0201), ring +8 (SE 9.330, z
    0.857), both -15 (SE 13.928, z -1.077), WDQ -0.348."""
    counts = {"target_before": 60, "target_after": 31, "ring_before": 40, "ring_after": 44,
              "control_before": 1000, "control_after": 900}
    local, ring, both, quotient = assessment_figures(counts)
    assert local.estimate == pytest.approx(-23)
    assert local.se == pytest.approx(9.8914, abs=1e-4)
    assert local.z == pytest.approx(-2.3252, abs=1e-4)
    assert local.p == pytest.approx(0.0201, abs=1e-4)
    assert ring.estimate == pytest.approx(8) and ring.se == pytest.approx(9.3295, abs=1e-4)
    assert both.estimate == pytest.approx(-15) and both.se == pytest.approx(13.9284, abs=1e-4)
    assert both.z == pytest.approx(-1.0769, abs=1e-4)
    assert quotient == pytest.approx(-0.3478, abs=1e-4)
    assert wdq_reading(quotient) == "some displacement next door, less than the target gained"
    # the same control at the target's own size is Bowers & Johnson's total net effect, negated
    tne = (60 * 900 / 1000 - 31) + (40 * 900 / 1000 - 44)
    assert both.estimate == pytest.approx(-tne)
    assessment = Assessment(
        "Church Street", "Spelthorne", "the rest of Spelthorne", BEFORE, AFTER, 6, 250.0, [],
        counts, local, ring, both, quotient, gpd.GeoDataFrame(geometry=[], crs=WGS84))
    assert assessment.expected_target == pytest.approx(54)
    assert assessment.sentence() == (
        "Church Street fell from 60 to 31, 23 fewer than the borough's trend would predict "
        "(54), more than chance would explain; no sign it moved next door (within 250 m: 44 "
        "after, 36 expected). Counting the ring too: 15 fewer than the trend would predict, "
        "within normal variation.")


def test_a_rise_next_to_a_rise_is_not_called_displacement():
    """Target 175 -> 251 and ring 114 -> 177 while the rest rose 3131 -> 3337 (the EXAMPLE
    Addlestone order's counts): both rose beyond the trend (ring: 177 against 121.5
    expected, z = 55.50 / sqrt(291 + (114/3131)² x 6468) = 55.50 / 17.31 = 3.21), so the
    sentence says the area around rose as well, not that crime moved next door."""
    counts = {"target_before": 175, "target_after": 251, "ring_before": 114,
              "ring_after": 177, "control_before": 3131, "control_after": 3337}
    local, ring, both, quotient = assessment_figures(counts)
    assert ring.estimate == pytest.approx(177 - 114 * 3337 / 3131)
    assert ring.z == pytest.approx(3.207, abs=0.001) and quotient is None
    assessment = Assessment(
        "Addlestone", "Runnymede", "the rest of Runnymede", BEFORE, AFTER, 6, 250.0, [],
        counts, local, ring, both, quotient, gpd.GeoDataFrame(geometry=[], crs=WGS84))
    sentence = assessment.sentence()
    assert sentence.startswith("Addlestone rose from 175 to 251, 64 more than the borough's "
                               "trend would predict (187), more than chance would explain")
    assert "within 250 m around it, 55 more than the trend would predict as well" in sentence
    assert "moved next door" not in sentence


def test_wdq_is_read_only_when_the_target_fell_against_the_control():
    assert wdq(50, 60, 1000, 1000, 30, 20) is None  # the target rose
    assert wdq(60, 30, 1000, 1000, 40, 20) == pytest.approx(1 / 1.5)  # ring fell too
    assert wdq_reading(2.0).startswith("the benefit spread next door")
    assert wdq_reading(0.0) == "no displacement and no spread of benefit"
    assert wdq_reading(-2.0) == "more moved next door than the target gained"
    assert wdq_reading(None).startswith("not read")


@pytest.fixture(scope="module")
def registers_db(sample_db):
    """The sample with the EXAMPLE PSPO register (as `hotspots setup` loads it)."""
    seed_example_registers(sample_db.engine)
    return sample_db


def months_of(by_month, period: tuple[str, str]) -> int:
    """Incidents of the registers' month table within a (from, to) period."""
    rows = by_month[(by_month["month"] >= period[0]) & (by_month["month"] <= period[1])]
    return int(rows["All crime and ASB"].sum())


def test_assessing_a_pspo_on_the_sample(registers_db):
    engine = registers_db.engine
    result = assess_order(engine, "EXAMPLE-RBC-PSPO-1", BEFORE, AFTER)
    order = get_order(engine, find_order_id(engine, "EXAMPLE-RBC-PSPO-1"))
    # the registers' own count of incidents inside the order's area, month by month
    inside = place_incidents(engine, order.order["area_code"], order.area, date(2023, 7, 3))
    assert result.counts["target_before"] == months_of(inside.by_month, BEFORE)
    assert result.counts["target_after"] == months_of(inside.by_month, AFTER)
    # target, ring and the rest of the borough share out the borough's incidents
    borough = resolve_area(engine, "runnymede")
    ring = result.outlines.to_crs(BNG).set_index("part").geometry["ring"]
    assert ring.difference(borough.boundary).area < 1.0
    points = area_incidents(engine, borough, BEFORE[0], AFTER[1])
    for when, period in (("before", BEFORE), ("after", AFTER)):
        in_period = points["month"].between(*period).sum()
        assert sum(result.counts[f"{part}_{when}"] for part in ("target", "ring", "control")
                   ) == in_period
    assert result.control == "the rest of Runnymede" and result.months == 6
    assert result.expected_target == pytest.approx(
        result.counts["target_before"] * result.counts["control_after"]
        / result.counts["control_before"])
    figures = result.to_dict()
    assert set(figures) >= {"counts", "wdd", "local", "ring", "wdq", "sentence"}
    assert figures["wdd"]["estimate"] == pytest.approx(
        result.local.estimate + result.ring.estimate, abs=1e-3)
    assert result.sentence().startswith("EXAMPLE-RBC-PSPO-1 (EXAMPLE: Addlestone")
    assert "trend would predict" in result.sentence()
    table = counts_table(result)
    assert table["before"].tolist() == [result.counts[f"{p}_before"]
                                        for p in ("target", "ring", "control")]


def test_assessing_an_adopted_problem_location(registers_db):
    engine = registers_db.engine
    top = find_hotspots(engine, "spelthorne", "2023-01", "2023-06", ["Shoplifting"]).hotspots
    outline = reproject(top.geometry.iloc[0], BNG, WGS84)
    problem_id = adopt_problem(engine, area="spelthorne", name="Shoplifting square 1",
                               geometry=outline, objective="Fewer shop thefts",
                               origin="hotspot 1", adopted_on=date(2023, 7, 1),
                               recorded_by="test")
    result = assess_problem(engine, problem_id, ("2023-01", "2023-06"),
                            ("2023-07", "2023-12"), ring_m=100, categories=["Shoplifting"])
    inside = place_incidents(engine, "E07000213", outline, date(2023, 7, 1), ["Shoplifting"])
    assert result.counts["target_before"] == months_of(inside.by_month,
                                                       ("2023-01", "2023-06")) > 0
    assert result.counts["target_after"] == months_of(inside.by_month, ("2023-07", "2023-12"))
    assert result.ring_m == 100 and result.categories == ["Shoplifting"]
    assert result.sentence().startswith("Shoplifting square 1 ")


def test_assessing_a_map_file_against_a_named_control(registers_db, tmp_path):
    engine = registers_db.engine
    wards = load_layer(engine, "ward", "E07000213").set_index("name")
    staines = wards.loc[["Staines"]].reset_index()
    path = tmp_path / "staines.geojson"
    staines.to_file(path, driver="GeoJSON")
    done = run_cli(["assess", "--area", "spelthorne", "--file", str(path), "--before",
                    "2023-01", "2023-06", "--after", "2023-07", "2023-12", "--control",
                    "Ashford Town", "--crime-type", "Anti-social behaviour", "--json"],
                   registers_db.url)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["control"] == "Ashford Town (ward)"
    # the control is the Ashford Town ward less anything within 250 m of Staines ward
    ashford = gpd.GeoSeries([wards.loc["Ashford Town"].geometry], crs=WGS84).to_crs(BNG)
    place = resolve_area(engine, "spelthorne")
    asb = area_incidents(engine, place, "2023-01", "2023-06", ["Anti-social behaviour"])
    shape = ashford.iloc[0].difference(
        reproject(staines.geometry.iloc[0], WGS84, BNG).buffer(250))
    inside = shapely.intersects_xy(shape, asb["easting"], asb["northing"])
    assert figures["counts"]["control_before"] == int(inside.sum())
    assert figures["sentence"].endswith(".")


def test_assess_cli_prints_the_figures_and_the_sentence(registers_db):
    done = run_cli(["assess", "--area", "runnymede", "--pspo", "EXAMPLE-RBC-PSPO-1",
                    "--before", *BEFORE, "--after", *AFTER, "--ring", "300"], registers_db.url)
    assert done.returncode == 0, done.stderr
    assert "WDD (target and ring)" in done.stdout and "ring of 300 m" in done.stdout
    assert "SE" in done.stdout and "WDQ" in done.stdout
    assert "trend would predict" in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--pspo", "EXAMPLE-RBC-PSPO-1", "--before", "2023-01", "2023-06", "--after", "2023-07",
      "2023-11"], "the same length: 6 and 5 months"),
    (["--pspo", "EXAMPLE-RBC-PSPO-1", "--before", "2023-01", "2023-06", "--after", "2023-04",
      "2023-09"], "must end before the after period starts"),
    (["--before", "2023-01", "2023-06", "--after", "2023-07", "2023-12"],
     "give one of --problem NAME, --pspo REF or --file MAP"),
    (["--pspo", "NO-SUCH", "--before", "2023-01", "2023-06", "--after", "2023-07", "2023-12"],
     "no order with reference 'NO-SUCH'"),
    (["--pspo", "EXAMPLE-RBC-PSPO-1", "--before", "2023-01", "2023-06", "--after", "2023-07",
      "2023-12", "--control", "Atlantis"], "no control area called 'Atlantis'"),
])
def test_assess_refuses_in_one_line(registers_db, args, message):
    done = run_cli(["assess", "--area", "runnymede", *args], registers_db.url)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_ring_must_be_a_distance(registers_db):
    square = shapely.box(503000, 171000, 503200, 171200)
    with pytest.raises(HotspotInputError, match="the ring must be between 0 and 5,000"):
        assess_outline(registers_db.engine, "spelthorne", square, "square", BEFORE, AFTER,
                       ring_m=-5)
    result = assess_outline(registers_db.engine, "spelthorne", square, "square", BEFORE,
                            AFTER)
    assert result.target == "square" and result.area == "Spelthorne"


def test_the_app_chooses_equal_periods_around_when_the_response_began():
    """views.trends.default_periods: the after period starts in the month the location was
    adopted (or the order made) when months are loaded on both sides, as long as both sides
    allow (6 months at most); else the latest months against those before, saying why."""
    from views.trends import default_periods

    months = [str(m) for m in pd.period_range("2022-01", "2024-01", freq="M")
              if str(m) != "2022-12"]
    assert default_periods(months, "2023-08") == ("2023-08", 6, "")
    assert default_periods(months, "2023-11") == ("2023-11", 3, "")  # Nov, Dec, Jan loaded
    assert default_periods(months, "2022-03") == ("2022-03", 2, "")  # Jan, Feb before it
    start, n, why = default_periods(months, "2026-11")
    assert (start, n) == ("2023-08", 6)
    assert why == "it began in Nov 2026, after the latest month loaded (Jan 2024)"
    start, n, why = default_periods(months, "2021-05")
    assert (start, n) == ("2023-08", 6) and "before the first month loaded (Jan 2022)" in why

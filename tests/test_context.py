"""Hotspots in context on the real sample: wards, town centres, the Thames frontage, PSPO
areas, concentration, and the JAG's period comparison checked against counts taken straight
from the raw police.uk CSVs (read with the csv module, located with pyproj and shapely)."""

from __future__ import annotations

import json
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo.areas import resolve_area
from geo.crs import BNG
from geo.joins import attribute_incidents, context_layers
from geo.layers import add_layer_file, load_layer
from hotspots.analysis import area_incidents, find_hotspots
from report.compare import jag_comparison, parse_targets
from report.concentration import concentration, generalised_gini, gini
from report.summary import incident_summary
from tests.sample_data import (
    BOUNDARIES,
    SAMPLE,
    SPELTHORNE,
    has_coordinates,
    police_dicts,
    run_cli,
)

TO_WGS = Transformer.from_crs(BNG, 4326, always_xy=True)
TO_BNG = Transformer.from_crs(4326, BNG, always_xy=True)


@pytest.fixture(scope="module")
def spelthorne_outline() -> shapely.Geometry:
    """Spelthorne's boundary from the bundled file, in BNG, read without the product."""
    lads = gpd.read_file(BOUNDARIES / "lad_2013_sample.geojson")
    return lads[lads["LAD13CD"] == SPELTHORNE].to_crs(BNG).geometry.iloc[0]


def raw_points(months: list[str], outline) -> pd.DataFrame:
    """Raw police.uk rows of the months that lie inside the outline, as BNG points."""
    rows = [r for m in months for r in police_dicts(m) if has_coordinates(r)]
    x, y = TO_BNG.transform([float(r["Longitude"]) for r in rows],
                            [float(r["Latitude"]) for r in rows])
    frame = pd.DataFrame({"month": [r["Month"] for r in rows],
                          "category": [r["Crime type"] for r in rows], "x": x, "y": y})
    return frame[shapely.contains_xy(outline, frame["x"], frame["y"])].reset_index(drop=True)


def test_every_incident_of_a_month_is_in_exactly_one_ward(sample_db, spelthorne_outline):
    place = resolve_area(sample_db.engine, "Spelthorne")
    points = area_incidents(sample_db.engine, place, "2024-01", "2024-01")
    attributed = attribute_incidents(points, context_layers(sample_db.engine, place))

    assert len(attributed) == len(raw_points(["2024-01"], spelthorne_outline)) == 835
    assert (attributed["ward_code"] != "").all()
    wards = load_layer(sample_db.engine, "ward", SPELTHORNE).to_crs(BNG)
    # independently: how many ward polygons contain or touch each point
    hits = np.zeros(len(points), dtype=int)
    for polygon in wards.geometry:
        hits += shapely.intersects_xy(polygon, points["easting"], points["northing"])
    assert (hits >= 1).all()
    by_ward = attributed["ward_code"].value_counts()
    assert by_ward.sum() == 835 and set(by_ward.index) <= set(wards["code"])
    inside = {code: int(shapely.contains_xy(poly, points["easting"], points["northing"]).sum())
              for code, poly in zip(wards["code"], wards.geometry, strict=True)}
    # points strictly inside a ward are counted in that ward, and only there
    for code, count in inside.items():
        assert count <= by_ward.get(code, 0)
    assert sum(inside.values()) + int((hits > 1).sum()) >= 835


def test_staines_town_centre_summary_is_non_empty_and_adds_up(sample_db):
    result = incident_summary(sample_db.engine, "Spelthorne", "town-centre", "2023-02", "2024-01")
    table = result.table
    staines = table[(table["unit"] == "Staines-upon-Thames")
                    & (table["crime_type"] == "All crime and ASB")].iloc[0]
    assert staines["incidents"] > 1000  # "the main crime hotspot for the borough"
    assert "Approximate: 400 m around TW18 4DR" in staines["note"]
    assert any("not the council's boundaries" in n for n in result.notes)
    for crime_type, total in result.totals.items():
        rows = table[table["crime_type"] == crime_type]
        assert rows["incidents"].sum() == total, crime_type
        assert rows["share_of_area_pct"].sum() == pytest.approx(100, abs=0.3)
    assert result.totals["All crime and ASB"] == 9605
    # the approximation is a 400 m circle: about 0.50 km² of land
    assert staines["land_km2"] == pytest.approx(np.pi * 0.4 ** 2, rel=0.05)
    assert staines["per_km2"] == pytest.approx(staines["incidents"] / staines["land_km2"],
                                               rel=1e-3)


def test_thames_frontage_summary_matches_distances_measured_independently(
        sample_db, spelthorne_outline):
    result = incident_summary(sample_db.engine, "Spelthorne", "river", "2023-02", "2024-01")
    table = result.table.set_index(["unit", "crime_type"])["incidents"]
    frontage_label = "River frontage (within 50 m of the water)"
    on = table[frontage_label, "All crime and ASB"]
    away = table["Away from the river", "All crime and ASB"]

    raw = raw_points([f"2023-{m:02d}" for m in range(2, 13)] + ["2024-01"], spelthorne_outline)
    thames = gpd.read_file(SAMPLE / "water" / "thames_sample.geojson").to_crs(BNG)
    water = shapely.union_all(thames.geometry.to_numpy())
    distance = shapely.distance(water, shapely.points(raw["x"], raw["y"]))
    assert on > 100 and on + away == len(raw) == 9605
    # police.uk coordinates are rounded to 6 decimals; allow points within 0.5 m of the line
    assert abs(on - int((distance <= 50).sum())) <= int((np.abs(distance - 50) < 0.5).sum())

    wider = incident_summary(sample_db.engine, "Spelthorne", "river", "2023-02", "2024-01",
                             frontage_m=200)
    assert wider.table.iloc[0]["incidents"] > on
    assert wider.table.iloc[0]["unit"] == "River frontage (within 200 m of the water)"


PREVIOUS_YEAR = [f"2022-{m:02d}" for m in range(2, 12)] + ["2023-01"]  # 2022-12 missing
CURRENT_YEAR = [f"2023-{m:02d}" for m in range(2, 13)] + ["2024-01"]


def test_comparison_for_2024_01_matches_the_raw_csvs(sample_db, spelthorne_outline):
    raw = raw_points([*PREVIOUS_YEAR, *CURRENT_YEAR], spelthorne_outline)

    rolling = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", 12,
                             targets=parse_targets(["*=reduce:5"]))
    assert rolling.previous == ("2022-02", "2023-01")
    # 2022-12 is not in the sample: 2023-12 is dropped with it, 11 pairs compared, like for like
    assert rolling.coverage == {"current": [], "previous": ["2022-12"]}
    assert not rolling.complete and rolling.comparable and rolling.months_compared == 11
    assert [c for c, _, _ in rolling.pairs.dropped] == ["2023-12"]
    now = [m for m in CURRENT_YEAR if m != "2023-12"]
    before = [m for m in PREVIOUS_YEAR]
    assert rolling.pairs.current_months == now and rolling.pairs.previous_months == before
    current = Counter(raw.loc[raw["month"].isin(now), "category"])
    previous = Counter(raw.loc[raw["month"].isin(before), "category"])
    table = rolling.table.set_index("crime_type")
    assert table.loc["All crime and ASB", "current"] == sum(current.values()) == 8812
    assert table.loc["All crime and ASB", "previous"] == sum(previous.values())
    for crime_type in set(current) | set(previous):
        row = table.loc[crime_type]
        assert (row["current"], row["previous"]) == (current[crime_type],
                                                    previous[crime_type]), crime_type
        pct = 100 * (current[crime_type] - previous[crime_type]) / previous[crime_type]
        assert row["change_pct"] == pytest.approx(pct, abs=0.05)
        assert row["rag"] == ("Green" if pct <= -5 else "Amber" if pct <= 0 else "Red")
        assert row["months_compared"] == 11
        assert row["months_dropped"] == "2023-12 (no data for 2022-12)"
        direction = "rose" if pct > 0 else "fell"
        assert row["reading"].startswith(direction), row["reading"]
        chance = "more than chance" if row["p_value"] < 0.05 else "within normal variation"
        assert chance in row["reading"] and row["significant"] == (row["p_value"] < 0.05)
    # a change and a RAG on every line
    assert rolling.table["change"].notna().all() and (rolling.table["rag"] != "").all()
    assert any("11 of 12 months compared" in n and "2023-12 (no data for 2022-12)" in n
               for n in rolling.notes)

    six = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", 6,
                         targets=parse_targets(["*=reduce:5", "Shoplifting=reduce:10"]))
    assert six.complete and six.previous == ("2023-02", "2023-07")
    assert six.months_compared == 6 and (six.table["months_dropped"] == "").all()
    after = Counter(raw.loc[raw["month"] >= "2023-08", "category"])
    before = Counter(raw.loc[raw["month"].between("2023-02", "2023-07"), "category"])
    by_type = six.table.set_index("crime_type")
    for crime_type in after:
        row = by_type.loc[crime_type]
        assert (row["current"], row["previous"]) == (after[crime_type], before[crime_type])
        pct = 100 * (after[crime_type] - before[crime_type]) / before[crime_type]
        assert row["change_pct"] == pytest.approx(pct, abs=0.05)
        limit = 10 if crime_type == "Shoplifting" else 5
        expected = "Green" if pct <= -limit else "Amber" if pct <= 0 else "Red"
        assert row["rag"] == expected, crime_type
    assert by_type.loc["Shoplifting", "target"] == "reduce by 10%"


@pytest.mark.parametrize("area", ["Spelthorne", "Runnymede", "Woking"])
def test_the_twelve_month_comparison_gives_change_and_rag_on_every_line(sample_db, area):
    result = jag_comparison(sample_db.engine, area, "2024-01",
                            targets=parse_targets(["*=reduce:0"]))
    assert result.comparable and result.months_compared == 11
    table = result.table
    assert len(table) == 15  # all crime and the 14 police.uk types
    assert table["change"].notna().all() and table["change_pct"].notna().all()
    assert table["rag"].isin(["Green", "Amber", "Red"]).all()
    assert (table["note"] == "").all()


def test_too_few_months_to_compare_gives_na_with_the_reason(sample_db, spelthorne_outline):
    # 13 months to 2023-01 against the 13 before: only 2022-01..2022-11 and 2023-01 of the
    # current period have data and nothing before 2022-01 does, so nothing can be compared
    nothing = jag_comparison(sample_db.engine, "Spelthorne", "2023-01", 13,
                             targets=parse_targets(["*=reduce:5"]))
    assert nothing.months_compared == 0 and not nothing.comparable
    assert nothing.table["change"].isna().all() and (nothing.table["rag"] == "").all()
    assert nothing.table["reading"].str.startswith("not compared: only 0 of 13").all()
    assert any("Only 0 of 13 months" in n and "three quarters" in n for n in nothing.notes)
    # 3 months to 2023-02 against 2022-09..2022-11: 2022-12 dropped, 2 of 3 compared: short
    # of three quarters (3 needed), so NA, and the counts are of every month loaded
    short = jag_comparison(sample_db.engine, "Spelthorne", "2023-02", 3)
    assert short.pairs.needed == 3 and short.months_compared == 2 and not short.comparable
    raw = raw_points(["2022-09", "2022-10", "2022-11", "2023-01", "2023-02"],
                     spelthorne_outline)
    total = short.table.set_index("crime_type").loc["All crime and ASB"]
    assert total["current"] == int(raw["month"].isin(["2023-01", "2023-02"]).sum())
    assert total["previous"] == int(raw["month"].isin(["2022-09", "2022-10", "2022-11"]).sum())
    assert total["change"] is None or total["change"] != total["change"]
    assert "only 2 of 3 months can be compared" in total["note"]
    # 4 months to 2023-03: 3 of 4 comparable, exactly three quarters: compared
    enough = jag_comparison(sample_db.engine, "Spelthorne", "2023-03", 4)
    assert enough.months_compared == 3 and enough.comparable
    assert enough.table["change"].notna().all()


def test_comparison_by_ward_adds_up_to_the_borough(sample_db):
    whole = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", 6).table
    wards = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", 6, by="ward").table
    assert wards["unit"].nunique() == 13
    for column in ("current", "previous"):
        summed = wards.groupby("crime_type")[column].sum()
        expected = whole.set_index("crime_type")[column]
        assert summed.reindex(expected.index).tolist() == expected.tolist()


def test_since_last_jag_compares_with_the_same_months_a_year_before(sample_db,
                                                                    spelthorne_outline):
    result = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", since="2023-12")
    assert result.current == ("2023-12", "2024-01")
    assert result.previous == ("2022-12", "2023-01")
    assert result.coverage == {"current": [], "previous": ["2022-12"]}
    # 1 of 2 months comparable: below three quarters, so NA with the reason
    assert result.months_compared == 1 and not result.comparable
    assert any("Only 1 of 2 months" in n and "2022-12" in n for n in result.notes)
    total = result.table.set_index("crime_type").loc["All crime and ASB"]
    assert (total["current"], total["previous"]) == (793 + 835, 843)
    # since 2023-09: 2023-12 is dropped with 2022-12, 4 of 5 compared, like for like
    later = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", since="2023-09")
    assert later.previous == ("2022-09", "2023-01") and later.comparable
    assert later.pairs.compared == (("2023-09", "2022-09"), ("2023-10", "2022-10"),
                                    ("2023-11", "2022-11"), ("2024-01", "2023-01"))
    raw = raw_points(["2022-09", "2022-10", "2022-11", "2023-01", "2023-09", "2023-10",
                      "2023-11", "2024-01"], spelthorne_outline)
    total = later.table.set_index("crime_type").loc["All crime and ASB"]
    assert total["current"] == int(raw["month"].isin(["2023-09", "2023-10", "2023-11",
                                                      "2024-01"]).sum())
    assert total["previous"] == int(raw["month"].isin(["2022-09", "2022-10", "2022-11",
                                                       "2023-01"]).sum())
    assert total["months_compared"] == 4 and total["change"] == total["current"] - \
        total["previous"]


def test_comparison_by_ward_gives_rates_per_1000_residents(populated_db):
    result = jag_comparison(populated_db.engine, "Spelthorne", "2024-01", by="ward")
    wards = load_layer(populated_db.engine, "ward", SPELTHORNE)
    residents = dict(zip(wards["name"], wards["population"], strict=True))
    table = result.table[result.table["crime_type"] == "All crime and ASB"]
    assert table["population"].notna().all() and len(table) == 13
    for row in table.itertuples():
        assert row.population == residents[row.unit]
        assert row.current_per_1000 == pytest.approx(1000 * row.current / row.population,
                                                     abs=0.005)
        assert row.previous_per_1000 == pytest.approx(1000 * row.previous / row.population,
                                                      abs=0.005)
    assert table["population"].sum() == 102954  # Census 2021: Spelthorne's residents
    assert any("per 1,000 residents" in n and "best fit" in n for n in result.notes)
    borough = jag_comparison(populated_db.engine, "Spelthorne", "2024-01").table.iloc[0]
    assert borough["population"] == 102954


def test_concentration_shares_and_gini(sample_db):
    place = resolve_area(sample_db.engine, "Spelthorne")
    points = area_incidents(sample_db.engine, place, "2023-02", "2024-01")
    table = concentration(points, place.land, 100).set_index("crime_type")
    everything = table.loc["All crime and ASB"]
    assert everything["incidents"] == len(points) == 9605
    assert 0 < everything["top_1pct_share"] < everything["top_5pct_share"] \
        < everything["top_10pct_share"] <= 1
    # independently: counts per 100 m cell of the whole grid, busiest 1% of land cells
    assert everything["cells"] == pytest.approx(place.land.area / 100 ** 2, rel=0.03)
    k = int(np.ceil(0.01 * everything["cells"]))
    keys = Counter(zip(np.floor(points["easting"] / 100), np.floor(points["northing"] / 100),
                       strict=True))
    busiest = sum(sorted(keys.values(), reverse=True)[:k])
    assert everything["top_1pct_share"] == pytest.approx(busiest / len(points), abs=1e-9)
    assert table["incidents"].drop("All crime and ASB").sum() == 9605


def test_gini_definitions():
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0)
    assert gini(np.array([0, 0, 0, 12])) == pytest.approx(0.75)  # (n - 1) / n at most
    # three incidents in 100 cells, each in its own cell: as even as possible
    spread = np.r_[np.ones(3), np.zeros(97)]
    assert gini(spread) == pytest.approx(0.97)
    assert generalised_gini(spread) == pytest.approx(0)
    assert generalised_gini(np.r_[3, np.zeros(99)]) == pytest.approx(1)


def test_hotspots_carry_their_ward_town_centre_river_and_pspo(sample_db):
    report = find_hotspots(sample_db.engine, "Spelthorne", "2023-02", "2024-01")
    top = report.hotspots.sort_values("rank").iloc[0]
    assert top["ward"] == "Staines" and top["town_centre"] == "Staines-upon-Thames"
    thames = gpd.read_file(SAMPLE / "water" / "thames_sample.geojson").to_crs(BNG)
    water = shapely.union_all(thames.geometry.to_numpy())
    measured = shapely.distance(water, report.hotspots.geometry.to_numpy())
    assert report.hotspots["water_distance_m"].to_numpy() == pytest.approx(measured, abs=0.06)
    assert (report.hotspots["river_frontage"] == (measured <= 50)).all()
    assert set(report.incidents.columns) >= {"ward", "lsoa", "town_centre", "water_distance_m",
                                             "river_frontage", "pspo"}


@pytest.fixture
def pspo_file(tmp_path, layers_db):
    """A PSPO layer drawn on a real outline: Spelthorne's Staines ward, saved in BNG as a
    GeoPackage (no PSPO maps are published as data for the sample boroughs)."""
    wards = load_layer(layers_db.engine, "ward", SPELTHORNE)
    staines = wards[wards["name"] == "Staines"][["geometry"]].to_crs(BNG)
    staines["name"] = "Staines alcohol PSPO (test outline: Staines ward)"
    staines["reference"] = "PSPO-TEST-1"
    path = tmp_path / "pspo.gpkg"
    staines.to_file(path, driver="GPKG")
    return path


def test_pspo_layer_upload_summary_and_no_doubling(sample_db, pspo_file):
    first = add_layer_file(sample_db.engine, "pspo", pspo_file)
    again = add_layer_file(sample_db.engine, "pspo", pspo_file)
    assert len(first.features) == len(again.features) == 1
    stored = load_layer(sample_db.engine, "pspo")
    assert stored["code"].tolist() == ["PSPO-TEST-1"] and stored["parent_code"].tolist() == [
        SPELTHORNE]
    result = incident_summary(sample_db.engine, "Spelthorne", "pspo", "2023-02", "2024-01")
    table = result.table[result.table["crime_type"] == "All crime and ASB"].set_index("unit")
    wards = incident_summary(sample_db.engine, "Spelthorne", "ward", "2023-02", "2024-01").table
    staines = wards[(wards["unit"] == "Staines") & (wards["crime_type"] == "All crime and ASB")]
    inside = table.loc["Staines alcohol PSPO (test outline: Staines ward)", "incidents"]
    # the order's outline is the ward's: the same incidents, give or take those on its edge
    assert abs(inside - staines["incidents"].iloc[0]) <= 5 and inside > 1000
    assert inside + table.loc["Outside any PSPO", "incidents"] == 9605


@pytest.fixture(scope="module")
def populated_db(sample_db):
    """The module's sample database with the bundled Census 2021 populations loaded, as
    `hotspots setup` loads them."""
    from geo.population import load_census_population

    load_census_population(sample_db.engine)
    return sample_db


def test_cli_summary_and_compare_json(sample_db, tmp_path):
    done = run_cli(["summary", "--area", "spelthorne", "--by", "ward", "--from", "2024-01",
                    "--to", "2024-01", "--json"], sample_db.url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["totals"]["All crime and ASB"] == 835
    all_rows = [r for r in result["rows"] if r["crime_type"] == "All crime and ASB"]
    assert sum(r["incidents"] for r in all_rows) == 835 and len(all_rows) == 13

    done = run_cli(["compare", "--area", "Spelthorne", "--to", "2024-01", "--months", "6",
                    "--by", "town-centre", "--target", "*=reduce:5", "--json"], sample_db.url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["complete"] and result["current"] == ["2023-08", "2024-01"]
    assert result["months"]["months_compared"] == 6 and result["comparable"]
    assert result["currency"]["latest_month"] == "2024-01"
    units = {r["unit"] for r in result["rows"]}
    assert units == {"Ashford", "Shepperton", "Staines-upon-Thames", "Rest of Spelthorne"}
    assert {r["rag"] for r in result["rows"] if r["previous"]} <= {"Green", "Amber", "Red"}


def test_cli_refuses_a_bad_target_without_traceback(sample_db):
    for bad in ("Burglary=lower:10", "Burglary=reduce:150", "reduce:10"):
        done = run_cli(["compare", "--area", "Spelthorne", "--to", "2024-01", "--target", bad],
                       sample_db.url)
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert "target" in done.stderr.lower()


def test_targets_file_rows_set_aside_with_reasons(tmp_path):
    from report.compare import read_targets_csv

    path = tmp_path / "targets.csv"
    path.write_text("crime_type,direction,percent,unit\nBurglary,reduce,10,\n"
                    "Shoplifting,lower,5,\nDrugs,increase,ten,\n,reduce,5,\n"
                    "Burglary,reduce,20,Staines\n", encoding="utf-8")
    targets, rejected = read_targets_csv(path)
    assert {k: str(v) for k, v in targets.items()} == {
        "Burglary": "reduce by 10%", "Staines/Burglary": "reduce by 20%"}
    assert rejected[["row", "column"]].values.tolist() == [[3, "direction"], [4, "percent"],
                                                           [5, "crime_type"]]
    assert all(rejected["file"] == "targets.csv")

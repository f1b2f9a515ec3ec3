"""Census 2021 residents on the bundled 2011 LSOAs (geo.population): the bundled extract is the
shared file's rows for the three boroughs; matching by code, best fit for the 2021 codes that
changed (checked against the raw police.uk rows and the polygons), ward and borough sums, rates
per 1,000 residents in the summaries, bad files, and `hotspots setup` saying how they matched."""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer

from geo.layers import LayerError, load_layer
from geo.population import (
    BEST_FIT_NOTE,
    CENSUS_SAMPLE,
    load_census_population,
    population_note,
    read_census,
)
from report.summary import incident_summary
from tests.sample_data import BOUNDARIES, SAMPLE, SPELTHORNE, police_dicts, run_cli

TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
BOROUGHS = {"E07000213": ("Spelthorne", 102954), "E07000212": ("Runnymede", 88084),
            "E07000217": ("Woking", 103945)}  # residents as the shared PROVENANCE.md states
# 2021 LSOAs whose codes are not 2011 codes, and the 2011 LSOAs they replaced (ONS's 2011 to
# 2021 changes for these boroughs: two splits in Woking, one in Spelthorne, one merge)
SPLITS = {"E01030736": ["E01034291", "E01034292"], "E01030993": ["E01034294", "E01034295"],
          "E01030973": ["E01034296", "E01034297"]}
MERGED = ("E01034293", ["E01030982", "E01030985"])


def census_rows() -> dict[str, int]:
    """The bundled census extract read with the csv module: code -> residents."""
    with CENSUS_SAMPLE.open(encoding="utf-8", newline="") as handle:
        return {r["lsoa21_code"]: int(r["usual_residents"]) for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def match(sample_db):
    return load_census_population(sample_db.engine)


def test_the_bundled_extract_is_as_its_provenance_says():
    rows = census_rows()
    assert len(rows) == 175
    provenance = (SAMPLE / "PROVENANCE.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(CENSUS_SAMPLE.read_bytes()).hexdigest()
    assert digest in provenance
    with CENSUS_SAMPLE.open(encoding="utf-8", newline="") as handle:
        names = {r["lsoa21_code"]: r["lsoa21_name"] for r in csv.DictReader(handle)}
    for name, total in BOROUGHS.values():
        mine = [c for c, n in names.items() if n.startswith(f"{name} ")]
        assert sum(rows[c] for c in mine) == total, name


def test_lsoas_matched_by_code_and_by_best_fit(sample_db, match):
    rows = census_rows()
    lsoas = load_layer(sample_db.engine, "lsoa")
    residents = dict(zip(lsoas["code"], lsoas["population"], strict=True))
    assert len(match.by_code) == 168 and match.census_by_best_fit() == 7
    assert match.unmatched == [] and match.without_population == []
    assert lsoas["population"].notna().all() and len(lsoas) == 173
    for code in match.by_code:
        assert residents[code] == rows[code]
    for old, new in SPLITS.items():  # a split: the 2011 polygon gets both halves
        assert residents[old] == sum(rows[c] for c in new)
        assert [c for c, _ in match.best_fit[old]] == new
    merged, parts = MERGED  # a merge: shared by where its police.uk points fall
    shares = {old: dict(match.best_fit[old])[merged] for old in parts}
    assert sum(shares.values()) == pytest.approx(1.0, abs=0.002)
    assert sum(residents[old] for old in parts) == pytest.approx(rows[merged], abs=1)
    notes = dict(zip(lsoas["code"], lsoas["note"], strict=True))
    for old in [*SPLITS, *parts]:
        assert notes[old].startswith(BEST_FIT_NOTE)
    assert sum(1 for n in notes.values() if isinstance(n, str)) == 5


def test_the_best_fit_follows_the_raw_police_points(match):
    """Independently: where the raw police.uk rows with a changed 2021 code fall among the
    bundled 2011 polygons (csv module, pyproj, shapely; points kept to the whole metre, as
    the product stores them: one busy snap point lies within a metre of a boundary)."""
    polygons = {}
    for code in BOROUGHS:
        frame = gpd.read_file(BOUNDARIES / f"lsoa_2011_{code}.geojson").to_crs(27700)
        polygons.update(zip(frame["LSOA11CD"], frame.geometry, strict=True))
    changed = {c for parts in SPLITS.values() for c in parts} | {MERGED[0]}
    months = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"]
    rows = [r for m in months for r in police_dicts(m) if r["LSOA code"] in changed
            and r["Longitude"]]
    held: dict[str, Counter] = {c: Counter() for c in changed}
    old_codes = [*SPLITS, *MERGED[1]]
    for r in rows:
        x, y = TO_BNG.transform(float(r["Longitude"]), float(r["Latitude"]))
        point = shapely.Point(round(x), round(y))
        for old in old_codes:
            if polygons[old].contains(point):
                held[r["LSOA code"]][old] += 1
    for old, new in SPLITS.items():
        for code in new:
            assert held[code].most_common(1)[0][0] == old, code
    counts = held[MERGED[0]]
    total = sum(counts[o] for o in MERGED[1])
    for old in MERGED[1]:
        assert dict(match.best_fit[old])[MERGED[0]] == pytest.approx(counts[old] / total,
                                                                      abs=0.002)


def test_ward_and_borough_residents_add_up(sample_db, match):
    areas = load_layer(sample_db.engine, "area").set_index("code")
    wards = load_layer(sample_db.engine, "ward")
    for code, (name, total) in BOROUGHS.items():
        assert areas.loc[code, "population"] == total, name
        own = wards[wards["parent_code"] == code]
        assert own["population"].notna().all() and own["population"].sum() == total, name
        note = population_note(sample_db.engine, code)
        assert note.startswith("Population: Census 2021 usual residents")
        assert "matched to a 2011 LSOA by code" in note and "centroid" in note
    assert "2 by best fit" in population_note(sample_db.engine, SPELTHORNE)
    # each LSOA counted in the ward holding its centroid, recomputed here
    lsoas = load_layer(sample_db.engine, "lsoa", SPELTHORNE).to_crs(27700)
    spel_wards = wards[wards["parent_code"] == SPELTHORNE].to_crs(27700)
    expected = Counter()
    for geometry, residents in zip(lsoas.geometry, lsoas["population"], strict=True):
        centre = geometry.centroid if geometry.contains(geometry.centroid) else \
            geometry.representative_point()
        ward = spel_wards[spel_wards.geometry.covers(centre)]["code"].iloc[0]
        expected[ward] += residents
    assert dict(zip(spel_wards["code"], spel_wards["population"], strict=True)) == expected


@pytest.mark.parametrize("by", ["ward", "lsoa"])
def test_summaries_give_rates_per_1000_residents(sample_db, match, by):
    result = incident_summary(sample_db.engine, "Woking", by, "2023-02", "2024-01")
    rows = result.table[(result.table["crime_type"] == "All crime and ASB")
                        & (result.table["unit_code"] != "")]
    assert rows["population"].notna().all() and rows["per_1000_residents"].notna().all()
    for row in rows.itertuples():
        assert row.per_1000_residents == pytest.approx(1000 * row.incidents / row.population,
                                                       abs=0.005)
    assert rows["population"].sum() == 103945
    assert any(n.startswith("Per 1,000 residents") and "5 by best fit" in n
               for n in result.notes)
    # the town centre rate leads where residents are few: rates, not only counts
    top_count = rows.sort_values("incidents").iloc[-1]["unit"]
    top_rate = rows.sort_values("per_1000_residents").iloc[-1]["unit"]
    assert top_count and top_rate


def test_bad_census_files_are_refused(tmp_path, fresh_db):
    cases = {
        "nocode.csv": ("name,usual_residents\nSpelthorne 001A,1500\n", "no LSOA code column"),
        "nopop.csv": ("lsoa21_code,lsoa21_name\nE01030736,Spelthorne 001A\n",
                      "no population column"),
        "words.csv": ("lsoa21_code,usual_residents\nE01030736,many\n",
                      "row 2: no LSOA code or no whole number of residents"),
        "blank.csv": ("lsoa21_code,usual_residents\n,1500\n", "row 2"),
        "twice.csv": ("lsoa21_code,usual_residents\nE01030736,1500\nE01030736,1600\n",
                      "E01030736 is given twice"),
        "empty.csv": ("", "cannot be read as a CSV"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(LayerError, match=re.escape(message)):
            read_census(path)
    good = tmp_path / "good.csv"
    good.write_text("LSOA code,Population\nE01030736,\"1,500\"\n", encoding="utf-8")
    assert read_census(good).to_dict("records") == [
        {"code": "E01030736", "name": "E01030736", "population": 1500}]
    with pytest.raises(LayerError, match="no LSOAs are loaded"):
        load_census_population(fresh_db.engine)


def test_setup_without_the_sample_says_what_could_not_be_matched(tmp_path):
    url = f"sqlite:///{tmp_path}/setup.sqlite"
    done = run_cli(["setup", "--no-sample"], url)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("Populations loaded"))
    # no police.uk points to place the 7 changed 2021 codes: said, with the codes
    assert "168 2021 LSOAs matched to a 2011 LSOA by code, 0 by best fit" in line
    assert "7 could not be matched (E01034291" in line
    assert "168 of 173 LSOAs have residents" in line
    again = run_cli(["setup", "--no-sample"], url)  # still short: tried again, same answer
    assert "7 could not be matched" in again.stdout

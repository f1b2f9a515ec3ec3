"""The bundled boundaries and river loaded into a new database (geo/bundled.py): every borough,
ward and LSOA of the sample files and every Thames polygon, counted against the files read with
the json and csv modules; the old-wards note on the re-warded boroughs only; nothing doubled
on a second run; a database made before town centres existed gets them once; and every
English district as an area (`hotspots setup --all-areas`)."""

from __future__ import annotations

import csv
import gzip
import json

import pytest
from sqlalchemy import delete

from geo.bundled import BUNDLED_SOURCE, OLD_WARDS_NOTE, THAMES_SOURCE, seed_bundled_layers
from geo.layers import load_layer
from geo.town_centres import BUNDLED as TOWN_CENTRES
from store.models import Layer
from tests.sample_data import BOUNDARIES, SAMPLE, SPELTHORNE, run_cli


def features(path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def test_a_new_database_gets_every_bundled_feature_once(fresh_db):
    engine = fresh_db.engine
    lads = features(BOUNDARIES / "lad_2013_sample.geojson")
    codes = {f["properties"]["LAD13CD"]: f["properties"]["LAD13NM"] for f in lads}
    assert SPELTHORNE in codes and len(codes) == 3
    wards = {code: features(BOUNDARIES / f"wards_2013_{code}.geojson") for code in codes}
    lsoas = {code: features(BOUNDARIES / f"lsoa_2011_{code}.geojson") for code in codes}
    water = features(SAMPLE / "water" / "thames_sample.geojson")
    with TOWN_CENTRES.open(encoding="utf-8", newline="") as handle:
        centres = [r for r in csv.DictReader(handle) if r["area_code"] in codes]
    assert centres

    added = seed_bundled_layers(engine)
    expected = len(codes) + sum(map(len, wards.values())) + sum(map(len, lsoas.values())) \
        + len(water) + len(centres)
    assert added == expected

    areas = load_layer(engine, "area")
    assert dict(zip(areas["code"], areas["name"], strict=True)) == codes
    assert (areas["source"] == BUNDLED_SOURCE).all()
    for code, name in codes.items():
        ward_layer = load_layer(engine, "ward", code)
        assert sorted(ward_layer["code"]) == sorted(f["properties"]["WD13CD"]
                                                    for f in wards[code])
        assert sorted(ward_layer["name"]) == sorted(f["properties"]["WD13NM"]
                                                    for f in wards[code])
        # Spelthorne's 2013 wards are its wards; the others have been re-warded since
        note = None if code == SPELTHORNE else OLD_WARDS_NOTE.format(name=name)
        assert ward_layer["note"].tolist() == [note] * len(ward_layer)
        lsoa_layer = load_layer(engine, "lsoa", code)
        assert sorted(lsoa_layer["code"]) == sorted(f["properties"]["LSOA11CD"]
                                                    for f in lsoas[code])
        assert (lsoa_layer["parent_code"] == code).all()
    river = load_layer(engine, "water")
    assert river["code"].tolist() == [f"thames-{i + 1}" for i in range(len(water))]
    assert (river["name"] == "River Thames").all() and (river["source"] == THAMES_SOURCE).all()
    towns = load_layer(engine, "town-centre")
    assert sorted(towns["name"]) == sorted(r["name"] for r in centres)
    assert towns["approximate"].all()
    # every ward lies inside its borough
    for code in codes:
        borough = areas[areas["code"] == code].geometry.iloc[0]
        inside = load_layer(engine, "ward", code).geometry.representative_point()
        assert inside.within(borough).all()

    assert seed_bundled_layers(engine) == 0  # a second run adds nothing
    assert len(load_layer(engine, "ward")) == sum(map(len, wards.values()))
    assert len(load_layer(engine, "water")) == len(water)


def test_a_database_from_before_town_centres_gets_them_once(fresh_db):
    engine = fresh_db.engine
    seed_bundled_layers(engine)
    with engine.begin() as conn:
        conn.execute(delete(Layer.__table__).where(Layer.__table__.c.kind == "town-centre"))
    assert load_layer(engine, "town-centre").empty
    wards = len(load_layer(engine, "ward"))
    added = seed_bundled_layers(engine)
    assert added == len(load_layer(engine, "town-centre")) > 0
    assert len(load_layer(engine, "ward")) == wards  # nothing else loaded again
    assert seed_bundled_layers(engine) == 0


def test_every_english_district_is_an_area_after_setup_all_areas(fresh_db):
    """`hotspots setup --all-areas`: the 326 districts of the bundled England file, the
    sample boroughs kept with their own (finer) boundaries, an area found by name or code,
    and a second run adding none."""
    from geo.areas import resolve_area
    from geo.bundled import ENGLAND_DISTRICTS, ENGLAND_SOURCE, england_districts

    with gzip.open(ENGLAND_DISTRICTS, "rt", encoding="utf-8") as handle:
        districts = {f["properties"]["LAD13CD"]: f["properties"]["LAD13NM"]
                     for f in json.load(handle)["features"]}
    assert len(districts) == 326 and districts[SPELTHORNE] == "Spelthorne"
    assert len(england_districts()) == 326

    done = run_cli(["setup", "--all-areas", "--no-sample"], fresh_db.url,
                   env={"HOTSPOTS_ADMIN_PASSWORD": "correct horse battery staple"})
    assert done.returncode == 0, done.stderr
    assert "Every English district is an area: 323 added" in done.stdout
    areas = load_layer(fresh_db.engine, "area")
    assert dict(zip(areas["code"], areas["name"], strict=True)) == districts
    sample = areas[areas["code"].isin(["E07000212", "E07000213", "E07000217"])]
    assert (sample["source"] == BUNDLED_SOURCE).all()  # the finer sample boundaries kept
    assert (areas[~areas.index.isin(sample.index)]["source"] == ENGLAND_SOURCE).all()
    elmbridge = resolve_area(fresh_db.engine, "elmbridge")
    assert elmbridge.code == "E07000207"
    assert 90e6 < elmbridge.boundary.area < 100e6  # Elmbridge is about 96 km²
    assert resolve_area(fresh_db.engine, "E08000025").name == "Birmingham"

    again = run_cli(["setup", "--all-areas", "--no-sample"], fresh_db.url)
    assert "Every English district is an area: 0 added" in again.stdout
    assert len(load_layer(fresh_db.engine, "area")) == 326


def test_an_unknown_area_among_many_names_the_closest_not_all_326(fresh_db):
    from geo.areas import UnknownAreaError, resolve_area
    from geo.bundled import seed_all_districts

    seed_bundled_layers(fresh_db.engine)
    assert seed_all_districts(fresh_db.engine) == 323
    with pytest.raises(UnknownAreaError) as refused:
        resolve_area(fresh_db.engine, "Elmbrige")
    message = str(refused.value)
    assert "326 areas are loaded; the closest: Elmbridge (E07000207)" in message
    assert "Spelthorne" not in message and len(message) < 300
    with pytest.raises(UnknownAreaError, match="none has a name like it"):
        resolve_area(fresh_db.engine, "Atlantis")

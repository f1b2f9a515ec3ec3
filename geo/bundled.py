"""The boundaries and river bundled with the product, loaded into a new database: the sample
boroughs with their wards and LSOAs, the Thames and the approximate town centres. Kept apart
from geo.layers (which stores any layer) because it builds on geo.town_centres, which builds on
geo.layers."""

from __future__ import annotations

import gzip
import io

import geopandas as gpd
from sqlalchemy import Engine

from geo.layers import SAMPLE, load_layer, store_layer
from geo.town_centres import seed_approximate_town_centres

OLD_WARDS_NOTE = ("2013 ward boundaries: {name} has been re-warded since; load the current "
                  "wards as a Wards layer file (Data page, Layers)")
BUNDLED_SOURCE = "ONS/OS boundaries (OGL v3), via martinjc/UK-GeoJSON"
ENGLAND_DISTRICTS = SAMPLE / "boundaries" / "lad_2013_england.geojson.gz"
ENGLAND_SOURCE = ("ONS/OS local authority districts 2013, generalised (OGL v3), via "
                  "martinjc/UK-GeoJSON")
THAMES_SOURCE = "River Thames water polygons, © OpenStreetMap contributors (ODbL)"


def seed_bundled_layers(engine: Engine) -> int:
    """Load the bundled boroughs, their wards and LSOAs, the Thames and the approximate town
    centres, if not yet loaded."""
    if not load_layer(engine, "area").empty:
        # a database made before town centres existed gets the approximations once
        return 0 if len(load_layer(engine, "town-centre")) else \
            seed_approximate_town_centres(engine)
    count = 0
    lads = gpd.read_file(SAMPLE / "boundaries" / "lad_2013_sample.geojson")
    count += store_layer(engine, "area", lads, BUNDLED_SOURCE, code_field="LAD13CD",
                         name_field="LAD13NM", replace=False)
    for _, lad in lads.iterrows():
        code, lad_name = lad["LAD13CD"], lad["LAD13NM"]
        note = None if lad_name == "Spelthorne" else OLD_WARDS_NOTE.format(name=lad_name)
        wards = gpd.read_file(SAMPLE / "boundaries" / f"wards_2013_{code}.geojson")
        count += store_layer(engine, "ward", wards, BUNDLED_SOURCE, code_field="WD13CD",
                             name_field="WD13NM", parent_code=code, note=note, replace=False)
        lsoas = gpd.read_file(SAMPLE / "boundaries" / f"lsoa_2011_{code}.geojson")
        count += store_layer(engine, "lsoa", lsoas, BUNDLED_SOURCE, code_field="LSOA11CD",
                             name_field="LSOA11NM", parent_code=code, replace=False)
    water = gpd.read_file(SAMPLE / "water" / "thames_sample.geojson")
    water["code"] = [f"thames-{i + 1}" for i in range(len(water))]
    water["name"] = "River Thames"
    count += store_layer(engine, "water", water, THAMES_SOURCE, code_field="code",
                         name_field="name", replace=False)
    count += seed_approximate_town_centres(engine)
    return count


def england_districts() -> gpd.GeoDataFrame:
    """The 326 English local authority districts of 2013 (LAD13CD, LAD13NM; WGS84), bundled
    gzipped and generalised (about a 90 m grid)."""
    with gzip.open(ENGLAND_DISTRICTS) as handle:
        return gpd.read_file(io.BytesIO(handle.read()))


def seed_all_districts(engine: Engine) -> int:
    """Load every English district as an area (`hotspots setup --all-areas`), keeping the
    areas already loaded (the sample boroughs' finer boundaries); return how many were added.
    Loading again adds none."""
    before = len(load_layer(engine, "area"))
    store_layer(engine, "area", england_districts(), ENGLAND_SOURCE, code_field="LAD13CD",
                name_field="LAD13NM", replace=False)
    return len(load_layer(engine, "area")) - before

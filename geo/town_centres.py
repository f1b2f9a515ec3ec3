"""Town centres until the council's own outline is loaded: a stated approximation, a circle
of a given radius around the postcode on the named high street, labelled as such everywhere.

The bundled approximations (data/sample/town_centres/) name, for each centre, the busiest
police.uk snap point on its main shopping street and the Code-Point Open postcode nearest it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point
from sqlalchemy import Engine

from geo.crs import BNG
from geo.layers import LayerError, load_layer, slug, store_layer
from geo.postcodes import load_postcodes, normalise_postcode

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "sample" / "town_centres" / (
    "approximate_town_centres.csv")
DEFAULT_RADIUS_M = 400.0
APPROXIMATE_SOURCE = "approximation: radius around a high street postcode (Code-Point Open)"


def approximation_note(postcode: str, street: str | None, radius_m: float) -> str:
    """The label every map and table shows for an approximate town centre."""
    where = f"{postcode} ({street})" if street else postcode
    return (f"Approximate: {radius_m:.0f} m around {where}, not the council's boundary; "
            "upload or draw the real outline to replace it")


def approximate_town_centre(engine: Engine, name: str, area_code: str, postcode: str,
                            radius_m: float = DEFAULT_RADIUS_M, street: str | None = None) -> str:
    """Store a town centre as a circle around a postcode's centroid; returns its note."""
    canonical = normalise_postcode(postcode)
    if canonical is None:
        raise LayerError(f"'{postcode}' is not a postcode (expected something like TW18 4DR)")
    if not 50 <= radius_m <= 3000:
        raise LayerError(f"a town centre radius of {radius_m:g} m is not plausible; use 50 to "
                         "3,000 m")
    found = load_postcodes().locate(pd.Series([canonical])).iloc[0]
    if pd.isna(found["easting"]):
        raise LayerError(f"postcode {canonical} is not in the postcode lookup (the bundled "
                         "one covers TW, KT and GU; set HOTSPOTS_POSTCODES for the country)")
    centre = Point(found["easting"], found["northing"])
    areas = load_layer(engine, "area")
    area = areas[areas["code"] == area_code]
    if area.empty:
        raise LayerError(f"no loaded area with code {area_code}")
    if not area.to_crs(BNG).geometry.iloc[0].buffer(radius_m).contains(centre):
        raise LayerError(f"postcode {canonical} lies outside {area['name'].iloc[0]}")
    note = approximation_note(canonical, street, radius_m)
    frame = gpd.GeoDataFrame({"code": [f"approx-{slug(name)}"], "name": [name],
                              "parent_code": [area_code]},
                             geometry=[centre.buffer(radius_m, quad_segs=32)], crs=BNG)
    store_layer(engine, "town-centre", frame, APPROXIMATE_SOURCE, code_field="code",
                name_field="name", note=note, approximate=True)
    return note


def seed_approximate_town_centres(engine: Engine) -> int:
    """Store the bundled approximations for the loaded sample boroughs."""
    table = pd.read_csv(BUNDLED, dtype=str)
    loaded = set(load_layer(engine, "area")["code"])
    count = 0
    for row in table.itertuples(index=False):
        if row.area_code in loaded:
            approximate_town_centre(engine, row.name, row.area_code, row.postcode,
                                    float(row.radius_m), row.street)
            count += 1
    return count

"""Where Public Spaces Protection Orders apply, for the context joins: the register's orders in
force on a day plus any PSPO outline layer loaded as a file. It reads the register's table
directly (store.models), so the joins need nothing from `registers`, which builds on geo."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select

from geo.crs import WGS84
from geo.layers import load_layer
from store.models import PspoOrder

OUTLINE_COLUMNS = ["code", "name", "parent_code", "source", "note", "population", "approximate",
                   "geometry"]


def order_status(made_on: date, expires_on: date, discharged_on: date | None,
                 today: date) -> str:
    """'in force', 'expired' or 'discharged' on a day (the register's rule, used here so the
    joins and the register agree on which orders apply)."""
    if discharged_on is not None and discharged_on <= today:
        return "discharged"
    if today >= expires_on:
        return "expired"
    return "in force"


def orders_in_force(engine: Engine, area_code: str | None = None,
                    today: date | None = None) -> gpd.GeoDataFrame:
    """The areas of the register's orders in force on `today` (WGS84; code = reference, name,
    parent_code = the borough, example), for the map and the context joins."""
    today = today or date.today()
    t = PspoOrder.__table__
    query = select(t.c.reference, t.c.name, t.c.area_code, t.c.example, t.c.area, t.c.made_on,
                   t.c.expires_on, t.c.discharged_on) \
        .order_by(t.c.area_code, t.c.made_on, t.c.reference)
    if area_code:
        query = query.where(t.c.area_code == area_code)
    with engine.connect() as conn:
        rows = [r for r in conn.execute(query).mappings()
                if order_status(r["made_on"], r["expires_on"], r["discharged_on"], today)
                == "in force"]
    return gpd.GeoDataFrame({"code": [str(r["reference"]) for r in rows],
                             "name": [str(r["name"]) for r in rows],
                             "parent_code": [r["area_code"] for r in rows],
                             "example": [bool(r["example"]) for r in rows]},
                            geometry=[r["area"] for r in rows], crs=WGS84)


def pspo_outlines(engine: Engine, area_code: str | None = None) -> gpd.GeoDataFrame:
    """WGS84 outlines (code, name) of the register's orders in force and of any PSPO layer
    loaded as a file (before the register existed)."""
    orders = orders_in_force(engine, area_code)
    layer = load_layer(engine, "pspo", area_code)
    if orders.empty:
        return layer
    orders = orders.assign(source="PSPO register", population=None, approximate=False,
                           note=orders["example"].map({True: "EXAMPLE order", False: None}))
    frame = pd.concat([orders[OUTLINE_COLUMNS], layer[OUTLINE_COLUMNS]], ignore_index=True) \
        if len(layer) else orders[OUTLINE_COLUMNS]
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=orders.crs)

"""Areas (boroughs): find one by name or ONS code, with its land (water taken out) in metres."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from core.errors import UserError
from geo.crs import BNG, reproject
from geo.layers import load_layer


class UnknownAreaError(UserError, LookupError):
    """No loaded area matches the name or code asked for."""


@dataclass(frozen=True)
class Area:
    """A borough or user-loaded area: its boundary and its land, both in BNG metres."""

    code: str
    name: str
    boundary: BaseGeometry
    land: BaseGeometry

    @property
    def land_area_m2(self) -> float:
        """Land area in square metres (rivers and lakes excluded)."""
        return float(self.land.area)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """BNG bounding box of the boundary."""
        return tuple(self.boundary.bounds)


def area_names(engine: Engine) -> list[str]:
    """Names of every loaded area, for pick lists."""
    return load_layer(engine, "area")["name"].tolist()


def area_names_by_code(engine: Engine) -> dict[str, str]:
    """Every loaded area's name by its code (E07000213 -> Spelthorne)."""
    areas = load_layer(engine, "area")
    return dict(zip(areas["code"], areas["name"], strict=True))


def resolve_area(engine: Engine, name_or_code: str) -> Area:
    """Find an area by its name (any case) or ONS code, e.g. 'spelthorne' or 'E07000213'."""
    areas = load_layer(engine, "area")
    wanted = name_or_code.strip().lower()
    match = areas[(areas["name"].str.lower() == wanted) | (areas["code"].str.lower() == wanted)]
    if match.empty:
        raise UnknownAreaError(f"no area called '{name_or_code}'. {_known(areas, wanted)} Load "
                               "its boundary as an Area layer file (Data page, Layers).")
    row = match.iloc[0]
    boundary = reproject(row.geometry, match.crs, BNG)
    water = load_layer(engine, "water").to_crs(BNG)
    near = water[water.intersects(boundary)]
    land = boundary.difference(shapely.union_all(near.geometry.to_numpy())) if len(near) \
        else boundary
    return Area(code=row["code"], name=row["name"], boundary=boundary, land=land)


def _known(areas, wanted: str, listed: int = 12) -> str:
    """The loaded areas, or with many loaded (every district) the names closest to what was
    asked for, so the message stays readable."""
    labels = [f"{n} ({c})" for n, c in zip(areas["name"], areas["code"], strict=True)]
    if len(labels) <= listed:
        return f"Known areas: {', '.join(labels) or 'none'}."
    names = areas["name"].str.lower().tolist()
    close = difflib.get_close_matches(wanted, names, n=5, cutoff=0.6)
    if not close:
        return f"{len(labels):,} areas are loaded; none has a name like it."
    return (f"{len(labels):,} areas are loaded; the closest: "
            f"{', '.join(labels[names.index(c)] for c in close)}.")

"""The water-safety equipment register: throwlines, throw-rings, signage, where they are.

An item is placed by latitude/longitude, easting/northing or an OS grid reference (checked by
`geo.points.locate`), given the loaded borough it lies in, and kept for good: retiring an item
records when and why, and the database refuses to delete it.
"""

from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from access.audit import record
from access.roles import MANAGE_EQUIPMENT
from access.scope import require
from geo.crs import WGS84
from geo.gridref import format_grid_reference
from geo.points import Located, LocationError, locate
from registers.common import RegisterError, not_in_future, parse_date, text
from store.db import write_transaction
from store.models import Equipment

KINDS = {
    "throwline": "Throwline in a locked cabinet",
    "throw-ring": "Throw-ring / lifebuoy",
    "signage": "Water safety sign",
    "other": "Other equipment",
}
# What people write in their spreadsheets, mapped to a kind.
KIND_WORDS = {
    "throwline": "throwline", "throw line": "throwline", "throw-line": "throwline",
    "throwbag": "throwline", "throw bag": "throwline", "locked throwline": "throwline",
    "throw-ring": "throw-ring", "throw ring": "throw-ring", "throwring": "throw-ring",
    "lifebuoy": "throw-ring", "life buoy": "throw-ring", "life ring": "throw-ring",
    "lifering": "throw-ring", "ring buoy": "throw-ring",
    "signage": "signage", "sign": "signage", "signs": "signage", "water safety sign": "signage",
    "other": "other",
}
ITEM_FIELDS = ("asset_id", "kind", "site", "river", "installed_on", "owner", "notes")


def parse_kind(value: object) -> str:
    """An item kind from its code, label or a common name ('lifebuoy' is a throw-ring)."""
    raw = "" if value is None else str(value).strip()
    key = raw.lower()
    for code, label in KINDS.items():
        if key == label.lower():
            return code
    if key in KIND_WORDS:
        return KIND_WORDS[key]
    raise RegisterError(f"'{raw}' is not a kind of equipment: use one of "
                        f"{', '.join(KINDS)} (throw-ring = lifebuoy)", "kind")


def checked_item(values: dict, now: datetime | None = None) -> dict:
    """Every field of a new item checked; the location from whichever form is filled in.
    Raises RegisterError naming the field that is wrong."""
    now = now or datetime.now()
    try:
        where: Located = locate(values.get("latitude"), values.get("longitude"),
                                values.get("easting"), values.get("northing"),
                                values.get("grid_reference"))
    except LocationError as exc:
        raise RegisterError(str(exc), exc.field) from None
    asset_id = text(values.get("asset_id"), "asset_id", required=True, limit=60,
                    label="asset id")
    installed = parse_date(values.get("installed_on"), "installed_on", required=False,
                           label="installed date")
    if installed:
        not_in_future(installed, "installed_on", now, label="installed date")
    item = {
        "asset_id": asset_id, "kind": parse_kind(values.get("kind")),
        "site": text(values.get("site"), "site", required=True, limit=300),
        "river": text(values.get("river"), "river", limit=200),
        "installed_on": installed,
        "owner": text(values.get("owner"), "owner", limit=200),
        "notes": text(values.get("notes"), "notes", limit=4000),
        "lon": where.lon, "lat": where.lat, "easting": where.easting,
        "northing": where.northing, "location": shapely.Point(where.lon, where.lat),
    }
    status = text(values.get("status"), "status", limit=20)
    retired = parse_date(values.get("retired_on"), "retired_on", required=False,
                         label="retired date")
    if status and status.lower() not in ("active", "retired"):
        raise RegisterError(f"status '{status}' is neither active nor retired", "status")
    if (status or "").lower() == "retired" or retired:
        if not retired:
            raise RegisterError("a retired item needs the date it was retired", "retired_on")
        not_in_future(retired, "retired_on", now, label="retired date")
        if installed and retired < installed:
            raise RegisterError(f"retired {retired} before it was installed ({installed})",
                                "retired_on")
        item.update(active=False, retired_on=retired,
                    retired_reason=text(values.get("retired_reason"), "retired_reason",
                                        limit=2000))
    else:
        item.update(active=True, retired_on=None, retired_reason=None)
    return item


def areas_of(engine: Engine, easting, northing) -> list[str | None]:
    """The code of the loaded borough each BNG point lies in (None outside every one)."""
    from geo.layers import load_layer

    easting = np.asarray(easting, dtype=float)
    northing = np.asarray(northing, dtype=float)
    codes: list[str | None] = [None] * len(easting)
    areas = load_layer(engine, "area").to_crs("EPSG:27700")
    for code, boundary in zip(areas["code"], areas.geometry, strict=True):
        for i in np.flatnonzero(shapely.contains_xy(boundary, easting, northing)):
            codes[i] = codes[i] or str(code)
    return codes


def area_of(engine: Engine, easting: float, northing: float) -> str | None:
    """The code of the loaded borough a BNG point lies in (None outside every one)."""
    return areas_of(engine, [easting], [northing])[0]


def add_item(engine: Engine, values: dict, recorded_by: str, example: bool = False,
             now: datetime | None = None) -> int:
    """Add one item to the register in one transaction; returns its id. Refuses an asset id
    already in use (whatever its state: retired ids are not reused)."""
    require(MANAGE_EQUIPMENT)
    now = now or datetime.now()
    item = checked_item(values, now)
    item.update(area_code=area_of(engine, item["easting"], item["northing"]), example=example,
                created_at=now,
                created_by=text(recorded_by, "recorded_by", required=True, limit=200))
    with write_transaction(engine) as conn:
        existing = find_item(conn, item["asset_id"])
        if existing is not None:
            state = "active" if existing["active"] else f"retired {existing['retired_on']}"
            raise RegisterError(f"asset id {item['asset_id']} is already in the register "
                                f"({KINDS[existing['kind']]} at {existing['site']}, {state})",
                                "asset_id")
        try:  # the same id (in any case) added at this moment by someone else
            with conn.begin_nested():
                item_id = int(conn.execute(Equipment.__table__.insert().returning(
                    Equipment.id), item).scalar_one())
        except IntegrityError:
            raise RegisterError(f"asset id {item['asset_id']} has just been added to the "
                                "register by someone else (ids are the same in any case)",
                                "asset_id") from None
        record(conn, "added", "equipment", item["asset_id"], after=item,
               summary=f"equipment {item['asset_id']} added at {item.get('site', '')}")
        return item_id


def find_item(conn: Connection, asset_id: str, lock: bool = False) -> dict | None:
    """An item's row by asset id in any case (typed by hand: TL-01 and tl-01 are the same
    item, and the register never holds both), or None; `lock` holds it for this
    transaction."""
    table = Equipment.__table__
    query = select(table).where(func.lower(table.c.asset_id) == str(asset_id).strip().lower())
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    return dict(row) if row is not None else None


def retire_item(engine: Engine, asset_id: str, on: date | str, reason: str,
                recorded_by: str, now: datetime | None = None) -> None:
    """Mark an item retired from a date, with the reason; it stays in the register and its
    checks stay in the history."""
    require(MANAGE_EQUIPMENT)
    now = now or datetime.now()
    day = parse_date(on, "retired_on", label="retired date")
    not_in_future(day, "retired_on", now, label="retired date")
    why = text(reason, "retired_reason", required=True, limit=2000, label="reason")
    text(recorded_by, "recorded_by", required=True, limit=200)
    with write_transaction(engine) as conn:
        item = find_item(conn, asset_id, lock=True)
        if item is None:
            raise RegisterError(f"no item {asset_id} in the register", "asset_id")
        if not item["active"]:
            raise RegisterError(f"{item['asset_id']} was already retired on "
                                f"{item['retired_on']}", "asset_id")
        if item["installed_on"] and day < item["installed_on"]:
            raise RegisterError(f"retired {day} before it was installed "
                                f"({item['installed_on']})", "retired_on")
        conn.execute(Equipment.__table__.update().where(Equipment.id == item["id"])
                     .values(active=False, retired_on=day, retired_reason=why))
        record(conn, "retired", "equipment", item["asset_id"],
               before={"active": True, "retired_on": None, "retired_reason": None},
               after={"active": False, "retired_on": day, "retired_reason": why},
               summary=f"equipment {item['asset_id']} retired on {day}")


def list_items(engine: Engine, area_code: str | None = None,
               include_retired: bool = True) -> gpd.GeoDataFrame:
    """The register as a WGS84 GeoDataFrame, one row per item (retired ones marked), with
    each item's 6-figure OS grid reference (the 100 m square it is in)."""
    table = Equipment.__table__
    columns = [c for c in table.columns if c.name != "location"]
    query = select(*columns).order_by(table.c.asset_id)
    if area_code:
        query = query.where(table.c.area_code == area_code)
    if not include_retired:
        query = query.where(table.c.active)
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    frame["active"] = frame["active"].astype(bool)
    frame["example"] = frame["example"].astype(bool)
    frame["kind_label"] = frame["kind"].map(KINDS)
    frame["grid_reference"] = [format_grid_reference(e, n) for e, n in
                               zip(frame["easting"], frame["northing"], strict=True)]
    points = shapely.points(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)) \
        if len(frame) else np.array([], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=points, crs=WGS84)

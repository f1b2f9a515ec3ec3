"""Monthly checks of water-safety equipment: log, correct, what is due, the audit history.

Checks are append-only. A correction is a new check naming the one it corrects; the corrected
check stays in the history, marked as superseded, and no longer counts. Every active item
needs a check in each calendar month; an item needs attention while its last counting check
found it anything but present and serviceable (unless it was replaced at that check).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, exists, func, select
from sqlalchemy.exc import IntegrityError

from access.audit import record
from access.roles import LOG_CHECKS
from access.scope import require
from core.uploads import PHOTO_MAX_BYTES, sniff
from registers.check_keys import check_key, landed
from registers.common import (
    RegisterError,
    month_bounds,
    not_in_future,
    parse_datetime,
    text,
)
from registers.equipment import KINDS, find_item
from store.db import write_transaction
from store.models import CheckPhoto, Equipment, EquipmentCheck

OUTCOMES = {
    "serviceable": "Present and serviceable",
    "damaged": "Present but damaged",
    "missing": "Missing",
    "vandalised": "Vandalised",
    "lock-broken": "Lock or seal broken",
    "signage-damaged": "Signage damaged or illegible",
}
OUTCOME_WORDS = {
    "ok": "serviceable", "present": "serviceable", "good": "serviceable", "pass": "serviceable",
    "present and serviceable": "serviceable", "present & serviceable": "serviceable",
    "present but damaged": "damaged", "not present": "missing", "stolen": "missing",
    "vandalized": "vandalised", "lock broken": "lock-broken", "seal broken": "lock-broken",
    "lock/seal broken": "lock-broken", "lock or seal broken": "lock-broken",
    "signage damaged": "signage-damaged", "sign damaged": "signage-damaged",
    "signage illegible": "signage-damaged", "signage damaged or illegible": "signage-damaged",
}
ACTIONS = {"none": "None", "replaced": "Replaced", "reported": "Reported"}
ACTION_WORDS = {"": "none", "no action": "none", "n/a": "none", "replace": "replaced",
                "report": "reported", "reported for repair": "reported"}
STATES = {  # state -> (label, map colour)
    "attention": ("Needs attention", "#c0392b"),
    "due": ("Not yet checked this month", "#e67e22"),
    "missed": ("Not checked that month", "#e67e22"),
    "checked": ("Checked, serviceable", "#1a9641"),
}
PHOTO_LIMIT = PHOTO_MAX_BYTES  # 5 MB
PHOTO_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}  # by the kind sniff() reads


@dataclass(frozen=True)
class LoggedCheck:
    """What logging a check did: its id, and whether the same entry had landed before."""

    id: int
    asset_id: str
    duplicate: bool = False


def parse_outcome(value: object) -> str:
    """An outcome code from its code, its label or a common word ('OK', 'stolen')."""
    raw = "" if value is None else str(value).strip()
    key = raw.lower()
    for code, label in OUTCOMES.items():
        if key in (code, label.lower()):
            return code
    if key in OUTCOME_WORDS:
        return OUTCOME_WORDS[key]
    raise RegisterError(f"outcome '{raw}' is not one of: " + "; ".join(OUTCOMES.values()),
                        "outcome")


def parse_action(value: object) -> str:
    """What was done: none, replaced or reported."""
    raw = "" if value is None or (isinstance(value, float) and value != value) else \
        str(value).strip()
    key = raw.lower()
    if key in ACTIONS:
        return key
    if key in ACTION_WORDS:
        return ACTION_WORDS[key]
    raise RegisterError(f"action '{raw}' is not one of: none, replaced, reported", "action")


def photo_type(data: bytes, name: str = "photo") -> str:
    """The photo's type read from its bytes (JPEG or PNG); refuses anything else and files
    over 5 MB."""
    if len(data) > PHOTO_LIMIT:
        raise RegisterError(f"{name} is {len(data) / 1e6:.1f} MB; photos can be at most "
                            f"{PHOTO_LIMIT // (1024 * 1024)} MB", "photo")
    kind = PHOTO_TYPES.get(sniff(data))
    if kind:
        return kind
    raise RegisterError(f"{name} is not a JPEG or PNG photo (whatever its name says)", "photo")


def checked_check(values: dict, item: dict | None, asset_id: str,
                  now: datetime | None = None) -> dict:
    """A check's fields checked against its item: the item exists and was in service at the
    time, the time is not in the future or before installation, outcome and action are from
    the lists. Raises RegisterError naming the field."""
    now = now or datetime.now()
    if item is None:
        raise RegisterError(f"no item '{asset_id}' in the equipment register", "asset_id")
    checked_at = parse_datetime(values.get("checked_at"), "checked_at", label="check time")
    not_in_future(checked_at, "checked_at", now, label="check time")
    if item["installed_on"] and checked_at.date() < item["installed_on"]:
        raise RegisterError(f"{item['asset_id']} was installed on {item['installed_on']}, after "
                            f"this check ({checked_at:%Y-%m-%d})", "checked_at")
    if not item["active"] and checked_at.date() >= item["retired_on"]:
        raise RegisterError(f"{item['asset_id']} was retired on {item['retired_on']}; a check "
                            f"on {checked_at:%Y-%m-%d} cannot be logged against it",
                            "asset_id")
    return {
        "equipment_id": item["id"], "checked_at": checked_at,
        "checked_by": text(values.get("checked_by"), "checked_by", required=True, limit=200,
                           label="who checked"),
        "outcome": parse_outcome(values.get("outcome")),
        "action": parse_action(values.get("action")),
        "notes": text(values.get("notes"), "notes", limit=4000),
    }


# A check's fields the audit log keeps before and after a correction.
AUDITED = ("id", "checked_at", "checked_by", "outcome", "action", "notes", "has_photo",
           "source")


def log_check(engine: Engine, *, asset_id: str, checked_at: datetime | str, checked_by: str,
              outcome: str, recorded_by: str, action: str = "none", notes: str | None = None,
              photo: bytes | None = None, photo_name: str | None = None,
              corrects: int | None = None, source: str = "form",
              now: datetime | None = None) -> LoggedCheck:
    """Log one check in one transaction (with its photo). `corrects` names a check this one
    replaces. The same check already stored (a re-sent form, or the same check imported from
    a spreadsheet: see registers.check_keys) is not stored again: the answer says it was
    there (`duplicate`), with its id, also when the same form is sent several times at once."""
    require(LOG_CHECKS)
    now = now or datetime.now()
    values = {"checked_at": checked_at, "checked_by": checked_by, "outcome": outcome,
              "action": action, "notes": notes}
    recorded_by = text(recorded_by, "recorded_by", required=True, limit=200)
    photo_kind = photo_type(photo, photo_name or "the photo") if photo else None
    checks = EquipmentCheck.__table__
    with write_transaction(engine) as conn:
        # the item's row lock (the write lock on SQLite) makes copies of one form wait here,
        # so the second finds the first's check below instead of colliding with it
        item = find_item(conn, asset_id, lock=True)
        row = checked_check(values, item, str(asset_id).strip(), now)
        there, key = landed(conn, check_key(item["asset_id"], row), corrects)
        if there is not None:
            return LoggedCheck(there, item["asset_id"], duplicate=True)
        corrected = None
        if corrects is not None:
            _check_correctable(conn, int(corrects))
            corrected = conn.execute(select(*[checks.c[c] for c in AUDITED]).where(
                checks.c.id == int(corrects))).mappings().one()
        row.update(corrects_id=int(corrects) if corrects is not None else None,
                   has_photo=photo is not None, entry_key=key,
                   source=text(source, "source", required=True, limit=200),
                   recorded_at=now, recorded_by=recorded_by)
        try:
            with conn.begin_nested():
                check_id = conn.execute(checks.insert().returning(checks.c.id),
                                        row).scalar_one()
        except IntegrityError:  # another writer got there first (the lock was not enough)
            there, _ = landed(conn, key, corrects)
            if there is not None:
                return LoggedCheck(there, item["asset_id"], duplicate=True)
            if corrects is not None:
                raise RegisterError(f"check {corrects} has just been corrected by someone "
                                    "else; reload and correct the newest check",
                                    "corrects") from None
            raise
        if photo is not None:
            conn.execute(CheckPhoto.__table__.insert(), {
                "check_id": check_id, "content_type": photo_kind,
                "file_name": text(photo_name, "photo", limit=300),
                "sha256": hashlib.sha256(photo).hexdigest(), "data": photo})
        after = {c: row.get(c) for c in AUDITED} | {"id": int(check_id)}
        what = f"check {check_id} of {item['asset_id']}: {row['outcome']}"
        record(conn, "corrected" if corrected else "logged", "check", item["asset_id"],
               before=dict(corrected) if corrected else None, after=after,
               summary=f"{what}, correcting check {corrects}" if corrected else what)
    return LoggedCheck(int(check_id), item["asset_id"])


def _check_correctable(conn: Connection, check_id: int) -> None:
    checks = EquipmentCheck.__table__
    found = conn.execute(select(checks.c.id).where(checks.c.id == check_id)).scalar()
    if found is None:
        raise RegisterError(f"there is no check {check_id} to correct", "corrects")
    newer = conn.execute(select(checks.c.id).where(checks.c.corrects_id == check_id)).scalar()
    if newer is not None:
        raise RegisterError(f"check {check_id} was already corrected by check {newer}; correct "
                            f"check {newer} instead", "corrects")


def _effective_checks(end: datetime):
    """Checks that count (not corrected by a later one) made before `end`, as a subquery."""
    checks = EquipmentCheck.__table__
    newer = checks.alias("newer")
    return (select(checks).where(checks.c.checked_at < end,
                                 ~exists().where(newer.c.corrects_id == checks.c.id))
            .subquery("effective"))


def due_report(engine: Engine, month: str | None = None, area_code: str | None = None,
               now: datetime | None = None) -> pd.DataFrame:
    """Every item in service in the month (items retired during it are listed but not due)
    with its last counting check (up to the month's end) and its state: needs attention,
    not yet checked this month (or missed, for a past month), or checked. Items needing
    attention or a check sort first."""
    now = now or datetime.now()
    month = month or now.strftime("%Y-%m")
    start, end = month_bounds(month)
    effective = _effective_checks(end)
    ranked = select(
        effective.c.equipment_id, effective.c.id, effective.c.checked_at,
        effective.c.checked_by, effective.c.outcome, effective.c.action,
        func.row_number().over(partition_by=effective.c.equipment_id,
                               order_by=(effective.c.checked_at.desc(),
                                         effective.c.id.desc())).label("position"),
    ).subquery("ranked")
    items = Equipment.__table__
    query = (select(items.c.asset_id, items.c.kind, items.c.site, items.c.river,
                    items.c.area_code, items.c.lon, items.c.lat, items.c.easting,
                    items.c.northing, items.c.installed_on, items.c.retired_on,
                    items.c.example,
                    ranked.c.id.label("last_check_id"),
                    ranked.c.checked_at.label("last_checked_at"),
                    ranked.c.checked_by.label("last_checked_by"),
                    ranked.c.outcome.label("last_outcome"),
                    ranked.c.action.label("last_action"))
             .select_from(items.outerjoin(ranked, (ranked.c.equipment_id == items.c.id)
                                          & (ranked.c.position == 1)))
             .where((items.c.installed_on.is_(None)) | (items.c.installed_on < end.date()))
             .where(items.c.active | (items.c.retired_on > start.date()))
             .order_by(items.c.asset_id))
    if area_code:
        query = query.where(items.c.area_code == area_code)
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    frame = _states(frame, start, end, now)
    frame.attrs["month"] = month
    return frame


def _states(frame: pd.DataFrame, start: datetime, end: datetime, now: datetime) -> pd.DataFrame:
    frame["example"] = frame["example"].astype(bool)
    frame["last_checked_at"] = pd.to_datetime(frame["last_checked_at"])
    frame["checked_this_month"] = frame["last_checked_at"] >= pd.Timestamp(start)
    fixed = frame["last_action"].eq("replaced")
    frame["attention"] = frame["last_outcome"].notna() & frame["last_outcome"].ne(
        "serviceable") & ~fixed
    # an item retired during the month is listed (it may have been checked) but not due
    retiring = pd.to_datetime(frame["retired_on"]).lt(pd.Timestamp(end))
    frame["needs_check"] = ~frame["checked_this_month"] & ~retiring
    over = end <= now
    frame["state"] = "checked"
    frame.loc[frame["needs_check"], "state"] = "missed" if over else "due"
    frame.loc[frame["attention"], "state"] = "attention"
    frame["state_label"] = frame["state"].map(lambda s: STATES[s][0])
    frame["colour"] = frame["state"].map(lambda s: STATES[s][1])
    frame["kind_label"] = frame["kind"].map(KINDS)
    frame["last_outcome_label"] = frame["last_outcome"].map(OUTCOMES)
    order = frame["state"].map({"attention": 0, "due": 1, "missed": 1, "checked": 2})
    return frame.assign(_order=order).sort_values(["_order", "asset_id"]).drop(
        columns="_order").reset_index(drop=True)


def check_history(engine: Engine, asset_id: str | None = None,
                  month_from: str | None = None, month_to: str | None = None) -> pd.DataFrame:
    """Every check ever logged, oldest first, with whether it still counts or which check
    superseded it: the audit and insurance record."""
    checks = EquipmentCheck.__table__
    items = Equipment.__table__
    newer = checks.alias("newer")
    query = (select(checks.c.id.label("check_id"), items.c.asset_id, items.c.kind,
                    items.c.site, items.c.river, checks.c.checked_at, checks.c.checked_by,
                    checks.c.outcome, checks.c.action, checks.c.notes,
                    checks.c.corrects_id.label("corrects_check"),
                    newer.c.id.label("superseded_by_check"), checks.c.has_photo,
                    checks.c.source, checks.c.recorded_at, checks.c.recorded_by)
             .select_from(checks.join(items, items.c.id == checks.c.equipment_id)
                          .outerjoin(newer, newer.c.corrects_id == checks.c.id))
             .order_by(checks.c.checked_at, checks.c.id))
    if asset_id:
        query = query.where(func.lower(items.c.asset_id) == asset_id.strip().lower())
    if month_from:
        query = query.where(checks.c.checked_at >= month_bounds(month_from)[0])
    if month_to:
        query = query.where(checks.c.checked_at < month_bounds(month_to)[1])
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    frame["has_photo"] = frame["has_photo"].astype(bool)
    frame["counts"] = frame["superseded_by_check"].isna()
    frame["outcome_label"] = frame["outcome"].map(OUTCOMES)
    for column in ("corrects_check", "superseded_by_check"):
        frame[column] = frame[column].astype("Int64")
    return frame


def check_photo(engine: Engine, check_id: int) -> tuple[str, bytes] | None:
    """A check's photo (content type, bytes), or None."""
    table = CheckPhoto.__table__
    with engine.connect() as conn:
        row = conn.execute(select(table.c.content_type, table.c.data).where(
            table.c.check_id == check_id)).first()
    return (row[0], bytes(row[1])) if row else None

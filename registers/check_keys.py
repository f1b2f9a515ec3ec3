"""One key for a check's content, whichever way it came in (the form, the command line, a
spreadsheet import): the same check (item, minute, who, outcome, action, notes) lands once,
so a re-sent form, a form re-sent three times at once, and a spreadsheet holding a check
already logged by hand all add nothing.

A correction has the key of its content too (a spreadsheet that holds the corrected check
then finds it there); only when that content is already stored for another reason (a check
corrected back to what an earlier check said) does the correction's key also name the check
it corrects.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, select

from store.models import EquipmentCheck


def check_key(asset_id: str, check: dict) -> str:
    """The key of a checked check (registers.checks.checked_check) of item `asset_id`."""
    parts = ["check", asset_id.strip().lower(), check["checked_at"].isoformat(timespec="minutes"),
             check["checked_by"].strip().lower(), check["outcome"], check["action"],
             check["notes"] or ""]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def correction_key(key: str, corrects: int) -> str:
    """The key of a correction whose content is already stored as some other check."""
    return hashlib.sha256(f"{key}|corrects|{corrects}".encode()).hexdigest()


def landed(conn: Connection, key: str, corrects: int | None) -> tuple[int | None, str]:
    """The id of the check already stored for this content (None if there is none) and the key
    a new one would take. A check (not a correction) is there if its content is; a correction
    is there if its content is stored as a correction of the same check."""
    checks = EquipmentCheck.__table__
    found = conn.execute(select(checks.c.id, checks.c.corrects_id)
                         .where(checks.c.entry_key == key)).first()
    if found is None:
        return None, key
    if corrects is None or found.corrects_id == corrects:
        return int(found.id), key
    other = correction_key(key, corrects)
    again = conn.execute(select(checks.c.id).where(checks.c.entry_key == other)).scalar()
    return (int(again) if again is not None else None), other

"""Import the spreadsheets councils already keep: the equipment list and the past checks.

Same rules as incident imports: a file that cannot be read, or lacks the columns, is refused
whole with a message naming the file and the columns expected and found; a bad row is kept
aside with its file, row (header = row 1), column and reason, and the good rows go in; the
same rows imported again add nothing. Rows are checked by the same functions as the forms and
the CLI (`checked_item`, `checked_check`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from access.audit import record
from access.roles import LOG_CHECKS, MANAGE_EQUIPMENT
from access.scope import require
from core.import_result import REJECT_COLUMNS, FileImportError
from core.uploads import UploadRefused, check_size
from ingest.readcsv import read_rows, sha256_of
from registers.check_keys import check_key
from registers.checks import checked_check
from registers.common import RegisterError, text
from registers.equipment import areas_of, checked_item, find_item
from store.db import write_transaction
from store.incidents import BATCH, insert_ignoring_conflicts, save_rejected_rows
from store.models import Equipment, EquipmentCheck, ImportRun

EQUIPMENT_COLUMNS = {
    "asset_id": ("asset id", "asset", "asset no", "asset number", "asset ref", "id"),
    "kind": ("type", "kind", "equipment", "equipment type", "item", "item type"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "long", "lng"),
    "easting": ("easting", "eastings", "x"),
    "northing": ("northing", "northings", "y"),
    "grid_reference": ("grid reference", "grid ref", "os grid reference", "os grid ref", "ngr",
                       "gridref"),
    "site": ("site", "site name", "location", "place"),
    "river": ("river", "watercourse", "water"),
    "installed_on": ("installed", "installed on", "install date", "date installed",
                     "installation date"),
    "owner": ("owner", "owned by"),
    "notes": ("notes", "comments", "remarks"),
    "status": ("status", "state", "active"),
    "retired_on": ("retired", "retired on", "date retired", "retirement date"),
    "retired_reason": ("retired reason", "reason retired", "retirement reason"),
}
CHECK_COLUMNS = {
    "asset_id": EQUIPMENT_COLUMNS["asset_id"],
    "checked_at": ("checked at", "date and time", "datetime", "timestamp"),
    "date": ("date", "check date", "date checked", "checked on", "when"),
    "time": ("time", "check time", "time checked"),
    "checked_by": ("checked by", "checker", "inspector", "officer", "by", "name"),
    "outcome": ("outcome", "result", "condition", "finding"),
    "action": ("action", "action taken", "what was done"),
    "notes": ("notes", "comments", "remarks"),
}
COMPARED = ("kind", "site", "river", "installed_on", "owner", "notes", "active", "retired_on")


@dataclass
class RegisterImport:
    """What one register file yielded: accepted rows, rejected rows with reasons, duplicates
    (already in the register) and a file-level error."""

    file: str
    kind: str  # "equipment register" | "equipment checks"
    accepted: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    duplicates: int = 0
    error: str | None = None

    def summary(self) -> dict:
        """Counts for the CLI's JSON and the app."""
        return {"file": self.file, "kind": self.kind, "accepted": int(len(self.accepted)),
                "rejected": int(len(self.rejected)), "duplicates": int(self.duplicates),
                "error": self.error}


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-/.]+", " ", str(name).strip().lower()).strip()


def map_columns(file: str, header: list[str], wanted: dict[str, tuple[str, ...]]
                ) -> dict[str, str]:
    """Our field -> the file's column, matched by name in any case and spacing."""
    normal = {_normal(h): h for h in header}
    found: dict[str, str] = {}
    for field_name, names in wanted.items():
        for name in (field_name.replace("_", " "), *names):
            if _normal(name) in normal and normal[_normal(name)] not in found.values():
                found[field_name] = normal[_normal(name)]
                break
    return found


def _refuse_missing(file: str, header: list[str], columns: dict[str, str],
                    needs: list[tuple[str, ...]], expected: str) -> None:
    missing = [" or ".join(k.replace("_", " ") for k in n) for n in needs
               if not any(k in columns for k in n)]
    if missing:
        raise FileImportError(file, f"missing column(s) {', '.join(missing)}. Expected "
                                    f"{expected}; found {', '.join(header)}")


def _open(result: RegisterImport, path: str | Path, data: bytes | None,
          wanted: dict[str, tuple[str, ...]], needs: list[tuple[str, ...]], expected: str):
    """The file's bytes, rows (strings with spreadsheet row numbers), ragged rows and its
    columns mapped to our fields; None, with `result.error` said, if it cannot be used."""
    try:
        if data is None:  # refuse an oversized file by its size, before reading it
            check_size(result.file, Path(path).stat().st_size)
            data = Path(path).read_bytes()
        table = read_rows(result.file, data)
        rows, ragged = table.rows, table.rejected
        header = [c for c in rows.columns if c != "_row"]
        columns = map_columns(result.file, header, wanted)
        _refuse_missing(result.file, header, columns, needs, expected)
    except (FileImportError, UploadRefused, OSError) as exc:
        result.error = exc.message if isinstance(exc, FileImportError) else \
            exc.reason if isinstance(exc, UploadRefused) else str(exc)
        return None
    return data, rows, ragged, columns


def _row_values(rows: pd.DataFrame, columns: dict[str, str]):
    for _, row in rows.iterrows():
        raw = {c: row[c] for c in rows.columns if not c.startswith("_")}
        yield int(row["_row"]), raw, {k: row[v] for k, v in columns.items()}


def _reject(file: str, number: int, raw: dict, columns: dict[str, str],
            error: RegisterError) -> dict:
    column = columns.get(error.field or "", error.field)
    if error.field in ("latitude", "easting", "location", "grid_reference"):
        column = next((columns[k] for k in ("latitude", "easting", "grid_reference")
                       if k in columns), column)
    return {"file": file, "row": number, "column": column, "reason": str(error), "raw": raw}


def import_equipment(engine: Engine, path: str | Path, recorded_by: str, data: bytes | None = None,
                     example: bool = False, now: datetime | None = None) -> RegisterImport:
    """Import an equipment list (CSV): new items are added, items already in the register
    with the same details count as duplicates, and an asset id already used for something
    else is kept aside (the register's entry is not overwritten by a spreadsheet)."""
    require(MANAGE_EQUIPMENT)
    now = now or datetime.now()
    name = Path(path).name
    result = RegisterImport(file=name, kind="equipment register")
    opened = _open(result, path, data, EQUIPMENT_COLUMNS, [
        ("asset_id",), ("kind",), ("site",), ("latitude", "easting", "grid_reference")],
        "asset id, type, site, and latitude+longitude, easting+northing or grid reference")
    if opened is None:
        return result
    data, rows, ragged, columns = opened
    rejects = ragged.to_dict("records")
    accepted: list[dict] = []
    seen: dict[str, tuple[int, dict]] = {}
    origin: dict[str, tuple[int, dict]] = {}  # asset id (lower case) -> its row and values
    recorded_by = text(recorded_by, "recorded_by", required=True)
    with write_transaction(engine) as conn:
        for number, raw, values in _row_values(rows, columns):
            try:
                item = checked_item(values, now)
                key = item["asset_id"].lower()
                if key in seen:
                    first_row, first = seen[key]
                    if _same(first, item):
                        result.duplicates += 1
                        continue
                    raise RegisterError(f"asset id {item['asset_id']} is already used at row "
                                        f"{first_row} of this file for another item",
                                        "asset_id")
                existing = find_item(conn, item["asset_id"])
                if existing is not None:
                    if _same(existing, item):
                        result.duplicates += 1
                        seen[key] = (number, item)
                        continue
                    differs = [f for f in COMPARED if existing[f] != item.get(f)]
                    raise RegisterError(
                        f"asset id {existing['asset_id']} is already in the register with "
                        f"other details ({', '.join(differs)} differ: register has "
                        + ", ".join(f"{f} {existing[f]!s}" for f in differs[:3])
                        + "); the register's entry is kept. Retire it or use a new asset id",
                        "asset_id")
                seen[key] = (number, item)
                origin[key] = (number, raw)
                item.update(example=example, created_at=now, created_by=recorded_by)
                accepted.append(item)
            except RegisterError as exc:
                rejects.append(_reject(name, number, raw, columns, exc))
        codes = areas_of(engine, [i["easting"] for i in accepted],
                         [i["northing"] for i in accepted])
        for item, code in zip(accepted, codes, strict=True):
            item["area_code"] = code
        added = _insert_new_items(conn, accepted)
        for item in accepted:  # taken a moment ago by another import or the form
            if item["asset_id"].lower() not in added:
                number, raw = origin[item["asset_id"].lower()]
                existing = find_item(conn, item["asset_id"])
                if existing is not None and _same(existing, item):
                    result.duplicates += 1
                else:
                    rejects.append(_reject(name, number, raw, columns, RegisterError(
                        f"asset id {item['asset_id']} has just been added to the register "
                        "(in another case or with other details); the register's entry is "
                        "kept", "asset_id")))
        accepted = [i for i in accepted if i["asset_id"].lower() in added]
        result.accepted = pd.DataFrame(accepted).drop(columns=["location"], errors="ignore")
        result.rejected = _rejected_frame(rejects)
        _record_import(conn, result, data, now)
    return result


def _insert_new_items(conn, items: list[dict]) -> set[str]:
    """Insert items, skipping any whose asset id (in any case) is already taken; the asset ids
    (lower case) the database reports it really inserted."""
    if not items:
        return set()
    table = Equipment.__table__
    statement = insert_ignoring_conflicts(table, conn.dialect.name).returning(table.c.asset_id)
    return {a.lower() for a in conn.execute(statement, items).scalars()}


def _same(existing: dict, item: dict) -> bool:
    """Whether a row describes the item already registered (same fields, same place to
    within a metre)."""
    if any(existing.get(f) != item.get(f) for f in COMPARED):
        return False
    return abs(existing["easting"] - item["easting"]) < 1 and \
        abs(existing["northing"] - item["northing"]) < 1


def import_checks(engine: Engine, path: str | Path, recorded_by: str, data: bytes | None = None,
                  now: datetime | None = None) -> RegisterImport:
    """Import past checks (CSV): asset id, date (and time), who checked, outcome, action,
    notes. Each row is checked like a check logged by hand; rows already imported count as
    duplicates."""
    require(LOG_CHECKS)
    now = now or datetime.now()
    name = Path(path).name
    result = RegisterImport(file=name, kind="equipment checks")
    opened = _open(result, path, data, CHECK_COLUMNS, [
        ("asset_id",), ("checked_at", "date"), ("checked_by",), ("outcome",)],
        "asset id, date (and time), checked by, outcome (action and notes optional)")
    if opened is None:
        return result
    data, rows, ragged, columns = opened
    rejects = ragged.to_dict("records")
    accepted: list[dict] = []
    keys: set[str] = set()
    recorded_by = text(recorded_by, "recorded_by", required=True)
    checks = EquipmentCheck.__table__
    items: dict[str, dict | None] = {}
    with write_transaction(engine) as conn:
        for number, raw, values in _row_values(rows, columns):
            try:
                asset = text(values.get("asset_id"), "asset_id", required=True,
                             label="asset id")
                if asset.lower() not in items:
                    items[asset.lower()] = find_item(conn, asset)
                if "checked_at" not in values:
                    when = str(values.get("date") or "").strip()
                    clock = str(values.get("time") or "").strip()
                    values["checked_at"] = f"{when} {clock}".strip() if when else ""
                check = checked_check(values, items[asset.lower()], asset, now)
                key = check_key(items[asset.lower()]["asset_id"], check)
                if key in keys:
                    result.duplicates += 1
                    continue
                keys.add(key)
                check.update(entry_key=key, corrects_id=None, has_photo=False,
                             source=name, recorded_at=now, recorded_by=recorded_by)
                accepted.append(check)
            except RegisterError as exc:
                if exc.field == "checked_at" and "checked_at" not in columns:
                    exc.field = "date"
                rejects.append(_reject(name, number, raw, columns, exc))
        # counted from what the database really inserted: a check already there (logged in
        # the form, or imported by someone else at the same moment) is a duplicate
        inserted: set[str] = set()
        statement = insert_ignoring_conflicts(checks, conn.dialect.name).returning(
            checks.c.entry_key)
        for start in range(0, len(accepted), BATCH):
            inserted |= set(conn.execute(statement, accepted[start:start + BATCH]).scalars())
        fresh = [c for c in accepted if c["entry_key"] in inserted]
        result.duplicates += len(accepted) - len(fresh)
        result.accepted = pd.DataFrame(fresh)
        result.rejected = _rejected_frame(rejects)
        _record_import(conn, result, data, now)
    return result


def _rejected_frame(rejects: list[dict]) -> pd.DataFrame:
    """Rejected rows in file order; a row without a single column to blame has None."""
    frame = pd.DataFrame(rejects, columns=REJECT_COLUMNS).sort_values("row", kind="stable")
    frame["column"] = frame["column"].astype(object).where(frame["column"].notna(), None)
    return frame.reset_index(drop=True)


def _record_import(conn, result: RegisterImport, data: bytes, now: datetime) -> None:
    """The import run and its rejected rows, beside incident imports (so the Data page and
    `hotspots rejects` list them); a rejected row is stored once per file content."""
    digest = sha256_of(data)
    run_id = conn.execute(ImportRun.__table__.insert().returning(ImportRun.id), {
        "file_name": result.file, "file_sha256": digest, "kind": result.kind,
        "dataset": result.kind, "imported_at": now, "accepted": len(result.accepted),
        "rejected": len(result.rejected), "duplicates": result.duplicates,
        "error": result.error}).scalar_one()
    save_rejected_rows(conn, run_id, digest, result.rejected)
    ids = result.accepted["asset_id"].astype(str).tolist() \
        if "asset_id" in result.accepted.columns else []
    record(conn, "imported", result.kind, run_id, after={
        "file": result.file, "sha256": digest, "added": len(result.accepted),
        "asset_ids": sorted(set(ids)), "duplicates": result.duplicates,
        "rejected": len(result.rejected)},
        summary=f"{result.kind} import of {result.file}: {len(result.accepted):,} added, "
                f"{result.duplicates:,} already there, {len(result.rejected):,} set aside")

"""The audit log: every change to a register, a role, a layer or an import, and every time
an admin reads or exports the log, with who, when, what and the values before and after.
Append-only: database triggers refuse UPDATE and DELETE (migration 0005).

`record` is called by the library function that makes the change, inside its transaction,
so the change and its entry land together or not at all."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, Engine, select

from access.roles import READ_AUDIT
from access.scope import current_principal, require
from core.safe_text import safe_csv
from store.models import AuditEntry

COLUMNS = ["id", "at", "actor", "role", "action", "entity", "entity_id", "summary", "before",
           "after"]


def _plain(value: object) -> object:
    """A value JSON can hold: dates as ISO text, geometry as its type (the shape itself is
    kept by the register), bytes as their size."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"{len(bytes(value)):,} bytes"
    if hasattr(value, "geom_type"):
        return f"{value.geom_type} (see the register)"
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(conn: Connection, action: str, entity: str, entity_id: object = None, *,
           before: dict | None = None, after: dict | None = None, summary: str = "") -> None:
    """Write one entry for a change made in `conn`'s transaction, naming the acting
    principal."""
    who = current_principal()
    conn.execute(AuditEntry.__table__.insert().values(
        at=datetime.now(), actor=who.username, role=who.role, action=action, entity=entity,
        entity_id=None if entity_id is None else str(entity_id)[:300],
        summary=summary or f"{action} {entity} {entity_id or ''}".strip(),
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None))


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields whose values differ, before and after."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def read_audit(engine: Engine, *, entity: str | None = None, actor: str | None = None,
               since: date | None = None, limit: int | None = 500,
               purpose: str = "read") -> pd.DataFrame:
    """Entries newest first (admins only); the reading is itself recorded."""
    require(READ_AUDIT)
    t = AuditEntry.__table__
    query = select(*[t.c[c] for c in COLUMNS]).order_by(t.c.id.desc())
    if entity:
        query = query.where(t.c.entity == entity)
    if actor:
        query = query.where(t.c.actor == actor)
    if since:
        query = query.where(t.c.at >= datetime.combine(since, datetime.min.time()))
    if limit:
        query = query.limit(limit)
    with engine.begin() as conn:
        frame = pd.read_sql(query, conn)
        filters = {k: v for k, v in {"entity": entity, "actor": actor, "since": since,
                                     "limit": limit}.items() if v}
        record(conn, purpose, "audit log", None, after=filters,
               summary=f"audit log {purpose}: {len(frame)} entries")
    return frame


def audit_csv(engine: Engine, **filters) -> bytes:
    """The log as CSV (admins only; recorded as an export). Before/after are JSON text;
    text cells that a spreadsheet would run as a formula are guarded (present.export)."""
    frame = read_audit(engine, purpose="export", **{"limit": None, **filters})
    for column in ("before", "after"):
        frame[column] = frame[column].map(
            lambda v: "" if v is None else json.dumps(v, ensure_ascii=False, default=str))
    return safe_csv(frame).encode("utf-8-sig")

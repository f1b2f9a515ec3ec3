"""Write imports to the database without doubling anything, and read incidents back.

Reading applies who is acting (access.scope): someone who may not see restricted categories
gets incidents without them, whatever page, export or report asked."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from access.audit import record
from access.restricted import visibility
from access.roles import IMPORT, VIEW
from access.scope import require
from ingest.result import FileImport
from store.models import ImportRun, Incident, RejectedRow

BATCH = 5000


def insert_ignoring_conflicts(table: Table, dialect: str):
    """INSERT that skips rows whose unique key already exists (SQLite and PostgreSQL)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def _records(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def save_rejected_rows(conn: Connection, import_id: int, sha256: str,
                       rejected: pd.DataFrame) -> None:
    """Rows an import set aside (file, row, column, reason, raw), stored once per (file
    content, row), so importing the same file again adds none."""
    if not len(rejected):
        return
    rejects = rejected.rename(columns={"file": "file_name", "row": "row_number"})
    rejects = rejects.assign(import_id=import_id, file_sha256=sha256)
    rejects["raw"] = rejects["raw"].map(lambda r: json.loads(json.dumps(r, default=str)))
    conn.execute(insert_ignoring_conflicts(RejectedRow.__table__, conn.dialect.name),
                 _records(rejects))


def save_import(engine: Engine, result: FileImport) -> dict:
    """Store one file's accepted and rejected rows in one transaction; return its counts.

    Incidents already stored (same dedup key) are counted as duplicates, not added again;
    rejected rows are stored once per (file content, row).
    """
    require(IMPORT)
    summary = result.summary()
    dialect = engine.dialect.name
    with engine.begin() as conn:
        run_id = conn.execute(
            ImportRun.__table__.insert().returning(ImportRun.__table__.c.id),
            {
                "file_name": result.file, "file_sha256": result.sha256 or "", "kind": result.kind,
                "dataset": result.dataset, "imported_at": datetime.now(),
                "accepted": 0, "rejected": len(result.rejected), "duplicates": 0,
                "error": result.error,
            },
        ).scalar_one()
        inserted = 0
        if len(result.accepted):
            frame = result.accepted.copy()
            frame["import_id"] = run_id
            frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).astype(object)
            frame.loc[frame["occurred_at"].isna(), "occurred_at"] = None
            statement = insert_ignoring_conflicts(Incident.__table__, dialect)
            for start in range(0, len(frame), BATCH):
                conn.execute(statement, _records(frame.iloc[start:start + BATCH]))
            inserted = conn.execute(
                select(func.count()).select_from(Incident).where(Incident.import_id == run_id)
            ).scalar_one()
        save_rejected_rows(conn, run_id, result.sha256 or "", result.rejected)
        duplicates = len(result.accepted) - inserted
        conn.execute(
            ImportRun.__table__.update().where(ImportRun.__table__.c.id == run_id)
            .values(accepted=inserted, duplicates=duplicates)
        )
        record(conn, "imported", "import", run_id, after={
            "file": result.file, "sha256": result.sha256, "kind": result.kind,
            "dataset": result.dataset, "accepted": int(inserted),
            "duplicates": int(duplicates), "rejected": len(result.rejected),
            "error": result.error},
            summary=f"imported {result.file}: {int(inserted):,} new, {int(duplicates):,} "
                    f"already present, {len(result.rejected):,} set aside")
    summary.update(accepted=int(inserted), duplicates=int(duplicates))
    return summary


def load_incidents(engine: Engine, month_from: str | None = None, month_to: str | None = None,
                   categories: list[str] | None = None,
                   bounds: tuple[float, float, float, float] | None = None, *,
                   for_ward_counts: bool = False) -> pd.DataFrame:
    """Incidents filtered by month range, categories and a BNG bounding box, leaving out the
    restricted categories for whoever may not see them. `for_ward_counts` keeps the 'ward'
    ones (not the hidden): only for callers that return nothing finer than counts per ward
    (report.summary by ward)."""
    require(VIEW)
    t = Incident.__table__
    query = select(t.c.id, t.c.source, t.c.dataset, t.c.crime_id, t.c.month, t.c.occurred_at,
                   t.c.category, t.c.location, t.c.postcode, t.c.lsoa_code, t.c.outcome,
                   t.c.lon, t.c.lat, t.c.easting, t.c.northing, t.c.located_by)
    if month_from:
        query = query.where(t.c.month >= month_from)
    if month_to:
        query = query.where(t.c.month <= month_to)
    if categories:
        query = query.where(t.c.category.in_(list(categories)))
    if bounds:
        minx, miny, maxx, maxy = bounds
        query = query.where(t.c.easting.between(minx, maxx), t.c.northing.between(miny, maxy))
    seen = visibility(engine)
    allowed = seen.count_filter(t.c.category) if for_ward_counts else \
        seen.point_filter(t.c.category)
    if allowed is not None:
        query = query.where(allowed)
    with engine.connect() as conn:
        frame = pd.read_sql(query.order_by(t.c.id), conn)
    # An empty result comes back with object columns; keep coordinates numeric regardless.
    return frame.astype({"lon": float, "lat": float, "easting": float, "northing": float})


def list_rejects(engine: Engine, limit: int | None = None) -> pd.DataFrame:
    """Rejected rows with file, row number, column and reason, newest import first (for those
    who import: a raw row may hold a restricted incident)."""
    require(IMPORT)
    t = RejectedRow.__table__
    query = select(t.c.file_name, t.c.row_number, t.c.column, t.c.reason, t.c.raw,
                   t.c.import_id).order_by(t.c.import_id.desc(), t.c.row_number)
    if limit:
        query = query.limit(limit)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def reject_reasons(engine: Engine) -> pd.DataFrame:
    """How many rows were refused for each kind of reason (numbers stripped from reasons)."""
    frame = list_rejects(engine)
    if frame.empty:
        return pd.DataFrame(columns=["reason", "rows"])
    kind = frame["reason"].str.replace(r"'[^']*'|-?\d[\d.,\s-]*", "…", regex=True)
    return kind.value_counts().rename_axis("reason").reset_index(name="rows")


def list_imports(engine: Engine) -> pd.DataFrame:
    """Every import run, newest first."""
    with engine.connect() as conn:
        return pd.read_sql(select(ImportRun.__table__).order_by(ImportRun.id.desc()), conn)


def coverage(engine: Engine) -> pd.DataFrame:
    """Incidents per source, dataset and month: the data's date coverage (hidden categories
    not counted for those who may not see them)."""
    require(VIEW)
    t = Incident.__table__
    query = select(t.c.source, t.c.dataset, t.c.month, func.count().label("incidents"))
    allowed = visibility(engine).count_filter(t.c.category)
    if allowed is not None:
        query = query.where(allowed)
    query = query.group_by(t.c.source, t.c.dataset, t.c.month).order_by(t.c.month)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def categories(engine: Engine) -> list[str]:
    """Every category (crime type) present that the acting principal may map, alphabetically."""
    require(VIEW)
    t = Incident.__table__
    query = select(t.c.category).distinct().order_by(t.c.category)
    allowed = visibility(engine).point_filter(t.c.category)
    if allowed is not None:
        query = query.where(allowed)
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(query)]

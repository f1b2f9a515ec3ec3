"""Write imports to the database without doubling anything, and read incidents back."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

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
    summary.update(accepted=int(inserted), duplicates=int(duplicates))
    return summary


def load_incidents(engine: Engine, month_from: str | None = None, month_to: str | None = None,
                   categories: list[str] | None = None,
                   bounds: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
    """Incidents filtered by month range, categories and a BNG bounding box."""
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
    with engine.connect() as conn:
        frame = pd.read_sql(query.order_by(t.c.id), conn)
    # An empty result comes back with object columns; keep coordinates numeric regardless.
    return frame.astype({"lon": float, "lat": float, "easting": float, "northing": float})


def list_rejects(engine: Engine, limit: int | None = None) -> pd.DataFrame:
    """Rejected rows with file, row number, column and reason, newest import first."""
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
    """Incidents per source, dataset and month: the data's date coverage."""
    t = Incident.__table__
    query = (select(t.c.source, t.c.dataset, t.c.month, func.count().label("incidents"))
             .group_by(t.c.source, t.c.dataset, t.c.month).order_by(t.c.month))
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def categories(engine: Engine) -> list[str]:
    """Every category (crime type) present, alphabetically."""
    t = Incident.__table__
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(t.c.category).distinct().order_by(t.c.category))]

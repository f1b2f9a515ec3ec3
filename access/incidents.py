"""Incidents as the acting person may write and read them: an import stored in batches without
doubling anything, and reads that leave out the restricted categories for whoever may not see
them, whatever page, export or report asked (access.scope says who is acting)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from access.audit import record
from access.restricted import visibility
from access.roles import IMPORT, VIEW
from access.scope import require
from core.import_result import FileImport
from store.db import let_writers_through
from store.incidents import (
    INCIDENT_BATCH,
    UNFINISHED,
    insert_incidents,
    save_rejected_rows,
    stored_label,
)
from store.models import ImportRun, Incident, RejectedRow

BATCH = INCIDENT_BATCH  # incidents per write transaction of an import (the bulk path)


def save_import(engine: Engine, result: FileImport) -> dict:
    """Store one file's rows in batches of BATCH, each its own short transaction, so other
    writers (a check being logged, a sign-in) get in between batches even during a very large
    import; return its counts.

    The import run is recorded first as not finished, with its count of rows stored so far
    updated with each batch; it is marked finished (with its rejected rows and audit entry)
    at the end. An import stopped part way (a killed process, a lost connection) leaves the
    rows of the batches that landed and a run that says so: importing the file again adds the
    rest, and what had landed counts as duplicates. Incidents already stored (same dedup key)
    are counted as duplicates, from the rows the database reports it really inserted.
    """
    require(IMPORT)
    summary = result.summary()
    runs = ImportRun.__table__
    with engine.begin() as conn:
        run_id = conn.execute(runs.insert().returning(runs.c.id), {
            "file_name": stored_label(result.file, runs.c.file_name),
            "file_sha256": result.sha256 or "", "kind": result.kind,
            "dataset": stored_label(result.dataset, runs.c.dataset) or "",
            "imported_at": datetime.now(), "accepted": 0, "rejected": len(result.rejected),
            "duplicates": 0, "error": UNFINISHED if len(result.accepted) else result.error,
        }).scalar_one()
    inserted = 0
    if len(result.accepted):
        frame = result.accepted.copy()
        frame["import_id"] = run_id
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])  # NaT is stored as NULL
        for start in range(0, len(frame), BATCH):
            let_writers_through()  # a check or sign-in waiting goes first
            with engine.begin() as conn:
                inserted += insert_incidents(conn, frame.iloc[start:start + BATCH])
                conn.execute(runs.update().where(runs.c.id == run_id).values(accepted=inserted))
    duplicates = len(result.accepted) - inserted
    with engine.begin() as conn:
        save_rejected_rows(conn, run_id, result.sha256 or "", result.rejected)
        conn.execute(runs.update().where(runs.c.id == run_id)
                     .values(accepted=inserted, duplicates=duplicates, error=result.error))
        record(conn, "imported", "import", run_id, after={
            "file": stored_label(result.file, runs.c.file_name), "sha256": result.sha256,
            "kind": result.kind, "dataset": stored_label(result.dataset, runs.c.dataset),
            "accepted": int(inserted), "duplicates": int(duplicates),
            "rejected": len(result.rejected), "error": result.error},
            summary=f"imported {stored_label(result.file, runs.c.file_name)}: "
                    f"{int(inserted):,} new, {int(duplicates):,} already present, "
                    f"{len(result.rejected):,} set aside")
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

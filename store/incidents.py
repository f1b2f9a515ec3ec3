"""The incident tables' own writing rules, whoever is acting: inserts that skip rows already
stored (SQLite and PostgreSQL), rejected rows stored once per file and row, labels fitted to
their columns, the list of import runs. Who may import and see what is access.incidents."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from core.safe_text import clean_value, fit, limit_of
from store.models import ImportRun, Incident, RejectedRow

BATCH = 5000  # rows per write transaction of an import
# incidents per write transaction of the bulk path (insert_incidents): fewer commits, still
# short enough (a fraction of a second) for a waiting check or sign-in to get in between
INCIDENT_BATCH = 20_000
UNFINISHED = ("the import stopped before the end; import the file again to add the rest "
              "(rows already stored count as duplicates)")


def insert_ignoring_conflicts(table: Table, dialect: str):
    """INSERT that skips rows whose unique key already exists (SQLite and PostgreSQL)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts for an executemany, missing values as None (NULL)."""
    columns = list(frame.columns)
    return [dict(zip(columns, row, strict=True)) for row in _column_values(frame, columns)]


def _plain(values: pd.Series) -> list:
    """One column as Python values (str, float, int, datetime), missing values as None."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        array = values.dt.to_pydatetime() if len(values) else np.array([], dtype=object)
        array = np.asarray(array, dtype=object)
    else:
        array = values.to_numpy(dtype=object)
    missing = pd.isna(values).to_numpy()
    if missing.any():
        array = array.copy()
        array[missing] = None
    return array.tolist()


def _column_values(frame: pd.DataFrame, columns: list[str], processors: dict | None = None
                   ) -> list[tuple]:
    """The frame's rows as tuples in `columns` order (built column by column, not row by
    row), each value passed through its column's bind processor when it has one."""
    lists = []
    for name in columns:
        values = _plain(frame[name])
        convert = (processors or {}).get(name)
        if convert is not None:
            values = [None if v is None else convert(v) for v in values]
        lists.append(values)
    return list(zip(*lists, strict=True))


INCIDENT_INSERT_COLUMNS = [c.name for c in Incident.__table__.columns if c.name != "id"]


def insert_incidents(conn: Connection, frame: pd.DataFrame) -> int:
    """Insert incident rows (the columns of INCIDENT_INSERT_COLUMNS), skipping any whose
    dedup key is already stored, in the caller's transaction; return how many were really
    inserted (the database's own count, so the rest are duplicates).

    The bulk path of an import: on SQLite one prepared `INSERT ... ON CONFLICT DO NOTHING`
    run for every row by the driver (its row count is the rows inserted); on PostgreSQL a
    COPY into a temporary table, then one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`.
    Values are converted as SQLAlchemy would (its bind processors), so what is stored is the
    same as through a Core insert."""
    if not len(frame):
        return 0
    table = Incident.__table__
    dialect = conn.dialect
    columns = INCIDENT_INSERT_COLUMNS
    processors = {}
    for name in columns:
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            processors[name] = convert
    rows = _column_values(frame, columns, processors)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if dialect.name == "postgresql":
            return _copy_then_insert(cursor, names, rows)
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO incidents ({names}) VALUES ({marks}) "
                           "ON CONFLICT DO NOTHING", rows)
        return cursor.rowcount
    finally:
        cursor.close()


def _copy_then_insert(cursor, names: str, rows: list[tuple]) -> int:
    """PostgreSQL: COPY the rows into a temporary table dropped at commit, then move the new
    ones into incidents; the INSERT's row count is what was really added."""
    cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS incident_stage ON COMMIT DROP AS "
                   f"SELECT {names} FROM incidents WITH NO DATA")
    with cursor.copy(f"COPY incident_stage ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(f"INSERT INTO incidents ({names}) SELECT {names} FROM incident_stage "
                   "ON CONFLICT DO NOTHING")
    inserted = cursor.rowcount
    cursor.execute("TRUNCATE incident_stage")
    return inserted


def save_rejected_rows(conn: Connection, import_id: int, sha256: str,
                       rejected: pd.DataFrame) -> None:
    """Rows an import set aside (file, row, column, reason, raw), stored once per (file
    content, row), so importing the same file again adds none."""
    if not len(rejected):
        return
    t = RejectedRow.__table__
    rejects = rejected.rename(columns={"file": "file_name", "row": "row_number"})
    rejects = rejects.assign(import_id=import_id, file_sha256=sha256)
    rejects["file_name"] = rejects["file_name"].map(lambda f: stored_label(f, t.c.file_name))
    rejects["column"] = rejects["column"].map(lambda c: stored_label(c, t.c.column))
    rejects["raw"] = rejects["raw"].map(lambda r: json.loads(json.dumps(r, default=str)))
    statement = insert_ignoring_conflicts(t, conn.dialect.name)
    for start in range(0, len(rejects), BATCH):
        conn.execute(statement, records(rejects.iloc[start:start + BATCH]))


def stored_label(value: object, column) -> str | None:
    """A file name, dataset or column name as its column keeps it: without control
    characters and cut to the column's length (these come from outside: a file's name, its
    header)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return fit(str(clean_value(value)), limit_of(column) or len(str(value)))


def list_imports(engine: Engine) -> pd.DataFrame:
    """Every import run, newest first."""
    with engine.connect() as conn:
        return pd.read_sql(select(ImportRun.__table__).order_by(ImportRun.id.desc()), conn)



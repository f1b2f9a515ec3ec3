"""The database: chosen by HOTSPOTS_DATABASE_URL, else a SQLite file in data/; schema by Alembic."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SQLITE = PROJECT_ROOT / "data" / "hotspots.sqlite"
# Page cache per SQLite connection (KiB; the default is 2 MB): a national import inserts into
# unique-key and spatial indexes of hundreds of thousands of rows, which must stay in memory.
SQLITE_CACHE_KB = 128 * 1024


def database_url() -> str:
    """The configured SQLAlchemy URL, or the default SQLite file."""
    return os.environ.get("HOTSPOTS_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"


def busy_timeout_ms() -> int:
    """How long a SQLite writer waits for another's write lock before 'database is locked':
    HOTSPOTS_SQLITE_BUSY_MS (read when an engine is made), default 30 s."""
    raw = os.environ.get("HOTSPOTS_SQLITE_BUSY_MS", "").strip()
    return int(raw) if raw.isdigit() else 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see _sqlite_begin)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
    cursor.execute("PRAGMA wal_autocheckpoint=16384")  # 64 MB: fewer fsyncs in bulk imports
    cursor.close()


# Writers of this process waiting for (or holding) a write transaction: a long import gives
# way to them between its batches (see let_writers_through). SQLite's own wait for a lock is
# a sleep-and-retry that a busy importer could otherwise win again and again.
_WAITING = 0
_WAITING_LOCK = threading.Lock()


def _waiting(change: int) -> None:
    global _WAITING
    with _WAITING_LOCK:
        _WAITING += change


def writers_waiting() -> int:
    """How many write transactions of this process are waiting or running."""
    return _WAITING


def let_writers_through(limit_s: float = 5.0) -> None:
    """Between two batches of a long import: wait (at most `limit_s`) while another writer of
    this process wants the database, so a check or a sign-in is never starved by an import."""
    deadline = time.monotonic() + limit_s
    while writers_waiting() and time.monotonic() < deadline:
        time.sleep(0.005)


def _sqlite_begin(conn: Connection) -> None:
    """Begin SQLite transactions ourselves: IMMEDIATE for `write_transaction` (it takes the
    write lock before reading, so a check's validation and its insert cannot be overtaken by
    another writer: waiting replaces SQLite's unretryable 'database is locked'), DEFERRED
    otherwise (readers never wait in WAL mode)."""
    immediate = conn.get_execution_options().get("write_lock", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for one action that reads then writes: all of it lands or none does.

    On SQLite the write lock is taken at BEGIN (waiting up to the busy timeout for another
    writer); on PostgreSQL callers lock the rows they depend on (SELECT ... FOR UPDATE)."""
    _waiting(+1)
    try:
        with engine.connect() as conn:
            conn.execution_options(write_lock=True)
            with conn.begin():
                yield conn
    finally:
        _waiting(-1)


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL (default: HOTSPOTS_DATABASE_URL as it is now, so a process that
    changes it gets the new database); SQLite gets WAL mode and a busy timeout for concurrent
    writers."""
    return _engine_for(url or database_url())


def forget_engines() -> None:
    """Drop the engines made so far (tests and benches that make and drop databases)."""
    _engine_for.cache_clear()


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms() / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Create or upgrade the schema to the latest Alembic revision (or to `revision`)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "store" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    with get_engine(url or database_url()).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

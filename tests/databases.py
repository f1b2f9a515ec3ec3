"""Real databases for tests: a SQLite file, or a database of its own on the real PostgreSQL +
PostGIS server (HOTSPOTS_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/
postgres; `make postgres` installs and starts it), dropped afterwards. No mocked database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store.db import forget_engines, get_engine, migrate
from tests.sample_data import Database

POSTGRES_SERVER = os.environ.get("HOTSPOTS_TEST_POSTGRES_URL",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def postgres_database(revision: str = "head") -> Iterator[Database]:
    """A new database on the real server, migrated to `revision`; dropped on exit."""
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    name = f"hotspots_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the message says how to get a server
        pytest.fail(f"no PostgreSQL server at {POSTGRES_SERVER} ({exc}); run `make postgres`",
                    pytrace=False)
    url = make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url, revision)
        engine = get_engine(url)
        yield Database(url=url, engine=engine)
        engine.dispose()
    finally:
        forget_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_database(directory: Path, revision: str = "head") -> Iterator[Database]:
    """A new SQLite file in `directory`, migrated to `revision`."""
    url = f"sqlite:///{directory}/registers-{uuid.uuid4().hex[:6]}.sqlite"
    migrate(url, revision)
    engine = get_engine(url)
    yield Database(url=url, engine=engine)
    engine.dispose()


@contextmanager
def database(backend: str, directory: Path, revision: str = "head") -> Iterator[Database]:
    """A migrated database of either backend."""
    if backend == "postgresql":
        with postgres_database(revision) as db:
            yield db
    else:
        with sqlite_database(directory, revision) as db:
            yield db

"""The same import and detection on a real PostgreSQL server (HOTSPOTS_DATABASE_URL's other
backend): idempotent re-import and identical hotspots to SQLite.

Server: HOTSPOTS_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres
(`make test` starts it). Each run works in a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from geo.layers import seed_bundled_layers
from hotspots.analysis import find_hotspots
from ingest.run import ingest_paths
from store.db import get_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "police"
SERVER = os.environ.get("HOTSPOTS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"hotspots_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the message says how to get a server
        pytest.fail(f"no PostgreSQL server at {SERVER} ({exc}); run `make postgres`",
                    pytrace=False)
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    engine = get_engine(url)
    seed_bundled_layers(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_import_twice_on_postgres_adds_nothing(pg_engine: Engine) -> None:
    first = ingest_paths(pg_engine, [SAMPLE / "2024-01"])
    again = ingest_paths(pg_engine, [SAMPLE / "2024-01"])
    assert first.accepted == 2014 and first.rejected == 90
    assert again.accepted == 0 and again.duplicates == 2014
    with pg_engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
        rejects = conn.execute(text("SELECT count(*) FROM rejected_rows")).scalar_one()
    assert stored == 2014
    assert rejects == 90


def test_postgres_and_sqlite_find_the_same_hotspots(pg_engine: Engine, tmp_path: Path) -> None:
    lite_url = f"sqlite:///{tmp_path}/same.sqlite"
    migrate(lite_url)
    lite = get_engine(lite_url)
    seed_bundled_layers(lite)
    ingest_paths(lite, [SAMPLE / "2024-01"])
    ingest_paths(pg_engine, [SAMPLE / "2024-01"])
    for method in ("grid", "dbscan"):
        on_pg = find_hotspots(pg_engine, "Spelthorne", "2024-01", "2024-01", None, method)
        on_lite = find_hotspots(lite, "Spelthorne", "2024-01", "2024-01", None, method)
        assert len(on_pg.incidents) == len(on_lite.incidents) > 500
        assert on_pg.hotspots["count"].tolist() == on_lite.hotspots["count"].tolist()
        assert on_pg.hotspots.geometry.geom_equals_exact(on_lite.hotspots.geometry, 1e-6).all()

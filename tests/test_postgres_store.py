"""The same import and detection on a real PostgreSQL server (HOTSPOTS_DATABASE_URL's other
backend): idempotent re-import and identical hotspots to SQLite.

Server: see tests/databases.py (`make test` starts it). Each run works in a database of its
own, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from geo.bundled import seed_bundled_layers
from hotspots.analysis import find_hotspots
from ingest.run import ingest_paths
from store.db import get_engine, migrate
from tests.databases import postgres_database

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "police"


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    with postgres_database() as db:
        seed_bundled_layers(db.engine)
        yield db.engine


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

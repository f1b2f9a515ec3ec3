"""Database fixtures: a fresh SQLite file per test module (or per test where state matters).

No browsers are started here; tests/test_offline_map.py manages its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from geo.layers import seed_bundled_layers
from ingest.run import ingest_paths
from store import db
from tests.sample_data import SAMPLE_POLICE, Database


def new_database(directory) -> Database:
    """Migrate a new SQLite file in `directory` and return its URL and engine."""
    url = f"sqlite:///{directory}/t.sqlite"
    db.migrate(url)
    return Database(url=url, engine=db.get_engine(url))


@pytest.fixture
def fresh_db(tmp_path) -> Iterator[Database]:
    """An empty, migrated database for one test (for tests whose counts depend on state)."""
    database = new_database(tmp_path)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="module")
def layers_db(tmp_path_factory) -> Iterator[Database]:
    """A database for one module with the bundled boroughs, wards, LSOAs and Thames loaded."""
    database = new_database(tmp_path_factory.mktemp("layers"))
    seed_bundled_layers(database.engine)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Iterator[Database]:
    """A database for one module with the layers and the whole bundled police.uk sample."""
    database = new_database(tmp_path_factory.mktemp("sample"))
    seed_bundled_layers(database.engine)
    database.report = ingest_paths(database.engine, [SAMPLE_POLICE])
    yield database
    database.engine.dispose()

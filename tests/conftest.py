"""Database fixtures: a fresh SQLite file per test module (or per test where state matters).

Tests act as the command line's operator (an admin) unless they say otherwise with
`access.scope.acting_as`: the library refuses everything to nobody (tests/test_access.py
checks that, and what each role may do).

The `browser` fixture starts Debian's Chromium once per module that asks for it (the
browser tests); tests/browser/test_offline_map.py manages its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from access.scope import acting_as, operator
from geo.bundled import seed_bundled_layers
from ingest.run import ingest_paths
from store import db
from tests.sample_data import SAMPLE_POLICE, Database


@pytest.fixture(scope="session", autouse=True)
def as_operator() -> Iterator[None]:
    """Run every test as the CLI's operator (admin), as the CLI does."""
    with acting_as(operator()):
        yield


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


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory) -> Database:
    """The layers and the whole bundled police.uk sample imported once per session; each
    module's `sample_db` is a copy of it, so every module still gets its own database."""
    database = new_database(tmp_path_factory.mktemp("sample-template"))
    seed_bundled_layers(database.engine)
    database.report = ingest_paths(database.engine, [SAMPLE_POLICE])
    database.engine.dispose()
    return database


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, sample_template) -> Iterator[Database]:
    """A database for one module with the layers and the whole bundled police.uk sample."""
    directory = tmp_path_factory.mktemp("sample")
    source = sqlite3.connect(sample_template.url.removeprefix("sqlite:///"))
    target = sqlite3.connect(directory / "t.sqlite")
    with source, target:
        source.backup(target)  # a consistent copy, whatever the WAL holds
    source.close()
    target.close()
    url = f"sqlite:///{directory}/t.sqlite"
    database = Database(url=url, engine=db.get_engine(url), report=sample_template.report)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def register_db(request, tmp_path_factory) -> Iterator[Database]:
    """A register database on SQLite and on the real PostgreSQL + PostGIS server (each test
    using it runs on both), with the bundled boroughs, wards and the Thames loaded."""
    from tests.databases import database

    with database(request.param, tmp_path_factory.mktemp("registers")) as db:
        db.backend = request.param
        seed_bundled_layers(db.engine)
        yield db


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless and offline-friendly, for one module's browser tests."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch_chromium

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def spelthorne(sample_db):
    """Spelthorne's area (land without the Thames), for the hotspot method tests."""
    from geo.areas import resolve_area

    return resolve_area(sample_db.engine, "spelthorne")


@pytest.fixture(scope="module")
def all_crime(sample_db, spelthorne):
    """Every incident inside Spelthorne, 2023-02..2024-01, from the imported sample."""
    from hotspots.analysis import area_incidents
    from tests.support.hotspot_data import FROM, TO

    points = area_incidents(sample_db.engine, spelthorne, FROM, TO)
    assert len(points) > 9000
    return points

"""The schema is made and upgraded by Alembic on both databases: from empty to the newest
revision, and from the previous revision (0002, before the registers) holding real data,
which survives the upgrade untouched.

The 0002 database is filled by copying rows from one the current code made (the current
library writes the audit log, which 0002 does not have yet)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import MetaData, Table, func, inspect, select, text

from geo.bundled import seed_bundled_layers
from ingest.run import ingest_paths
from registers.equipment import add_item, list_items
from store.db import migrate
from store.models import Base, Incident, Layer
from tests.databases import BACKENDS, database
from tests.sample_data import SAMPLE_POLICE

REGISTER_TABLES = {"pspo_orders", "pspo_conditions", "pspo_events", "equipment",
                   "equipment_checks", "check_photos", "problem_locations", "problem_actions",
                   "problem_events", "theme_mappings"}
NEWEST = "0006"
ACCESS_TABLES = {"users", "restricted_categories", "audit_log"}


def _copy_rows(source, target, table: str) -> None:
    """Copy a table's rows, in the columns both schemas have, with their types."""
    old = Table(table, MetaData(), autoload_with=target)
    model = Base.metadata.tables[table]
    with source.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(*[model.c[c.name]
                                                                 for c in old.columns]))]
    with target.begin() as conn:
        conn.execute(old.insert(), rows)
        if target.dialect.name == "postgresql":
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))


def version(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_empty_database_is_migrated_to_the_newest_schema(backend, tmp_path) -> None:
    with database(backend, tmp_path) as db:
        assert version(db.engine) == NEWEST
        tables = set(inspect(db.engine).get_table_names())
        assert REGISTER_TABLES | ACCESS_TABLES | {"incidents", "imports", "rejected_rows",
                                                  "layers"} <= tables
        if backend == "postgresql":
            with db.engine.connect() as conn:
                types = dict(conn.execute(text(
                    "SELECT table_name || '.' || column_name, udt_name FROM "
                    "information_schema.columns WHERE udt_name = 'geometry'")).fetchall())
                triggers = {r[0] for r in conn.execute(text(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
            assert types == {"pspo_orders.area": "geometry", "pspo_events.area": "geometry",
                             "equipment.location": "geometry",
                             "problem_locations.area": "geometry"}
            assert {"equipment_checks_append_only", "equipment_append_only",
                    "problem_events_append_only", "problem_locations_append_only",
                    "audit_log_append_only", "users_append_only"} <= triggers
        migrate(db.url)  # upgrading an up-to-date database changes nothing
        assert version(db.engine) == NEWEST


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_upgrade_from_the_previous_schema_keeps_the_data(backend, tmp_path) -> None:
    with database(backend, tmp_path / "old", revision="0002") as db, \
            database("sqlite", tmp_path / "new") as current:
        assert version(db.engine) == "0002"
        assert not (REGISTER_TABLES | ACCESS_TABLES) & set(inspect(db.engine).get_table_names())
        seed_bundled_layers(current.engine)
        report = ingest_paths(current.engine, [SAMPLE_POLICE / "2024-01"])
        assert report.accepted == 2014
        for table in ("imports", "layers", "incidents"):
            _copy_rows(current.engine, db.engine, table)
        with db.engine.connect() as conn:
            before = (conn.execute(select(func.count()).select_from(Incident)).scalar_one(),
                      conn.execute(select(func.count()).select_from(Layer)).scalar_one(),
                      conn.execute(select(func.sum(Incident.easting))).scalar_one())
        migrate(db.url)
        assert version(db.engine) == NEWEST
        inspect(db.engine).clear_cache()
        assert REGISTER_TABLES <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            after = (conn.execute(select(func.count()).select_from(Incident)).scalar_one(),
                     conn.execute(select(func.count()).select_from(Layer)).scalar_one(),
                     conn.execute(select(func.sum(Incident.easting))).scalar_one())
        assert after == before
        add_item(db.engine, {"asset_id": "UP-1", "kind": "throwline", "site": "Staines",
                             "latitude": "51.4318", "longitude": "-0.5131"},
                 "test", now=datetime(2026, 11, 28))
        assert list_items(db.engine)["asset_id"].tolist() == ["UP-1"]
        again = ingest_paths(db.engine, [SAMPLE_POLICE / "2024-01"])
        assert again.accepted == 0 and again.duplicates == 2014

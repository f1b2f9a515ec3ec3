"""Preparing a database for use: the schema, the bundled boundaries and river, and the first
admin (the app does this when it starts, `hotspots setup` too); and, for a trial, the bundled
sample: police.uk incidents, the EXAMPLE registers and Census 2021 populations (`hotspots
setup`, unless --no-sample)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from access.accounts import FirstAdmin, ensure_first_admin
from geo.bundled import seed_bundled_layers
from geo.layers import SAMPLE
from geo.population import PopulationMatch, load_census_population, needs_population
from ingest.run import IngestReport, Progress, ingest_paths
from registers.example import seed_example_registers
from store.db import database_url, get_engine, migrate

SAMPLE_POLICE = SAMPLE / "police"


@dataclass(frozen=True)
class PreparedDatabase:
    """A database ready for use: its engine and URL, how many bundled boundary and river
    features were loaded now (0 when they already were) and the first admin, when made now
    (`password` set only when generated: show it once)."""

    engine: Engine
    url: str
    layers_added: int
    first_admin: FirstAdmin | None


def prepare_database(url: str | None = None) -> PreparedDatabase:
    """Create or upgrade the schema of the database at `url` (default HOTSPOTS_DATABASE_URL),
    load the bundled boundaries and river where absent and make the first admin where there
    are no users (its password from HOTSPOTS_ADMIN_PASSWORD, else generated). Safe to repeat:
    a prepared database is left as it is."""
    url = url or database_url()
    migrate(url)
    engine = get_engine(url)
    added = seed_bundled_layers(engine)
    return PreparedDatabase(engine, url, added, ensure_first_admin(engine))


@dataclass(frozen=True)
class SampleLoaded:
    """What loading the bundled sample added: the police.uk import's report and the EXAMPLE
    register entries (what -> how many)."""

    incidents: IngestReport
    examples: dict[str, int]


def load_sample(engine: Engine, progress: Progress | None = None) -> SampleLoaded:
    """Import the bundled police.uk sample (Spelthorne, Runnymede, Woking; rows already there
    count as duplicates) and add the EXAMPLE PSPO and water-safety registers, once."""
    incidents = ingest_paths(engine, [SAMPLE_POLICE], progress=progress)
    return SampleLoaded(incidents, seed_example_registers(engine))


def load_missing_populations(engine: Engine) -> PopulationMatch | None:
    """Set the bundled Census 2021 residents where a loaded LSOA has none yet (None when every
    one has)."""
    return load_census_population(engine) if needs_population(engine) else None

"""SQLAlchemy models: imports, incidents, rejected rows and boundary layers.

Points are stored as WGS84 lon/lat (for the map) plus BNG easting/northing (for analysis in
metres), so SQLite needs no spatial extension. Layer geometries are WKB in WGS84.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base for every table of the product."""


class ImportRun(Base):
    """One file imported once: what it was and what came of it."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # police.uk | council log
    dataset: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Incident(Base):
    """One incident (crime, ASB report, council log entry) located as a point."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(40))  # police.uk | council log
    dataset: Mapped[str] = mapped_column(String(200))  # force or council log name
    crime_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    category: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(Text, nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    lsoa_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    lsoa_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    easting: Mapped[float] = mapped_column(Float)
    northing: Mapped[float] = mapped_column(Float)
    located_by: Mapped[str] = mapped_column(String(40))
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))

    __table_args__ = (
        Index("ix_incidents_month_category", "month", "category"),
        Index("ix_incidents_easting_northing", "easting", "northing"),
    )


class RejectedRow(Base):
    """A row kept aside at import, with where it was and why it was refused."""

    __tablename__ = "rejected_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer)  # 1 = header line, data from 2
    column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("file_sha256", "row_number", name="uq_rejected_row"),)


class Layer(Base):
    """A boundary or context feature: area (borough), ward, LSOA, town centre, water, PSPO.

    `approximate` marks a stated stand-in (a town centre drawn as a radius around its high
    street postcode) that the map labels as such; `population` feeds rates per 1,000 residents.
    """

    __tablename__ = "layers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    loaded_at: Mapped[datetime] = mapped_column(DateTime)
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    __table_args__ = (UniqueConstraint("kind", "code", name="uq_layer_kind_code"),
                      Index("ix_layers_kind_parent", "kind", "parent_code"))

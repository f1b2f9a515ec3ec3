"""SQLAlchemy models: imports, incidents, rejected rows, boundary layers, and the registers
(PSPOs with their conditions and history; water-safety equipment with its checks).

Incident points are stored as WGS84 lon/lat (for the map) plus BNG easting/northing (for
analysis in metres), so SQLite needs no spatial extension. Layer geometries are WKB in WGS84.
Register geometries use `store.geometry.Geometry`: PostGIS geometry on PostgreSQL, WKB on
SQLite, WGS84 in both; equipment also keeps its BNG easting/northing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.geometry import Geometry


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


class PspoOrder(Base):
    """A Public Spaces Protection Order: its area (WGS84), dates and published record.

    `expires_on` is the first day the order no longer has effect (made + at most 3 years, or
    last extension + at most 3 years); `discharged_on` is set when the council discharges it.
    """

    __tablename__ = "pspo_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(100), index=True)  # the borough
    reference: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    area = mapped_column(Geometry("MultiPolygon"), nullable=False)
    area_source: Mapped[str] = mapped_column(Text)
    made_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    discharged_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    review_every_days: Mapped[int] = mapped_column(Integer, default=42)
    published_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    consultation_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    publication_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    example: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("area_code", "reference", name="uq_pspo_reference"),)


class PspoCondition(Base):
    """One prohibition or requirement of an order, with its times and exemptions."""

    __tablename__ = "pspo_conditions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("pspo_orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # prohibition | requirement
    wording: Mapped[str] = mapped_column(Text)
    times: Mapped[str | None] = mapped_column(Text, nullable=True)
    exemptions: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False once varied away


class PspoEvent(Base):
    """What happened to an order, append-only: made, extended, varied, reviewed, discharged.

    An extension carries the new expiry; a variation that redrew the area carries the new
    area, so the order's history can be read back."""

    __tablename__ = "pspo_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("pspo_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    happened_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    area = mapped_column(Geometry("MultiPolygon"), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class Equipment(Base):
    """One item of public rescue equipment or signage. Retired items are kept, never deleted."""

    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(60), unique=True)  # unique in any case (0006)
    kind: Mapped[str] = mapped_column(String(30))
    location = mapped_column(Geometry("Point"), nullable=False)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    easting: Mapped[float] = mapped_column(Float)
    northing: Mapped[float] = mapped_column(Float)
    area_code: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    site: Mapped[str] = mapped_column(String(300))
    river: Mapped[str | None] = mapped_column(String(200), nullable=True)
    installed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    retired_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    example: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))


# TL-77 and tl-77 are one item: its id is unique in any case (migration 0006).
Index("uq_equipment_asset_id_lower", func.lower(Equipment.asset_id), unique=True)


class EquipmentCheck(Base):
    """One check of one item, append-only (database triggers refuse UPDATE and DELETE).

    A correction is a new check whose `corrects_id` names the check it replaces; each check
    can be corrected once (a unique key), so two people correcting it at once cannot both win.
    `entry_key` makes a re-imported row or a re-sent form land once."""

    __tablename__ = "equipment_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id"))
    checked_at: Mapped[datetime] = mapped_column(DateTime)
    checked_by: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment_checks.id"), nullable=True, unique=True)
    has_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200))  # form, CLI, or the imported file
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_checks_equipment_time", "equipment_id", "checked_at"),)


class CheckPhoto(Base):
    """The photo taken with a check (JPEG or PNG, checked by content), append-only too."""

    __tablename__ = "check_photos"

    check_id: Mapped[int] = mapped_column(ForeignKey("equipment_checks.id"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ThemeMapping(Base):
    """Which priority theme (the CSP plan's priorities) a crime type or council category
    counts towards; one category may count towards several themes. Edited on the Overview
    page; when the table is empty the default mapping (report.theme_mapping) applies."""

    __tablename__ = "theme_mappings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("category", "theme", name="uq_theme_mapping"),)


class ProblemLocation(Base):
    """A problem location the JAG adopted (its outline kept, WGS84), worked with OSARA:
    Objective, Scanning, Analysis, Response, Assessment. Closed, never deleted."""

    __tablename__ = "problem_locations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(100), index=True)  # the borough
    name: Mapped[str] = mapped_column(String(300))
    area = mapped_column(Geometry("MultiPolygon"), nullable=False)
    origin: Mapped[str] = mapped_column(Text)  # e.g. the hotspot, method and months adopted
    theme: Mapped[str | None] = mapped_column(String(100), nullable=True)
    adopted_on: Mapped[date] = mapped_column(Date)
    objective: Mapped[str] = mapped_column(Text)
    scanning: Mapped[str | None] = mapped_column(Text, nullable=True)
    analysis: Mapped[str | None] = mapped_column(Text, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    assessment: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(10))  # Open | Closed
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    example: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("area_code", "name", name="uq_problem_name"),)


class ProblemAction(Base):
    """One partner action at a problem location, as in the CSP plans' "key points for
    delivery" tables: what, lead agency, measure, due date, status Open/Closed."""

    __tablename__ = "problem_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem_locations.id"), index=True)
    action: Mapped[str] = mapped_column(Text)
    lead: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str | None] = mapped_column(Text, nullable=True)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # Open | Closed
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    update_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class ProblemEvent(Base):
    """What changed at a problem location, append-only: adopted, OSARA edited, action added
    or updated, closed, reopened; `changes` holds each field's value before and after."""

    __tablename__ = "problem_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem_locations.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("problem_actions.id"),
                                                  nullable=True)
    kind: Mapped[str] = mapped_column(String(30))
    changes: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class User(Base):
    """Someone who may sign in: a local account (argon2 password hash) or a council account
    met through OpenID Connect (no password here). Deactivated, never deleted, so the audit
    log's names keep their meaning."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)  # lower case
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    role: Mapped[str] = mapped_column(String(20))  # viewer | analyst | officer | admin
    source: Mapped[str] = mapped_column(String(10))  # local | oidc
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # no longer used (since 0006 wrong passwords are counted per name and source in
    # sign_in_failures); kept so databases made before keep their history
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_sign_in: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SignInFailure(Base):
    """Sign-in tries that failed in a row for one username as typed (known or not, so the
    answer never tells which names exist) from one source (the browser's address), or for
    every name from one source (username '*'): what locks a name out at one address, or an
    address out altogether, for a while. An admin can lift a lock (`hotspots users unlock`)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(DateTime)
    last_at: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (UniqueConstraint("username", "source", name="uq_sign_in_failure"),)


class RestrictedCategory(Base):
    """A category kept from viewers and officers: `hidden` (never shown to them) or `ward`
    (shown only as counts per ward or larger area). `match` is `exact` (the whole category,
    any case) or `contains` (any category containing the words)."""

    __tablename__ = "restricted_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pattern: Mapped[str] = mapped_column(String(200), unique=True)  # lower case
    match: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(10))
    added_at: Mapped[datetime] = mapped_column(DateTime)
    added_by: Mapped[str] = mapped_column(String(200))


class AuditEntry(Base):
    """One change (or an admin's reading of the log), append-only: who, when, what, and the
    values before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    summary: Mapped[str] = mapped_column(Text)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class SignInSession(Base):
    """One signed-in browser: the SHA-256 of its random token (the token itself lives only in
    the browser's cookie), whose it is, and when it was last used, so sessions expire after
    inactivity and after a working day, and end at sign-out or deactivation."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(10))  # local | oidc
    started_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ended_why: Mapped[str | None] = mapped_column(String(100), nullable=True)

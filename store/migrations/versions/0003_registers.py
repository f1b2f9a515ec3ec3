"""registers: PSPO orders (conditions, events) and water-safety equipment (checks, photos)

On PostgreSQL this enables PostGIS (areas and points are PostGIS geometry with GiST indexes);
on SQLite geometries are WKB. Checks, their photos and PSPO events are append-only: triggers
refuse UPDATE and DELETE on them, and DELETE on equipment and orders (retire or discharge
instead), on both databases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00
"""

from alembic import op
import sqlalchemy as sa

from store.append_only import REFUSE_FUNCTION, create_append_only_triggers
from store.geometry import Geometry


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

APPEND_ONLY = {  # table -> (statements refused, what to do instead)
    'equipment_checks': ('UPDATE OR DELETE', 'log a correcting check instead'),
    'check_photos': ('UPDATE OR DELETE', 'photos are kept with their check'),
    'pspo_events': ('UPDATE OR DELETE', 'record a new event instead'),
    'equipment': ('DELETE', 'retire the item instead'),
    'pspo_orders': ('DELETE', 'discharge the order instead'),
}


def _enable_postgis() -> None:
    bind = op.get_bind()
    available = bind.execute(sa.text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
    if not available:
        raise RuntimeError(
            "PostGIS is not installed on this PostgreSQL server; install it (Debian: "
            "apt-get install postgresql-15-postgis-3) and run `hotspots setup` again")
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        _enable_postgis()
    op.create_table(
        'pspo_orders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('area_code', sa.String(length=100), nullable=False),
        sa.Column('reference', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('area', Geometry('MultiPolygon'), nullable=False),
        sa.Column('area_source', sa.Text(), nullable=False),
        sa.Column('made_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('discharged_on', sa.Date(), nullable=True),
        sa.Column('review_every_days', sa.Integer(), nullable=False),
        sa.Column('published_url', sa.Text(), nullable=True),
        sa.Column('consultation_notes', sa.Text(), nullable=True),
        sa.Column('publication_notes', sa.Text(), nullable=True),
        sa.Column('example', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('area_code', 'reference', name='uq_pspo_reference'),
    )
    op.create_index('ix_pspo_orders_area_code', 'pspo_orders', ['area_code'])
    op.create_table(
        'pspo_conditions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), sa.ForeignKey('pspo_orders.id'), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('wording', sa.Text(), nullable=False),
        sa.Column('times', sa.Text(), nullable=True),
        sa.Column('exemptions', sa.Text(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pspo_conditions_order_id', 'pspo_conditions', ['order_id'])
    op.create_table(
        'pspo_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), sa.ForeignKey('pspo_orders.id'), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('happened_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('area', Geometry('MultiPolygon'), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pspo_events_order_id', 'pspo_events', ['order_id'])
    op.create_table(
        'equipment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.String(length=60), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('location', Geometry('Point'), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('easting', sa.Float(), nullable=False),
        sa.Column('northing', sa.Float(), nullable=False),
        sa.Column('area_code', sa.String(length=100), nullable=True),
        sa.Column('site', sa.String(length=300), nullable=False),
        sa.Column('river', sa.String(length=200), nullable=True),
        sa.Column('installed_on', sa.Date(), nullable=True),
        sa.Column('owner', sa.String(length=200), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('retired_on', sa.Date(), nullable=True),
        sa.Column('retired_reason', sa.Text(), nullable=True),
        sa.Column('example', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('asset_id', name='uq_equipment_asset_id'),
    )
    op.create_index('ix_equipment_area_code', 'equipment', ['area_code'])
    op.create_table(
        'equipment_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('equipment_id', sa.Integer(), sa.ForeignKey('equipment.id'), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('checked_by', sa.String(length=200), nullable=False),
        sa.Column('outcome', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('corrects_id', sa.Integer(), sa.ForeignKey('equipment_checks.id'),
                  nullable=True),
        sa.Column('has_photo', sa.Boolean(), nullable=False),
        sa.Column('entry_key', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('corrects_id', name='uq_checks_corrects_id'),
        sa.UniqueConstraint('entry_key', name='uq_checks_entry_key'),
    )
    op.create_index('ix_checks_equipment_time', 'equipment_checks',
                    ['equipment_id', 'checked_at'])
    op.create_table(
        'check_photos',
        sa.Column('check_id', sa.Integer(), sa.ForeignKey('equipment_checks.id'),
                  nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('file_name', sa.String(length=300), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('check_id'),
    )
    if postgres:
        op.execute("CREATE INDEX ix_pspo_orders_area ON pspo_orders USING GIST (area)")
        op.execute("CREATE INDEX ix_equipment_location ON equipment USING GIST (location)")
        op.execute(REFUSE_FUNCTION)
    create_append_only_triggers(APPEND_ONLY, postgres)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in ('check_photos', 'equipment_checks', 'equipment', 'pspo_events',
                  'pspo_conditions', 'pspo_orders'):
        op.drop_table(table)
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS refuse_change()")

"""problem locations (OSARA, partner actions, their history) and the priority-theme mapping

Problem locations and actions refuse DELETE (close them instead); their events are
append-only (UPDATE and DELETE refused), on both databases, like the registers of 0003.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00
"""

from alembic import op
import sqlalchemy as sa

from store.append_only import create_append_only_triggers
from store.geometry import Geometry


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

APPEND_ONLY = {  # table -> (statements refused, what to do instead)
    'problem_events': ('UPDATE OR DELETE', 'record a new event instead'),
    'problem_actions': ('DELETE', 'close the action instead'),
    'problem_locations': ('DELETE', 'close the problem location instead'),
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'theme_mappings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=200), nullable=False),
        sa.Column('theme', sa.String(length=100), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('category', 'theme', name='uq_theme_mapping'),
    )
    op.create_table(
        'problem_locations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('area_code', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('area', Geometry('MultiPolygon'), nullable=False),
        sa.Column('origin', sa.Text(), nullable=False),
        sa.Column('theme', sa.String(length=100), nullable=True),
        sa.Column('adopted_on', sa.Date(), nullable=False),
        sa.Column('objective', sa.Text(), nullable=False),
        sa.Column('scanning', sa.Text(), nullable=True),
        sa.Column('analysis', sa.Text(), nullable=True),
        sa.Column('response', sa.Text(), nullable=True),
        sa.Column('assessment', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('example', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('area_code', 'name', name='uq_problem_name'),
    )
    op.create_index('ix_problem_locations_area_code', 'problem_locations', ['area_code'])
    op.create_table(
        'problem_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('problem_id', sa.Integer(), sa.ForeignKey('problem_locations.id'),
                  nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('lead', sa.String(length=200), nullable=False),
        sa.Column('measure', sa.Text(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('update_note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_problem_actions_problem_id', 'problem_actions', ['problem_id'])
    op.create_table(
        'problem_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('problem_id', sa.Integer(), sa.ForeignKey('problem_locations.id'),
                  nullable=False),
        sa.Column('action_id', sa.Integer(), sa.ForeignKey('problem_actions.id'),
                  nullable=True),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_problem_events_problem_id', 'problem_events', ['problem_id'])
    if postgres:
        op.execute("CREATE INDEX ix_problem_locations_area ON problem_locations USING GIST "
                   "(area)")
    create_append_only_triggers(APPEND_ONLY, postgres)  # refuse_change() is made by 0003


def downgrade() -> None:
    for table in ('problem_events', 'problem_actions', 'problem_locations', 'theme_mappings'):
        op.drop_table(table)

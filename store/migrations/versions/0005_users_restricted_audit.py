"""users and roles, sign-in sessions, restricted categories, the audit log

The audit log is append-only (UPDATE and DELETE refused) and users cannot be deleted
(deactivate them instead), on both databases. The default restricted categories are
domestic abuse and sexual offences (hidden from viewers and officers) and police.uk's
"Violence and sexual offences" (shown to them only as counts per ward).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:00:00
"""

from datetime import datetime

from alembic import op
import sqlalchemy as sa

from store.append_only import create_append_only_triggers


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

APPEND_ONLY = {  # table -> (statements refused, what to do instead)
    'audit_log': ('UPDATE OR DELETE', 'the audit log is append-only'),
    'users': ('DELETE', 'deactivate the user instead'),
}
DEFAULT_RESTRICTED = [  # pattern, match, rule
    ('violence and sexual offences', 'exact', 'ward'),
    ('domestic', 'contains', 'hidden'),
    ('sexual', 'contains', 'hidden'),
    ('rape', 'contains', 'hidden'),
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=200), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failed_sign_ins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_sign_in', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
        sa.CheckConstraint("role IN ('viewer', 'analyst', 'officer', 'admin')",
                           name='ck_user_role'),
    )
    restricted = op.create_table(
        'restricted_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pattern', sa.String(length=200), nullable=False),
        sa.Column('match', sa.String(length=10), nullable=False),
        sa.Column('rule', sa.String(length=10), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('added_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('pattern'),
    )
    op.create_table(
        'sign_in_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_why', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_sha256'),
    )
    op.create_index('ix_sign_in_sessions_username', 'sign_in_sessions', ['username'])
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=True),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('entity', sa.String(length=60), nullable=False),
        sa.Column('entity_id', sa.String(length=300), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor'])
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity'])
    now = datetime.now()
    op.bulk_insert(restricted, [
        {'pattern': pattern, 'match': match, 'rule': rule, 'added_at': now,
         'added_by': 'default'} for pattern, match, rule in DEFAULT_RESTRICTED])
    create_append_only_triggers(APPEND_ONLY, postgres)  # refuse_change() is made by 0003


def downgrade() -> None:
    for table in ('audit_log', 'sign_in_sessions', 'restricted_categories', 'users'):
        op.drop_table(table)

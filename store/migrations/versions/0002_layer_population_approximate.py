"""layers: population (for rates per 1,000 residents) and approximate (stated stand-ins)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('layers') as batch:
        batch.add_column(sa.Column('population', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('approximate', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_index('ix_layers_kind_parent', ['kind', 'parent_code'])


def downgrade() -> None:
    with op.batch_alter_table('layers') as batch:
        batch.drop_index('ix_layers_kind_parent')
        batch.drop_column('approximate')
        batch.drop_column('population')

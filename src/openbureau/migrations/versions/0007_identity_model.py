"""identity: estimated linkage models (identity_models)

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_models',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trained_by', sa.String(length=64), nullable=False),
    sa.Column('descriptions', sa.BigInteger(), nullable=False),
    sa.Column('model', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_models'))
    )


def downgrade() -> None:
    op.drop_table('identity_models')

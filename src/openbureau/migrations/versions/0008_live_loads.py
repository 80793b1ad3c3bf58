"""live loads: loads in progress, whose rows readers leave out until the load publishes them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loads_in_progress',
    sa.Column('submission_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=False),
    sa.Column('first_person_id', sa.BigInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_loads_in_progress'))
    )


def downgrade() -> None:
    op.drop_table('loads_in_progress')

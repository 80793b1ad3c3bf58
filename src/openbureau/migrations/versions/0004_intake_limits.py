"""intake limits: sampled findings with exact counts by code, kept files' purge time

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('findings_stored', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('finding_counts', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('file_purged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('file_purged_at')
        batch.drop_column('finding_counts')
        batch.drop_column('findings_stored')

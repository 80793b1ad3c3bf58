"""account_states.history_profile: a Metro 2 record's 24-month payment history profile, as furnished

Read by tradelines for the months before the record's period of which the bureau holds no state of the
account (docs/metro2.md, "Payment history profile"). Plain ADD COLUMN, nullable, no default: no table rebuild
and no rewrite of existing rows on either engine.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('account_states', sa.Column('history_profile', sa.String(length=24), nullable=True))


def downgrade() -> None:
    op.drop_column('account_states', 'history_profile')

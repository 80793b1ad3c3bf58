"""joint lending: a funder's accounts in (furnisher, account) order (the funder's review, GET /v1/funded-accounts)

One index on ``account_funders`` (a table of its own, so no rebuild of ``account_states``): a page of a funder's
review walks it from the cursor instead of reading and sorting every funder row of the funder
(docs/reports.md, The funder's review).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_account_funders_funder_id_furnisher_id_furnisher_account_id'), 'account_funders',
                    ['funder_id', 'furnisher_id', 'furnisher_account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_account_funders_funder_id_furnisher_id_furnisher_account_id'), table_name='account_funders')

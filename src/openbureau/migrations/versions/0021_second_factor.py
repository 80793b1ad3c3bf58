"""second factor: a TOTP secret per API key for the members' web sign-in (docs/portal.md)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain added columns, no table rebuild: the keys are referenced by nothing, but the members table they
    # belong to is, and a rebuild would be needless on either engine.
    op.add_column('api_keys', sa.Column('second_factor_enc', sa.LargeBinary(), nullable=True))
    op.add_column('api_keys', sa.Column('second_factor_step', sa.BigInteger(), nullable=True))
    op.add_column('api_keys', sa.Column('second_factor_failures', sa.SmallInteger(), nullable=False,
                                        server_default='0'))
    op.add_column('api_keys', sa.Column('second_factor_locked_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('api_keys', 'second_factor_locked_until')
    op.drop_column('api_keys', 'second_factor_failures')
    op.drop_column('api_keys', 'second_factor_step')
    op.drop_column('api_keys', 'second_factor_enc')

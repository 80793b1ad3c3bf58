"""joint lending (furnishing standard v1.1): funders and related persons of an account state

``account_funders`` and ``account_parties`` are new tables keyed like ``account_states`` plus a position;
``account_states.facilitator_id`` and ``facilitator_account_id`` are plain nullable ADD COLUMNs, so no table
rebuild of the largest table on either engine; ``submissions.parties_held`` counts the related persons a load
stored held for want of their consent (docs/furnishing-format.md, standard v1.1).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_KEY = ('furnisher_id', 'furnisher_account_id', 'reporting_period', 'version', 'position')


def _key_columns() -> list[sa.Column]:
    return [sa.Column('furnisher_id', sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
            sa.Column('reporting_period', sa.String(length=7), nullable=False),
            sa.Column('version', sa.SmallInteger(), autoincrement=False, nullable=False),
            sa.Column('position', sa.SmallInteger(), autoincrement=False, nullable=False)]


def upgrade() -> None:
    op.add_column('account_states', sa.Column('facilitator_id', sa.BigInteger(), nullable=True))
    op.add_column('account_states', sa.Column('facilitator_account_id', sa.String(length=64), nullable=True))
    op.create_table('account_funders', *_key_columns(),
                    sa.Column('funder_id', sa.BigInteger(), nullable=False),
                    sa.Column('share_bp', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint(*_KEY, name=op.f('pk_account_funders')))
    op.create_index(op.f('ix_account_funders_funder_id_reporting_period'), 'account_funders',
                    ['funder_id', 'reporting_period'], unique=False)
    op.create_table('account_parties', *_key_columns(),
                    sa.Column('role', sa.String(length=16), nullable=False),
                    sa.Column('person_id', sa.BigInteger(), nullable=False),
                    sa.Column('identity_enc', sa.LargeBinary(), nullable=False),
                    sa.Column('liability', sa.BigInteger(), nullable=True),
                    sa.Column('consent_ref', sa.String(length=64), nullable=True),
                    sa.Column('held_reason', sa.String(length=16), nullable=True),
                    sa.PrimaryKeyConstraint(*_KEY, name=op.f('pk_account_parties')))
    op.create_index(op.f('ix_account_parties_person_id'), 'account_parties', ['person_id'], unique=False)
    op.add_column('submissions', sa.Column('parties_held', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('submissions', 'parties_held')
    op.drop_index(op.f('ix_account_parties_person_id'), table_name='account_parties')
    op.drop_table('account_parties')
    op.drop_index(op.f('ix_account_funders_funder_id_reporting_period'), table_name='account_funders')
    op.drop_table('account_funders')
    op.drop_column('account_states', 'facilitator_account_id')
    op.drop_column('account_states', 'facilitator_id')

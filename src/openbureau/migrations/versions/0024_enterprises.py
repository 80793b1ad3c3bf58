"""enterprises: enterprise borrowers and sole traders' businesses (furnishing standard v1.1)

Three new tables and one nullable column (``inquiries.enterprise_id``, a plain ADD COLUMN): ``account_states``
is not touched (its ``person_id`` stays NOT NULL and no column is added), so the migration is cheap on a bureau
holding millions of account rows.
``enterprises`` (the unified social credit code sealed and blind-indexed), ``enterprise_states`` (the
accounts of enterprise borrowers, which have no person) and ``account_enterprises`` (the business of a sole
trader's account state, by the state's key).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _key() -> list[sa.Column]:
    return [sa.Column('furnisher_id', sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
            sa.Column('reporting_period', sa.String(length=7), nullable=False),
            sa.Column('version', sa.SmallInteger(), autoincrement=False, nullable=False)]


def upgrade() -> None:
    op.create_table(
        'enterprises',
        sa.Column('id', _BIG_ID, autoincrement=False, nullable=False),
        sa.Column('code_type', sa.String(length=8), nullable=False),
        sa.Column('uscc_index', sa.LargeBinary(length=16), nullable=False),
        sa.Column('uscc_enc', sa.LargeBinary(), nullable=False),
        sa.Column('submission_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
        sa.UniqueConstraint('code_type', 'uscc_index', name=op.f('uq_enterprises_code_type_uscc_index')),
    )
    op.create_table(
        'enterprise_states',
        *_key(),
        sa.Column('submission_id', sa.BigInteger(), nullable=False),
        sa.Column('line', sa.BigInteger(), nullable=False),
        sa.Column('enterprise_id', sa.BigInteger(), nullable=False),
        sa.Column('name_enc', sa.LargeBinary(), nullable=False),
        sa.Column('product_type', sa.String(length=16), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('credit_limit', sa.BigInteger(), nullable=True),
        sa.Column('original_amount', sa.BigInteger(), nullable=True),
        sa.Column('term_months', sa.Integer(), nullable=True),
        sa.Column('balance', sa.BigInteger(), nullable=False),
        sa.Column('amount_due', sa.BigInteger(), nullable=False),
        sa.Column('amount_paid', sa.BigInteger(), nullable=False),
        sa.Column('past_due_amount', sa.BigInteger(), nullable=False),
        sa.Column('days_past_due', sa.Integer(), nullable=False),
        sa.Column('payment_status', sa.String(length=1), nullable=False),
        sa.Column('account_status', sa.String(length=16), nullable=False),
        sa.Column('first_delinquency_date', sa.Date(), nullable=True),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('correction', sa.SmallInteger(), nullable=False),
        sa.Column('has_warnings', sa.SmallInteger(), nullable=False),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('furnisher_id', 'furnisher_account_id', 'reporting_period', 'version',
                                name=op.f('pk_enterprise_states')),
    )
    op.create_index(op.f('ix_enterprise_states_enterprise_id'), 'enterprise_states', ['enterprise_id'])
    op.create_table(
        'account_enterprises',
        *_key(),
        sa.Column('submission_id', sa.BigInteger(), nullable=False),
        sa.Column('enterprise_id', sa.BigInteger(), nullable=False),
        sa.Column('name_enc', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('furnisher_id', 'furnisher_account_id', 'reporting_period', 'version',
                                name=op.f('pk_account_enterprises')),
    )
    op.create_index(op.f('ix_account_enterprises_enterprise_id'), 'account_enterprises', ['enterprise_id'])
    op.add_column('inquiries', sa.Column('enterprise_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('inquiries', 'enterprise_id')  # ALTER TABLE DROP COLUMN (SQLite 3.35+): no rebuild
    op.drop_index(op.f('ix_account_enterprises_enterprise_id'), table_name='account_enterprises')
    op.drop_table('account_enterprises')
    op.drop_index(op.f('ix_enterprise_states_enterprise_id'), table_name='enterprise_states')
    op.drop_table('enterprise_states')
    op.drop_table('enterprises')

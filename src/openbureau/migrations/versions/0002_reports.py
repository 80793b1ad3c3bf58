"""reports: the person's own inquiries (no subscriber, an operator's code), disputes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disputes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=True),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=True),
    sa.Column('reporting_period', sa.String(length=7), nullable=True),
    sa.Column('inquiry_id', sa.BigInteger(), nullable=True),
    sa.Column('statement_enc', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('filed_by', sa.String(length=64), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_person_id_status'), ['person_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_status_due_at'), ['status', 'due_at'], unique=False)

    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_code', sa.String(length=64), nullable=True))
        batch_op.alter_column('subscriber_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=True)
    # Requests before this revision were all made by the subscriber itself.
    op.execute("UPDATE inquiries SET actor_code = (SELECT code FROM members WHERE members.id = inquiries.subscriber_id)")


def downgrade() -> None:
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.alter_column('subscriber_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=False)
        batch_op.drop_column('actor_code')

    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disputes_status_due_at'))
        batch_op.drop_index(batch_op.f('ix_disputes_person_id_status'))

    op.drop_table('disputes')

"""erasure and objection: the suppression list of erased records and events, erasure requests, objections

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erased_events',
    sa.Column('furnisher_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('erasure_id', sa.BigInteger(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('furnisher_id', 'event_id', name=op.f('pk_erased_events'))
    )
    op.create_table('erased_states',
    sa.Column('furnisher_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
    sa.Column('reporting_period', sa.String(length=7), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('erasure_id', sa.BigInteger(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('furnisher_id', 'furnisher_account_id', 'reporting_period', name=op.f('pk_erased_states'))
    )
    op.create_table('erasure_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_requests'))
    )
    with op.batch_alter_table('erasure_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_requests_person_id'), ['person_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('objected_by', sa.String(length=64), nullable=False),
    sa.Column('objected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_by', sa.String(length=64), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_person_id_purpose'), ['person_id', 'purpose'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_person_id_purpose'))

    op.drop_table('objections')
    with op.batch_alter_table('erasure_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_requests_person_id'))

    op.drop_table('erasure_requests')
    op.drop_table('erased_states')
    op.drop_table('erased_events')

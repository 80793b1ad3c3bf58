"""lending events: same-day events and their reconciliation with the monthly files

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='records', nullable=False))
    op.create_table('event_discrepancies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_row_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
    sa.Column('reporting_period', sa.String(length=7), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_discrepancies')),
    sa.UniqueConstraint('event_row_id', 'code', name=op.f('uq_event_discrepancies_event_row_id_code'))
    )
    with op.batch_alter_table('event_discrepancies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_discrepancies_furnisher_id_detected_at'), ['furnisher_id', 'detected_at'], unique=False)

    op.create_table('lending_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=True),
    sa.Column('id_type', sa.String(length=16), nullable=False),
    sa.Column('id_index', sa.LargeBinary(length=16), nullable=False),
    sa.Column('id_enc', sa.LargeBinary(), nullable=False),
    sa.Column('identity_enc', sa.LargeBinary(), nullable=False),
    sa.Column('product_type', sa.String(length=16), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('term_months', sa.Integer(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('amount_due', sa.BigInteger(), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=True),
    sa.Column('days_past_due', sa.Integer(), nullable=True),
    sa.Column('past_due_amount', sa.BigInteger(), nullable=True),
    sa.Column('consent_ref', sa.String(length=64), nullable=True),
    sa.Column('digest', sa.LargeBinary(length=16), nullable=False),
    sa.Column('has_warnings', sa.SmallInteger(), nullable=False),
    sa.Column('held_reason', sa.String(length=16), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submission_id', sa.BigInteger(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_events')),
    sa.UniqueConstraint('furnisher_id', 'event_id', name=op.f('uq_lending_events_furnisher_id_event_id'))
    )
    with op.batch_alter_table('lending_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lending_events_furnisher_id_furnisher_account_id'), ['furnisher_id', 'furnisher_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lending_events_id_type_id_index'), ['id_type', 'id_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_lending_events_person_id_occurred_at'), ['person_id', 'occurred_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('lending_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lending_events_person_id_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_lending_events_id_type_id_index'))
        batch_op.drop_index(batch_op.f('ix_lending_events_furnisher_id_furnisher_account_id'))

    op.drop_table('lending_events')
    with op.batch_alter_table('event_discrepancies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_discrepancies_furnisher_id_detected_at'))

    op.drop_table('event_discrepancies')

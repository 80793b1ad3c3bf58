"""fraud: ring members, the fraud list, disputes of fraud reports

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fraud_ring_members',
    sa.Column('person_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('ring_id', sa.BigInteger(), nullable=False),
    sa.Column('ring_size', sa.Integer(), nullable=False),
    sa.Column('linked_by', sa.String(length=32), nullable=False),
    sa.Column('lenders', sa.Integer(), nullable=False),
    sa.Column('delinquent', sa.Integer(), nullable=False),
    sa.Column('shared_attributes', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.String(length=7), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_fraud_ring_members'))
    )
    with op.batch_alter_table('fraud_ring_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_ring_members_ring_id'), ['ring_id'], unique=False)

    op.create_table('fraud_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('evidence_enc', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['furnisher_id'], ['members.id'], name=op.f('fk_fraud_reports_furnisher_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_reports'))
    )
    with op.batch_alter_table('fraud_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_reports_furnisher_id_id'), ['furnisher_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fraud_reports_person_id_status'), ['person_id', 'status'], unique=False)

    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fraud_report_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_column('fraud_report_id')
    with op.batch_alter_table('fraud_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fraud_reports_person_id_status'))
        batch_op.drop_index(batch_op.f('ix_fraud_reports_furnisher_id_id'))
    op.drop_table('fraud_reports')
    with op.batch_alter_table('fraud_ring_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fraud_ring_members_ring_id'))
    op.drop_table('fraud_ring_members')

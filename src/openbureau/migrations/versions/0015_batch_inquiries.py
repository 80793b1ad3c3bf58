"""batch inquiries: a lender's jobs and the committed parts of their answers

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inquiry_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor_code', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('input_sha256', sa.String(length=64), nullable=False),
    sa.Column('input_bytes', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('chunk_rows', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_answered', sa.Integer(), nullable=False),
    sa.Column('rows_refused', sa.Integer(), nullable=False),
    sa.Column('rows_invalid', sa.Integer(), nullable=False),
    sa.Column('input_offset', sa.BigInteger(), nullable=False),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['members.id'], name=op.f('fk_inquiry_batches_subscriber_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_batches')),
    sa.UniqueConstraint('token', name=op.f('uq_inquiry_batches_token'))
    )
    with op.batch_alter_table('inquiry_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_batches_status_lease_until'), ['status', 'lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_inquiry_batches_subscriber_id_id'), ['subscriber_id', 'id'], unique=False)

    op.create_table('inquiry_batch_parts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chunk', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['inquiry_batches.id'], name=op.f('fk_inquiry_batch_parts_batch_id_inquiry_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_batch_parts')),
    sa.UniqueConstraint('batch_id', 'chunk', name=op.f('uq_inquiry_batch_parts_batch_id_chunk'))
    )


def downgrade() -> None:
    op.drop_table('inquiry_batch_parts')
    with op.batch_alter_table('inquiry_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_batches_subscriber_id_id'))
        batch_op.drop_index(batch_op.f('ix_inquiry_batches_status_lease_until'))

    op.drop_table('inquiry_batches')

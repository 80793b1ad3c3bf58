"""authority requests: requests by authorities for a person's report, their legal basis, reference and
non-disclosure order (the member role ``authority`` needs no schema change: roles are a list in members.roles)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('authority_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('authority_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('basis', sa.String(length=32), nullable=False),
    sa.Column('citation_enc', sa.LargeBinary(), nullable=False),
    sa.Column('reference_enc', sa.LargeBinary(), nullable=False),
    sa.Column('order_hash', sa.String(length=128), nullable=False),
    sa.Column('nondisclosure_ref_enc', sa.LargeBinary(), nullable=True),
    sa.Column('nondisclosure_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(nondisclosure_until IS NULL) = (nondisclosure_ref_enc IS NULL)',
                       name=op.f('ck_authority_requests_nondisclosure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authority_requests'))
    )
    with op.batch_alter_table('authority_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authority_requests_authority_id_created_at'),
                              ['authority_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_authority_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_authority_requests_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('authority_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authority_requests_person_id'))
        batch_op.drop_index(batch_op.f('ix_authority_requests_created_at'))
        batch_op.drop_index(batch_op.f('ix_authority_requests_authority_id_created_at'))

    op.drop_table('authority_requests')

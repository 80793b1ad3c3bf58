"""console sessions: web sign-in of members' staff and of the bureau's operator (docs/portal.md)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'console_sessions',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('key_prefix', sa.String(length=16), nullable=True),
        sa.Column('actor_code', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTC_TIME, nullable=False),
        sa.Column('expires_at', UTC_TIME, nullable=False),
        sa.Column('ended_at', UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_console_sessions_member_id_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_console_sessions_token_hash')),
    )
    op.create_index(op.f('ix_console_sessions_member_id'), 'console_sessions', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_console_sessions_member_id'), table_name='console_sessions')
    op.drop_table('console_sessions')

"""people: sign-in challenges, lock-outs, person sessions; the notifications outbox and its attempts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=True),
    sa.Column('subject_id_type', sa.String(length=16), nullable=True),
    sa.Column('subject_id_enc', sa.LargeBinary(), nullable=True),
    sa.Column('recipient_enc', sa.LargeBinary(), nullable=True),
    sa.Column('message_enc', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status_next_attempt_at'), ['status', 'next_attempt_at'], unique=False)

    op.create_table('person_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('id_type', sa.String(length=16), nullable=False),
    sa.Column('id_enc', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_person_sessions_token_hash'))
    )
    with op.batch_alter_table('person_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_sessions_person_id'), ['person_id'], unique=False)

    op.create_table('signin_challenges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_challenges')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_signin_challenges_token_hash'))
    )
    with op.batch_alter_table('signin_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_challenges_document_hash_created_at'), ['document_hash', 'created_at'], unique=False)

    op.create_table('signin_lockouts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_lockouts'))
    )
    with op.batch_alter_table('signin_lockouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_lockouts_document_hash_locked_until'), ['document_hash', 'locked_until'], unique=False)

    op.create_table('notification_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_notification_attempts_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_attempts'))
    )
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_attempts_notification_id'), ['notification_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_attempts_notification_id'))

    op.drop_table('notification_attempts')
    with op.batch_alter_table('signin_lockouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_lockouts_document_hash_locked_until'))

    op.drop_table('signin_lockouts')
    with op.batch_alter_table('signin_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_challenges_document_hash_created_at'))

    op.drop_table('signin_challenges')
    with op.batch_alter_table('person_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_sessions_person_id'))

    op.drop_table('person_sessions')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_status_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_notifications_person_id'))

    op.drop_table('notifications')

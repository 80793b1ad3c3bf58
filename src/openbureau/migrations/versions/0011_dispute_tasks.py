"""dispute tasks: the furnisher's investigation, blocked items and the person's statement; fraud alerts,
security freezes and identity-theft reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dispute_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dispute_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
    sa.Column('reporting_period', sa.String(length=7), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('evidence_enc', sa.LargeBinary(), nullable=True),
    sa.Column('correction_submission_id', sa.BigInteger(), nullable=True),
    sa.Column('correction_period', sa.String(length=7), nullable=True),
    sa.Column('correction_version', sa.Integer(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_tasks')),
    sa.UniqueConstraint('dispute_id', name=op.f('uq_dispute_tasks_dispute_id'))
    )
    with op.batch_alter_table('dispute_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_tasks_furnisher_id_status_due_at'), ['furnisher_id', 'status', 'due_at'], unique=False)

    op.create_table('fraud_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('theft_report_id', sa.BigInteger(), nullable=True),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_by', sa.String(length=64), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_alerts'))
    )
    with op.batch_alter_table('fraud_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_alerts_person_id'), ['person_id'], unique=False)

    op.create_table('freeze_lifts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('freeze_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_freeze_lifts'))
    )
    with op.batch_alter_table('freeze_lifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_freeze_lifts_person_id'), ['person_id'], unique=False)

    op.create_table('identity_theft_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('report_ref_enc', sa.LargeBinary(), nullable=False),
    sa.Column('filed_by', sa.String(length=64), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_theft_reports'))
    )
    with op.batch_alter_table('identity_theft_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_theft_reports_person_id'), ['person_id'], unique=False)

    op.create_table('item_blocks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
    sa.Column('reporting_period', sa.String(length=7), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('blocked_by', sa.String(length=64), nullable=False),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_blocks'))
    )
    with op.batch_alter_table('item_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_blocks_person_id'), ['person_id'], unique=False)

    op.create_table('security_freezes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_by', sa.String(length=64), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_freezes'))
    )
    with op.batch_alter_table('security_freezes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_freezes_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consumer_statement_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('consumer_statement_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_column('consumer_statement_at')
        batch_op.drop_column('consumer_statement_enc')

    with op.batch_alter_table('security_freezes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_freezes_person_id'))

    op.drop_table('security_freezes')
    with op.batch_alter_table('item_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_blocks_person_id'))

    op.drop_table('item_blocks')
    with op.batch_alter_table('identity_theft_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_theft_reports_person_id'))

    op.drop_table('identity_theft_reports')
    with op.batch_alter_table('freeze_lifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_freeze_lifts_person_id'))

    op.drop_table('freeze_lifts')
    with op.batch_alter_table('fraud_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fraud_alerts_person_id'))

    op.drop_table('fraud_alerts')
    with op.batch_alter_table('dispute_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_tasks_furnisher_id_status_due_at'))

    op.drop_table('dispute_tasks')

"""monitoring: deliveries ordered per endpoint and registration; score-change thresholds on registrations

``webhook_deliveries.subject_id`` names the registration a delivery's trigger is about: a delivery waits only
for the earlier ones of its endpoint *and registration*, so one endpoint receives triggers about different
subjects in parallel (docs/monitoring.md). It is filled from the triggers for the deliveries already written.
``monitored_subjects.score_threshold`` and ``score_baseline`` hold the score-change watch a lender sets.

Plain ADD COLUMN (no table rebuild): on SQLite a rebuild would drop ``webhook_deliveries``, which its attempts
name.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('webhook_deliveries', sa.Column('subject_id', sa.BigInteger(), nullable=True))
    deliveries = sa.table('webhook_deliveries', sa.column('subject_id', sa.BigInteger),
                          sa.column('trigger_id', sa.BigInteger))
    triggers = sa.table('monitoring_triggers', sa.column('id', sa.BigInteger), sa.column('subject_id', sa.BigInteger))
    op.execute(deliveries.update().values(subject_id=sa.select(triggers.c.subject_id).where(
        triggers.c.id == deliveries.c.trigger_id).scalar_subquery()))
    op.create_index(op.f('ix_webhook_deliveries_endpoint_id_subject_id_status_id'), 'webhook_deliveries',
                    ['endpoint_id', 'subject_id', 'status', 'id'], unique=False)
    op.add_column('monitored_subjects', sa.Column('score_threshold', sa.Integer(), nullable=True))
    op.add_column('monitored_subjects', sa.Column('score_baseline', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('monitored_subjects', 'score_baseline')
    op.drop_column('monitored_subjects', 'score_threshold')
    op.drop_index(op.f('ix_webhook_deliveries_endpoint_id_subject_id_status_id'), table_name='webhook_deliveries')
    op.drop_column('webhook_deliveries', 'subject_id')

"""triggers by person: the person's export lists the triggers sent to lenders about them

One index on ``monitoring_triggers`` (person, id): the export (GET /v1/me/export) reads a person's triggers
through it instead of the whole table (docs/rights.md, docs/monitoring.md).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_monitoring_triggers_person_id_id'), 'monitoring_triggers', ['person_id', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_monitoring_triggers_person_id_id'), table_name='monitoring_triggers')

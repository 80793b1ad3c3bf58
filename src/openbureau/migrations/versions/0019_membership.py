"""membership: members' vetting, licence, permitted purposes and products, suspension

Members registered before this revision keep working: they are approved, with every purpose and every product
permitted (``*``) and no licence recorded (docs/membership.md).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vetting', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('vetted_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('vetted_at', UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column('vetting_notes', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('licence_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('licence_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('licence_authority', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('licence_valid_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('licence_valid_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('purposes', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('products', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column('suspended_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('suspension_reason', sa.String(length=500), nullable=True))
    members = sa.table('members', sa.column('vetting', sa.String), sa.column('vetting_notes', sa.String),
                       sa.column('purposes', sa.String), sa.column('products', sa.String))
    op.execute(members.update().values(vetting='approved', purposes='*', products='*',
                                       vetting_notes='registered before vetting was recorded (revision 0019)'))
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.alter_column('vetting', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('purposes', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('products', existing_type=sa.String(length=200), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        for column in ('suspension_reason', 'suspended_by', 'suspended_at', 'products', 'purposes',
                       'licence_valid_until', 'licence_valid_from', 'licence_authority', 'licence_number',
                       'licence_kind', 'vetting_notes', 'vetted_at', 'vetted_by', 'vetting'):
            batch_op.drop_column(column)

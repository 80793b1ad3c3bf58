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
    # Plain ADD COLUMN (no table rebuild): on SQLite a rebuild drops ``members``, which the rows of every table
    # that names a member forbid. The three required columns arrive filled for the members already registered
    # (approved, every purpose and product), and keep that fill as their database default: the bureau's own
    # inserts always name the vetting (the model's default is pending), and SQLite cannot drop a column's
    # default without the rebuild.
    legacy = {'vetting': 'approved', 'purposes': '*', 'products': '*'}
    for name, kind in (('vetting', sa.String(length=16)), ('vetted_by', sa.String(length=64)), ('vetted_at', UTC_TIME),
                       ('vetting_notes', sa.String(length=500)), ('licence_kind', sa.String(length=16)),
                       ('licence_number', sa.String(length=64)), ('licence_authority', sa.String(length=200)),
                       ('licence_valid_from', sa.Date()), ('licence_valid_until', sa.Date()),
                       ('purposes', sa.String(length=200)), ('products', sa.String(length=200)),
                       ('suspended_at', UTC_TIME), ('suspended_by', sa.String(length=64)),
                       ('suspension_reason', sa.String(length=500))):
        op.add_column('members', sa.Column(name, kind, nullable=name not in legacy, server_default=legacy.get(name)))
    members = sa.table('members', sa.column('vetting_notes', sa.String))
    op.execute(members.update().values(vetting_notes='registered before vetting was recorded (revision 0019)'))


def downgrade() -> None:
    for column in ('suspension_reason', 'suspended_by', 'suspended_at', 'products', 'purposes',
                   'licence_valid_until', 'licence_valid_from', 'licence_authority', 'licence_number',
                   'licence_kind', 'vetting_notes', 'vetted_at', 'vetted_by', 'vetting'):
        op.drop_column('members', column)

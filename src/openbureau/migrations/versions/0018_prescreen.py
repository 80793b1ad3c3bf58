"""prescreen: the opt-out register, prescreens and their firm-offer lists

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-11
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('prescreen_opt_outs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('term', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('made_by', sa.String(length=64), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescreen_opt_outs'))
    )
    with op.batch_alter_table('prescreen_opt_outs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescreen_opt_outs_person_id_starts_at'), ['person_id', 'starts_at'], unique=False)

    op.create_table('prescreens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor_code', sa.String(length=64), nullable=False),
    sa.Column('criteria', sa.Text(), nullable=False),
    sa.Column('offer_product', sa.String(length=32), nullable=False),
    sa.Column('offer_terms', sa.String(length=500), nullable=False),
    sa.Column('max_persons', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('persons_considered', sa.Integer(), nullable=False),
    sa.Column('persons_selected', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['members.id'], name=op.f('fk_prescreens_subscriber_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescreens'))
    )
    with op.batch_alter_table('prescreens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescreens_subscriber_id_id'), ['subscriber_id', 'id'], unique=False)

    op.create_table('prescreen_selections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prescreen_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('inquiry_id', sa.BigInteger(), nullable=False),
    sa.Column('mailing_enc', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['prescreen_id'], ['prescreens.id'], name=op.f('fk_prescreen_selections_prescreen_id_prescreens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescreen_selections')),
    sa.UniqueConstraint('prescreen_id', 'person_id', name=op.f('uq_prescreen_selections_prescreen_id_person_id'))
    )
    with op.batch_alter_table('prescreen_selections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescreen_selections_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('prescreen_selections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescreen_selections_person_id'))

    op.drop_table('prescreen_selections')
    with op.batch_alter_table('prescreens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescreens_subscriber_id_id'))

    op.drop_table('prescreens')
    with op.batch_alter_table('prescreen_opt_outs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescreen_opt_outs_person_id_starts_at'))

    op.drop_table('prescreen_opt_outs')

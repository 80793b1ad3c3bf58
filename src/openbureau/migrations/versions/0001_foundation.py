"""foundation: members, persons, identity resolution, submissions, findings, account states, consents, inquiries, audit

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_states',
    sa.Column('furnisher_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
    sa.Column('reporting_period', sa.String(length=7), nullable=False),
    sa.Column('version', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('submission_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('identity_enc', sa.LargeBinary(), nullable=False),
    sa.Column('product_type', sa.String(length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), nullable=True),
    sa.Column('original_amount', sa.BigInteger(), nullable=True),
    sa.Column('term_months', sa.Integer(), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('past_due_amount', sa.BigInteger(), nullable=False),
    sa.Column('days_past_due', sa.Integer(), nullable=False),
    sa.Column('payment_status', sa.String(length=1), nullable=False),
    sa.Column('account_status', sa.String(length=16), nullable=False),
    sa.Column('first_delinquency_date', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('consent_ref', sa.String(length=64), nullable=True),
    sa.Column('negative_notice_date', sa.Date(), nullable=True),
    sa.Column('correction', sa.SmallInteger(), nullable=False),
    sa.Column('has_warnings', sa.SmallInteger(), nullable=False),
    sa.Column('negative_held', sa.SmallInteger(), nullable=False),
    sa.Column('held_reason', sa.String(length=16), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('furnisher_id', 'furnisher_account_id', 'reporting_period', 'version', name=op.f('pk_account_states'))
    )
    with op.batch_alter_table('account_states', schema=None) as batch_op:
        batch_op.create_index('ix_account_states_held', ['furnisher_id', 'person_id'], unique=False, sqlite_where=sa.text('held_reason IS NOT NULL'), postgresql_where=sa.text('held_reason IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_account_states_person_id'), ['person_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_member_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_code', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=True),
    sa.Column('purpose', sa.String(length=48), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_code_seq'), ['actor_code', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_person_id_seq'), ['person_id', 'seq'], unique=False)

    op.create_table('identity_conflicts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_conflicts'))
    )
    with op.batch_alter_table('identity_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_conflicts_furnisher_id'), ['furnisher_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_conflicts_person_id'), ['person_id'], unique=False)

    op.create_table('identity_merges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('into_person_id', sa.BigInteger(), nullable=False),
    sa.Column('match_weight', sa.Float(), nullable=True),
    sa.Column('match_probability', sa.Float(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('actor_code', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_merges'))
    )
    with op.batch_alter_table('identity_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_merges_into_person_id'), ['into_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_merges_person_id'), ['person_id'], unique=False)

    op.create_table('identity_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('candidate_person_id', sa.BigInteger(), nullable=False),
    sa.Column('match_weight', sa.Float(), nullable=False),
    sa.Column('match_probability', sa.Float(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_reviews')),
    sa.UniqueConstraint('person_id', 'candidate_person_id', name=op.f('uq_identity_reviews_person_id_candidate_person_id'))
    )
    with op.batch_alter_table('identity_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_reviews_person_id'), ['person_id'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('code', name=op.f('uq_members_code'))
    )
    op.create_table('persons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id_type', sa.String(length=16), nullable=False),
    sa.Column('id_index', sa.LargeBinary(length=16), nullable=False),
    sa.Column('id_enc', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['merged_into_id'], ['persons.id'], name=op.f('fk_persons_merged_into_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('id_type', 'id_index', name=op.f('uq_persons_id_type_id_index'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_merged_into_id'), ['merged_into_id'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_api_keys_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_member_id'), ['member_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consent_ref', sa.String(length=64), nullable=False),
    sa.Column('grantee_member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('subject_id_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id_index', sa.LargeBinary(length=16), nullable=False),
    sa.Column('subject_id_enc', sa.LargeBinary(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('evidence_channel', sa.String(length=32), nullable=False),
    sa.Column('evidence_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence_hash', sa.String(length=128), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['grantee_member_id'], ['members.id'], name=op.f('fk_consents_grantee_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('grantee_member_id', 'consent_ref', name=op.f('uq_consents_grantee_member_id_consent_ref'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_subject_id_index_grantee_member_id_purpose'), ['subject_id_index', 'grantee_member_id', 'purpose'], unique=False)

    op.create_table('identity_account_moves',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=False),
    sa.Column('from_person_id', sa.BigInteger(), nullable=False),
    sa.Column('to_person_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['merge_id'], ['identity_merges.id'], name=op.f('fk_identity_account_moves_merge_id_identity_merges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_account_moves'))
    )
    with op.batch_alter_table('identity_account_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_account_moves_furnisher_id_furnisher_account_id'), ['furnisher_id', 'furnisher_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_account_moves_merge_id'), ['merge_id'], unique=False)

    op.create_table('inquiries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscriber_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('hard', sa.SmallInteger(), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('consent_id', sa.BigInteger(), nullable=True),
    sa.Column('basis_note', sa.Text(), nullable=True),
    sa.Column('declared_monthly_income', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['members.id'], name=op.f('fk_inquiries_subscriber_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiries'))
    )
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiries_person_id_created_at'), ['person_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inquiries_subscriber_id_created_at'), ['subscriber_id', 'created_at'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('furnisher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('records_received', sa.BigInteger(), nullable=False),
    sa.Column('records_accepted', sa.BigInteger(), nullable=False),
    sa.Column('records_warnings', sa.BigInteger(), nullable=False),
    sa.Column('records_rejected', sa.BigInteger(), nullable=False),
    sa.Column('records_quarantined', sa.BigInteger(), nullable=False),
    sa.Column('findings_count', sa.BigInteger(), nullable=False),
    sa.Column('error_code', sa.String(length=48), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['furnisher_id'], ['members.id'], name=op.f('fk_submissions_furnisher_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('furnisher_id', 'sha256', name=op.f('uq_submissions_furnisher_id_sha256'))
    )
    op.create_table('findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line', sa.BigInteger(), nullable=False),
    sa.Column('furnisher_account_id', sa.String(length=64), nullable=True),
    sa.Column('field', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_findings_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_submission_id_line'), ['submission_id', 'line'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_submission_id_line'))

    op.drop_table('findings')
    op.drop_table('submissions')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiries_subscriber_id_created_at'))
        batch_op.drop_index(batch_op.f('ix_inquiries_person_id_created_at'))

    op.drop_table('inquiries')
    with op.batch_alter_table('identity_account_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_account_moves_merge_id'))
        batch_op.drop_index(batch_op.f('ix_identity_account_moves_furnisher_id_furnisher_account_id'))

    op.drop_table('identity_account_moves')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_subject_id_index_grantee_member_id_purpose'))

    op.drop_table('consents')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_member_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_merged_into_id'))

    op.drop_table('persons')
    op.drop_table('members')
    with op.batch_alter_table('identity_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_reviews_person_id'))

    op.drop_table('identity_reviews')
    with op.batch_alter_table('identity_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_merges_person_id'))
        batch_op.drop_index(batch_op.f('ix_identity_merges_into_person_id'))

    op.drop_table('identity_merges')
    with op.batch_alter_table('identity_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_conflicts_person_id'))
        batch_op.drop_index(batch_op.f('ix_identity_conflicts_furnisher_id'))

    op.drop_table('identity_conflicts')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_person_id_seq'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_code_seq'))

    op.drop_table('audit_entries')
    with op.batch_alter_table('account_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_states_person_id'))
        batch_op.drop_index('ix_account_states_held', sqlite_where=sa.text('held_reason IS NOT NULL'), postgresql_where=sa.text('held_reason IS NOT NULL'))

    op.drop_table('account_states')

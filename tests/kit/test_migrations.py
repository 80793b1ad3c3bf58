"""The migration history builds exactly the schema the models declare, on both engines."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from openbureau.kit.db import session_scope
from openbureau.members.models import Member, Role, Vetting
from openbureau.migrations import alembic_config, compare_options, is_current, upgrade
from openbureau.migrations.metadata import target_metadata
from tests.members.factories import make_member


def test_migrations_match_the_models(runtime) -> None:
    assert is_current(runtime.engine)
    with runtime.engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn, opts=compare_options(conn)), target_metadata)
    assert drift == []



def test_membership_arrives_on_a_bureau_whose_members_already_have_keys(runtime) -> None:
    """Revision 0019 on a bureau in use: members' rows are named by their keys' rows (a rebuild of the table
    would be refused by the foreign key); the members registered before are approved, with every purpose and
    product, and one registered after is pending. Down to 0018 and back up again, on both engines."""
    make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    command.downgrade(alembic_config(runtime.engine), "0018")
    try:
        with runtime.engine.connect() as conn:
            assert "vetting" not in {c["name"] for c in inspect(conn).get_columns("members")}
            assert conn.execute(text("SELECT count(*) FROM api_keys")).scalar_one() == 1
    finally:
        upgrade(runtime.engine)
    assert is_current(runtime.engine)
    with session_scope(runtime.engine) as session:
        bank = session.query(Member).filter_by(code="BANK_A").one()
        assert (bank.vetting, bank.purposes_text, bank.products_text) == (Vetting.APPROVED, "*", "*")
        assert "before vetting was recorded" in bank.vetting_notes
        later = Member(code="LATER", name="Later Ltd", roles_text="subscriber")
        session.add(later)
        session.flush()
        assert later.vetting == Vetting.PENDING

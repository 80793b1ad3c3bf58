"""Reads of one person's accounts at one lender go through the person's index, never the lender's whole book.

SQLite plans without statistics: given ``furnisher_id = ? AND person_id = ?`` it took the primary key's
leading column (every state of the lender) over the person's index, 17 ms a look at a 100,000-account lender
and growing with it, where the person's index answers in 0.01 ms. The existing-customer exception of every
account-review inquiry, monitoring registration and batch row asks exactly that."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from openbureau.accounts import service as accounts
from openbureau.accounts.load_repository import AccountLoadRepository
from openbureau.identity.models import Person
from openbureau.intake import service as intake
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from tests.consent.factories import grant_many
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

PERSON_INDEX = "ix_account_states_person_id"


def _plans(engine, run) -> list[str]:
    """The query plans of the statements on ``account_states`` that ``run`` makes."""
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        if "account_states" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert seen
    with engine.connect() as conn:
        return [" / ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {s}", p).all())
                for s, p in seen]


@pytest.mark.parametrize("runtime", ["sqlite"], indirect=True)  # SQLite's plans: PostgreSQL's follow its statistics
def test_a_persons_accounts_at_a_lender_are_read_through_the_persons_index(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    grant_many(runtime, "BANK_A", [p[0] for p in PEOPLE])
    submitted = intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy,
                              furnisher_code="BANK_A", today=datetime(2026, 11, 20).date(), path=write_file(
                                  tmp_path / "book.csv", [person(i, furnisher_account_id=f"A{i}")
                                                          for i in range(len(PEOPLE))]))
    with session_scope(runtime.engine) as session:
        bank = get_member(session, code="BANK_A").id
        someone = session.scalars(select(Person.id).order_by(Person.id)).first()

    def exception_look() -> None:
        with session_scope(runtime.engine) as session:
            assert accounts.has_released_account(session, furnisher_id=bank, person_id=someone,
                                                 moment=datetime.now(UTC), statuses=("open",))

    def new_accounts() -> None:
        with runtime.engine.connect() as conn:
            AccountLoadRepository(conn).new_accounts(submission_id=submitted.submission.id, furnisher_id=bank,
                                                     person_ids=[someone])

    for plans in (_plans(runtime.engine, exception_look), _plans(runtime.engine, new_accounts)):
        for plan in plans:
            assert f"SEARCH account_states USING INDEX {PERSON_INDEX}" in plan, plan

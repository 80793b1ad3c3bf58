"""A report reads the sections few files have (disputes and blocks, alerts and freezes, the fraud tables,
identity conflicts, guarantees) only when one statement says the person has rows there; a section is never
skipped when its read would find something, for the person's own rows or a merged person's. Both engines."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from openbureau.consent.service import subject_indexes
from openbureau.identity import service as identity
from openbureau.identity.repository import find_person_by_any
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden
from openbureau.reports.repository import Sections, find_person_with_sections, sections_of
from openbureau.rights import service as rights
from tests.disputes.factories import AT_COUNTER, OTHER_SUBJECT, SUBJECT, file, lender_view, signed_in
from tests.reports.conftest import NOW

# What each skipped read's statement says (the sections statement says all of them, and nothing else does).
RARE_TABLES = ("FROM disputes", "FROM fraud_alerts", "FROM fraud_ring_members", "FROM identity_conflicts",
               "account_parties.person_id =", "account_funders", "account_enterprises")
NONE = Sections(*[False] * len(Sections._fields))


@contextmanager
def statements(runtime):
    """The statements run on ``runtime``'s engine inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(runtime.engine, "before_cursor_execute", record)


def _ids(runtime) -> list[int]:
    with session_scope(runtime.engine) as session:
        return [find_person_by_any(session, id_type=s.id_type, id_indexes=subject_indexes(runtime.vault, s)).id
                for s in (SUBJECT, OTHER_SUBJECT)]


def _sections(runtime, person_id: int) -> Sections:
    with session_scope(runtime.engine) as session:
        return sections_of(session, person_id)


def test_a_file_without_rare_sections_skips_their_reads(market) -> None:
    runtime, _ = market
    assert _sections(runtime, _ids(runtime)[0]) == NONE
    with statements(runtime) as seen:
        answer = lender_view(runtime)
    assert answer.report is not None and answer.report.accounts
    naming = [s for s in seen if any(table in s for table in RARE_TABLES)]
    assert len(naming) == 1 and all(table in naming[0] for table in RARE_TABLES), naming
    assert "FROM persons AS found" in naming[0]  # read with the person, not in a statement of its own


def test_a_section_with_rows_is_read_and_follows_a_merge(market) -> None:
    runtime, _ = market
    ids = _ids(runtime)
    # Person 1 freezes their file and disputes an account: their own sections are present, person 0's not.
    with session_scope(runtime.engine, write=True) as session:
        rights.place_freeze(session, vault=runtime.vault, principal=signed_in(runtime, OTHER_SUBJECT), subject=None,
                            now=NOW)
    file(runtime, subject=OTHER_SUBJECT, furnisher_account_id="A-2")
    assert _sections(runtime, ids[1]) == NONE._replace(marks=True, protections=True)
    assert _sections(runtime, ids[0]) == NONE
    # Merged into person 0, person 1's freeze and dispute are person 0's: read, and the freeze refuses new credit.
    with session_scope(runtime.engine, write=True) as session:
        identity.merge(session, principal=AT_COUNTER, person_id=ids[1], into_person_id=ids[0])
    assert _sections(runtime, ids[0]) == NONE._replace(marks=True, protections=True)
    # An inquiry finds the person and their sections in one statement: by either document, the survivor's.
    with session_scope(runtime.engine) as session:
        for subject in (SUBJECT, OTHER_SUBJECT):
            person, sections = find_person_with_sections(session, id_type=subject.id_type,
                                                         id_indexes=subject_indexes(runtime.vault, subject))
            assert (person.id, sections) == (ids[0], NONE._replace(marks=True, protections=True))
    with pytest.raises(Forbidden) as refused:
        lender_view(runtime, now=NOW)
    assert refused.value.code == "FROZEN"


def test_a_past_protection_is_read_and_shows_nothing(market) -> None:
    # The condition is wider than the read: a lifted freeze still makes the read run, which finds nothing.
    runtime, _ = market
    person = _ids(runtime)[0]
    with session_scope(runtime.engine, write=True) as session:
        freeze = rights.place_freeze(session, vault=runtime.vault, principal=signed_in(runtime), subject=None, now=NOW)
    with session_scope(runtime.engine, write=True) as session:
        rights.lift_freeze(session, vault=runtime.vault, principal=signed_in(runtime), subject=None,
                           freeze_id=freeze.id, now=NOW.replace(day=21))  # removed for good
    assert _sections(runtime, person).protections
    assert lender_view(runtime, now=NOW.replace(day=22)).report is not None


@pytest.mark.parametrize("runtime", ["sqlite"], indirect=True)  # PostgreSQL plans by its statistics
def test_the_sections_statement_searches_every_table_by_the_person(runtime) -> None:
    from openbureau.reports.repository import _SECTIONS

    with runtime.engine.connect() as conn:
        stmt = _SECTIONS.compile(conn)
        plan = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {stmt}", tuple(1 for _ in stmt.positiontup))]
    searched = {line.split()[1] for line in plan if line.startswith("SEARCH")}
    assert not [line for line in plan if line.startswith("SCAN") and "CONSTANT ROW" not in line], plan
    assert {"disputes", "item_blocks", "fraud_alerts", "security_freezes", "fraud_ring_members", "fraud_reports",
            "identity_conflicts", "account_parties", "account_states", "account_funders",
            "account_enterprises"} <= searched, plan

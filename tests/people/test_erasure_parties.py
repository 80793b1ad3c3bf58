"""A person named as a guarantor without their consent erases that party row (PIPL Art. 47, held records):
counted, audited, and nothing of the account reaches their file."""

from __future__ import annotations

from sqlalchemy import func, select

from openbureau.accounts.models import AccountParty
from openbureau.consent.profiles import ErasureScope
from openbureau.kit.db import session_scope
from openbureau.people import erasure
from openbureau.principals import Principal
from tests.intake.factories import PEOPLE
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, month

GUARANTOR = PEOPLE[2]  # no consent to BANK_A


def test_a_held_party_row_is_erased_at_the_persons_request(market, tmp_path) -> None:
    runtime, _ = market
    record = month(1, "G-1", "2026-10", party_1_role="guarantor", party_1_id_type="CN_RESIDENT_ID",
                   party_1_id_number=GUARANTOR[0], party_1_full_name=GUARANTOR[2], party_1_birth_date=GUARANTOR[1])
    assert furnish(runtime, "BANK_A", [record], tmp_path, name="guaranteed.csv").parties_held == 1
    with session_scope(runtime.engine) as session:
        person_id = session.scalar(select(AccountParty.person_id))
    # Signed in (a related person carries no phone, so the test stands in for the counter's identity check).
    person = Principal.person(f"PERSON:{person_id}", person_id=person_id)
    result = erasure.erase(runtime.engine, vault=runtime.vault, principal=person, policy=runtime.policy,
                           scope=ErasureScope.HELD_RECORDS, now=NOW)
    assert result.erased == {"held_events": 0, "held_parties": 1, "held_records": 0}
    with session_scope(runtime.engine) as session:
        assert session.scalar(select(func.count()).select_from(AccountParty)) == 0

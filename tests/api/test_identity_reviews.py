"""The identity review queue over HTTP: operators only; accept links the pair; a decision is final."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from openbureau.accounts.models import AccountState
from openbureau.api.app import create_app
from openbureau.identity.models import IdentityReview, Person
from openbureau.intake import service as intake
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member


def test_operators_decide_queued_pairs(runtime, tmp_path) -> None:
    ops = make_member(runtime, "OPS", Role.OPERATOR)
    bank = make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    grant(runtime, "BANK_A", PEOPLE[0][0])
    grant(runtime, "BANK_A", "E12345678", id_type="PASSPORT")
    rows = [person(0), person(0, furnisher_account_id="P-1", id_type="PASSPORT", id_number="E12345678")]
    intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                  path=write_file(tmp_path / "a.csv", rows))
    with session_scope(runtime.engine, write=True) as session:
        ids = dict(session.execute(select(Person.id_type, Person.id)).all())
        item = IdentityReview(person_id=ids["PASSPORT"], candidate_person_id=ids["CN_RESIDENT_ID"], match_weight=9.5,
                              match_probability=0.97, evidence='{"agreeing": ["name", "birth_date"]}')
        session.add(item)
        session.flush()
        review_id = item.id
    with TestClient(create_app(runtime)) as client:
        assert client.get("/v1/identity/reviews", headers={"X-API-Key": bank}).json()["code"] == "ROLE_REQUIRED"
        queued = client.get("/v1/identity/reviews", headers={"X-API-Key": ops}).json()
        assert [q["id"] for q in queued] == [review_id] and queued[0]["evidence"]["agreeing"] == ["name", "birth_date"]
        accepted = client.post(f"/v1/identity/reviews/{review_id}/accept", headers={"X-API-Key": ops})
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        again = client.post(f"/v1/identity/reviews/{review_id}/reject", headers={"X-API-Key": ops})
        assert (again.status_code, again.json()["code"]) == (409, "REVIEW_DECIDED")
        assert client.get("/v1/identity/reviews", headers={"X-API-Key": ops}).json() == []
    with session_scope(runtime.engine) as session:
        owners = set(session.scalars(select(AccountState.person_id)))
    assert owners == {ids["CN_RESIDENT_ID"]}  # the passport account now sits in the resident-ID file

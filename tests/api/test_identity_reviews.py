"""The identity review queue over HTTP: operators only; accept links the pair; a decision is final."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from openbureau.accounts.models import AccountState
from openbureau.api.app import create_app
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.adapters import embedded_runtime  # noqa: F401
from tests.identity.factories import queued_passport_pair
from tests.members.factories import make_member


def test_operators_decide_queued_pairs(runtime, tmp_path) -> None:
    ops = make_member(runtime, "OPS", Role.OPERATOR)
    bank = make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    ids, review_id = queued_passport_pair(runtime, tmp_path)
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

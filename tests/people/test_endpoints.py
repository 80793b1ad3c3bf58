"""The person's side over HTTP (/v1/me), attacked as an outsider: sign-in with the same answer for an unknown
document, guessing, a member's API key on /v1/me and a person's token on member routes, another person's
consent, replayed and signed-out tokens, oversize inputs, the free-report quota and the sign-in rate limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openbureau.api.app import create_app
from openbureau.consent.repository import ConsentRepository
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.notifications.models import Notification
from openbureau.runtime import Runtime
from tests.adapters import embedded_runtime  # noqa: F401
from tests.consent.factories import default_ref
from tests.intake.factories import PEOPLE
from tests.people.factories import bearer as _bearer
from tests.people.factories import http_sign_in, last_code

ID, OTHER_ID, UNKNOWN = PEOPLE[0][0], PEOPLE[1][0], PEOPLE[3][0]


def _doc(number: str) -> dict:
    return {"document": {"id_type": "CN_RESIDENT_ID", "id_number": number}}


@pytest.fixture
def api(market):
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, keys


def _sign_in(client: TestClient, runtime: Runtime, number: str = ID) -> str:
    return http_sign_in(client, runtime, number)


def test_a_person_signs_in_reads_their_file_and_signs_out(api) -> None:
    client, runtime, _ = api
    token = _sign_in(client, runtime)
    report = client.get("/v1/me/report", headers=_bearer(token))
    assert report.status_code == 200 and report.json()["view"] == "consumer"
    assert report.json()["person"]["id_number"] == ID and report.headers["cache-control"] == "no-store"
    seen = client.get("/v1/me/inquiries", headers=_bearer(token)).json()
    assert [(i["by"], i["purpose"], i["basis"]) for i in seen] == [("the bureau", "self_inquiry", "self")]
    wallet = client.get("/v1/me/consents", headers=_bearer(token)).json()
    assert {c["grantee"] for c in wallet["consents"]} == {"BANK_A", "OTHER", "TELCO", "LENDER"}
    assert client.post("/v1/me/signout", headers=_bearer(token)).status_code == 204
    after = client.get("/v1/me/report", headers=_bearer(token))
    assert (after.status_code, after.json()["code"]) == (401, "SESSION_INVALID")


def test_an_unknown_document_is_answered_exactly_like_a_known_one(api) -> None:
    client, runtime, _ = api
    known, unknown = client.post("/v1/me/signin", json=_doc(ID)), client.post("/v1/me/signin", json=_doc(UNKNOWN))
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json()) and known.json()["message"] == unknown.json()["message"]
    code, _ = last_code(runtime)
    wrong = client.post("/v1/me/signin/verify", json={"challenge": unknown.json()["challenge"], "code": code})
    also_wrong = client.post("/v1/me/signin/verify", json={"challenge": "x" * 43, "code": code})
    assert wrong.status_code == also_wrong.status_code == 401 and wrong.json() == also_wrong.json()
    assert wrong.json()["code"] == "SIGNIN_FAILED"


def test_guessing_codes_locks_the_document_out(api) -> None:
    client, runtime, _ = api
    challenge = client.post("/v1/me/signin", json=_doc(ID)).json()["challenge"]
    code, _ = last_code(runtime)
    wrong = "000000" if code != "000000" else "111111"
    answers = [client.post("/v1/me/signin/verify", json={"challenge": challenge, "code": wrong}) for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 4 + [429] and answers[-1].json()["code"] == "SIGNIN_LOCKED"
    right = client.post("/v1/me/signin/verify", json={"challenge": challenge, "code": code})
    assert right.status_code == 429
    assert client.post("/v1/me/signin", json=_doc(ID)).status_code == 429


def test_a_members_key_is_no_person_and_a_persons_token_is_no_member(api) -> None:
    client, runtime, keys = api
    token = _sign_in(client, runtime)
    for key in (keys["LENDER"], keys["OPS"]):
        for headers in ({"X-API-Key": key}, _bearer(key)):
            refused = client.get("/v1/me/report", headers=headers)
            assert (refused.status_code, refused.json()["code"]) == (401, "SESSION_INVALID")
    for method, url in (("GET", "/v1/inquiries"), ("GET", "/v1/submissions"), ("POST", "/v1/consents/search")):
        for headers in (_bearer(token), {"X-API-Key": token}):
            refused = client.request(method, url, headers=headers, json={})
            assert refused.status_code == 401 and refused.json()["code"] == "INVALID_API_KEY"
    assert client.get("/v1/me/consents").status_code == 401  # no token at all


def test_another_persons_consent_answers_404_and_ones_own_is_revoked(api) -> None:
    client, runtime, _ = api
    token = _sign_in(client, runtime)
    with session_scope(runtime.engine) as session:
        bank = get_member(session, code="BANK_A").id
        mine = ConsentRepository(session).by_ref(grantee_member_id=bank, consent_ref=default_ref(ID)).id
        theirs = ConsentRepository(session).by_ref(grantee_member_id=bank, consent_ref=default_ref(OTHER_ID)).id
    other = client.post(f"/v1/me/consents/{theirs}/revoke", headers=_bearer(token), json={"reason": "not mine"})
    missing = client.post(f"/v1/me/consents/{10**12}/revoke", headers=_bearer(token))
    assert other.status_code == missing.status_code == 404 and other.json()["code"] == "CONSENT_NOT_FOUND"
    done = client.post(f"/v1/me/consents/{mine}/revoke", headers=_bearer(token), json={"reason": "closed"})
    assert done.status_code == 200 and done.json()["status"] == "revoked" and done.json()["revocation_reason"] == "closed"


def test_the_third_report_of_the_year_is_refused_with_the_date_of_the_next_free_one(api) -> None:
    client, runtime, _ = api
    token = _sign_in(client, runtime)
    assert [client.get("/v1/me/report", headers=_bearer(token)).status_code for _ in range(2)] == [200, 200]
    third = client.get("/v1/me/report", headers=_bearer(token))
    body = third.json()
    assert third.status_code == 429 and body["code"] == "FREE_REPORTS_USED"
    assert "next free one is due on" in body["message"] and body["details"]["next_free_at"].endswith("-01-01T00:00:00+00:00")


@pytest.mark.parametrize(("url", "body"), [
    ("/v1/me/signin", {"document": {"id_type": "CN_RESIDENT_ID", "id_number": "1" * 10_000}}),
    ("/v1/me/signin", {"document": {"id_type": "DRIVING_LICENCE", "id_number": ID}}),
    ("/v1/me/signin", {"document": {"id_type": "CN_RESIDENT_ID", "id_number": "110105194912310021"}}),  # bad check
    ("/v1/me/signin/verify", {"challenge": "c" * 129, "code": "123456"}),
    ("/v1/me/signin/verify", {"challenge": "c", "code": "1" * 17}),
], ids=["long-number", "unknown-type", "bad-check-digit", "long-challenge", "long-code"])
def test_oversize_and_malformed_inputs_are_refused_before_anything_is_looked_up(api, url, body) -> None:
    client, _, _ = api
    refused = client.post(url, json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "INVALID_REQUEST"


def test_an_oversize_body_and_a_long_token_are_refused(api) -> None:
    client, runtime, _ = api
    huge = client.post("/v1/me/signin", content=b"{" + b" " * (2**20 + 1) + b"}",
                       headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    token = _sign_in(client, runtime)
    big = client.post("/v1/me/consents/1/revoke", headers=_bearer(token), json={"reason": "r" * 501})
    assert big.status_code == 422
    assert client.get("/v1/me/report", headers=_bearer("obp_" + "A" * 5000)).status_code == 401


def test_sign_in_requests_are_rate_limited_per_address(market) -> None:
    runtime, _ = market
    settings = runtime.settings.model_copy(update={"signins_per_minute": 3})
    limited = Runtime(settings=settings, engine=runtime.engine, vault=runtime.vault)
    with TestClient(create_app(limited)) as client:
        statuses = [client.post("/v1/me/signin", json=_doc(UNKNOWN)).status_code for _ in range(4)]
        assert statuses[:3] == [202] * 3 and statuses[3] == 429
        assert client.post("/v1/me/signin/verify", json={"challenge": "x", "code": "1"}).json()["code"] == \
            "SIGNIN_RATE_LIMITED"


def test_the_person_is_told_of_the_lenders_hard_inquiry_over_the_api(api) -> None:
    client, runtime, keys = api
    ask = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}, "purpose": "loan_origination", "consent_ref": "L-1"}
    assert client.post("/v1/inquiries", json=ask, headers={"X-API-Key": keys["LENDER"]}).status_code == 201
    with session_scope(runtime.engine) as session:
        kinds = session.scalars(select(Notification.kind).where(Notification.person_id.is_not(None))).all()
    # Written by the group commit, with the inquiry (besides the notices of person 0's late months at BANK_A).
    assert [k for k in kinds if k != "negative.new"] == ["inquiry.hard"]
    token = _sign_in(client, runtime)
    seen = client.get("/v1/me/inquiries", headers=_bearer(token)).json()
    assert [(i["by"], i["hard"], i["consent_ref"]) for i in seen] == [("LENDER", True, "L-1")]

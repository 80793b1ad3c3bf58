"""Erasure, objection and export over HTTP (/v1/me): the signed-in person's own, a member's API key refused on
every one of them, the size limit of the export, another person's objection never reached, a bad scope or
purpose refused before anything happens. Both engines."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.consent.profiles import get_profile
from openbureau.members.models import Role
from openbureau.runtime import Runtime
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.people.factories import last_code
from tests.reports.factories import furnish, month

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]
ROUTES = [("GET", "/v1/me/export", None), ("POST", "/v1/me/erasure", {"scope": "held_records"}),
          ("GET", "/v1/me/objections", None), ("POST", "/v1/me/objections", {"purpose": "account_review"}),
          ("POST", "/v1/me/objections/1/withdraw", None)]


@pytest.fixture
def api(market, tmp_path):
    runtime, keys = market
    make_member(runtime, "NEWBANK", Role.FURNISHER, name="New Bank")
    furnish(runtime, "NEWBANK", [month(0, "N-1", "2026-10"), month(1, "N-9", "2026-10")], tmp_path)
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, keys


def _sign_in(client: TestClient, runtime, number: str = ID) -> dict:
    started = client.post("/v1/me/signin", json={"document": {"id_type": "CN_RESIDENT_ID", "id_number": number}})
    code, _ = last_code(runtime)
    token = client.post("/v1/me/signin/verify", json={"challenge": started.json()["challenge"], "code": code})
    return {"Authorization": f"Bearer {token.json()['token']}"}


def test_a_member_key_reaches_none_of_the_persons_data_rights(api) -> None:
    client, _, keys = api
    for key in (keys["BANK_A"], keys["OPS"]):
        for method, url, body in ROUTES:
            for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
                answer = client.request(method, url, headers=headers, json=body)
                assert (answer.status_code, answer.json()["code"]) == (401, "SESSION_INVALID"), (url, answer.text)
    for method, url, body in ROUTES:
        assert client.request(method, url, json=body).status_code == 401


def test_the_person_objects_erases_and_exports_over_http(api) -> None:
    client, runtime, _ = api
    me = _sign_in(client, runtime)
    listed = client.get("/v1/me/objections", headers=me).json()
    assert listed["jurisdiction"] == "CN" and list(listed["objectable"]) == ["account_review"]
    made = client.post("/v1/me/objections", headers=me, json={"purpose": "account_review"})
    assert made.status_code == 201 and made.json()["withdrawn_at"] is None
    refused = client.post("/v1/me/objections", headers=me, json={"purpose": "loan_origination"})
    assert (refused.status_code, refused.json()["code"]) == (403, "OBJECTION_NOT_AVAILABLE")
    other = _sign_in(client, runtime, OTHER_ID)
    theirs = client.post(f"/v1/me/objections/{made.json()['id']}/withdraw", headers=other)
    assert (theirs.status_code, theirs.json()["code"]) == (404, "OBJECTION_NOT_FOUND")
    erased = client.post("/v1/me/erasure", headers=me, json={"scope": "all_allowed"})
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["held_records"] == 1
    assert {r["what"] for r in erased.json()["refused"]} >= {"credit_history", "logs"}
    exported = client.get("/v1/me/export", headers=me)
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/json"
    assert exported.headers["cache-control"] == "no-store" and "attachment" in exported.headers["content-disposition"]
    doc = json.loads(exported.content)
    assert doc["documents"][0]["id_number"] == ID and [o["purpose"] for o in doc["objections"]] == ["account_review"]
    assert "N-1" not in {a["account_id"] for a in doc["accounts"]} and OTHER_ID not in exported.text
    assert [e["scope"] for e in doc["erasures"]] == ["all_allowed"]
    withdrawn = client.post(f"/v1/me/objections/{made.json()['id']}/withdraw", headers=me)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"] is not None


def test_bad_scopes_and_purposes_are_refused_before_anything_happens(api) -> None:
    client, runtime, _ = api
    me = _sign_in(client, runtime)
    for url, body in (("/v1/me/erasure", {"scope": "everything"}), ("/v1/me/erasure", {}),
                      ("/v1/me/objections", {"purpose": "marketing"})):
        answer = client.post(url, headers=me, json=body)
        assert answer.status_code == 422, (url, answer.text)
    assert client.post("/v1/me/objections/0/withdraw", headers=me).status_code == 422


def test_the_export_past_its_limit_answers_413(market) -> None:
    runtime, _ = market
    limited = Runtime(settings=runtime.settings.model_copy(update={"export_max_bytes": 2_000}),
                      engine=runtime.engine, vault=runtime.vault)
    with TestClient(create_app(limited)) as client:
        me = _sign_in(client, limited)
        answer = client.get("/v1/me/export", headers=me)
    assert (answer.status_code, answer.json()["code"]) == (413, "EXPORT_TOO_LARGE")
    assert "counter" in answer.json()["message"]


def test_the_us_profile_refuses_erasure_and_objection_over_http(market) -> None:
    runtime, _ = market
    us = Runtime(settings=runtime.settings, engine=runtime.engine, vault=runtime.vault,
                 policy=replace(runtime.policy, profile=get_profile("US")))
    with TestClient(create_app(us)) as client:
        me = _sign_in(client, us)
        erased = client.post("/v1/me/erasure", headers=me, json={"scope": "held_records"})
        objected = client.post("/v1/me/objections", headers=me, json={"purpose": "account_review"})
    assert (erased.status_code, erased.json()["code"]) == (403, "ERASURE_NOT_AVAILABLE")
    assert (objected.status_code, objected.json()["code"]) == (403, "OBJECTION_NOT_AVAILABLE")
    assert "Fair Credit Reporting Act" in erased.json()["message"]

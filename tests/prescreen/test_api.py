"""Prescreening over HTTP, both engines: a lender runs a prescreen and reads its list; another lender gets
404; a furnisher, a regulator and an outsider cannot run one; bad criteria come back with field and code; the
person opts out, reads and ends their opt-out with their session, never with an API key."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from tests.adapters import embedded_runtime  # noqa: F401
from tests.intake.factories import PEOPLE
from tests.people.factories import bearer, http_sign_in
from tests.prescreen.conftest import CN, NAMES
from tests.prescreen.factories import OFFER

BODY = {"criteria": {"no_delinquency_days": 30, "regions": ["IL"]}, "max_persons": 50, **OFFER}


@pytest.fixture
def api(market):
    runtime, _, keys = market
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, keys


def _key(keys, code: str) -> dict[str, str]:
    return {"X-API-Key": keys[code]}


def test_a_lender_runs_a_prescreen_and_reads_its_list_and_no_other_member_can(api) -> None:
    client, _, keys = api
    made = client.post("/v1/prescreens", json=BODY, headers=_key(keys, "LENDER"))
    assert made.status_code == 201, made.text
    done = made.json()
    assert (done["status"], done["persons_selected"], done["offer_product"]) == ("done", 2, "credit_card")
    listed = client.get(f"/v1/prescreens/{done['id']}/list", headers=_key(keys, "LENDER"))
    assert listed.status_code == 200
    assert {e["name"] for e in listed.json()["entries"]} == {NAMES[0], NAMES[3]}
    assert client.get(f"/v1/prescreens/{done['id']}", headers=_key(keys, "LENDER")).json()["id"] == done["id"]
    for path in (f"/v1/prescreens/{done['id']}", f"/v1/prescreens/{done['id']}/list"):
        answer = client.get(path, headers=_key(keys, "OTHER"))
        assert (answer.status_code, answer.json()["code"]) == (404, "PRESCREEN_NOT_FOUND")
    assert client.get("/v1/prescreens", headers=_key(keys, "OTHER")).json() == []


def test_only_a_subscriber_may_run_one_and_never_without_a_key_or_with_a_session(api) -> None:
    client, runtime, keys = api
    for code in ("BANK_A", "REG"):
        answer = client.post("/v1/prescreens", json=BODY, headers=_key(keys, code))
        assert (answer.status_code, answer.json()["code"]) == (403, "ROLE_REQUIRED")
    assert client.post("/v1/prescreens", json=BODY).status_code == 401
    assert client.post("/v1/prescreens", json=BODY, headers={"X-API-Key": "ob_forged_key"}).status_code == 401
    me = bearer(http_sign_in(client, runtime, PEOPLE[0][0]))
    assert client.post("/v1/prescreens", json=BODY, headers=me).status_code == 401


@pytest.mark.parametrize(("criteria", "status", "code", "field"), [
    ({}, 422, "NO_CRITERIA", "criteria"),
    ({"score_min": 800, "score_max": 700}, 422, "INVALID_SCORE_RANGE", "criteria.score_min"),
    ({"regions": ["Cook County"]}, 422, "INVALID_REGION", "criteria.regions.0"),
    ({"no_delinquency_days": 45}, 422, "INVALID_REQUEST", "criteria.no_delinquency_days"),
    ({"ssn": "123-45-6789"}, 422, "INVALID_REQUEST", "criteria.ssn"),
])
def test_bad_criteria_come_back_with_field_and_code(api, criteria, status, code, field) -> None:
    client, _, keys = api
    answer = client.post("/v1/prescreens", json={**BODY, "criteria": criteria}, headers=_key(keys, "LENDER"))
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (status, code, field)
    assert "123-45-6789" not in answer.text


def test_the_person_opts_out_reads_it_and_opts_back_in_with_their_session(api) -> None:
    client, runtime, keys = api
    me = bearer(http_sign_in(client, runtime, PEOPLE[0][0]))
    assert client.get("/v1/me/prescreen-opt-out", headers=me).json()["in_force"] is False
    made = client.put("/v1/me/prescreen-opt-out", json={"term": "permanent"}, headers=me)
    assert made.status_code == 200 and made.json()["expires_at"] is None and made.json()["channel"] == "online"
    assert client.get("/v1/me/prescreen-opt-out", headers=me).json()["in_force"] is True
    run = client.post("/v1/prescreens", json=BODY, headers=_key(keys, "LENDER")).json()
    listed = client.get(f"/v1/prescreens/{run['id']}/list", headers=_key(keys, "LENDER")).json()
    assert {e["name"] for e in listed["entries"]} == {NAMES[3]}
    # An API key never reaches the person's routes.
    assert client.put("/v1/me/prescreen-opt-out", json={}, headers=_key(keys, "LENDER")).status_code == 401
    assert client.delete("/v1/me/prescreen-opt-out", headers=me).status_code == 200
    gone = client.delete("/v1/me/prescreen-opt-out", headers=me)
    assert (gone.status_code, gone.json()["code"]) == (404, "OPT_OUT_NOT_FOUND")


def test_a_cn_bureau_refuses_prescreens_naming_the_law(market) -> None:
    runtime, _, keys = market
    with TestClient(create_app(replace(runtime, policy=CN))) as client:
        answer = client.post("/v1/prescreens", json=BODY, headers=_key(keys, "LENDER"))
    assert (answer.status_code, answer.json()["code"]) == (403, "PRESCREEN_NOT_AVAILABLE")
    assert "PIPL" in answer.json()["message"]


def test_a_member_not_permitted_prescreening_or_suspended_is_refused_before_anything_is_read(api) -> None:
    from openbureau.kit.db import session_scope
    from openbureau.members import standing
    from openbureau.members.models import Product
    from openbureau.members.schemas import Permissions, SuspensionCreate
    from openbureau.principals import Principal

    client, runtime, keys = api
    operator = Principal.operator("OPERATOR:test")
    with session_scope(runtime.engine) as session:
        standing.permit(session, principal=operator, code="LENDER", known_purposes=(),
                        permissions=Permissions(products=[Product.REPORT]))
    answer = client.post("/v1/prescreens", json=BODY, headers=_key(keys, "LENDER"))
    assert (answer.status_code, answer.json()["code"]) == (403, "PRODUCT_NOT_PERMITTED")
    assert client.get("/v1/prescreens", headers=_key(keys, "LENDER")).json() == []
    with session_scope(runtime.engine) as session:
        standing.suspend(session, principal=operator, code="OTHER", suspension=SuspensionCreate(reason="unpaid"))
    answer = client.post("/v1/prescreens", json=BODY, headers=_key(keys, "OTHER"))
    assert (answer.status_code, answer.json()["code"]) == (401, "MEMBER_SUSPENDED")

"""Disputes and protections over HTTP: the furnisher's tasks and answers, the operator's counter, and the
attacks (another furnisher's task, a second answer, oversize evidence and statements, a member's freeze)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from tests.adapters import embedded_runtime  # noqa: F401
from tests.intake.factories import PEOPLE
from tests.reports.conftest import market  # noqa: F401

SUBJECT = {"id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[0][0]}


@pytest.fixture
def api(market):  # noqa: F811
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:
        def call(code, method, url, **kwargs):
            return client.request(method, url, headers={"X-API-Key": keys[code]}, **kwargs)
        yield call


def _dispute(api, **fields):
    body = {"subject": SUBJECT, "kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-1",
            "statement": "never late", **fields}
    response = api("OPS", "POST", "/v1/disputes", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_furnisher_answers_its_own_task_once(api) -> None:
    dispute = _dispute(api)
    (task,) = api("BANK_A", "GET", "/v1/disputes/tasks").json()
    assert (task["dispute_id"], task["furnisher_account_id"], task["due_at"]) == (
        dispute["id"], "A-1", dispute["due_at"])
    assert PEOPLE[0][0] not in str(task)
    assert api("OTHER", "GET", "/v1/disputes/tasks").json() == []
    url = f"/v1/disputes/tasks/{task['id']}/answer"
    stolen = api("OTHER", "POST", url, json={"outcome": "deleted", "evidence": "x"})
    assert (stolen.status_code, stolen.json()["code"]) == (404, "TASK_NOT_FOUND")
    assert api("LENDER", "POST", url, json={"outcome": "deleted", "evidence": "x"}).status_code == 403
    big = api("BANK_A", "POST", url, json={"outcome": "verified", "evidence": "x" * 4001})
    assert big.status_code == 422
    unnamed = api("BANK_A", "POST", url, json={"outcome": "corrected", "evidence": "fixed"})
    assert (unnamed.status_code, unnamed.json()["code"]) == (422, "CORRECTION_REQUIRED")
    done = api("BANK_A", "POST", url, json={"outcome": "verified", "evidence": "statement of account checked"})
    assert done.status_code == 200 and done.json()["outcome"] == "verified" and not done.json()["late"]
    again = api("BANK_A", "POST", url, json={"outcome": "deleted", "evidence": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "TASK_ANSWERED")
    queue = api("OPS", "GET", "/v1/disputes", params={"status": "resolved"}).json()
    assert [(d["id"], d["outcome"]) for d in queue] == [(dispute["id"], "verified")]


def test_the_statement_is_taken_at_the_counter_and_bounded(api) -> None:
    dispute = _dispute(api)
    url = f"/v1/disputes/{dispute['id']}/statement"
    assert api("OPS", "POST", url, json={"subject": SUBJECT, "statement": "x" * 201}).status_code == 422
    assert api("BANK_A", "POST", url, json={"subject": SUBJECT, "statement": "paid"}).status_code == 403
    other = {"id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[1][0]}
    assert api("OPS", "POST", url, json={"subject": other, "statement": "paid"}).status_code == 404
    assert api("OPS", "POST", url, json={"subject": SUBJECT, "statement": "paid in full"}).status_code == 200


def test_a_freeze_placed_at_the_counter_refuses_new_credit_and_no_member_can_lift_it(api) -> None:
    frozen = api("OPS", "POST", "/v1/protections/freezes", json={"subject": SUBJECT})
    assert frozen.status_code == 201 and frozen.json()["frozen"]
    freeze_id = frozen.json()["freezes"][0]["id"]
    lift = f"/v1/protections/freezes/{freeze_id}/lift"
    for code in ("BANK_A", "LENDER"):
        assert api(code, "POST", lift, json={"subject": SUBJECT}).json()["code"] == "ROLE_REQUIRED"
    inquiry = {"subject": SUBJECT, "purpose": "loan_origination", "consent_ref": "L-1"}
    refused = api("LENDER", "POST", "/v1/inquiries", json=inquiry)
    assert (refused.status_code, refused.json()["code"]) == (403, "FROZEN")
    review = api("BANK_A", "POST", "/v1/inquiries", json={"subject": SUBJECT, "purpose": "account_review"})
    assert review.status_code == 201 and review.json()["report"]["security_freeze"]
    lifted = api("OPS", "POST", lift, json={"subject": SUBJECT})
    assert lifted.status_code == 200 and not lifted.json()["frozen"]
    assert api("LENDER", "POST", "/v1/inquiries", json=inquiry).status_code == 201


def test_an_alert_and_an_identity_theft_report_at_the_counter(api) -> None:
    extended = api("OPS", "POST", "/v1/protections/fraud-alerts", json={"subject": SUBJECT, "kind": "extended"})
    assert (extended.status_code, extended.json()["code"]) == (422, "IDENTITY_THEFT_REPORT_REQUIRED")
    alert = api("OPS", "POST", "/v1/protections/fraud-alerts", json={"subject": SUBJECT})
    assert alert.status_code == 201 and alert.json()["kind"] == "initial"
    inquiry = {"subject": SUBJECT, "purpose": "loan_origination", "consent_ref": "L-1"}
    answer = api("LENDER", "POST", "/v1/inquiries", json=inquiry).json()
    assert answer["identity_confirmation_required"] and answer["report"]["fraud_alerts"][0]["kind"] == "initial"
    blocked = api("OPS", "POST", "/v1/protections/identity-theft-reports", json={
        "subject": SUBJECT, "report_ref": "PSB-9", "accounts": [{"lender": "OTHER", "furnisher_account_id": "O-1"}]})
    assert blocked.status_code == 201 and blocked.json()["identity_theft_reports"][0]["report_ref"] == "PSB-9"
    after = api("LENDER", "POST", "/v1/inquiries", json=inquiry).json()["report"]
    assert [a["product_type"] for a in after["accounts"]] == ["revolving"]
    removed = api("OPS", "POST", f"/v1/protections/fraud-alerts/{alert.json()['id']}/remove", json={"subject": SUBJECT})
    assert removed.status_code == 200 and removed.json()["removed_at"]

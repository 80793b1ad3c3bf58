"""The person's disputes and protections over HTTP (/v1/me), end to end and attacked: the person disputes an
item, its lender corrects it, the person is told each step; a freeze refuses new credit until its owner lifts
it, and nobody else (another person, a lender, a smuggled subject) can lift it or act on the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.disputes import service as disputes
from openbureau.kit.db import session_scope
from tests.disputes.factories import OTHER_SUBJECT, SUBJECT
from tests.intake.factories import PEOPLE
from tests.people.factories import bearer, http_sign_in, notices_of
from tests.reports.factories import furnish, month

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]
APPLICATION = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}, "purpose": "loan_origination",
               "consent_ref": "L-1"}


@pytest.fixture
def api(market):
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, keys


def _person_id(runtime, subject=SUBJECT) -> int:
    with session_scope(runtime.engine) as session:
        return disputes.person_of(session, vault=runtime.vault, subject=subject).id


def _key(keys, code: str) -> dict[str, str]:
    return {"X-API-Key": keys[code]}


def test_the_person_disputes_a_month_its_lender_corrects_it_and_the_person_is_told(api, tmp_path) -> None:
    client, runtime, keys = api
    me = bearer(http_sign_in(client, runtime, ID))
    filed = client.post("/v1/me/disputes", headers=me, json={
        "kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-1", "reporting_period": "2026-10",
        "statement": "I paid October on time"})
    assert filed.status_code == 201, filed.text
    dispute = filed.json()
    due = datetime.fromisoformat(dispute["due_at"]) - datetime.fromisoformat(dispute["filed_at"])
    assert due == timedelta(days=20) and dispute["status"] == "open"  # the CN profile's deadline
    assert "person_id" not in dispute and "filed_by" not in dispute
    report = client.get("/v1/me/report", headers=me).json()
    (a1,) = [a for a in report["accounts"] if a["account_number"] == "A-1"]
    assert a1["disputed"]

    (task,) = client.get("/v1/disputes/tasks", headers=_key(keys, "BANK_A")).json()
    assert (task["dispute_id"], task["reporting_period"]) == (dispute["id"], "2026-10")
    assert client.get("/v1/disputes/tasks", headers=_key(keys, "OTHER")).json() == []  # not OTHER's data
    folder = tmp_path / "correction"
    folder.mkdir()
    fixed = furnish(runtime, "BANK_A", [month(0, "A-1", "2026-10", "N", correction="1", balance="2500000")], folder,
                    today=datetime.now(UTC).date())
    answered = client.post(f"/v1/disputes/tasks/{task['id']}/answer", headers=_key(keys, "BANK_A"), json={
        "outcome": "corrected", "evidence": "October's payment was posted late by our system",
        "correction": {"submission_id": fixed.id}})
    assert answered.status_code == 200, answered.text

    (mine,) = client.get("/v1/me/disputes", headers=me).json()
    assert (mine["status"], mine["outcome"]) == ("resolved", "corrected")
    said = client.post(f"/v1/me/disputes/{dispute['id']}/statement", headers=me,
                       json={"statement": "Corrected after my dispute"})
    assert said.status_code == 200, said.text
    told = notices_of(runtime, _person_id(runtime))
    assert [k for k, *_ in told if k.startswith("dispute.")] == ["dispute.filed", "dispute.answered",
                                                                 "dispute.statement"]
    answered_text = next(body for k, _, body in told if k == "dispute.answered")
    assert "corrected" in answered_text and str(dispute["id"]) in answered_text
    assert all(ID not in subject + body and PEOPLE[0][1] not in body for _, subject, body in told)


def test_a_person_cannot_dispute_or_read_anothers_file(api) -> None:
    client, runtime, keys = api
    me = bearer(http_sign_in(client, runtime, ID))
    smuggled = client.post("/v1/me/disputes", headers=me, json={
        "kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-2", "statement": "not mine",
        "subject": {"id_type": "CN_RESIDENT_ID", "id_number": OTHER_ID}})
    assert smuggled.status_code == 422  # a person names no subject
    theirs = client.post("/v1/me/disputes", headers=me, json={
        "kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-2", "statement": "not mine"})
    assert (theirs.status_code, theirs.json()["code"]) == (404, "ACCOUNT_NOT_FOUND")  # person 1's account
    other = bearer(http_sign_in(client, runtime, OTHER_ID))
    filed = client.post("/v1/me/disputes", headers=other, json={
        "kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-2", "statement": "wrong"}).json()
    stolen = client.post(f"/v1/me/disputes/{filed['id']}/statement", headers=me, json={"statement": "hijack"})
    assert (stolen.status_code, stolen.json()["code"]) == (404, "DISPUTE_NOT_FOUND")
    assert client.get("/v1/me/disputes", headers=me).json() == []
    assert client.get("/v1/me/disputes", headers=_key(keys, "BANK_A")).status_code == 401  # a key is not a person
    too_long = client.post(f"/v1/me/disputes/{filed['id']}/statement", headers=other, json={"statement": "x" * 201})
    assert too_long.status_code == 422


def test_a_freeze_refuses_new_credit_until_its_owner_lifts_it_and_nobody_else_can(api) -> None:
    client, runtime, keys = api
    me = bearer(http_sign_in(client, runtime, ID))
    lender = _key(keys, "LENDER")
    assert client.post("/v1/inquiries", headers=lender, json=APPLICATION).status_code == 201
    placed = client.post("/v1/me/protections/freezes", headers=me)
    assert placed.status_code == 201 and placed.json()["frozen"]
    (freeze,) = placed.json()["freezes"]
    refused = client.post("/v1/inquiries", headers=lender, json=APPLICATION)
    assert (refused.status_code, refused.json()["code"]) == (403, "FROZEN")
    review = {"subject": APPLICATION["subject"], "purpose": "account_review"}
    assert client.post("/v1/inquiries", headers=_key(keys, "BANK_A"), json=review).status_code == 201
    assert client.post("/v1/me/protections/freezes", headers=me).json()["code"] == "ALREADY_FROZEN"

    other = bearer(http_sign_in(client, runtime, OTHER_ID))  # another person, by the freeze's id
    lifted = client.post(f"/v1/me/protections/freezes/{freeze['id']}/lift", headers=other)
    assert (lifted.status_code, lifted.json()["code"]) == (404, "FREEZE_NOT_FOUND")
    for code in ("LENDER", "BANK_A"):  # members: not on /v1/me, and refused at the operator's route
        assert client.post(f"/v1/me/protections/freezes/{freeze['id']}/lift", headers=_key(keys, code)).status_code == 401
        at_counter = client.post(f"/v1/protections/freezes/{freeze['id']}/lift", headers=_key(keys, code),
                                 json={"subject": APPLICATION["subject"]})
        assert (at_counter.status_code, at_counter.json()["code"]) == (403, "ROLE_REQUIRED")
    assert client.post("/v1/inquiries", headers=lender, json=APPLICATION).json()["code"] == "FROZEN"

    now = datetime.now(UTC)
    window = {"starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()}
    assert client.post(f"/v1/me/protections/freezes/{freeze['id']}/lift", headers=me,
                       json={**window, "ends_at": (now + timedelta(days=400)).isoformat()}).status_code == 422
    opened = client.post(f"/v1/me/protections/freezes/{freeze['id']}/lift", headers=me, json=window)
    assert opened.status_code == 200 and not opened.json()["frozen"]
    assert client.post("/v1/inquiries", headers=lender, json=APPLICATION).status_code == 201  # within the window
    told = [k for k, *_ in notices_of(runtime, _person_id(runtime))]
    assert told.count("freeze.placed") == 1 and told.count("freeze.lifted") == 1
    assert "inquiry.hard" in told


def test_alerts_and_identity_theft_reports_are_the_persons_own(api) -> None:
    client, runtime, _ = api
    me = bearer(http_sign_in(client, runtime, ID))
    assert client.post("/v1/me/protections/fraud-alerts", headers=me, json={"kind": "extended"}).json()["code"] \
        == "IDENTITY_THEFT_REPORT_REQUIRED"
    alert = client.post("/v1/me/protections/fraud-alerts", headers=me, json={"kind": "initial"})
    assert alert.status_code == 201 and alert.json()["placed_by"].startswith("PERSON:")
    other = bearer(http_sign_in(client, runtime, OTHER_ID))
    removed = client.post(f"/v1/me/protections/fraud-alerts/{alert.json()['id']}/remove", headers=other)
    assert (removed.status_code, removed.json()["code"]) == (404, "ALERT_NOT_FOUND")
    blocked = client.post("/v1/me/protections/identity-theft-reports", headers=other, json={
        "report_ref": "PSB-9", "accounts": [{"lender": "OTHER", "furnisher_account_id": "O-1"}]})
    assert (blocked.status_code, blocked.json()["code"]) == (404, "ACCOUNT_NOT_FOUND")  # person 0's account
    filed = client.post("/v1/me/protections/identity-theft-reports", headers=me, json={
        "report_ref": "PSB-9", "accounts": [{"lender": "OTHER", "furnisher_account_id": "O-1"}]})
    assert filed.status_code == 201, filed.text
    seen = client.get("/v1/me/protections", headers=me).json()
    assert seen["fraud_alert_in_force"] and seen["identity_theft_reports"][0]["report_ref"] == "PSB-9"
    assert client.get("/v1/me/protections", headers=other).json()["fraud_alerts"] == []
    report = client.get("/v1/me/report", headers=me).json()
    assert "O-1" not in {a["account_number"] for a in report["accounts"] + report["obligations"]}
    told = notices_of(runtime, _person_id(runtime))
    assert [k for k, *_ in told if k.startswith(("alert.", "identity_theft."))] == ["alert.placed",
                                                                                   "identity_theft.blocked"]
    assert _person_id(runtime, OTHER_SUBJECT) != _person_id(runtime)

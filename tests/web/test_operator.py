"""The operator's console: served only when the app is started with it; the operator signs in with a one-time
code from the terminal; members and keys (issue one, shown once; revoke one), the identity review queue with the
evidence side by side (a decision recorded and audited as the API's), and the audit chain's verification."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from openbureau.accounts.models import AccountState
from openbureau.audit.models import AuditEntry
from openbureau.identity.models import IdentityReview
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.web.app import create_app
from tests.identity.factories import queued_passport_pair
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.web.factories import console_code, csrf, english, operator_sign_in, regulator_sign_in

COOKIE = "__Host-obo_session"


@pytest.fixture
def queued(runtime, tmp_path):
    """A bureau whose review queue holds one pair: a passport account and a resident-ID account of person 0."""
    keys = {"OPS": make_member(runtime, "OPS", Role.OPERATOR), "REG": make_member(runtime, "REG", Role.REGULATOR),
            "BANK_A": make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)}
    ids, review_id = queued_passport_pair(runtime, tmp_path)
    return runtime, keys, ids, review_id


@pytest.fixture
def console(queued):
    runtime, keys, ids, review_id = queued
    with english(create_app(runtime, operator_console=True)) as client:
        yield client, runtime, keys, ids, review_id


def _audited(runtime, action: str) -> list[AuditEntry]:
    with session_scope(runtime.engine) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_the_operator_decides_a_review_on_the_page_as_the_api_would(console) -> None:
    client, runtime, keys, ids, review_id = console
    assert client.get("/operator/reviews", follow_redirects=False).headers["location"] == "/operator/signin"
    signed = operator_sign_in(client, runtime)
    assert (signed.status_code, signed.headers["location"]) == (303, "/operator"), signed.text
    assert 'data-testid="pending">1 pair' in client.get("/operator").text
    queue = client.get("/operator/reviews")
    assert queue.status_code == 200 and f'data-testid="review-{review_id}"' in queue.text
    assert "name, birth_date" in queue.text  # the matcher's evidence ...
    assert queue.text.count(PEOPLE[0][2]) == 2 and queue.text.count(PEOPLE[0][1]) == 2  # ... and both persons
    token = csrf(client, "/operator/reviews")
    assert client.post(f"/operator/reviews/{review_id}/accept", data={}).status_code == 403  # no CSRF token
    assert client.post(f"/operator/reviews/{review_id}/accept", data={"csrf": "0" * 64}).status_code == 403
    decided = client.post(f"/operator/reviews/{review_id}/accept", data={"csrf": token}, follow_redirects=False)
    assert (decided.status_code, decided.headers["location"]) == (303, "/operator/reviews?done=accepted")
    assert 'data-testid="empty"' in client.get("/operator/reviews").text
    entries = _audited(runtime, "identity.review.accept")
    assert [(e.actor_code, e.actor_member_id, e.person_id) for e in entries] == [
        (entries[0].actor_code, None, ids["PASSPORT"])] and entries[0].actor_code.startswith("OPERATOR:")
    with session_scope(runtime.engine) as session:
        assert set(session.scalars(select(AccountState.person_id))) == {ids["CN_RESIDENT_ID"]}
    again = client.post(f"/operator/reviews/{review_id}/reject", data={"csrf": token})
    assert again.status_code == 409 and "REVIEW_DECIDED" in again.text


def test_the_operator_issues_a_key_shown_once_and_revokes_it(console) -> None:
    client, runtime, keys, _, _ = console
    assert operator_sign_in(client, runtime).status_code == 303
    listed = client.get("/operator/members")
    assert listed.status_code == 200 and 'data-testid="member-BANK_A"' in listed.text
    assert keys["BANK_A"] not in listed.text and keys["BANK_A"].split("_")[1] in listed.text  # prefixes only
    issued = client.post("/operator/members/BANK_A/keys", data={"csrf": csrf(client, "/operator/members")})
    assert issued.status_code == 200, issued.text
    new_key = issued.text.split('data-testid="new-key" class="key">')[1].split("<")[0]
    assert client.get("/v1/members/me", headers={"X-API-Key": new_key}).json()["code"] == "BANK_A"
    assert new_key not in client.get("/operator/members").text  # never shown again
    prefix = new_key.split("_")[1]
    revoked = client.post(f"/operator/keys/{prefix}/revoke", data={"csrf": csrf(client, "/operator/members")},
                          follow_redirects=False)
    assert revoked.headers["location"] == "/operator/members?done=revoked"
    assert client.get("/v1/members/me", headers={"X-API-Key": new_key}).status_code == 401
    assert json.loads(_audited(runtime, "key.revoke")[-1].details)["prefix"] == prefix


def test_the_audit_page_verifies_the_chain(console) -> None:
    client, runtime, _, _, _ = console
    assert operator_sign_in(client, runtime).status_code == 303
    page = client.get("/operator/audit")
    assert page.status_code == 200 and 'data-testid="audit-status">Intact' in page.text


def test_nobody_without_the_operators_code_opens_the_console(console, queued) -> None:
    client, runtime, keys, _, review_id = console
    for path in ("/operator", "/operator/members", "/operator/reviews", "/operator/audit"):
        assert client.get(path, follow_redirects=False).headers["location"] == "/operator/signin"
    csrf_token = csrf(client, "/operator/signin")
    assert client.post(f"/operator/reviews/{review_id}/accept", data={"csrf": csrf_token},
                       follow_redirects=False).status_code == 303  # to the sign-in page, nothing decided
    wrong = client.post("/operator/signin", data={"csrf": csrf_token, "code": "obc_wrong"})
    assert wrong.status_code == 401 and COOKIE not in client.cookies
    code = console_code(runtime)
    assert client.post("/operator/signin", data={"csrf": csrf_token, "code": code},
                       follow_redirects=False).status_code == 303
    client.cookies.clear()
    used = client.post("/operator/signin", data={"csrf": csrf(client, "/operator/signin"), "code": code})
    assert used.status_code == 401  # a code works once
    # a member holding the operator role, or the regulator, signed in to the regulator's pages: no console
    assert regulator_sign_in(client, keys["REG"]).status_code == 303
    assert client.get("/operator/members", follow_redirects=False).headers["location"] == "/operator/signin"
    # an API key of an operator member is not the console's session either
    assert client.get("/operator/members", headers={"X-API-Key": keys["OPS"]},
                      follow_redirects=False).status_code == 303
    with session_scope(runtime.engine) as session:
        assert session.get(IdentityReview, review_id).status == "pending"


def test_the_console_is_not_served_unless_asked_for(queued) -> None:
    runtime, _, _, _ = queued
    with english(create_app(runtime)) as client:
        for path in ("/operator", "/operator/signin", "/operator/reviews"):
            assert client.get(path, follow_redirects=False).status_code == 404
        assert client.post("/operator/signin", data={"code": console_code(runtime)}).status_code in (403, 404)

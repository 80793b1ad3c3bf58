"""The member's workspace: sign-in with the API key and the key's second factor (a code works once, a wrong one
counts as a failed sign-in), uploads with their findings, submissions, the quality scorecard with its trend and
dispute tasks answered from a page; each member sees only its own, and every form needs its CSRF token."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.disputes.models import Dispute
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.web.app import create_app
from tests.disputes.conftest import owed  # noqa: F401
from tests.disputes.factories import file as file_dispute
from tests.intake.factories import person, write_file
from tests.members.factories import make_member
from tests.security.helpers import with_settings
from tests.web.factories import authenticator_code, csrf, english, member_sign_in

COOKIE = "__Host-obm_session"


def _signed_in(client, key: str) -> None:
    signed = member_sign_in(client, key, path="/lender/signin")
    assert (signed.status_code, signed.headers["location"]) == (303, "/lender/workspace"), signed.text


def _upload(client, path, *, token: str | None = None):
    page = client.get("/lender/uploads")
    assert page.status_code == 200, page.text
    sent = re.search(r'action="/lender/uploads\?csrf=([0-9a-f]+)"', page.text).group(1) if token is None else token
    with path.open("rb") as handle:
        return client.post(f"/lender/uploads?csrf={sent}", files={"file": (path.name, handle, "text/csv")},
                           follow_redirects=False)


def test_a_key_alone_a_wrong_code_or_a_used_code_opens_no_session(portal) -> None:
    client, runtime, keys = portal
    assert client.get("/lender/workspace", follow_redirects=False).headers["location"] == "/lender/signin"
    bare = member_sign_in(client, keys["BANK_A"], path="/lender/signin", code="123456")
    assert bare.status_code == 401 and "no second factor" in bare.text and COOKIE not in client.cookies
    code = authenticator_code(runtime, keys["BANK_A"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in (wrong, "abcdef", "", "1" * 16):
        refused = member_sign_in(client, keys["BANK_A"], path="/lender/signin", code=attempt)
        assert refused.status_code == 401 and COOKIE not in client.cookies, attempt
    signed = member_sign_in(client, keys["BANK_A"], path="/lender/signin", code=code)
    assert signed.status_code == 303 and COOKIE in client.cookies
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    assert keys["BANK_A"].split("_", 2)[2] not in cookie and code not in cookie
    client.cookies.clear()
    replayed = member_sign_in(client, keys["BANK_A"], path="/lender/signin", code=code)
    assert replayed.status_code == 401 and "already used" in replayed.text and COOKIE not in client.cookies
    # a code of the next step (a phone's clock a little ahead) works, once
    ahead = pyotp.TOTP(_secret_now(runtime, keys["BANK_A"])).at(time.time() + 30)
    assert member_sign_in(client, keys["BANK_A"], path="/lender/signin", code=ahead).status_code == 303
    with session_scope(runtime.engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "console.signin")).all()
        enrolments = session.scalars(select(AuditEntry).where(AuditEntry.action == "key.second_factor_enrol")).all()
    assert len(entries) == 2 and len(enrolments) == 2
    assert all(code not in e.details and keys["BANK_A"] not in e.details for e in entries)


def _secret_now(runtime, key: str) -> str:
    """Enrol ``key`` afresh and return the secret (the test plays the authenticator app)."""
    from openbureau.audit.service import terminal_operator
    from openbureau.members import second_factor

    with session_scope(runtime.engine, write=True) as session:
        return second_factor.enrol(session, vault=runtime.vault, principal=terminal_operator(),
                                   prefix=key.split("_")[1]).secret


def test_the_secret_is_stored_encrypted_and_five_wrong_codes_lock_the_factor(portal) -> None:
    client, runtime, keys = portal
    secret = _secret_now(runtime, keys["BANK_A"])
    from openbureau.members.models import ApiKey

    with session_scope(runtime.engine) as session:
        stored = session.scalar(select(ApiKey.second_factor_enc).where(ApiKey.prefix == keys["BANK_A"].split("_")[1]))
    assert stored and secret.encode() not in stored and runtime.vault.decrypt(stored) == secret
    right = pyotp.TOTP(secret).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert member_sign_in(client, keys["BANK_A"], path="/lender/signin", code=wrong).status_code == 401
    locked = member_sign_in(client, keys["BANK_A"], path="/lender/signin", code=right)
    assert locked.status_code == 401 and "too many wrong codes" in locked.text and COOKIE not in client.cookies
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "key.second_factor_locked")).all()
    # the operator enrols the key again (a new secret): the lock is gone
    assert member_sign_in(client, keys["BANK_A"], path="/lender/signin").status_code == 303


def test_wrong_codes_count_as_failed_sign_ins_of_the_address(portal) -> None:
    _, runtime, keys = portal
    limited = with_settings(runtime, auth_failures_per_minute=3)
    with english(create_app(limited)) as client:
        answers = [member_sign_in(client, keys["BANK_A"], path="/lender/signin", code="000000").status_code
                   for _ in range(5)]
    assert answers[:3] == [401, 401, 401] and set(answers[3:]) == {429}


def test_a_regulator_or_a_revoked_key_gets_no_workspace(portal) -> None:
    client, runtime, keys = portal
    reg = make_member(runtime, "REG", Role.REGULATOR)
    refused = member_sign_in(client, reg, path="/lender/signin")
    assert refused.status_code == 403 and COOKIE not in client.cookies
    _signed_in(client, keys["BANK_A"])
    assert client.get("/lender/submissions").status_code == 200
    from openbureau.audit.service import terminal_operator
    from openbureau.members import service as members

    with session_scope(runtime.engine, write=True) as session:
        members.revoke_key(session, principal=terminal_operator(), prefix=keys["BANK_A"].split("_")[1])
    assert client.get("/lender/submissions", follow_redirects=False).headers["location"] == "/lender/signin"


def test_a_furnisher_uploads_a_file_and_reads_its_findings_and_no_one_else_can(portal, tmp_path) -> None:
    client, runtime, keys = portal
    _signed_in(client, keys["BANK_A"])
    # 300 good records and a bad one: far more than a form may hold (the upload is bounded as the API's)
    path = write_file(tmp_path / "bank-2026-10.csv", [
        *(person(1, furnisher_account_id=f"W-{i}", reporting_period="2026-10") for i in range(300)),
        person(1, furnisher_account_id="W-BAD", reporting_period="2026-10", balance="-5"),
    ])
    assert path.stat().st_size > runtime.settings.max_form_bytes
    assert _upload(client, path, token="0" * 64).status_code == 403  # a token of no session
    stranger = english(create_app(runtime))
    _signed_in(stranger, keys["OTHER"])
    other_token = re.search(r"csrf=([0-9a-f]+)", stranger.get("/lender/uploads").text).group(1)
    assert _upload(client, path, token=other_token).status_code == 403  # another session's token
    answered = _upload(client, path)
    assert answered.status_code == 303, answered.text
    location = answered.headers["location"]
    submission_id = int(location.rsplit("/", 1)[1])
    shown = client.get(location)
    assert shown.status_code == 200 and 'data-testid="findings"' in shown.text
    assert re.search(r"301 received: 300 stored,\s+0 stored with warnings, 1 rejected", shown.text), shown.text
    api = client.get(f"/v1/submissions/{submission_id}/errors", headers={"X-API-Key": keys["BANK_A"]}).json()
    for finding in api["items"]:  # the page shows what the API lists, line, field and code
        assert f"<td>{finding['line']}</td><td>{finding['furnisher_account_id'] or ''}</td>" in shown.text
        assert f'<td class="code">{finding["code"]}</td>' in shown.text
    download = client.get(f"{location}/findings.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert api["items"][0]["code"] in download.text
    assert f'href="/lender/submissions/{submission_id}"' in client.get("/lender/submissions").text
    # another furnisher: no such page, and its list does not show it
    assert stranger.get(location).status_code == 404
    assert stranger.get(f"{location}/findings.csv").status_code == 404
    assert f"/lender/submissions/{submission_id}" not in stranger.get("/lender/submissions").text
    stranger.close()
    # a subscriber that does not furnish has no upload page
    lender = english(create_app(runtime))
    _signed_in(lender, keys["LENDER"])
    assert lender.get("/lender/uploads").status_code == 403
    assert _upload_refused(lender, path) == 403
    lender.close()


def _upload_refused(client, path) -> int:
    with path.open("rb") as handle:
        return client.post("/lender/uploads?csrf=" + "0" * 64, files={"file": (path.name, handle, "text/csv")},
                           follow_redirects=False).status_code


def test_the_quality_page_shows_the_members_own_scorecard_and_its_trend(portal) -> None:
    client, _, keys = portal
    _signed_in(client, keys["BANK_A"])
    shown = client.get("/lender/quality?months=3")
    assert shown.status_code == 200, shown.text
    assert "BANK_A: grade" in shown.text and 'data-testid="metrics"' in shown.text
    assert shown.text.count("<svg") == 2 and "<script" not in shown.text
    assert "OTHER" not in shown.text and "TELCO" not in shown.text
    api = client.get("/v1/quality/scorecards", headers={"X-API-Key": keys["BANK_A"]}).json()
    (card,) = api["scorecards"]
    assert f"grade {card['grade'] or 'n.a.'}" in shown.text
    assert client.get("/lender/quality?months=99").status_code == 404  # out of range, as any bad address


def test_a_dispute_task_is_answered_from_the_page_by_its_furnisher_alone(portal, owed) -> None:  # noqa: F811
    client, runtime, keys = portal
    dispute = file_dispute(runtime)
    _signed_in(client, keys["BANK_A"])
    assert 'data-testid="open-tasks">1 open' in client.get("/lender/workspace").text
    tasks = client.get("/lender/disputes")
    task_id = int(re.search(r'data-testid="task-(\d+)"', tasks.text).group(1))
    token = csrf(client, "/lender/disputes")
    other = english(create_app(runtime))
    _signed_in(other, keys["OTHER"])
    assert 'data-testid="no-tasks"' in other.get("/lender/disputes").text
    stolen = other.post(f"/lender/disputes/{task_id}/answer",
                        data={"csrf": csrf(other, "/lender/disputes"), "outcome": "deleted", "evidence": "x"})
    assert stolen.status_code in (403, 404)
    other.close()
    assert client.post(f"/lender/disputes/{task_id}/answer",
                       data={"outcome": "verified", "evidence": "ok"}).status_code == 403  # no CSRF token
    bad = client.post(f"/lender/disputes/{task_id}/answer", data={"csrf": token, "outcome": "maybe", "evidence": ""})
    assert bad.status_code == 422 and "Check these fields: evidence, outcome." in bad.text
    done = client.post(f"/lender/disputes/{task_id}/answer", follow_redirects=False,
                       data={"csrf": token, "outcome": "verified", "evidence": "Checked the ledger: the item is right."})
    assert (done.status_code, done.headers["location"]) == (303, "/lender/disputes?done=")
    after = client.get(done.headers["location"])
    assert 'data-testid="done"' in after.text and 'data-testid="no-tasks"' in after.text
    with session_scope(runtime.engine) as session:
        stored = session.get(Dispute, dispute.id)
        assert (stored.status, stored.outcome) == ("resolved", "verified")


def test_a_signed_in_lender_looks_up_without_typing_its_key(portal) -> None:
    client, _, keys = portal
    _signed_in(client, keys["LENDER"])
    form = client.get("/lender")
    assert 'name="api_key"' not in form.text and 'action="/lender/lookup"' in form.text
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    answer = client.post("/lender/lookup", data={"csrf": token, "id_type": "CN_RESIDENT_ID",
                                                 "id_number": "11010519491231002X", "purpose": "loan_origination",
                                                 "consent_ref": "L-1"})
    assert answer.status_code == 201 and "Subscriber view" in answer.text and answer.headers["x-inquiry-id"]
    assert client.post("/lender/lookup", data={"id_type": "CN_RESIDENT_ID", "id_number": "11010519491231002X",
                                               "purpose": "loan_origination"}).status_code == 403  # no token


@pytest.mark.parametrize("path", ["/lender/workspace", "/lender/submissions", "/lender/uploads", "/lender/quality",
                                  "/lender/disputes", "/lender/submissions/1"])
def test_every_workspace_page_asks_for_a_sign_in(portal, path) -> None:
    client, _, _ = portal
    assert client.get(path, follow_redirects=False).headers["location"] == "/lender/signin"

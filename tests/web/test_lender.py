"""The lender's look-up page: a borrower's report for a purpose on a consent, with the key used for that one
request; refused without a lawful basis, with a wrong key, a person's session, or no CSRF token."""

from __future__ import annotations

from tests.intake.factories import PEOPLE
from tests.people.factories import bearer, http_sign_in
from tests.web.factories import csrf

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]


def _ask(client, key: str, **changes):
    form = {"csrf": csrf(client, "/lender"), "api_key": key, "id_type": "CN_RESIDENT_ID", "id_number": ID,
            "purpose": "loan_origination", "consent_ref": "L-1", **changes}
    return client.post("/lender/report", data=form)


def test_a_lender_looks_a_borrower_up_on_their_consent_and_the_person_sees_it(portal) -> None:
    client, runtime, keys = portal
    answer = _ask(client, keys["LENDER"])
    assert answer.status_code == 201, answer.text
    assert 'data-testid="view">Subscriber view' in answer.text and answer.headers["x-inquiry-id"]
    assert "x-openbureau-self-contained" not in answer.headers
    assert "script-src" not in answer.headers["content-security-policy"]
    assert keys["LENDER"] not in answer.text and "__Host-obp_session" not in client.cookies
    me = bearer(http_sign_in(client, runtime, ID))
    looks = client.get("/v1/me/inquiries", headers=me).json()
    assert [(q["by"], q["consent_ref"]) for q in looks if q["by"] == "LENDER"] == [("LENDER", "L-1")]


def test_no_lawful_basis_a_wrong_key_or_a_persons_session_gets_no_report(portal) -> None:
    client, runtime, keys = portal
    no_consent = _ask(client, keys["LENDER"], id_number=OTHER_ID)
    assert no_consent.status_code == 403 and "Subscriber view" not in no_consent.text
    assert OTHER_ID not in no_consent.text
    wrong = _ask(client, keys["LENDER"][:-4] + "AAAA")
    assert wrong.status_code == 401 and "not valid" in wrong.text and "Subscriber view" not in wrong.text
    token = http_sign_in(client, runtime, ID)
    assert _ask(client, token).status_code == 401  # a person's session is not a member's key
    furnisher_only = _ask(client, keys["TELCO"])
    assert furnisher_only.status_code == 403  # a member that does not subscribe
    malformed = _ask(client, keys["LENDER"], id_number="<i>zqxw</i>", purpose="spying")
    assert malformed.status_code == 422 and "zqxw" not in malformed.text  # what was typed is not echoed
    assert "Check these fields: purpose, subject." in malformed.text
    no_token = client.post("/lender/report", data={"api_key": keys["LENDER"], "id_type": "CN_RESIDENT_ID",
                                                   "id_number": ID, "purpose": "loan_origination",
                                                   "consent_ref": "L-1"})
    assert no_token.status_code == 403 and "CSRF_FAILED" in no_token.text
    me = bearer(token)
    assert [q for q in client.get("/v1/me/inquiries", headers=me).json() if q["by"] == "LENDER"] == []

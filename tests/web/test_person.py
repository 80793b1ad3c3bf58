"""The signed-in person's pages over HTTP: the report (HTML and PDF), who looked, consents, disputes, alerts and
freezes, the export; and the attacks: another person's ids in URLs, a script in a statement, audits that match
the API's."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from openbureau.audit.models import AuditEntry
from openbureau.consent.models import Consent
from openbureau.consent.repository import ConsentRepository
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from tests.consent.factories import default_ref
from tests.intake.factories import PEOPLE
from tests.people.factories import bearer, http_sign_in
from tests.web.factories import csrf, sign_in

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]
APPLICATION = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}, "purpose": "loan_origination",
               "consent_ref": "L-1"}


def _audits(runtime, action: str) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def test_the_report_shows_the_file_score_and_reasons_and_counts_as_a_look(portal) -> None:
    client, runtime, keys = portal
    assert client.post("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}, json=APPLICATION).status_code == 201
    sign_in(client, runtime, ID)
    token = csrf(client, "/me/report")
    view = client.post("/me/report/view", data={"csrf": token})
    assert view.status_code == 200, view.text
    assert "A-1" in view.text and "Lender Ltd" in view.text  # the account, and who looked (consumer view)
    assert "Your own report" in view.text  # the consumer view: score, reasons and advice once a model is released
    policy = view.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy  # its own page, its inline style only
    assert "x-openbureau-self-contained" not in view.headers  # the marker the edge reads stays inside
    pdf = client.post("/me/report/pdf", data={"csrf": token})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    looks = client.get("/me/inquiries")
    assert looks.status_code == 200 and "Lender Ltd" in looks.text and "loan origination" in looks.text
    assert looks.text.count("<tr>") >= 3  # the lender's inquiry and the person's own two reports
    third = client.post("/me/report/view", data={"csrf": token})  # CN: two free reports a year
    assert third.status_code == 429 and "FREE_REPORTS_USED" in third.text and "next free one" in third.text


def test_consents_are_listed_and_revoked_and_anothers_id_is_404(portal) -> None:
    client, runtime, _ = portal
    with session_scope(runtime.engine) as session:
        bank = get_member(session, code="BANK_A").id
        mine = ConsentRepository(session).by_ref(grantee_member_id=bank, consent_ref=default_ref(ID)).id
        theirs = ConsentRepository(session).by_ref(grantee_member_id=bank, consent_ref=default_ref(OTHER_ID)).id
    sign_in(client, runtime, ID)
    wallet = client.get("/me/consents")
    assert wallet.status_code == 200 and f'data-consent="{mine}"' in wallet.text
    assert f'data-consent="{theirs}"' not in wallet.text and OTHER_ID not in wallet.text
    token = csrf(client, "/me/consents")
    stolen = client.post(f"/me/consents/{theirs}/revoke", data={"csrf": token})
    assert stolen.status_code == 404 and "CONSENT_NOT_FOUND" in stolen.text
    assert client.post("/me/consents/abc/revoke", data={"csrf": token}).status_code == 404
    with session_scope(runtime.engine) as session:
        assert session.get(Consent, theirs).revoked_at is None
    done = client.post(f"/me/consents/{mine}/revoke", data={"csrf": token})
    assert done.status_code == 200 and "The consent is revoked" in done.text
    row = done.text.split(f'data-consent="{mine}"')[1].split("</tr>")[0]
    assert "revoked" in row and "<form" not in row


def test_a_person_files_and_follows_a_dispute_and_a_script_in_a_statement_stays_text(portal) -> None:
    client, runtime, _ = portal
    sign_in(client, runtime, ID)
    token = csrf(client, "/me/disputes")
    filed = client.post("/me/disputes", data={"csrf": token, "kind": "account", "lender": "BANK_A",
                                              "furnisher_account_id": "A-1", "reporting_period": "2026-10",
                                              "statement": "<script>alert(1)</script> I paid October"})
    assert filed.status_code == 200 and "Your dispute is filed" in filed.text
    assert "<script>" not in filed.text
    (dispute_id,) = [int(i) for i in re.findall(r'data-dispute="(\d+)"', filed.text)]
    assert "open" in filed.text and "A-1, 2026-10" in filed.text
    said = client.post(f"/me/disputes/{dispute_id}/statement",
                       data={"csrf": token, "statement": '<img src=x onerror="alert(1)">paid'})
    assert said.status_code == 200 and "Your statement is saved" in said.text
    report = client.post("/me/report/view", data={"csrf": csrf(client, "/me/report")})
    assert "&lt;img src=x onerror=" in report.text and "<img src=x" not in report.text  # escaped, shown as text
    bad = client.post("/me/disputes", data={"csrf": token, "kind": "account", "statement": "",
                                            "reporting_period": "2026-13"})
    assert bad.status_code == 422 and "reporting_period" in bad.text
    theirs = client.post("/me/disputes", data={"csrf": token, "kind": "account", "lender": "BANK_A",
                                               "furnisher_account_id": "A-2", "statement": "not mine"})
    assert theirs.status_code == 404 and "ACCOUNT_NOT_FOUND" in theirs.text  # person 1's account
    too_long = client.post(f"/me/disputes/{dispute_id}/statement", data={"csrf": token, "statement": "x" * 201})
    assert too_long.status_code == 422


def test_another_persons_dispute_alert_and_freeze_ids_answer_404(portal) -> None:
    client, runtime, _ = portal
    other = bearer(http_sign_in(client, runtime, OTHER_ID))
    filed = client.post("/v1/me/disputes", headers=other, json={
        "kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-2", "statement": "wrong"}).json()
    alert = client.post("/v1/me/protections/fraud-alerts", headers=other, json={}).json()
    (freeze,) = client.post("/v1/me/protections/freezes", headers=other).json()["freezes"]
    sign_in(client, runtime, ID)
    token = csrf(client, "/me")
    for path in (f"/me/disputes/{filed['id']}/statement", f"/me/protections/fraud-alerts/{alert['id']}/remove",
                 f"/me/protections/freezes/{freeze['id']}/lift"):
        answer = client.post(path, data={"csrf": token, "statement": "hijack"})
        assert answer.status_code == 404, (path, answer.text)
    state = client.get("/v1/me/protections", headers=other).json()
    assert state["frozen"] and state["fraud_alert_in_force"]  # untouched
    assert f'data-dispute="{filed["id"]}"' not in client.get("/me/disputes").text


def test_freezes_and_alerts_are_placed_lifted_and_removed_from_the_page(portal) -> None:
    client, runtime, keys = portal
    sign_in(client, runtime, ID)
    token = csrf(client, "/me/protections")
    frozen = client.post("/me/protections/freezes", data={"csrf": token})
    assert frozen.status_code == 200 and "is <strong>frozen</strong>" in frozen.text
    assert client.post("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}, json=APPLICATION).status_code == 403
    freeze_id = int(re.search(r'data-freeze="(\d+)"', frozen.text).group(1))
    assert client.post(f"/me/protections/freezes/{freeze_id}/lift",
                       data={"csrf": token, "days": "999"}).status_code == 422
    lifted = client.post(f"/me/protections/freezes/{freeze_id}/lift", data={"csrf": token, "days": "2"})
    assert lifted.status_code == 200 and "Your file is not frozen" in lifted.text
    assert client.post("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}, json=APPLICATION).status_code == 201
    alerted = client.post("/me/protections/fraud-alerts", data={"csrf": token, "kind": "initial"})
    assert alerted.status_code == 200 and "A fraud alert is in force" in alerted.text
    alert_id = int(re.search(r'data-alert="(\d+)"', alerted.text).group(1))
    removed = client.post(f"/me/protections/fraud-alerts/{alert_id}/remove", data={"csrf": token})
    assert removed.status_code == 200 and "A fraud alert is in force" not in removed.text
    extended = client.post("/me/protections/fraud-alerts", data={"csrf": token, "kind": "extended"})
    assert extended.status_code == 422  # an extended alert names its identity-theft report (the service's rule)


def test_each_page_is_audited_as_the_api_call_it_mirrors(portal) -> None:
    client, runtime, _ = portal
    sign_in(client, runtime, ID)
    before = {a: _audits(runtime, a) for a in ("person.consents_read", "person.export")}
    assert client.get("/me/consents").status_code == 200
    exported = client.get("/me/export")
    assert exported.status_code == 200 and exported.json()["format"] == "openbureau.person-export"
    assert "attachment" in exported.headers["content-disposition"]
    assert {a: _audits(runtime, a) - n for a, n in before.items()} == {"person.consents_read": 1, "person.export": 1}
    api = bearer(http_sign_in(client, runtime, ID))
    client.get("/v1/me/consents", headers=api)
    assert _audits(runtime, "person.consents_read") - before["person.consents_read"] == 2

"""Requests by authorities: made by authorities only, logged and audited but never a credit inquiry, shown to
the person at once or when a non-disclosure order ends (injected clock), notified without identifiers, and
listed for the operator and the authority itself. Both engines."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from openbureau.audit import service as audit
from openbureau.authorities import service
from openbureau.authorities.models import AuthorityRequest
from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.identity.repository import find_person_by_any
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden, NotFound, Unprocessable
from openbureau.notifications import service as notifications
from openbureau.notifications.channels import FileChannel
from openbureau.notifications.models import Notification
from openbureau.people.service import contact_of
from openbureau.principals import Principal
from openbureau.reports import service as reports
from tests.authorities.factories import CITATION, REFERENCE, notices, person_0, request, rows, seen_by
from tests.disputes.factories import AT_COUNTER, SUBJECT, lender_view, member
from tests.intake.factories import PEOPLE
from tests.reports.conftest import ID, NOW

TICK = timedelta(microseconds=1)
IDENTIFIERS = (ID, PEOPLE[0][1], PEOPLE[0][2], "13800138000", "13912345678", "北京市朝阳区建国路1号")

PERSON = Principal.person("PERSON:0")  # a person (their role: nothing of authorities but their own list)


def _inquiries(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(Inquiry))


def _full_report(runtime, moment):
    """Person 0's report as a lender's or the person's would be built at ``moment`` (nothing logged)."""
    with session_scope(runtime.engine) as session:
        indexes = subject_indexes(runtime.vault, SUBJECT)
        person = find_person_by_any(session, id_type=SUBJECT.id_type, id_indexes=indexes)
        return reports.full_report(session, vault=runtime.vault, person=person, subject_indexes=indexes,
                                   policy=runtime.policy, history_months=24, now=moment)


def test_a_request_answers_the_full_report_and_is_logged_and_audited_but_is_no_inquiry(bureau) -> None:
    runtime, _ = bureau
    later = NOW + timedelta(minutes=1)
    before = _full_report(runtime, later)
    inquiries = _inquiries(runtime)
    answer = request(runtime, "POLICE", basis="criminal_investigation")
    assert answer.report.person.id_number == ID  # everything shown: the full view, lenders named
    assert "Bank_A Ltd (BANK_A)" in {a.lender for a in answer.report.accounts}
    assert answer.shown_to_person_from == answer.created_at == NOW
    (row,) = rows(runtime)
    assert (row.id, row.basis, row.requested_by, row.nondisclosure_until) == (
        answer.request_id, "criminal_investigation", "POLICE", None)
    assert REFERENCE.encode() not in row.reference_enc and CITATION.encode() not in row.citation_enc
    assert runtime.vault.decrypt(row.reference_enc) == REFERENCE
    with session_scope(runtime.engine) as session:
        (entry,) = audit.list_entries(session, action="authority.request")
    assert (entry.actor_code, entry.purpose, entry.person_id) == ("POLICE", "authority_request", row.person_id)
    assert json.loads(entry.details)["request_id"] == row.id and REFERENCE not in entry.details
    # Not a credit inquiry: nothing in the inquiry log; the file (its inquiries, hard ones, score) unchanged.
    assert _inquiries(runtime) == inquiries
    after = _full_report(runtime, later)
    assert after.model_dump() == before.model_dump() and after.summary.hard_inquiries_12m == 0
    assert lender_view(runtime, now=later).report.summary.hard_inquiries_12m == 0  # a lender sees none either
    with session_scope(runtime.engine) as session:
        seen = reports.person_inquiries(session, principal=person_0(runtime), policy=runtime.policy, now=later)
    assert [i.by for i in seen] == ["LENDER"]


def test_no_principal_never_means_anyone(bureau) -> None:
    runtime, _ = bureau
    for principal in (None, "COURT"):
        with pytest.raises(TypeError), session_scope(runtime.engine, write=True) as session:
            service.request_report(session, vault=runtime.vault, principal=principal, subject=SUBJECT,
                                   basis="court_order", citation=CITATION, reference=REFERENCE,
                                   order_hash="ab" * 32, policy=runtime.policy, now=NOW)
    assert rows(runtime) == []


@pytest.mark.parametrize("who", ["LENDER", "BANK_A", "OPS", "REG", "terminal", "person"])
def test_only_authorities_may_request_a_report(bureau, who) -> None:
    runtime, _ = bureau
    principal = {"terminal": AT_COUNTER, "person": PERSON}.get(who) or member(runtime, who)
    with pytest.raises(Forbidden) as refused:
        request(runtime, by=principal)
    assert refused.value.code == "ROLE_REQUIRED" and rows(runtime) == [] and notices(runtime) == []


def test_the_person_sees_a_request_without_an_order_at_once_and_is_told_without_identifiers(bureau) -> None:
    runtime, _ = bureau
    person = person_0(runtime)
    assert seen_by(runtime, person, now=NOW) == []
    answer = request(runtime, "TAX", basis="tax_assessment", citation="Tax Collection Law Art. 54(6)")
    (shown,) = seen_by(runtime, person, now=NOW)
    assert (shown.id, shown.authority, shown.authority_name, shown.basis, shown.citation, shown.reference,
            shown.at, shown.nondisclosure_ended_at) == (
        answer.request_id, "TAX", "Beijing Tax Service", "tax_assessment", "Tax Collection Law Art. 54(6)",
        REFERENCE, NOW, None)
    ((row, text),) = notices(runtime)
    assert (row.person_id, row.next_attempt_at, row.created_at) == (person.person_id, NOW, NOW)
    assert "Beijing Tax Service" in text["body"] and "tax assessment" in text["body"]
    assert not [x for x in (*IDENTIFIERS, REFERENCE, "Tax Collection Law") if x in json.dumps(text, ensure_ascii=False)]
    with session_scope(runtime.engine) as session:
        entries = audit.list_entries(session, action="person.authority_requests_read", person_id=person.person_id)
    assert [e.actor_code for e in entries] == [person.code, person.code]  # each read, the empty one too


def test_a_nondisclosure_order_hides_the_request_and_its_notice_until_it_ends(bureau, tmp_path) -> None:
    runtime, _ = bureau
    person = person_0(runtime)
    until = NOW + timedelta(days=90)
    answer = request(runtime, "POLICE", basis="criminal_investigation", nondisclosure_ref="ND-7",
                     nondisclosure_until=until)
    request(runtime, "COURT", now=NOW + timedelta(days=1))  # another request, without an order
    assert answer.shown_to_person_from == until
    for moment in (NOW, NOW + timedelta(days=30), until - TICK):
        assert [r.authority for r in seen_by(runtime, person, now=moment)] == (["COURT"] if moment > NOW + timedelta(
            days=1) else []), moment
    shown = seen_by(runtime, person, now=until)
    assert [(r.authority, r.nondisclosure_ended_at) for r in shown] == [("COURT", None), ("POLICE", until)]
    assert runtime.vault.decrypt(rows(runtime)[0].nondisclosure_ref_enc) == "ND-7"
    # The notice was written with the request and is due when the order ends; the dispatcher holds it back.
    (held, text), _ = notices(runtime)
    assert held.next_attempt_at == until and held.created_at == NOW
    assert f"kept this from you until {until:%Y-%m-%d}" in text["body"] and "ND-7" not in text["body"]
    channel = FileChannel(tmp_path / "outbox")
    notifications.dispatch(runtime.engine, vault=runtime.vault, channel=channel, resolve=contact_of(runtime.vault),
                           now=until - TICK, limit=1_000)
    assert not (tmp_path / "outbox" / f"{held.id}.json").exists()
    notifications.dispatch(runtime.engine, vault=runtime.vault, channel=channel, resolve=contact_of(runtime.vault),
                           now=until, limit=1_000)
    delivered = json.loads((tmp_path / "outbox" / f"{held.id}.json").read_text())
    assert delivered["subject"] == "An authority requested your credit report"
    assert not [x for x in IDENTIFIERS if x in json.dumps(delivered, ensure_ascii=False)]


@pytest.mark.parametrize(("fields", "code"), [
    ({"nondisclosure_ref": "ND-1"}, "NONDISCLOSURE_END_REQUIRED"),
    ({"nondisclosure_until": NOW + timedelta(days=10)}, "NONDISCLOSURE_REF_REQUIRED"),
    ({"nondisclosure_ref": "ND-1", "nondisclosure_until": NOW}, "INVALID_NONDISCLOSURE_END"),
    ({"nondisclosure_ref": "ND-1", "nondisclosure_until": NOW - timedelta(days=1)}, "INVALID_NONDISCLOSURE_END"),
    ({"nondisclosure_ref": "ND-1", "nondisclosure_until": NOW + timedelta(days=367)}, "INVALID_NONDISCLOSURE_END"),
    ({"nondisclosure_ref": "ND-1", "nondisclosure_until": NOW.replace(tzinfo=None) + timedelta(days=1)},
     "INVALID_NONDISCLOSURE_END"),
    ({"nondisclosure_ref": " ", "nondisclosure_until": NOW + timedelta(days=1)}, "INVALID_REQUEST_TEXT"),
    ({"citation": "x" * 501}, "INVALID_REQUEST_TEXT"),
    ({"citation": "  "}, "INVALID_REQUEST_TEXT"),
    ({"reference": "r" * 101}, "INVALID_REQUEST_TEXT"),
    ({"order_hash": "not a hash"}, "INVALID_ORDER_HASH"),
    ({"basis": "curiosity"}, "INVALID_BASIS"),
    ({"history_months": 61}, "INVALID_HISTORY_MONTHS"),
])
def test_requests_that_break_a_rule_are_refused_and_leave_nothing(bureau, fields, code) -> None:
    runtime, _ = bureau
    with pytest.raises(Unprocessable) as refused:
        request(runtime, **fields)
    assert refused.value.code == code and rows(runtime) == [] and notices(runtime) == []


def test_a_year_long_order_is_accepted_and_an_unknown_person_is_not_found(bureau) -> None:
    runtime, _ = bureau
    request(runtime, nondisclosure_ref="ND-2", nondisclosure_until=NOW + service.MAX_NONDISCLOSURE)
    with pytest.raises(NotFound) as unknown:
        request(runtime, subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[3][0]))
    assert unknown.value.code == "PERSON_NOT_FOUND" and len(rows(runtime)) == 1


def test_the_table_refuses_an_order_without_its_end(bureau) -> None:
    runtime, _ = bureau
    values = dict(authority_id=1, person_id=1, basis="other", citation_enc=b"c", reference_enc=b"r",
                  order_hash="ab" * 32, requested_by="X", created_at=NOW)
    with pytest.raises(IntegrityError), session_scope(runtime.engine, write=True) as session:
        session.execute(insert(AuthorityRequest.__table__).values(**values, nondisclosure_ref_enc=b"n"))


def test_the_operator_lists_every_request_and_an_authority_only_its_own(bureau) -> None:
    runtime, _ = bureau
    court = [request(runtime, "COURT", now=NOW + timedelta(hours=h)).request_id for h in (1, 2)]
    police = request(runtime, "POLICE", now=NOW + timedelta(hours=3), basis="criminal_investigation",
                     nondisclosure_ref="ND-3", nondisclosure_until=NOW + timedelta(days=30)).request_id
    later = NOW + timedelta(hours=4)

    def listed(principal):
        with session_scope(runtime.engine, write=True) as session:
            return service.list_requests(session, principal=principal, now=later)

    every = listed(AT_COUNTER)
    assert [r.id for r in every] == [police, *reversed(court)]
    assert [(r.authority, r.shown_to_person) for r in every] == [("POLICE", False), ("COURT", True), ("COURT", True)]
    assert all(r.person_id is not None for r in every)
    own = listed(member(runtime, "COURT"))
    assert [r.id for r in own] == list(reversed(court)) and all(r.person_id is None for r in own)
    assert listed(member(runtime, "TAX")) == []
    assert "HD-2026" not in str(every) and "ND-3" not in str(every)
    for who in ("LENDER", "BANK_A", "REG"):
        with pytest.raises(Forbidden):
            listed(member(runtime, who))
    with pytest.raises(Forbidden):
        listed(PERSON)


def test_nobody_else_sees_a_request_about_the_person(bureau) -> None:
    runtime, _ = bureau
    person = person_0(runtime)
    request(runtime)
    with session_scope(runtime.engine) as session:
        count = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.person_id == person.person_id, Notification.kind == "authority.request"))
    assert count == 1 and len(seen_by(runtime, person, now=NOW)) == 1
    other = Principal.person("PERSON:x", person_id=person.person_id + 1000)
    assert seen_by(runtime, other, now=NOW) == []

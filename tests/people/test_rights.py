"""The signed-in person's rights at the service level: the own report within the free quota of each profile
(injected clock), who looked and on what basis, the consent wallet with what lenders hold back, revoking
one's own consent (another's answers 404), and the notices that hard inquiries and consent changes write to
the outbox in their own transaction. Both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.consent.models import ConsentStatus
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.repository import ConsentRepository
from openbureau.consent.service import subject_indexes
from openbureau.identity import service as identity
from openbureau.identity.repository import find_person_by_any
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError, NotFound
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.notifications.models import Notification
from openbureau.notifications.service import message_text
from openbureau.people import rights
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.reports.service import free_report_period
from tests.consent.factories import default_ref, grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.people.factories import document, principal, sign_in
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, month

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]


def _person(runtime, id_number=ID, now=NOW) -> Principal:
    return principal(runtime, sign_in(runtime, id_number, now=now), now=now)


def _report(runtime, person, policy, now):
    with session_scope(runtime.engine, write=True) as session:
        return rights.my_report(session, vault=runtime.vault, principal=person, policy=policy, now=now)


def _refusal(call) -> BureauError:
    with pytest.raises(BureauError) as err:
        call()
    return err.value


def test_cn_gives_two_free_reports_a_calendar_year_and_says_when_the_next_is_due(market) -> None:
    runtime, _ = market
    person = _person(runtime)
    first = _report(runtime, person, runtime.policy, NOW)
    assert first.view == "consumer" and first.person.id_number == ID and len(first.accounts) == 2
    _report(runtime, person, runtime.policy, NOW + timedelta(days=1))
    refused = _refusal(lambda: _report(runtime, person, runtime.policy, NOW + timedelta(days=2)))
    assert (refused.status_code, refused.code) == (429, "FREE_REPORTS_USED")
    assert "2027-01-01 00:00 UTC" in refused.message and refused.details["next_free_at"] == "2027-01-01T00:00:00+00:00"
    next_year = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    assert _report(runtime, _person(runtime, now=next_year), runtime.policy, next_year).view == "consumer"


def test_us_gives_one_free_report_a_week_from_monday(market) -> None:
    runtime, _ = market
    us = replace(runtime.policy, profile=get_profile("US"))
    person = _person(runtime)  # NOW is a Friday
    _report(runtime, person, us, NOW)
    refused = _refusal(lambda: _report(runtime, person, us, NOW + timedelta(hours=1)))
    assert refused.code == "FREE_REPORTS_USED" and "2026-11-23 00:00 UTC" in refused.message
    monday = datetime(2026, 11, 23, 0, 1, tzinfo=UTC)
    assert _report(runtime, _person(runtime, now=monday), us, monday)


def test_free_report_periods_are_calendar_years_and_iso_weeks() -> None:
    cn, us = get_profile("CN"), get_profile("US")
    assert (cn.free_reports, cn.free_report_period, us.free_reports, us.free_report_period) == (2, "year", 1, "week")
    sunday = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)
    assert free_report_period(us, sunday) == (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    assert free_report_period(cn, sunday)[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_person_sees_who_looked_when_why_and_on_which_consent_and_is_told_of_the_hard_look(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        lender = Principal.of_member(get_member(session, code="LENDER"))
        reports.inquire(session, vault=runtime.vault, principal=lender, policy=runtime.policy, now=NOW,
                        request=InquiryCreate(subject=document(ID), purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1"))
    person = _person(runtime, now=NOW + timedelta(hours=1))
    _report(runtime, person, runtime.policy, NOW + timedelta(hours=1))
    with session_scope(runtime.engine) as session:
        seen = rights.my_inquiries(session, principal=person, policy=runtime.policy, now=NOW + timedelta(hours=2))
        notices = session.scalars(select(Notification).where(Notification.kind == "inquiry.hard")).all()
        assert [n.person_id for n in notices] == [person.person_id]
        text = message_text(runtime.vault, notices[0].message_enc)
    assert [(i.by, i.purpose, i.hard, i.basis, i.consent_ref) for i in seen] == [
        ("the bureau", "self_inquiry", False, "self", None), ("LENDER", "loan_origination", True, "consent", "L-1")]
    assert seen[1].by_name == "Lender Ltd" and seen[1].at == NOW
    assert "LENDER looked at your credit file" in text["body"] and "L-1" in text["body"] and ID not in text["body"]


def test_an_inquiry_that_is_rolled_back_leaves_no_notice(market) -> None:
    runtime, _ = market
    with pytest.raises(RuntimeError), session_scope(runtime.engine, write=True) as session:
        lender = Principal.of_member(get_member(session, code="LENDER"))
        reports.inquire(session, vault=runtime.vault, principal=lender, policy=runtime.policy, now=NOW,
                        request=InquiryCreate(subject=document(ID), purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1"))
        raise RuntimeError("the request failed after the inquiry was written")
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(Notification).where(Notification.kind == "inquiry.hard")).all() == []


def test_the_wallet_lists_every_consent_about_the_person_and_what_lenders_hold_back(market, tmp_path) -> None:
    runtime, _ = market
    make_member(runtime, "NEWBANK", Role.FURNISHER, name="New Bank")
    furnish(runtime, "NEWBANK", [month(0, "N-1", "2026-10"), month(0, "N-2", "2026-10")], tmp_path)  # no consent
    person = _person(runtime)
    with session_scope(runtime.engine) as session:
        wallet = rights.my_consents(session, vault=runtime.vault, principal=person, now=NOW)
    assert sorted((c.grantee, c.purpose, c.status) for c in wallet.consents) == [
        ("BANK_A", "furnish", "active"), ("LENDER", "loan_origination", "active"), ("OTHER", "furnish", "active"),
        ("TELCO", "furnish", "active")]  # not person 1's consent to BANK_A
    assert all(c.subject_id_number_masked != ID and c.evidence_channel == "app" for c in wallet.consents)
    assert [(h.lender, h.lender_name, h.records) for h in wallet.held_for_consent] == [("NEWBANK", "New Bank", 2)]


def test_the_person_revokes_their_own_consent_at_once_and_never_anothers(market) -> None:
    runtime, _ = market
    person = _person(runtime)
    with session_scope(runtime.engine) as session:
        bank = get_member(session, code="BANK_A").id
        mine = ConsentRepository(session).by_ref(grantee_member_id=bank, consent_ref=default_ref(ID)).id
        theirs = ConsentRepository(session).by_ref(grantee_member_id=bank, consent_ref=default_ref(OTHER_ID)).id
    for consent_id in (theirs, 10**9):
        with pytest.raises(NotFound) as err, session_scope(runtime.engine, write=True) as session:
            rights.revoke_mine(session, vault=runtime.vault, principal=person, consent_id=consent_id, reason="x")
        assert err.value.code == "CONSENT_NOT_FOUND" and err.value.message == f"no consent {consent_id}"
    with session_scope(runtime.engine, write=True) as session:
        revoked = rights.revoke_mine(session, vault=runtime.vault, principal=person, consent_id=mine,
                                     reason="I closed the account", now=NOW)
    assert (revoked.status, revoked.revoked_at, revoked.grantee) == ("revoked", NOW, "BANK_A")
    with session_scope(runtime.engine) as session:
        assert ConsentRepository(session).get(theirs).status == ConsentStatus.ACTIVE
        notice = session.scalars(select(Notification).where(Notification.kind == "consent.revoked")).one()
        assert "at your request" in message_text(runtime.vault, notice.message_enc)["body"]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "consent.revoke")).one()
        assert (entry.actor_code, entry.person_id) == (person.code, person.person_id)


def test_a_person_principal_without_proven_documents_reaches_nothing(market) -> None:
    runtime, _ = market
    stranger = Principal.person("PERSON:1", person_id=1)  # claims a person id, proved no document
    with session_scope(runtime.engine, write=True) as session:
        wallet = rights.my_consents(session, vault=runtime.vault, principal=stranger, now=NOW)
        assert wallet.consents == []
        with pytest.raises(NotFound):
            rights.revoke_mine(session, vault=runtime.vault, principal=stranger, consent_id=1, reason="x")
    members = Principal.operator("OPERATOR:test")
    with session_scope(runtime.engine, write=True) as session:
        assert _refusal(lambda: rights.my_report(session, vault=runtime.vault, principal=members,
                                                 policy=runtime.policy, now=NOW)).code == "ROLE_REQUIRED"


def test_consents_under_a_linked_passport_are_the_persons_too(market, tmp_path) -> None:
    runtime, _ = market
    passport = "E12345678"
    grant(runtime, "BANK_A", passport, id_type="PASSPORT", ref="PP-FURNISH")
    furnish(runtime, "BANK_A", [month(0, "P-1", "2026-10", id_type="PASSPORT", id_number=passport)], tmp_path)
    grant(runtime, "LENDER", passport, Purpose.LOAN_ORIGINATION, ref="PP-LOAN", id_type="PASSPORT")
    with session_scope(runtime.engine, write=True) as session:
        ids = {t: find_person_by_any(session, id_type=t, id_indexes=subject_indexes(runtime.vault, document(n, t))).id
               for t, n in (("CN_RESIDENT_ID", ID), ("PASSPORT", passport))}
        identity.merge(session, principal=Principal.operator("OPERATOR:test"), person_id=ids["PASSPORT"],
                       into_person_id=ids["CN_RESIDENT_ID"])
    person = _person(runtime)
    with session_scope(runtime.engine, write=True) as session:
        wallet = rights.my_consents(session, vault=runtime.vault, principal=person, now=NOW)
        loan = next(c for c in wallet.consents if c.consent_ref == "PP-LOAN")
        assert loan.subject_id_type == "PASSPORT"
        assert rights.revoke_mine(session, vault=runtime.vault, principal=person, consent_id=loan.id,
                                  reason="x", now=NOW).status == "revoked"

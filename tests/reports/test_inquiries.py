"""Inquiries: a lawful basis or a 403 naming what is missing; every inquiry logged and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from openbureau.audit import service as audit
from openbureau.consent import service as consents
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.repository import ConsentRepository
from openbureau.consent.schemas import Subject
from openbureau.inquiries.models import Inquiry
from openbureau.intake import service as intake
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service
from openbureau.reports.schemas import InquiryCreate
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

ID = PEOPLE[0][0]


@pytest.fixture
def bureau(runtime, tmp_path):
    """BANK_A furnishes two accounts of person 0 (one past due without a notice); OTHER furnishes one."""
    make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    make_member(runtime, "OTHER", Role.FURNISHER)
    make_member(runtime, "LENDER", Role.SUBSCRIBER)
    for code in ("BANK_A", "OTHER"):
        grant(runtime, code, ID)
    late = dict(days_past_due="45", payment_status="2", past_due_amount="1200", first_delinquency_date="2026-08-16")
    for code, rows in (("BANK_A", [person(0), person(0, furnisher_account_id="LATE", **late)]),
                       ("OTHER", [person(0, furnisher_account_id="O-1")])):
        intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code=code,
                      path=write_file(tmp_path / f"{code}.csv", rows))
    return runtime


def _ask(runtime, code, purpose=Purpose.LOAN_ORIGINATION, consent_ref=None, id_number=ID, now=None, **settings):
    with session_scope(runtime.engine, write=True) as session:
        return service.inquire(
            session, vault=runtime.vault, principal=Principal.of_member(get_member(session, code=code)),
            policy=Policy(profile=get_profile("CN"), reciprocity=settings.get("reciprocity", False)), now=now,
            request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=id_number), purpose=purpose,
                                  consent_ref=consent_ref))


def _refused(runtime, code, **kwargs) -> str:
    with pytest.raises(Forbidden) as err:
        _ask(runtime, code, **kwargs)
    return err.value.code


def test_with_consent_the_subscriber_sees_every_lender_masked_and_the_read_is_logged(bureau) -> None:
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="L-1")
    result = _ask(bureau, "LENDER", consent_ref="L-1")
    assert result.person_found and result.hard and result.basis == "consent:L-1"
    assert sorted(a.lender for a in result.report.accounts) == ["Lender 1", "Lender 1", "Lender 2"]
    late = next(a for a in result.report.accounts if a.past_due_amount == 0 and a.payment_status == "#")
    assert late.days_past_due == 0  # negative status furnished without a notice is held back (Art. 15)
    with session_scope(bureau.engine) as session:
        logged = session.scalars(select(Inquiry)).one()
        entries = audit.list_entries(session, action="inquiry.read")
        assert audit.verify(session).ok
    assert (logged.purpose, logged.hard, logged.basis, logged.basis_note) == ("loan_origination", 1, "consent", None)
    assert entries[0].person_id == logged.person_id and entries[0].actor_code == "LENDER"


def test_without_a_lawful_basis_the_code_names_what_is_missing(bureau) -> None:
    assert _refused(bureau, "LENDER") == "CONSENT_REQUIRED"
    assert _refused(bureau, "LENDER", consent_ref="NOPE") == "CONSENT_NOT_FOUND"
    grant(bureau, "LENDER", PEOPLE[1][0], Purpose.LOAN_ORIGINATION, ref="SOMEONE-ELSE")
    assert _refused(bureau, "LENDER", consent_ref="SOMEONE-ELSE") == "CONSENT_SUBJECT_MISMATCH"
    grant(bureau, "LENDER", ID, Purpose.COLLECTIONS, ref="COLL")
    assert _refused(bureau, "LENDER", consent_ref="COLL") == "CONSENT_PURPOSE_MISMATCH"
    assert _refused(bureau, "OTHER") == "ROLE_REQUIRED"  # a pure furnisher may not query
    assert _refused(bureau, "LENDER", purpose=Purpose.SELF_INQUIRY) == "PURPOSE_NOT_ALLOWED"
    with session_scope(bureau.engine) as session:
        assert session.scalars(select(Inquiry)).all() == []  # refused inquiries read nothing


def test_expiry_and_revocation_take_effect_at_once(bureau) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="SHORT", valid_until=soon)
    assert _ask(bureau, "LENDER", consent_ref="SHORT").person_found
    with session_scope(bureau.engine, write=True) as session:
        lender = get_member(session, code="LENDER")
        consent = ConsentRepository(session).by_ref(grantee_member_id=lender.id, consent_ref="SHORT")
        consents.revoke(session, vault=bureau.vault, principal=Principal.of_member(lender), consent_id=consent.id, reason="withdrawn")
    assert _refused(bureau, "LENDER", consent_ref="SHORT") == "CONSENT_REVOKED"
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="OLD",
          valid_until=datetime.now(UTC) - timedelta(seconds=1))
    assert _refused(bureau, "LENDER", consent_ref="OLD") == "CONSENT_EXPIRED"


def test_account_review_of_an_existing_borrower_is_the_documented_exception(bureau) -> None:
    result = _ask(bureau, "BANK_A", purpose=Purpose.ACCOUNT_REVIEW)
    assert result.basis.startswith("exception: post-loan management") and not result.hard
    with session_scope(bureau.engine) as session:
        logged = session.scalars(select(Inquiry)).one()
    assert (logged.basis, logged.consent_id, logged.hard) == ("exception", None, 0)
    assert result.basis == f"exception: {logged.basis_note}" and logged.basis_note.startswith("post-loan management")
    assert {a.lender for a in result.report.accounts if a.own_account} == {"BANK_A"}
    assert _refused(bureau, "LENDER", purpose=Purpose.ACCOUNT_REVIEW) == "CONSENT_REQUIRED"  # not its borrower


def test_reciprocity_lets_only_members_that_furnish_query(bureau) -> None:
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="L-1")
    assert _refused(bureau, "LENDER", consent_ref="L-1", reciprocity=True) == "RECIPROCITY_REQUIRED"
    grant(bureau, "BANK_A", ID, Purpose.LOAN_ORIGINATION, ref="B-1")
    assert _ask(bureau, "BANK_A", consent_ref="B-1", reciprocity=True).person_found


def test_reciprocity_asks_that_the_member_has_furnished_not_only_that_it_may(bureau, tmp_path) -> None:
    make_member(bureau, "NEWBANK", Role.FURNISHER, Role.SUBSCRIBER)
    grant(bureau, "NEWBANK", ID, Purpose.LOAN_ORIGINATION, ref="N-1")
    assert _refused(bureau, "NEWBANK", consent_ref="N-1", reciprocity=True) == "RECIPROCITY_REQUIRED"
    assert _ask(bureau, "NEWBANK", consent_ref="N-1").person_found  # refused for reciprocity alone
    grant(bureau, "NEWBANK", PEOPLE[1][0])
    intake.submit(bureau.engine, settings=bureau.settings, policy=bureau.policy, furnisher_code="NEWBANK",
                  path=write_file(tmp_path / "NEWBANK.csv", [person(1, furnisher_account_id="N-ACC")]))
    assert _ask(bureau, "NEWBANK", consent_ref="N-1", reciprocity=True).person_found


def test_a_consent_ends_at_the_exact_moment_of_its_valid_until(bureau) -> None:
    until = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="UNTIL", valid_until=until)
    just_before = until - timedelta(microseconds=1)
    assert _ask(bureau, "LENDER", consent_ref="UNTIL", now=just_before).basis == "consent:UNTIL"
    assert _ask(bureau, "LENDER", now=just_before).basis == "consent:UNTIL"  # found without its reference too
    assert _refused(bureau, "LENDER", consent_ref="UNTIL", now=until) == "CONSENT_EXPIRED"
    assert _refused(bureau, "LENDER", now=until) == "CONSENT_REQUIRED"
    assert _refused(bureau, "LENDER", now=until + timedelta(microseconds=1)) == "CONSENT_REQUIRED"


def test_a_consent_begins_at_the_exact_moment_of_its_valid_from(bureau) -> None:
    start = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="FROM", valid_from=start)
    assert _refused(bureau, "LENDER", consent_ref="FROM", now=start - timedelta(microseconds=1)) == "CONSENT_PENDING"
    assert _refused(bureau, "LENDER", now=start - timedelta(microseconds=1)) == "CONSENT_REQUIRED"
    assert _ask(bureau, "LENDER", consent_ref="FROM", now=start).basis == "consent:FROM"
    assert _ask(bureau, "LENDER", now=start).basis == "consent:FROM"


def test_an_unknown_person_is_answered_and_logged_without_reading_anything(bureau) -> None:
    grant(bureau, "LENDER", PEOPLE[3][0], Purpose.LOAN_ORIGINATION, ref="NEW")
    result = _ask(bureau, "LENDER", consent_ref="NEW", id_number=PEOPLE[3][0])
    assert not result.person_found and result.report is None
    with session_scope(bureau.engine) as session:
        lender = get_member(session, code="LENDER")
        logged = session.scalars(select(Inquiry)).one()
        listed = service.list_inquiries(session, principal=Principal.of_member(lender))
        read = audit.list_entries(session, action="inquiry.read")
    assert (logged.id, logged.subscriber_id, logged.person_id, logged.purpose, logged.hard, logged.basis) == (
        result.inquiry_id, lender.id, None, "loan_origination", 1, "consent")
    assert logged.consent_id is not None and logged.actor_code == "LENDER"
    assert [(i.id, i.person_found) for i in listed] == [(result.inquiry_id, False)]
    assert read == []  # no personal data was read, so no read is audited; the inquiry itself is logged


def _refusal(runtime, code, **kwargs) -> dict:
    with pytest.raises(Forbidden) as err:
        _ask(runtime, code, **kwargs)
    return err.value.to_dict()


def test_every_refusal_says_what_is_missing_and_names_the_field_to_change(bureau) -> None:
    """The 403 body a subscriber reads: its code, the request field at fault and why, in words."""
    grant(bureau, "LENDER", PEOPLE[1][0], Purpose.LOAN_ORIGINATION, ref="SOMEONE-ELSE")
    grant(bureau, "LENDER", ID, Purpose.COLLECTIONS, ref="COLL")
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="ENDED", valid_until=datetime(2026, 1, 1, tzinfo=UTC))
    refusals = [
        (dict(reciprocity=True), "RECIPROCITY_REQUIRED", None,
         "LENDER does not furnish data; reciprocity is on: only members that furnish may query"),
        (dict(purpose=Purpose.SELF_INQUIRY), "PURPOSE_NOT_ALLOWED", "purpose", "a member may not query for self_inquiry"),
        (dict(consent_ref="NOPE"), "CONSENT_NOT_FOUND", "consent_ref", "you hold no consent NOPE"),
        (dict(consent_ref="SOMEONE-ELSE"), "CONSENT_SUBJECT_MISMATCH", "consent_ref",
         "consent SOMEONE-ELSE is not this person's"),
        (dict(consent_ref="COLL"), "CONSENT_PURPOSE_MISMATCH", "purpose",
         "consent COLL is for collections, not loan_origination"),
        (dict(consent_ref="ENDED"), "CONSENT_EXPIRED", "consent_ref", "consent ENDED is expired"),
        ({}, "CONSENT_REQUIRED", "consent_ref", "no consent of this person to LENDER for loan_origination is in force"),
    ]
    for kwargs, code, field, message in refusals:
        assert _refusal(bureau, "LENDER", **kwargs) == {"code": code, "field": field, "message": message}, kwargs


def test_a_consent_found_without_its_reference_is_logged_as_the_basis(bureau) -> None:
    grant(bureau, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="L-9")
    result = _ask(bureau, "LENDER")
    with session_scope(bureau.engine) as session:
        logged = session.scalars(select(Inquiry)).one()
        consent = ConsentRepository(session).by_ref(grantee_member_id=logged.subscriber_id, consent_ref="L-9")
    assert result.basis == "consent:L-9"
    assert (logged.basis, logged.basis_note, logged.consent_id) == ("consent", None, consent.id)

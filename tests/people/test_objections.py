"""The person's objection (PIPL Art. 44) at the service level: an objection to the post-loan review refuses
the existing-customer exception at once (OBJECTION_IN_FORCE) and nothing else (a consent, another purpose,
another person), is withdrawn, is not available for purposes that need a consent or under the US profile,
and tells a member without an account of the person nothing. Both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.members.service import get_member
from openbureau.notifications.models import Notification
from openbureau.people import rights
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.people.factories import document, principal, sign_in
from tests.reports.conftest import NOW

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]
LATER = NOW + timedelta(minutes=5)


def _person(runtime, id_number=ID):
    return principal(runtime, sign_in(runtime, id_number, now=NOW), now=NOW)


def _ask(runtime, code, id_number=ID, purpose=Purpose.ACCOUNT_REVIEW, policy=None, now=LATER, consent_ref=None):
    """The basis of a member's inquiry, or the code it was refused with."""
    try:
        with session_scope(runtime.engine, write=True) as session:
            member = Principal.of_member(get_member(session, code=code))
            return reports.inquire(session, vault=runtime.vault, principal=member, policy=policy or runtime.policy,
                                   now=now, request=InquiryCreate(subject=document(id_number), purpose=purpose,
                                                                  consent_ref=consent_ref)).basis.split(":")[0]
    except BureauError as exc:
        return exc.code


def _object(runtime, person, purpose=Purpose.ACCOUNT_REVIEW, policy=None):
    with session_scope(runtime.engine, write=True) as session:
        return rights.object_mine(session, vault=runtime.vault, principal=person, policy=policy or runtime.policy,
                                  purpose=purpose, now=NOW)


def _refusal(call) -> BureauError:
    with pytest.raises(BureauError) as err:
        call()
    return err.value


def test_an_objection_refuses_the_exception_at_once_and_nothing_else(market) -> None:
    runtime, _ = market
    assert _ask(runtime, "BANK_A") == "exception"
    person = _person(runtime)
    objection = _object(runtime, person)
    assert (objection.purpose, objection.objected_at, objection.withdrawn_at) == ("account_review", NOW, None)
    assert _object(runtime, person).id == objection.id  # asking again returns the one in force
    assert _ask(runtime, "BANK_A") == "OBJECTION_IN_FORCE"
    with pytest.raises(BureauError) as err, session_scope(runtime.engine, write=True) as session:
        reports.inquire(session, vault=runtime.vault, principal=Principal.of_member(get_member(session, code="BANK_A")),
                        policy=runtime.policy, now=LATER,
                        request=InquiryCreate(subject=document(ID), purpose=Purpose.ACCOUNT_REVIEW))
    assert err.value.status_code == 403 and "PIPL Art. 44" in err.value.message and err.value.field == "purpose"
    assert _ask(runtime, "BANK_A", now=NOW - timedelta(minutes=1)) == "exception"  # before it was made
    assert _ask(runtime, "BANK_A", OTHER_ID) == "exception"  # another person's file
    assert _ask(runtime, "LENDER", purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1") == "consent"
    # A consent the person gives is still honoured: it is theirs to revoke.
    grant(runtime, "BANK_A", ID, Purpose.ACCOUNT_REVIEW, ref="R-1")
    assert _ask(runtime, "BANK_A") == "consent"
    # A member without an account of the person learns nothing of the objection.
    assert _ask(runtime, "LENDER") == "CONSENT_REQUIRED"


def test_withdrawing_an_objection_allows_the_exception_again(market) -> None:
    runtime, _ = market
    person, other = _person(runtime), _person(runtime, OTHER_ID)
    objection = _object(runtime, person)
    with session_scope(runtime.engine, write=True) as session:
        missing = _refusal(lambda: rights.withdraw_mine(session, vault=runtime.vault, principal=other,
                                                         objection_id=objection.id, now=LATER))
    assert (missing.status_code, missing.code) == (404, "OBJECTION_NOT_FOUND")  # another's is never confirmed
    assert _ask(runtime, "BANK_A") == "OBJECTION_IN_FORCE"
    with session_scope(runtime.engine, write=True) as session:
        withdrawn = rights.withdraw_mine(session, vault=runtime.vault, principal=person, objection_id=objection.id,
                                         now=LATER)
    assert withdrawn.withdrawn_at == LATER
    assert _ask(runtime, "BANK_A", now=LATER + timedelta(seconds=1)) == "exception"
    with session_scope(runtime.engine, write=True) as session:
        again = _refusal(lambda: rights.withdraw_mine(session, vault=runtime.vault, principal=person,
                                                       objection_id=objection.id, now=LATER))
        listed = rights.my_objections(session, principal=person, policy=runtime.policy)
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("objection.%"))
                                  .order_by(AuditEntry.seq)).all()
        notices = session.scalars(select(Notification).where(Notification.kind == "objection.changed")).all()
    assert again.code == "OBJECTION_WITHDRAWN"
    assert listed.objectable.keys() == {"account_review"} and [o.id for o in listed.objections] == [objection.id]
    assert actions == ["objection.record", "objection.withdraw", "objection.list"]
    assert [n.person_id for n in notices] == [person.person_id] * 2


def test_purposes_that_need_a_consent_and_the_us_profile_take_no_objection(market) -> None:
    runtime, _ = market
    person = _person(runtime)
    for purpose in (Purpose.LOAN_ORIGINATION, Purpose.COLLECTIONS, Purpose.SELF_INQUIRY):
        refused = _refusal(lambda p=purpose: _object(runtime, person, p))
        assert (refused.status_code, refused.code) == (403, "OBJECTION_NOT_AVAILABLE")
        assert "revoke the consent" in refused.message
    us = replace(runtime.policy, profile=get_profile("US"))
    refused = _refusal(lambda: _object(runtime, person, policy=us))
    assert refused.code == "OBJECTION_NOT_AVAILABLE" and "Fair Credit Reporting Act" in refused.message
    with session_scope(runtime.engine) as session:
        assert rights.my_objections(session, principal=person, policy=us).objectable == {}
    assert _ask(runtime, "BANK_A", policy=us) == "exception"


def test_only_the_person_objects(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine) as session:
        bank = Principal.of_member(get_member(session, code="BANK_A"))
    for who in (bank, Principal.operator("OPERATOR:test")):
        assert _refusal(lambda w=who: _object(runtime, w)).code == "ROLE_REQUIRED"

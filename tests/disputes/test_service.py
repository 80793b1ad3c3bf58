"""Disputes: filed only against the person's own file, with the profile's deadline; resolved once; audited."""

from __future__ import annotations

import pytest

from openbureau.audit import service as audit
from openbureau.consent.profiles import get_profile
from openbureau.consent.schemas import Subject
from openbureau.disputes import service
from openbureau.disputes.models import DisputeOutcome, DisputeStatus
from openbureau.disputes.schemas import DisputeCreate
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from tests.disputes.factories import OTHER_SUBJECT, signed_in
from tests.intake.factories import PEOPLE
from tests.reports.conftest import NOW

AT_COUNTER = Principal.operator("OPERATOR:t")


def _file(runtime, profile="CN", person=0, principal=AT_COUNTER, **data):
    fields = {"kind": "account", "lender": "BANK_A", "furnisher_account_id": "A-1", "statement": "not mine", **data}
    with session_scope(runtime.engine, write=True) as session:
        return service.file_dispute(session, vault=runtime.vault, policy=Policy(profile=get_profile(profile),
                                    reciprocity=False), principal=principal, now=NOW, data=DisputeCreate(
                                        subject=None if person is None else Subject(
                                            id_type="CN_RESIDENT_ID", id_number=PEOPLE[person][0]), **fields))


def test_a_dispute_gets_the_profiles_deadline_and_its_statement_is_encrypted(market) -> None:
    runtime, _ = market
    cn, us = _file(runtime), _file(runtime, "US", reporting_period="2026-08")
    assert (cn.due_at - cn.filed_at).days == 20 and (us.due_at - us.filed_at).days == 30
    assert b"not mine" not in cn.statement_enc and runtime.vault.decrypt(cn.statement_enc) == "not mine"
    with session_scope(runtime.engine) as session:
        entries = audit.list_entries(session, action="dispute.file")
        overdue = service.list_disputes(session, principal=AT_COUNTER, overdue_at=NOW.replace(month=12, day=15))
    assert len(entries) == 2 and entries[0].person_id == cn.person_id
    assert {(e.actor_code, e.actor_member_id) for e in entries} == {("OPERATOR:t", None)}
    assert cn.filed_by == us.filed_by == "OPERATOR:t"
    assert [d.id for d in overdue] == [cn.id]  # the CN dispute is past its 20 days on 15 December


def test_only_items_of_the_persons_own_file_can_be_disputed(market) -> None:
    runtime, _ = market
    with pytest.raises(NotFound) as err:
        _file(runtime, furnisher_account_id="A-2")  # person 1's account
    assert err.value.code == "ACCOUNT_NOT_FOUND"
    with pytest.raises(NotFound) as err:
        _file(runtime, reporting_period="2019-01")
    assert err.value.code == "PERIOD_NOT_FOUND"
    with pytest.raises(NotFound) as err:
        _file(runtime, person=3)
    assert err.value.code == "PERSON_NOT_FOUND"
    with pytest.raises(Unprocessable) as err:
        _file(runtime, lender=None)
    assert err.value.code == "ACCOUNT_REQUIRED"
    with pytest.raises(NotFound) as err:
        _file(runtime, kind="inquiry", inquiry_id=12345)
    assert err.value.code == "INQUIRY_NOT_FOUND"


def test_a_dispute_is_resolved_once(market) -> None:
    runtime, _ = market
    dispute = _file(runtime)
    with session_scope(runtime.engine, write=True) as session:
        done = service.resolve_dispute(session, vault=runtime.vault, principal=Principal.operator("OPERATOR:u"), dispute_id=dispute.id,
                                       outcome=DisputeOutcome.CORRECTED)
        assert (done.status, done.outcome) == (DisputeStatus.RESOLVED, "corrected")
    with pytest.raises(Conflict), session_scope(runtime.engine, write=True) as session:
        service.resolve_dispute(session, vault=runtime.vault, principal=AT_COUNTER, dispute_id=dispute.id, outcome=DisputeOutcome.VERIFIED)
    with session_scope(runtime.engine) as session:
        assert service.list_disputes(session, principal=AT_COUNTER, status=DisputeStatus.OPEN) == []
        (entry,) = audit.list_entries(session, action="dispute.resolve")
    assert (entry.actor_code, entry.person_id) == ("OPERATOR:u", dispute.person_id)


def test_disputes_are_the_persons_or_the_operators_and_need_a_principal(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine) as session:
        member = Principal.of_member(get_member(session, code="BANK_A"))
    with pytest.raises(Forbidden) as err:  # a lender never files for the person
        _file(runtime, principal=member)
    assert err.value.code == "ROLE_REQUIRED"
    with pytest.raises(Forbidden) as err:  # the person signed in acts on their own file only
        _file(runtime, principal=signed_in(runtime, OTHER_SUBJECT))
    assert err.value.code == "NOT_YOUR_FILE"
    with session_scope(runtime.engine, write=True) as session:  # the person, online: names nobody
        mine = service.file_dispute(session, vault=runtime.vault, policy=Policy(profile=get_profile("CN"),
                                    reciprocity=False), principal=signed_in(runtime), now=NOW, data=DisputeCreate(
                                        kind="account", lender="BANK_A", furnisher_account_id="A-1", statement="x"))
    assert (mine.filed_by, mine.person_id) == ("PERSON:0", signed_in(runtime).person_id)
    with pytest.raises(Unprocessable) as err:  # the operator names the person
        _file(runtime, person=None)
    assert err.value.code == "SUBJECT_REQUIRED"
    for not_a_principal in (None, "OPERATOR:t"):  # an actor's code is not a principal
        with pytest.raises(TypeError):
            _file(runtime, principal=not_a_principal)
        with pytest.raises(TypeError), session_scope(runtime.engine, write=True) as session:
            service.resolve_dispute(session, vault=runtime.vault, principal=not_a_principal, dispute_id=1, outcome=DisputeOutcome.VERIFIED)
        with pytest.raises(TypeError), session_scope(runtime.engine) as session:
            service.list_disputes(session, principal=not_a_principal)
    with session_scope(runtime.engine) as session:
        assert len(service.list_disputes(session, principal=AT_COUNTER)) == 1  # the person's own

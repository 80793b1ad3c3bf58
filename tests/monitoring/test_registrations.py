"""A lender monitors a person only on the lawful basis of an account review, sees only its own registrations,
and never learns an identity number back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.consent.profiles import Purpose
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound
from openbureau.monitoring import service
from openbureau.monitoring.models import MonitoredSubject
from openbureau.monitoring.schemas import MAX_BULK
from tests.consent.factories import grant
from tests.events.conftest import NOW
from tests.intake.factories import PEOPLE, person
from tests.monitoring.factories import load, principal, register, registrar, subscription


def test_a_consent_for_account_review_is_a_basis(market) -> None:
    runtime, _ = market
    read = register(runtime, "LENDER", 0, "LOAN-0")
    assert read.basis == "consent:AR-0" and read.reference == "LOAN-0"
    with session_scope(runtime.engine) as session:
        row = session.scalars(select(MonitoredSubject)).one()
        assert PEOPLE[0][0].encode() not in row.id_enc and runtime.vault.decrypt(row.id_enc) == PEOPLE[0][0]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "monitoring.register")).one()
        assert entry.person_id == row.person_id and entry.purpose == "account_review"


def test_an_open_account_of_the_lender_is_a_basis_and_nothing_else_is(market, tmp_path) -> None:
    runtime, _ = market
    with pytest.raises(Forbidden) as refused:
        register(runtime, "LENDER", 1, "LOAN-1")
    assert refused.value.code == "CONSENT_REQUIRED"
    load(runtime, tmp_path, "LENDER", [person(1, furnisher_account_id="LOAN-1", reporting_period="2026-10")])
    read = register(runtime, "LENDER", 1, "LOAN-1")
    assert read.basis.startswith("exception: post-loan management")
    with pytest.raises(Forbidden):  # another lender's account is no basis for OTHER
        register(runtime, "OTHER", 1, "X-1")
    with pytest.raises(Forbidden) as wrong:  # a consent of another person
        register(runtime, "LENDER", 2, "LOAN-2", consent_ref="AR-0")
    assert wrong.value.code == "CONSENT_SUBJECT_MISMATCH"


def test_refusals_unknown_person_and_twice(market) -> None:
    runtime, _ = market
    grant(runtime, "LENDER", PEOPLE[3][0], Purpose.ACCOUNT_REVIEW, ref="AR-3")
    with pytest.raises(NotFound) as unknown:  # a consent, but no file yet
        register(runtime, "LENDER", 3, "LOAN-3")
    assert unknown.value.code == "MONITORING_SUBJECT_NOT_FOUND"
    register(runtime, "LENDER", 0, "LOAN-0")
    with pytest.raises(Conflict):
        register(runtime, "LENDER", 0, "LOAN-0-AGAIN")


def test_a_non_subscriber_may_not_monitor(market) -> None:
    runtime, _ = market
    with pytest.raises(Forbidden) as refused:
        register(runtime, "P1", 0, "LOAN-0")
    assert refused.value.code == "ROLE_REQUIRED"


def test_bulk_registers_each_on_its_own_and_is_size_limited(market) -> None:
    runtime, _ = market
    items = [subscription(0, "LOAN-0"), subscription(1, "LOAN-1"), subscription(0, "LOAN-0-DUP")]
    with session_scope(runtime.engine, write=True) as session:
        result = service.register_many(session, registrar=registrar(runtime), principal=principal(runtime, "LENDER"),
                                       items=items, now=NOW)
    assert (result.registered, result.refused) == (1, 2)
    assert [(o.outcome, o.code) for o in result.outcomes] == [
        ("registered", None), ("refused", "CONSENT_REQUIRED"), ("refused", "MONITORING_ALREADY_REGISTERED")]
    with session_scope(runtime.engine, write=True) as session, pytest.raises(ValueError):
        service.register_many(session, registrar=registrar(runtime), principal=principal(runtime, "LENDER"),
                              items=[subscription(0, "X")] * (MAX_BULK + 1), now=NOW)


def test_a_lender_sees_and_deletes_only_its_own(market, tmp_path) -> None:
    runtime, _ = market
    mine = register(runtime, "LENDER", 0, "LOAN-0")
    grant(runtime, "OTHER", PEOPLE[0][0], Purpose.ACCOUNT_REVIEW, ref="OAR-0", valid_from=NOW - timedelta(days=1))
    theirs = register(runtime, "OTHER", 0, "THEIR-0")
    with session_scope(runtime.engine, write=True) as session:
        assert [s.id for s in service.list_subscriptions(session, principal=principal(runtime, "LENDER"))] == [mine.id]
        assert [s.id for s in service.list_subscriptions(session, principal=principal(runtime, "OTHER"))] == [theirs.id]
        with pytest.raises(NotFound):
            service.delete_subscription(session, principal=principal(runtime, "OTHER"), subscription_id=mine.id)
    with session_scope(runtime.engine, write=True) as session:
        service.delete_subscription(session, principal=principal(runtime, "LENDER"), subscription_id=mine.id)
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(MonitoredSubject.reference)).all() == ["THEIR-0"]

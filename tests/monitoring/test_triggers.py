"""Triggers are written in the transaction that makes their cause readable, one for each other lender that
monitors the person, and carry no other lender's name, account or amount."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from openbureau.consent import service as consents
from openbureau.consent.models import Consent
from openbureau.consent.schemas import Subject
from openbureau.identity import service as identity
from openbureau.identity.repository import find_person
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.monitoring.models import MonitoredSubject, Trigger
from openbureau.monitoring.triggers import level_category
from openbureau.rights import service as rights
from openbureau.rights.models import AlertKind
from tests.consent.factories import grant
from tests.events.conftest import NOW
from tests.events.factories import event
from tests.intake.factories import PEOPLE, person
from tests.members.factories import make_member
from tests.monitoring.factories import load, operator, receive, register, triggers


def test_an_event_batch_writes_triggers_for_other_monitoring_lenders(market, tmp_path) -> None:
    runtime, _ = market
    load(runtime, tmp_path, "LENDER", [person(1, furnisher_account_id="LOAN-1", reporting_period="2026-10")])
    register(runtime, "LENDER", 0, "REF-0")
    register(runtime, "LENDER", 1, "REF-1")
    receive(runtime, "P1", [
        event(0, "O-1", at=NOW - timedelta(days=2)),  # a loan opened elsewhere
        event(1, "A-1", at=NOW - timedelta(days=1), kind="application"),
        event(2, "O-2", at=NOW - timedelta(days=1)),  # nobody monitors person 2
        event(0, "D-1", at=NOW - timedelta(hours=5), kind="delinquent", account="LOAN-O-1", days_past_due="31"),
    ])
    assert triggers(runtime, "LENDER") == [("new_credit", "account_opened", "REF-0"),
                                           ("new_credit", "application", "REF-1"),
                                           ("delinquency", "31_60_days_past_due", "REF-0")]
    receive(runtime, "P1", [event(0, "D-2", at=NOW - timedelta(hours=4), kind="delinquent", account="LOAN-O-1",
                                  days_past_due="40")])
    assert len(triggers(runtime)) == 3  # the same bucket again is not new
    receive(runtime, "LENDER", [event(0, "OWN-1", at=NOW - timedelta(hours=1))])
    assert len(triggers(runtime)) == 3  # the lender's own loan tells it nothing
    with session_scope(runtime.engine) as session:
        first = session.scalars(select(Trigger).order_by(Trigger.id)).first()
        assert first.occurred_at == NOW - timedelta(days=2)


def test_a_load_writes_new_accounts_and_worse_statuses(market, tmp_path) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    load(runtime, tmp_path, "P2", [person(0, furnisher_account_id="CARD-9", reporting_period="2026-09",
                                          opened_on="2026-09-01"),
                                   person(1, furnisher_account_id="CARD-8", reporting_period="2026-09")], "sep.csv")
    # P2's file gives person 0 an address its file (an event) did not carry: an identity change as well.
    assert triggers(runtime) == [("new_credit", "account_opened", "REF-0"),
                                 ("identity_change", "address_changed", "REF-0")]
    load(runtime, tmp_path, "P2", [person(0, furnisher_account_id="CARD-9", reporting_period="2026-10",
                                          opened_on="2026-09-01", days_past_due="35", payment_status="2",
                                          past_due_amount="12000", first_delinquency_date="2026-09-27",
                                          negative_notice_date="2026-09-28")], "oct.csv")
    assert triggers(runtime)[2:] == [("delinquency", "31_60_days_past_due", "REF-0")]  # no new account: CARD-9 is known
    load(runtime, tmp_path, "P1", [person(0, furnisher_account_id="OLD-1", reporting_period="2026-10",
                                          opened_on="2019-03-01")], "old.csv")
    assert triggers(runtime)[3:] == [("new_credit", "account_reported", "REF-0")]  # the address is known now


def test_a_delinquency_held_for_want_of_consent_is_a_trigger_when_released(market) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    make_member(runtime, "P3", Role.FURNISHER)
    late = event(0, "D-9", at=NOW - timedelta(days=3), kind="delinquent", account="LOAN-P3", days_past_due="95")
    assert receive(runtime, "P3", [late]).held == 1
    assert triggers(runtime) == []  # held: in nobody's file yet
    grant(runtime, "P3", PEOPLE[0][0])
    assert triggers(runtime) == [("delinquency", "91_120_days_past_due", "REF-0")]


def test_what_a_consent_release_lets_into_the_files_is_a_trigger(market, tmp_path) -> None:
    runtime, _ = market
    load(runtime, tmp_path, "LENDER", [person(1, furnisher_account_id="LOAN-1", reporting_period="2026-10")])
    register(runtime, "LENDER", 0, "REF-0")
    register(runtime, "LENDER", 1, "REF-1")
    make_member(runtime, "P3", Role.FURNISHER)
    # P3 furnishes about person 0 without a consent: an account (two months), a loan and an application, held.
    load(runtime, tmp_path, "P3", [person(0, furnisher_account_id="P3-CARD", reporting_period=period,
                                          opened_on="2026-09-20") for period in ("2026-09", "2026-10")], "held.csv")
    receive(runtime, "P3", [event(0, "P3-O1", at=NOW - timedelta(days=1)),
                            event(0, "P3-A1", at=NOW - timedelta(hours=2), kind="application")])
    assert triggers(runtime) == []  # held: in nobody's file yet
    assert grant(runtime, "P3", PEOPLE[0][0])[1] == 4
    # One trigger per account however many months are released; the record's address is new to the file.
    assert sorted(triggers(runtime)) == [("identity_change", "address_changed", "REF-0"),
                                         ("new_credit", "account_opened", "REF-0"),
                                         ("new_credit", "account_opened", "REF-0"),
                                         ("new_credit", "application", "REF-0")]
    # An account already in the files is no new credit when a later month of it is released.
    grant(runtime, "P3", PEOPLE[1][0], ref="P3-FURNISH-1")
    load(runtime, tmp_path, "P3", [person(1, furnisher_account_id="P3-LOAN", reporting_period="2026-09",
                                          opened_on="2016-05-01")], "shown.csv")
    assert triggers(runtime)[4:] == [("new_credit", "account_reported", "REF-1")]  # its address was known
    with session_scope(runtime.engine, write=True) as session:
        consent = session.scalars(select(Consent).where(Consent.consent_ref == "P3-FURNISH-1")).one()
        consents.revoke(session, vault=runtime.vault, principal=operator(), consent_id=consent.id, reason="test")
    load(runtime, tmp_path, "P3", [person(1, furnisher_account_id="P3-LOAN", reporting_period="2026-10",
                                          opened_on="2016-05-01")], "revoked.csv")
    assert grant(runtime, "P3", PEOPLE[1][0], ref="P3-FURNISH-2")[1] == 1  # the month held after the revocation
    assert len(triggers(runtime)) == 5


def test_a_fraud_alert_and_a_freeze_are_triggers(market) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    subject = Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0])
    with session_scope(runtime.engine, write=True) as session:
        rights.place_fraud_alert(session, vault=runtime.vault, principal=operator(), subject=subject,
                                 kind=AlertKind.INITIAL, now=NOW)
        rights.place_freeze(session, vault=runtime.vault, principal=operator(), subject=subject, now=NOW)
    assert triggers(runtime) == [("fraud_alert", "initial", "REF-0"), ("freeze", "placed", "REF-0")]


def test_a_registration_follows_its_person_through_a_merge_and_back_through_a_split(market, tmp_path) -> None:
    runtime, _ = market
    load(runtime, tmp_path, "LENDER", [person(1, furnisher_account_id="LOAN-1", reporting_period="2026-10")])
    register(runtime, "LENDER", 1, "REF-1")
    with session_scope(runtime.engine, write=True) as session:  # the operator finds persons 1 and 0 are one
        first = session.scalars(select(MonitoredSubject.person_id)).one()
        survivor = find_person(session, id_type="CN_RESIDENT_ID",
                               id_index=runtime.vault.blind_index(PEOPLE[0][0], domain="CN_RESIDENT_ID")).id
        identity.merge(session, principal=operator(), person_id=first, into_person_id=survivor)
    subject = Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0])
    with session_scope(runtime.engine, write=True) as session:
        rights.place_freeze(session, vault=runtime.vault, principal=operator(), subject=subject, now=NOW)
    assert triggers(runtime) == [("freeze", "placed", "REF-1")]  # the survivor's file is person 1's too
    with session_scope(runtime.engine, write=True) as session:  # ... and then that they are two after all
        identity.split(session, principal=operator(), vault=runtime.vault, person_id=survivor,
                       furnisher_id=get_member(session, code="LENDER").id, furnisher_account_id="LOAN-1")
    with session_scope(runtime.engine, write=True) as session:
        rights.place_fraud_alert(session, vault=runtime.vault, principal=operator(), subject=subject,
                                 kind=AlertKind.INITIAL, now=NOW)
    assert len(triggers(runtime)) == 1  # person 0's file is no longer person 1's


def test_a_rolled_back_cause_leaves_no_trigger(market) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    subject = Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0])
    try:
        with session_scope(runtime.engine, write=True) as session:
            rights.place_freeze(session, vault=runtime.vault, principal=operator(), subject=subject, now=NOW)
            raise RuntimeError("the step fails after the freeze")
    except RuntimeError:
        pass
    assert triggers(runtime) == []


def test_categories_name_buckets_only() -> None:
    assert [level_category(n) for n in (1, 2, 7, 8, 9)] == [
        "1_30_days_past_due", "31_60_days_past_due", "over_180_days_past_due", "paid_by_guarantor", "charged_off"]

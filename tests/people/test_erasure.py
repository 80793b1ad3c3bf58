"""The person's erasure (PIPL Art. 47) at the service level: held records erased and never back (a consent's
release, the same records furnished again, an event sent again), expired negative months erased and the rest
kept with its reason, the US profile refusing, another person's records untouched, a running load refused at
once, counts audited and notified without identifiers. Both engines."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from openbureau.accounts import service as accounts
from openbureau.accounts.models import ErasedState
from openbureau.audit.models import AuditEntry
from openbureau.consent import service as consents
from openbureau.consent.profiles import ErasureScope, get_profile
from openbureau.consent.repository import ConsentRepository
from openbureau.intake.events.service import receive_events
from openbureau.intake.models import Finding
from openbureau.kit.db import intake_lock, session_scope
from openbureau.kit.errors import BureauError
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.notifications.models import Notification
from openbureau.notifications.service import message_text
from openbureau.people import erasure
from openbureau.principals import Principal
from tests.consent.factories import default_ref, grant
from tests.events.factories import event, frame
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.people.factories import principal, sign_in
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, history, month

ID, OTHER_ID = PEOPLE[0][0], PEOPLE[1][0]


def _person(runtime, id_number=ID):
    return principal(runtime, sign_in(runtime, id_number, now=NOW), now=NOW)


def _erase(runtime, person, scope=ErasureScope.HELD_RECORDS, policy=None):
    return erasure.erase(runtime.engine, vault=runtime.vault, principal=person, policy=policy or runtime.policy,
                         scope=scope, now=NOW)


def _held(runtime, person_id: int, code: str = "NEWBANK") -> int:
    with session_scope(runtime.engine) as session:
        return accounts.held_by_furnisher(session, person_id, reason="no_consent").get(
            get_member(session, code=code).id, 0)


def _newbank(runtime, folder):
    """NEWBANK furnishes two accounts of person 0 and one of person 1 without any consent: all held."""
    make_member(runtime, "NEWBANK", Role.FURNISHER, name="New Bank")
    records = [month(0, "N-1", "2026-09"), month(0, "N-1", "2026-10"), month(0, "N-2", "2026-10"),
               month(1, "N-9", "2026-10")]
    return records, furnish(runtime, "NEWBANK", records, folder, name="newbank-1.csv")


def test_held_records_are_erased_and_never_come_back(market, tmp_path) -> None:
    runtime, _ = market
    records, first = _newbank(runtime, tmp_path)
    person, other = _person(runtime), _person(runtime, OTHER_ID)
    assert (_held(runtime, person.person_id), _held(runtime, other.person_id)) == (3, 1)
    result = _erase(runtime, person)
    assert (result.status, result.erased) == ("completed", {"held_events": 0, "held_records": 3})
    assert "PIPL Art. 47" in result.grounds["held_records"] and result.refused == []
    assert (_held(runtime, person.person_id), _held(runtime, other.person_id)) == (0, 1)  # the other's is untouched
    with session_scope(runtime.engine) as session:
        in_file_before = accounts.file_counts(session, person.person_id)
        listed = session.scalars(select(ErasedState.furnisher_account_id, ErasedState.reporting_period)).all()
    assert sorted(listed) == ["N-1", "N-1", "N-2"]
    # The person now consents to NEWBANK: nothing is left to release.
    assert grant(runtime, "NEWBANK", ID)[1] == 0
    # The same records furnished again (with one new period) are refused; the new period is stored.
    again = furnish(runtime, "NEWBANK", [*records[:3], month(0, "N-1", "2026-11")], tmp_path, name="newbank-2.csv")
    assert (again.records_accepted, again.records_rejected) == (1, 3)
    corrected = furnish(runtime, "NEWBANK", [month(0, "N-2", "2026-10", correction="1")], tmp_path, name="c.csv")
    assert corrected.records_rejected == 1
    with session_scope(runtime.engine) as session:
        codes = session.scalars(select(Finding.code).where(Finding.submission_id.in_([again.id, corrected.id]))).all()
        in_file = accounts.file_counts(session, person.person_id)
    assert codes.count("ERASED_RECORD") == 4
    assert in_file == (in_file_before[0] + 1, 0)  # only the new period, in the file under the new consent
    # The very same file again is the same submission: nothing more stored.
    assert furnish(runtime, "NEWBANK", records, tmp_path, name="newbank-1.csv").id == first.id
    assert _held(runtime, person.person_id) == 0


def test_a_period_still_shown_in_another_version_stays_correctable(market, tmp_path) -> None:
    runtime, _ = market
    person = _person(runtime)
    with session_scope(runtime.engine, write=True) as session:
        bank = get_member(session, code="BANK_A")
        consent = ConsentRepository(session).by_ref(grantee_member_id=bank.id, consent_ref=default_ref(ID))
        consents.revoke(session, vault=runtime.vault, principal=Principal.operator("OPERATOR:test"),
                        consent_id=consent.id, reason="closed", now=NOW)
    fix = [month(0, "A-1", "2026-10", correction="1", balance="2400000")]
    furnish(runtime, "BANK_A", fix, tmp_path, name="fix-1.csv")  # held: no consent any more
    assert _held(runtime, person.person_id, "BANK_A") == 1
    assert _erase(runtime, person).erased["held_records"] == 1
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(ErasedState)).all() == []  # version 1 is still in the file
    again = furnish(runtime, "BANK_A", [month(0, "A-1", "2026-10", correction="1", balance="2300000")], tmp_path,
                    name="fix-2.csv")
    assert again.records_rejected == 0 and _held(runtime, person.person_id, "BANK_A") == 1


def test_held_events_are_erased_and_a_resent_event_is_a_duplicate(market) -> None:
    runtime, _ = market
    make_member(runtime, "NEWBANK", Role.FURNISHER, name="New Bank")
    sent = frame([event(0, "E-1", at=NOW - timedelta(days=3)), event(1, "E-2", at=NOW - timedelta(days=3))])

    def receive():
        with session_scope(runtime.engine) as session:
            newbank = get_member(session, code="NEWBANK")
        return receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=newbank,
                              batch=sent, now=NOW)

    assert receive().held == 2
    person = _person(runtime)
    assert _erase(runtime, person).erased == {"held_events": 1, "held_records": 0}
    again = receive()
    assert (again.stored, again.duplicates, again.held) == (0, 2, 0)  # E-1 erased, E-2 still stored


def test_expired_negative_months_are_erased_and_the_rest_is_kept_with_its_reason(market, tmp_path) -> None:
    runtime, _ = market
    old = history(0, "OLD", "2019-01", "N2NN")  # late in 2019-02, brought current in 2019-03: expired in 2024
    furnish(runtime, "BANK_A", old, tmp_path, name="old.csv")
    person = _person(runtime)
    result = _erase(runtime, person, ErasureScope.EXPIRED_NEGATIVE)
    assert result.erased == {"expired_negative_months": 1, "expired_negative_records": 1}
    kept = {r.what: r for r in result.refused}
    assert set(kept) == {"negative_within_retention"}
    # A-1's two late months of 2026 and TELCO's one: within their 5 years
    assert kept["negative_within_retention"].count == 3 and "5 years" in kept["negative_within_retention"].reason
    again = furnish(runtime, "BANK_A", [old[1]], tmp_path, name="old-again.csv")
    assert again.records_rejected == 1


def test_all_allowed_erases_both_and_says_why_the_credit_history_is_kept(market, tmp_path) -> None:
    runtime, _ = market
    _newbank(runtime, tmp_path)
    furnish(runtime, "BANK_A", history(0, "OLD", "2019-01", "N2NN"), tmp_path, name="old.csv")
    person = _person(runtime)
    result = _erase(runtime, person, ErasureScope.ALL_ALLOWED)
    assert result.erased == {"expired_negative_months": 1, "expired_negative_records": 1, "held_events": 0,
                             "held_records": 3}
    kept = {r.what: r for r in result.refused}
    assert set(kept) == {"negative_within_retention", "credit_history", "logs"}
    assert kept["credit_history"].code == "RETENTION_REQUIRED" and "PIPL Art. 15" in kept["credit_history"].reason
    with session_scope(runtime.engine) as session:
        assert kept["credit_history"].count == accounts.file_counts(session, person.person_id)[0] > 0
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "person.erasure")).one()
        steps = session.scalars(select(AuditEntry).where(AuditEntry.action == "erasure.delete")).all()
        notice = session.scalars(select(Notification).where(Notification.kind == "erasure.done")).one()
        body = message_text(runtime.vault, notice.message_enc)["body"]
    details = json.loads(entry.details)
    assert (entry.actor_code, entry.person_id) == (person.code, person.person_id) and details["held_records"] == 3
    assert len(steps) == 2 and notice.person_id == person.person_id
    for text in (entry.details, *(s.details for s in steps), body):
        assert ID not in text and "N-1" not in text and "OLD" not in text  # counts, never identifiers
    assert "3 record(s)" in body and "1 month(s)" in body


def test_the_us_profile_refuses_every_erasure_naming_the_law(market, tmp_path) -> None:
    runtime, _ = market
    _newbank(runtime, tmp_path)
    person = _person(runtime)
    us = replace(runtime.policy, profile=get_profile("US"))
    for scope in ErasureScope:
        with pytest.raises(BureauError) as err:
            _erase(runtime, person, scope, policy=us)
        assert (err.value.status_code, err.value.code) == (403, "ERASURE_NOT_AVAILABLE")
        assert "Fair Credit Reporting Act" in err.value.message
    assert _held(runtime, person.person_id) == 3


def test_a_running_load_refuses_at_once_and_what_was_erased_stays(market, tmp_path) -> None:
    runtime, _ = market
    _newbank(runtime, tmp_path)
    person = _person(runtime)
    with intake_lock(runtime.engine), pytest.raises(BureauError) as err:
        _erase(runtime, person)
    assert (err.value.status_code, err.value.code) == (409, "LOAD_IN_PROGRESS")
    assert _held(runtime, person.person_id) == 3
    assert _erase(runtime, person).erased["held_records"] == 3


def test_only_the_person_erases(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine) as session:
        bank = Principal.of_member(get_member(session, code="BANK_A"))
    for who in (bank, Principal.operator("OPERATOR:test")):
        with pytest.raises(BureauError) as err:
            _erase(runtime, who)
        assert err.value.code == "ROLE_REQUIRED"
    with pytest.raises(TypeError):
        _erase(runtime, None)

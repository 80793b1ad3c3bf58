"""Fraud alerts, security freezes and identity-theft blocks: placed and lifted by the person (or the operator
at their request) only, applied to inquiries and reports at every instant (injected clock). Both engines."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from openbureau.audit import service as audit
from openbureau.consent.profiles import Purpose
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from openbureau.rights import service
from openbureau.rights.models import AlertKind
from openbureau.rights.schemas import BlockedAccount
from tests.disputes.factories import (
    AT_COUNTER,
    OTHER_SUBJECT,
    SUBJECT,
    accounts,
    lender_view,
    member,
    own_view,
    signed_in,
)
from tests.reports.conftest import NOW

TICK = timedelta(microseconds=1)


SIGNED_IN = object()  # act's default principal: the person the subject names, signed in


def act(runtime, call, *, principal=SIGNED_IN, subject=SUBJECT, now=NOW, **kwargs):
    """``call`` as the person ``subject`` names, signed in (the default: they name no subject), or as
    ``principal`` naming ``subject``."""
    if principal is SIGNED_IN:
        principal, subject = signed_in(runtime, subject), None
    with session_scope(runtime.engine, write=True) as session:
        return call(session, vault=runtime.vault, principal=principal, subject=subject, now=now, **kwargs)


def refused(runtime, *, now, purpose=Purpose.LOAN_ORIGINATION, code="LENDER", consent_ref="L-1") -> str | None:
    """The refusal code of an inquiry at ``now``, or None when it is answered."""
    try:
        lender_view(runtime, code=code, purpose=purpose, consent_ref=consent_ref, now=now)
    except Forbidden as exc:
        return exc.code
    return None


def test_a_freeze_refuses_new_credit_only(market, owed) -> None:
    runtime, _ = market
    freeze = act(runtime, service.place_freeze)
    assert refused(runtime, now=NOW - TICK) is None  # before it was placed
    assert refused(runtime, now=NOW) == "FROZEN"
    # Account reviews (the existing-account exception) and the person's own report go on (FCRA §605A(i)(4)).
    assert refused(runtime, now=NOW, code="BANK_A", purpose=Purpose.ACCOUNT_REVIEW, consent_ref=None) is None
    assert own_view(runtime, now=NOW).security_freeze
    with pytest.raises(Conflict):
        act(runtime, service.place_freeze)
    act(runtime, service.lift_freeze, freeze_id=freeze.id, now=NOW + timedelta(days=1))  # for good
    assert refused(runtime, now=NOW + timedelta(days=1)) is None
    assert refused(runtime, now=NOW + timedelta(days=1) - TICK) == "FROZEN"
    with pytest.raises(Conflict) as err:
        act(runtime, service.lift_freeze, freeze_id=freeze.id, now=NOW + timedelta(days=2))
    assert err.value.code == "FREEZE_REMOVED"
    assert owed.milestones() == ["freeze.placed", "freeze.lifted"]


def test_a_temporary_lift_opens_exactly_its_window(market) -> None:
    runtime, _ = market
    freeze = act(runtime, service.place_freeze)
    start, end = NOW + timedelta(days=1), NOW + timedelta(days=2)
    act(runtime, service.lift_freeze, freeze_id=freeze.id, starts_at=start, ends_at=end, principal=AT_COUNTER)
    edges = {start - TICK: "FROZEN", start: None, end - TICK: None, end: "FROZEN", end + timedelta(days=30): "FROZEN"}
    assert {moment: refused(runtime, now=moment) for moment in edges} == edges


def test_lift_windows_are_checked(market) -> None:
    runtime, _ = market
    freeze = act(runtime, service.place_freeze)
    for starts_at, ends_at in ((NOW + timedelta(days=2), NOW + timedelta(days=1)),  # ends before it starts
                               (NOW - timedelta(days=3), NOW - timedelta(days=1)),  # in the past
                               (NOW, NOW + timedelta(days=400)),  # a removal in disguise
                               (NOW, (NOW + timedelta(days=1)).replace(tzinfo=None)),  # no time zone
                               (NOW + timedelta(days=1), None)):  # a start without an end
        with pytest.raises(Unprocessable) as err:
            act(runtime, service.lift_freeze, freeze_id=freeze.id, starts_at=starts_at, ends_at=ends_at)
        assert err.value.code == "INVALID_WINDOW", (starts_at, ends_at)


def test_only_the_person_or_the_operator_at_their_request_protects_a_file(market) -> None:
    runtime, _ = market
    freeze = act(runtime, service.place_freeze, principal=AT_COUNTER)
    for code in ("BANK_A", "LENDER"):  # a furnisher, a subscriber: members never act for the person
        principal = member(runtime, code)
        for call, kwargs in ((service.lift_freeze, {"freeze_id": freeze.id}), (service.place_freeze, {}),
                             (service.place_fraud_alert, {}), (service.protections, {}),
                             (service.file_identity_theft_report, {"report_ref": "R", "accounts": []})):
            with pytest.raises(Forbidden) as err:
                act(runtime, call, principal=principal, **kwargs)
            assert err.value.code == "ROLE_REQUIRED", (code, call.__name__)
    assert refused(runtime, now=NOW) == "FROZEN"  # still frozen
    with pytest.raises(NotFound) as err:  # another person cannot lift this person's freeze by its id
        act(runtime, service.lift_freeze, freeze_id=freeze.id, subject=OTHER_SUBJECT)
    assert err.value.code == "FREEZE_NOT_FOUND"
    for not_a_principal in (None, "OPERATOR:t"):
        with pytest.raises(TypeError):
            act(runtime, service.place_freeze, principal=not_a_principal)
    with session_scope(runtime.engine) as session:
        (entry,) = audit.list_entries(session, action="freeze.place")
    assert (entry.actor_code, json.loads(entry.details)["for_person"]) == ("OPERATOR:t", True)
    assert SUBJECT.id_number not in entry.details


def test_a_fraud_alert_rides_on_every_report_and_asks_the_lender_to_confirm_identity(market, owed) -> None:
    runtime, _ = market
    alert = act(runtime, service.place_fraud_alert)
    assert alert.expires_at == NOW.replace(year=NOW.year + 1)
    answer = lender_view(runtime, now=NOW)
    assert answer.identity_confirmation_required and answer.report.fraud_alerts[0].kind == "initial"
    assert any("confirm" in n for n in answer.report.notes)
    assert own_view(runtime, now=NOW).fraud_alerts[0].expires_at == alert.expires_at
    assert not lender_view(runtime, now=alert.expires_at).identity_confirmation_required  # expired at its instant
    assert not lender_view(runtime, now=NOW - TICK).identity_confirmation_required
    removed = act(runtime, service.remove_fraud_alert, alert_id=alert.id, now=NOW + timedelta(days=5))
    assert removed.removed_by == "PERSON:0"
    assert not lender_view(runtime, now=NOW + timedelta(days=5)).report.fraud_alerts
    with pytest.raises(Conflict):
        act(runtime, service.remove_fraud_alert, alert_id=alert.id, now=NOW + timedelta(days=6))
    assert owed.milestones() == ["alert.placed", "alert.removed"]


def test_an_extended_alert_needs_an_identity_theft_report_and_lasts_seven_years(market) -> None:
    runtime, _ = market
    for ref in (None, "   "):
        with pytest.raises(Unprocessable) as err:
            act(runtime, service.place_fraud_alert, kind=AlertKind.EXTENDED, identity_theft_report_ref=ref)
        assert err.value.code == "IDENTITY_THEFT_REPORT_REQUIRED"
    alert = act(runtime, service.place_fraud_alert, kind=AlertKind.EXTENDED, identity_theft_report_ref="PSB-2026-77")
    assert alert.expires_at == NOW.replace(year=NOW.year + 7) and alert.theft_report_id is not None
    assert lender_view(runtime, now=NOW + timedelta(days=6 * 365)).identity_confirmation_required
    with pytest.raises(NotFound) as err:  # another person's alert
        act(runtime, service.remove_fraud_alert, alert_id=alert.id, subject=OTHER_SUBJECT)
    assert err.value.code == "ALERT_NOT_FOUND"
    seen = act(runtime, service.protections)
    assert seen.fraud_alert_in_force and seen.identity_theft_reports[0].report_ref == "PSB-2026-77"


def test_an_identity_theft_report_blocks_the_accounts_it_names(market, owed) -> None:
    runtime, _ = market
    with pytest.raises(NotFound) as err:  # another person's account cannot be blocked from this file
        act(runtime, service.file_identity_theft_report, report_ref="PSB-1",
            accounts=[BlockedAccount(lender="BANK_A", furnisher_account_id="A-2")])
    assert err.value.code == "ACCOUNT_NOT_FOUND"
    with pytest.raises(NotFound):
        act(runtime, service.file_identity_theft_report, report_ref="PSB-1",
            accounts=[BlockedAccount(lender="NOBODY", furnisher_account_id="O-1")])
    with pytest.raises(Unprocessable):
        act(runtime, service.file_identity_theft_report, report_ref="PSB-1",
            accounts=[BlockedAccount(lender="OTHER", furnisher_account_id="O-1")] * 51)
    report = act(runtime, service.file_identity_theft_report, report_ref="PSB-1",
                 accounts=[BlockedAccount(lender="OTHER", furnisher_account_id="O-1")], now=NOW + timedelta(days=1))
    assert b"PSB-1" not in report.report_ref_enc
    assert "O-1" in accounts(own_view(runtime, now=NOW))
    mine = own_view(runtime, now=NOW + timedelta(days=1))
    assert "O-1" not in accounts(mine) and any("identity-theft" in n for n in mine.notes)
    lender = lender_view(runtime, now=NOW + timedelta(days=1)).report
    assert [a.product_type for a in lender.accounts] == ["revolving"]
    assert lender.summary.monthly_obligations < lender_view(runtime, now=NOW).report.summary.monthly_obligations
    assert owed.milestones() == ["identity_theft.blocked"]


def test_the_report_page_shows_the_alert_the_freeze_and_the_statement(market) -> None:
    from openbureau.disputes import investigation
    from openbureau.present.report import render_html
    from tests.disputes.factories import file

    runtime, _ = market
    dispute = file(runtime)
    with session_scope(runtime.engine, write=True) as session:
        investigation.add_statement(session, vault=runtime.vault, principal=signed_in(runtime), subject=None,
                                    dispute_id=dispute.id, statement="<b>paid</b> in 2025", now=NOW)
    act(runtime, service.place_fraud_alert)
    act(runtime, service.place_freeze)
    page = render_html(own_view(runtime, now=NOW))
    assert "Fraud alert (initial)" in page and "Security freeze" in page
    assert "&lt;b&gt;paid&lt;/b&gt; in 2025" in page and "<b>paid</b>" not in page  # escaped


def test_protections_and_disputes_follow_the_person_through_a_merge_and_back_out_on_a_split(market) -> None:
    from openbureau.consent.service import subject_indexes
    from openbureau.identity import service as identity
    from openbureau.identity.repository import find_person_by_any
    from tests.disputes.factories import file

    runtime, _ = market
    with session_scope(runtime.engine) as session:
        ids = [find_person_by_any(session, id_type=s.id_type, id_indexes=subject_indexes(runtime.vault, s)).id
               for s in (SUBJECT, OTHER_SUBJECT)]
    freeze = act(runtime, service.place_freeze, subject=OTHER_SUBJECT)  # person 1 freezes, and disputes A-2
    file(runtime, subject=OTHER_SUBJECT, furnisher_account_id="A-2")
    with session_scope(runtime.engine, write=True) as session:  # the operator finds they are one person
        identity.merge(session, principal=AT_COUNTER, person_id=ids[1], into_person_id=ids[0])
    assert refused(runtime, now=NOW + TICK) == "FROZEN"  # person 0's file now carries person 1's freeze
    assert accounts(own_view(runtime, now=NOW + TICK))["A-2"].disputed
    act(runtime, service.lift_freeze, freeze_id=freeze.id, now=NOW + timedelta(days=1))  # by either identifier
    assert refused(runtime, now=NOW + timedelta(days=1)) is None
    with session_scope(runtime.engine, write=True) as session:
        identity.split(session, principal=AT_COUNTER, vault=runtime.vault, person_id=ids[0],
                       furnisher_id=member(runtime, "BANK_A").member_id, furnisher_account_id="A-2")
    assert "A-2" not in accounts(own_view(runtime, now=NOW + timedelta(days=2)))
    assert not any(d.account_number == "A-2" for d in own_view(runtime, now=NOW + timedelta(days=2)).disputes)

"""The VELOCITY and CONTACT_CHANGE signals through an inquiry, on both engines: contact details given on an application that the
file's records do not hold (an account takeover's new phone, seen the day of the application), and bursts of
applications at several lenders (a bust-out's stacked applications), against honest shoppers and movers."""

from __future__ import annotations

from datetime import datetime, timedelta

from openbureau.fraud.signals import NewCreditContact, address_key, contact_changes, phone_key
from openbureau.intake.events.catalogue import BASE_EVENT
from openbureau.intake.events.service import receive_events
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.policy import SignalSettings
from tests.consent.factories import grant
from tests.events.factories import frame
from tests.fraud.conftest import HONEST, subject_id
from tests.fraud.factories import NOW, applicant, furnish_consented
from tests.fraud.test_service import _inquire, _signal
from tests.members.factories import make_member

ON_FILE_PHONE = "13700000004"  # the honest person's phone in BANK_A's records
NEW_PHONE = "13812345678"


def _application(lender: str, n: int, *, at: datetime, product: str = "installment", **details: str | None) -> dict:
    values = {"event_id": f"{lender}-{n}-{at:%m%d%H%M%S}-{product}", "event_type": "application",
              "occurred_at": at.isoformat(), "furnisher_account_id": f"APP-{lender}-{at:%m%d%H%M%S}-{product}",
              "id_number": subject_id(n), "full_name": "孙丽", "birth_date": "1980-01-01",
              "phone": ON_FILE_PHONE, "address": "北京市海淀区中关村大街1号", "product_type": product,
              "amount": None, "currency": None, "balance": None, "term_months": None, "opened_on": None,
              "amount_due": None}
    return BASE_EVENT | values | details


def _send(runtime, lender: str, events: list[dict]) -> None:
    try:
        grant(runtime, lender, events[0]["id_number"])
    except Conflict:
        pass  # the lender has the person's consent to furnish already
    with session_scope(runtime.engine) as session:
        member = get_member(session, code=lender)
    result = receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=member,
                            batch=frame(events), now=NOW)
    assert result.rejected == 0 and result.held == 0, result.findings.to_dicts()


def _velocity(runtime):
    return _signal(_inquire(runtime, HONEST), "VELOCITY")


def _change(runtime):
    return _signal(_inquire(runtime, HONEST), "CONTACT_CHANGE")


def test_a_new_phone_on_an_application_is_a_change_seen_the_same_day(market) -> None:
    runtime, _ = market
    assert not _change(runtime).triggered
    # An account takeover: the fraudster applies with his own number, which no lender's records hold.
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone="+86 138-1234-5678")])
    change = _change(runtime)
    assert change.triggered and change.values["recent_changes"] == "phone"
    assert change.values["changed_days_before"] == 0
    assert "phone number that no lender's records hold" in change.explanation
    assert NEW_PHONE not in change.explanation and "5678" not in change.explanation  # never the number itself


def test_a_phone_on_record_in_another_form_or_an_address_written_otherwise_is_no_change(market) -> None:
    runtime, _ = market
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone="+86 137 0000 0004",
                                           address="海淀区中关村大街1号")])
    change = _change(runtime)
    assert not change.triggered and change.values["recent_changes"] is None


def test_a_phone_changed_months_before_is_no_recent_change(market, tmp_path) -> None:
    runtime, _ = market
    # The person's new number reached another lender's records in an earlier month: known to the file.
    furnish_consented(runtime, "BANK_B", [applicant(HONEST, phone=NEW_PHONE, address="北京市海淀区中关村大街1号",
                                                    account="B-4", name="孙丽", birth="19800101")], tmp_path)
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone=NEW_PHONE)])
    assert not _change(runtime).triggered


def test_a_new_phone_first_given_long_before_is_no_recent_change(market) -> None:
    runtime, _ = market
    # Given 45 days ago on an application (declined, so on no record) and again today: not a change of today.
    settings = runtime.policy.signals
    _send(runtime, "LENDER", [
        _application("LENDER", HONEST, at=NOW - timedelta(days=settings.velocity_change_days + 15), phone=NEW_PHONE),
        _application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone=NEW_PHONE, product="credit_card")])
    change = _change(runtime)
    assert not change.triggered and change.values["recent_changes"] is None


def test_stacked_applications_at_several_lenders_are_a_burst_and_a_shopper_is_not(market) -> None:
    runtime, _ = market
    make_member(runtime, "SHOP_D", Role.FURNISHER)
    # A shopper: one kind of credit at three lenders within hours, then another lender a week before.
    start = NOW - timedelta(hours=6)
    for i, lender in enumerate(("LENDER", "BANK_A", "BANK_B")):
        _send(runtime, lender, [_application(lender, HONEST, at=start + timedelta(minutes=40 * i))])
    _send(runtime, "SHOP_D", [_application("SHOP_D", HONEST, at=NOW - timedelta(days=6), product="credit_card")])
    velocity = _velocity(runtime)
    assert not velocity.triggered, velocity.explanation
    assert velocity.values["lenders_1d"] == 3 and velocity.values["kinds_1d"] == 1
    # A bust-out: the fourth lender's application for a credit line in the same hours makes the burst.
    _send(runtime, "SHOP_D", [_application("SHOP_D", HONEST, at=start + timedelta(hours=2), product="revolving")])
    velocity = _velocity(runtime)
    assert velocity.triggered and velocity.values["lenders_1d"] == 4 and velocity.values["kinds_1d"] == 2
    assert "4 different lenders" in velocity.explanation and not _change(runtime).triggered


def test_two_applications_for_two_kinds_of_credit_are_no_burst(market) -> None:
    runtime, _ = market
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=5))])
    _send(runtime, "BANK_A", [_application("BANK_A", HONEST, at=NOW - timedelta(hours=4), product="credit_card")])
    velocity = _velocity(runtime)
    assert not velocity.triggered and velocity.values["lenders_1d"] == 2


def test_another_written_form_of_an_address_is_the_same_address() -> None:
    full = "北京市海淀区中关村大街12号融科小区3栋2单元501室"
    assert address_key(full) == address_key("海淀区中关村大街12号融科小区3-2-501") == "#12-3-2-501"
    assert address_key(full) != address_key("北京市海淀区中关村大街12号融科小区3栋2单元502室")
    assert phone_key("+86 138-1234-5678") == phone_key("13812345678") and phone_key("12345") is None


def test_a_change_is_dated_by_its_first_application_within_the_window() -> None:
    settings = SignalSettings()
    app = NewCreditContact
    today = [app(1, "installment", NOW - timedelta(hours=2), phone=NEW_PHONE)]
    assert [(c.kind, c.days_before) for c in contact_changes(new_credit=today, phones=[ON_FILE_PHONE], addresses=[],
                                                              now=NOW, settings=settings)] == [("phone", 0)]
    earlier = [app(2, "revolving", NOW - timedelta(days=5), phone=NEW_PHONE), *today]
    assert contact_changes(new_credit=earlier, phones=[ON_FILE_PHONE], addresses=[], now=NOW,
                           settings=settings)[0].days_before == 5
    # Nothing on record to change from; or given long before: no change.
    assert contact_changes(new_credit=today, phones=[], addresses=[], now=NOW, settings=settings) == []
    long_ago = [app(2, "revolving", NOW - timedelta(days=settings.velocity_change_days + 1), phone=NEW_PHONE), *today]
    assert contact_changes(new_credit=long_ago, phones=[ON_FILE_PHONE], addresses=[], now=NOW, settings=settings) == []

"""The VELOCITY and CONTACT_CHANGE signals through an inquiry, on both engines: a new phone put on an existing
account and then given with an application elsewhere (an account takeover, seen the day of the application),
against a person's own new number that their lenders take up after their applications gave it; and bursts of
applications at several lenders (a bust-out's stacked applications), against honest shoppers."""

from __future__ import annotations

from datetime import datetime, timedelta

from openbureau.fraud.signals import (
    AccountContactChange,
    NewCreditContact,
    address_key,
    contact_changes,
    phone_key,
)
from openbureau.identity.repository import find_person
from openbureau.intake.events.catalogue import BASE_EVENT
from openbureau.intake.events.service import receive_events
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.policy import SignalSettings
from openbureau.reports.assembly import read_file
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


def _contact_changed(lender: str, n: int, account: str, *, at: datetime, **details: str | None) -> dict:
    """The lender's contact_changed event on the person's existing account: the details it now holds."""
    values = {"event_id": f"{lender}-{n}-{at:%m%d%H%M%S}-contact", "event_type": "contact_changed",
              "occurred_at": at.isoformat(), "furnisher_account_id": account, "id_number": subject_id(n),
              "full_name": "孙丽", "birth_date": "1980-01-01", "phone": ON_FILE_PHONE,
              "address": "北京市海淀区中关村大街1号", "product_type": None, "amount": None, "currency": None,
              "balance": None, "term_months": None, "opened_on": None, "amount_due": None}
    return BASE_EVENT | values | details


def test_a_new_phone_on_the_existing_account_then_an_application_elsewhere_is_a_change(market) -> None:
    runtime, _ = market
    # An application with a number no record holds is no signal by itself: a person's own new number.
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone="+86 138-1234-5678")])
    assert not _change(runtime).triggered
    # The account takeover: the same number was put on the person's account at BANK_A two days before.
    _send(runtime, "BANK_A", [_contact_changed("BANK_A", HONEST, "A-4", at=NOW - timedelta(days=2), phone=NEW_PHONE)])
    change = _change(runtime)
    assert change.triggered and change.values["recent_changes"] == "phone"
    assert change.values["changed_days_before"] == 2
    assert "put on an existing account at 1 lender(s) 2 day(s) ago" in change.explanation
    assert NEW_PHONE not in change.explanation and "5678" not in change.explanation  # never the number itself


def test_a_new_number_the_lenders_take_up_after_the_applications_gave_it_is_no_change(market) -> None:
    runtime, _ = market
    # The person's own new number: given with an application at once, taken up by BANK_A a week later.
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(days=10), phone=NEW_PHONE)])
    _send(runtime, "BANK_A", [_contact_changed("BANK_A", HONEST, "A-4", at=NOW - timedelta(days=3), phone=NEW_PHONE)])
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone=NEW_PHONE,
                                           product="credit_card")])
    change = _change(runtime)
    assert not change.triggered and change.values["recent_changes"] is None


def test_a_phone_on_record_in_another_form_or_an_address_written_otherwise_is_no_change(market) -> None:
    runtime, _ = market
    _send(runtime, "BANK_A", [_contact_changed("BANK_A", HONEST, "A-4", at=NOW - timedelta(days=1),
                                               phone="+86 137 0000 0004", address="海淀区中关村大街1号")])
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone="+86 137 0000 0004",
                                           address="海淀区中关村大街1号")])
    change = _change(runtime)
    assert not change.triggered and change.values["recent_changes"] is None


def test_a_phone_on_an_earlier_months_record_is_no_change(market, tmp_path) -> None:
    runtime, _ = market
    # The person's new number reached another lender's records in an earlier month: known to the file.
    furnish_consented(runtime, "BANK_B", [applicant(HONEST, phone=NEW_PHONE, address="北京市海淀区中关村大街1号",
                                                    account="B-4", name="孙丽", birth="19800101")], tmp_path)
    _send(runtime, "BANK_A", [_contact_changed("BANK_A", HONEST, "A-4", at=NOW - timedelta(days=2), phone=NEW_PHONE)])
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone=NEW_PHONE)])
    assert not _change(runtime).triggered


def test_a_change_long_before_the_application_is_no_recent_change(market) -> None:
    runtime, _ = market
    settings = runtime.policy.signals
    _send(runtime, "BANK_A", [_contact_changed("BANK_A", HONEST, "A-4", phone=NEW_PHONE,
                                               at=NOW - timedelta(days=settings.velocity_change_days + 5))])
    _send(runtime, "LENDER", [_application("LENDER", HONEST, at=NOW - timedelta(hours=3), phone=NEW_PHONE)])
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


def test_one_kind_of_credit_at_many_lenders_is_shopping_up_to_the_policys_count(market) -> None:
    """A loan marketplace sends one application to several lenders at once: five lenders for one kind of credit
    within hours are still comparing offers; a sixth is more than shopping explains."""
    runtime, _ = market
    for code in ("SHOP_D", "SHOP_E", "SHOP_F"):
        make_member(runtime, code, Role.FURNISHER)
    start = NOW - timedelta(hours=8)
    for i, lender in enumerate(("LENDER", "BANK_A", "BANK_B", "SHOP_D", "SHOP_E")):
        _send(runtime, lender, [_application(lender, HONEST, at=start + timedelta(minutes=30 * i))])
    velocity = _velocity(runtime)
    assert not velocity.triggered, velocity.explanation
    assert velocity.values["lenders_1d"] == 5 and velocity.values["kinds_1d"] == 1
    assert "fewer than 6 lenders" in velocity.explanation
    _send(runtime, "SHOP_F", [_application("SHOP_F", HONEST, at=start + timedelta(hours=3))])
    velocity = _velocity(runtime)
    assert velocity.triggered and velocity.values["lenders_1d"] == 6 and velocity.values["kinds_1d"] == 1
    assert velocity.thresholds["velocity_one_kind_lenders"] == 6


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


def test_a_change_on_an_existing_account_then_new_credit_with_it_is_a_change() -> None:
    settings = SignalSettings()
    on_file = [(ON_FILE_PHONE, "2026-05")]
    changed = [AccountContactChange(7, NOW - timedelta(days=3), phone="+86 138 1234 5678")]
    applied = [NewCreditContact(1, "installment", NOW - timedelta(days=1), phone=NEW_PHONE),
               NewCreditContact(2, "revolving", NOW - timedelta(hours=2), phone=NEW_PHONE)]

    def found(**given):
        args = {"new_credit": applied, "updates": changed, "phones": on_file, "addresses": [], "now": NOW,
                "settings": settings} | given
        return [(c.kind, c.days_before, c.lenders) for c in contact_changes(**args)]

    assert found() == [("phone", 3, 1)]
    # Honest: the number was given with new credit before the lender took it up (a day's leeway aside) ...
    assert found(new_credit=[NewCreditContact(3, "installment", NOW - timedelta(days=5), phone=NEW_PHONE),
                             *applied]) == []
    assert found(new_credit=[NewCreditContact(3, "installment", NOW - timedelta(days=3, hours=20), phone=NEW_PHONE),
                             *applied]) == [("phone", 3, 1)]
    # ... or no change on an existing account, no application with the number in the last 7 days, the number
    # on an earlier month's record, nothing on record to change from, or the change too long ago: no change.
    assert found(updates=[]) == []
    assert found(new_credit=applied[:1], now=NOW + timedelta(days=7)) == []
    assert found(phones=[*on_file, (NEW_PHONE, "2026-10")]) == []
    assert found(phones=[(NEW_PHONE, "2026-11")]) == []
    assert found(updates=[AccountContactChange(7, NOW - timedelta(days=settings.velocity_change_days + 1),
                                               phone=NEW_PHONE)]) == []
    # The lender's own monthly file of the month of the change may already carry the new number: still a change.
    assert found(phones=[*on_file, (NEW_PHONE, "2026-11")]) == [("phone", 3, 1)]
    # An address moved the same way.
    moved = "上海市浦东新区世纪大道200号2栋301室"
    assert [(c.kind, c.lenders) for c in contact_changes(
        new_credit=[NewCreditContact(1, "installment", NOW - timedelta(hours=1), address=moved)],
        updates=[AccountContactChange(7, NOW - timedelta(days=1), address=moved),
                 AccountContactChange(8, NOW - timedelta(hours=20), address=moved)],
        phones=[], addresses=[("北京市海淀区中关村大街1号", "2026-05")], now=NOW, settings=settings)] == [("address", 2)]


def test_a_file_as_it_stood_leaves_out_the_inquiries_made_after_that_moment(market) -> None:
    # The evaluation reads replayed histories at past moments: a hard inquiry of today is not a day-old one's.
    runtime, _ = market
    _inquire(runtime, HONEST)  # LENDER's hard inquiry at NOW
    with session_scope(runtime.engine) as session:
        person = find_person(session, id_type="CN_RESIDENT_ID",
                             id_index=runtime.vault.blind_index(subject_id(HONEST), domain="CN_RESIDENT_ID"))
        policy = runtime.policy

        def hard(at: datetime, **kw) -> int:
            return len(read_file(session, vault=runtime.vault, person=person, now=at, policy=policy, **kw).hard_inquiries())

        assert hard(NOW) == hard(NOW - timedelta(days=1)) == 1
        assert hard(NOW - timedelta(days=1), as_it_stood=True) == 0 and hard(NOW, as_it_stood=True) == 1

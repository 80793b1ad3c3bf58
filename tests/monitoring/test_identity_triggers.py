"""A phone or an address new to a monitored person's file is a trigger for the other lenders monitoring the
person, which says which kind of detail changed and never the detail itself."""

from __future__ import annotations

from datetime import timedelta

from tests.events.conftest import NOW
from tests.events.factories import event
from tests.intake.factories import person
from tests.monitoring.factories import add_endpoint, load, receive, register, triggers, worker


def test_a_new_phone_or_address_in_an_event_is_an_identity_change(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    at = NOW - timedelta(hours=5)
    receive(runtime, "P1", [event(0, "E-1", at=at, kind="application", phone="+86 139 0000 1111")])
    assert triggers(runtime, "LENDER") == [("new_credit", "application", "REF-0"),
                                           ("identity_change", "phone_changed", "REF-0")]
    # The same phone however written, and the address the file carries already (other spacing): nothing new.
    receive(runtime, "P1", [event(0, "E-2", at=at + timedelta(hours=1), kind="application", phone="13900001111",
                                  address="北京市 东城区 东华门街道 1号")])
    assert triggers(runtime, "LENDER")[2:] == [("new_credit", "application", "REF-0")]
    # A new address; and the lender's own event with another new phone tells the lender nothing.
    receive(runtime, "P1", [event(0, "E-3", at=at + timedelta(hours=2), kind="application",
                                  address="上海市浦东新区世纪大道100号")])
    receive(runtime, "LENDER", [event(0, "OWN-1", at=at + timedelta(hours=3), kind="application",
                                      phone="13700001234")])
    assert triggers(runtime, "LENDER")[3:] == [("new_credit", "application", "REF-0"),
                                               ("identity_change", "address_changed", "REF-0")]
    w = worker(runtime)
    while w.run_once(now=NOW).handled:
        pass
    changes = [r for r in receiver.received if r.payload["type"] == "monitoring.identity_change"]
    assert [r.payload["data"]["category"] for r in changes] == ["phone_changed", "address_changed"]
    for r in changes:
        assert set(r.payload["data"]) == {"reference", "category", "occurred_at"}
        for value in ("13900001111", "139 0000 1111", "上海", "世纪大道", "100"):
            assert value not in r.body.decode()


def test_a_monthly_file_with_a_new_phone_is_an_identity_change(market, tmp_path) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    record = dict(furnisher_account_id="CARD-1", reporting_period="2026-09", address="北京市东城区东华门街道1号")
    load(runtime, tmp_path, "P2", [person(0, **record)], "sep.csv")
    assert ("identity_change", "phone_changed", "REF-0") not in triggers(runtime)  # the phone is the event's
    load(runtime, tmp_path, "P2", [person(0, **(record | dict(reporting_period="2026-10", phone="15100002222")))],
         "oct.csv")
    assert triggers(runtime)[-1] == ("identity_change", "phone_changed", "REF-0")
    count = len(triggers(runtime))
    load(runtime, tmp_path, "P1", [person(0, **(record | dict(furnisher_account_id="L-9", reporting_period="2026-10",
                                                              phone="+86 151-0000-2222")))], "p1.csv")
    assert len(triggers(runtime)) == count + 1 and triggers(runtime)[-1][0] == "new_credit"  # the phone is known

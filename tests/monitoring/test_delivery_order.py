"""Deliveries go side by side for different registrations of one endpoint, in order within a registration, at
most a few at once to one endpoint, and start as soon as their triggers are committed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from openbureau.kit.db import session_scope
from openbureau.monitoring.repository import MonitoringRepository
from tests.events.conftest import NOW
from tests.events.factories import event
from tests.intake.factories import person
from tests.monitoring.factories import add_endpoint, deliveries, load, receive, register, worker


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _three_registrations(runtime, tmp_path) -> None:
    load(runtime, tmp_path, "LENDER", [person(1, furnisher_account_id="LOAN-1", reporting_period="2026-10"),
                                       person(2, furnisher_account_id="LOAN-2", reporting_period="2026-10")])
    for index in range(3):
        register(runtime, "LENDER", index, f"REF-{index}")


def _running(w, poll: float):
    stop = threading.Event()
    thread = threading.Thread(target=w.run, args=(stop,), kwargs={"poll": poll})
    thread.start()
    return stop, thread


def test_a_slow_delivery_holds_its_registration_only(market, receiver, tmp_path) -> None:
    runtime, _ = market
    _three_registrations(runtime, tmp_path)
    secret = add_endpoint(runtime, "LENDER", receiver.url).secret
    now = NOW
    receive(runtime, "P1", [event(0, "O-1", at=now - timedelta(hours=3)), event(0, "O-2", at=now - timedelta(hours=2)),
                            event(1, "O-3", at=now - timedelta(hours=1))])
    first, second, other = deliveries(runtime)
    slow = f"trg_{first.trigger_id}"
    receiver.answer = lambda body: ("sleep", 3, 200) if body["id"] == slow else 200  # REF-0's first: 3 s

    stop, thread = _running(worker(runtime, timeout=5), poll=0.05)
    started = time.monotonic()
    try:
        # REF-1's trigger does not wait for REF-0's slow one; REF-0's second does.
        assert _until(lambda: len(receiver.received) >= 2, 2.5)
        assert {r.delivery_id for r in receiver.received} == {first.delivery_id, other.delivery_id}
        assert time.monotonic() - started < 2.5
        assert _until(lambda: len(receiver.received) == 3, 10)
        assert time.monotonic() - started >= 2.9
    finally:
        stop.set()
        thread.join()
    assert receiver.received[2].delivery_id == second.delivery_id
    assert [d.status for d in deliveries(runtime)] == ["delivered"] * 3
    assert receiver.verified(secret) == [True] * 3
    with session_scope(runtime.engine) as session:
        repo = MonitoringRepository(session.connection())
        assert [[a.outcome for a in repo.attempts_of(d.id)] for d in deliveries(runtime)] == [["delivered"]] * 3


def test_at_most_per_endpoint_deliveries_of_an_endpoint_at_once(market, receiver, tmp_path) -> None:
    runtime, _ = market
    _three_registrations(runtime, tmp_path)
    add_endpoint(runtime, "LENDER", receiver.url)
    now = NOW
    receiver.plan = [("sleep", 1.5, 200)] * 3
    receive(runtime, "P1", [event(i, f"O-{i}", at=now - timedelta(hours=3 - i)) for i in range(3)])
    stop, thread = _running(worker(runtime, timeout=5, concurrency=4, per_endpoint=2), poll=0.05)
    try:
        assert _until(lambda: len(receiver.received) == 2, 5)
        time.sleep(0.6)
        assert len(receiver.received) == 2  # the third waits for one of the two in flight
        assert _until(lambda: len(receiver.received) == 3, 5)
        assert _until(lambda: all(d.status == "delivered" for d in deliveries(runtime)), 5)
    finally:
        stop.set()
        thread.join()


def test_a_committed_trigger_wakes_the_worker_at_once(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    stop, thread = _running(worker(runtime), poll=60)  # it would look again only a minute later
    try:
        time.sleep(0.5)  # its first look found nothing
        started = time.monotonic()
        receive(runtime, "P1", [event(0, "O-1", at=NOW - timedelta(minutes=1))])
        assert _until(lambda: len(receiver.received) == 1, 5)
        assert time.monotonic() - started < 3
    finally:
        stop.set()
        thread.join()
    assert [d.status for d in deliveries(runtime)] == ["delivered"]

"""Deliveries to a real HTTP receiver: signed, retried with backoff through failures, timeouts and slow
answers, in order per registration, dead after the retry window and replayed; secrets rotated without a gap."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.kit.crypto import PiiVault, load_keys, rotate_encryption_key
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, NotFound
from openbureau.kit.keyrotation import encrypted_columns, key_counts, rewrite
from openbureau.migrations.metadata import target_metadata
from openbureau.monitoring import webhooks
from openbureau.monitoring.delivery import Worker, WorkerSettings
from openbureau.monitoring.repository import MonitoringRepository
from openbureau.monitoring.signing import verify
from tests.events.conftest import NOW
from tests.events.factories import event
from tests.intake.factories import PEOPLE
from tests.monitoring.factories import (
    Receiver,
    add_endpoint,
    deliveries,
    principal,
    receive,
    register,
    worker,
)


def _opened(runtime, event_id: str, hours_ago: float = 1) -> None:
    receive(runtime, "P1", [event(0, event_id, at=NOW - timedelta(hours=hours_ago))])


def _until_settled(runtime, w, *, steps: int = 200) -> None:
    """Run the worker at each pending delivery's next attempt, as time would pass, until none is pending."""
    for _ in range(steps):
        pending = [d for d in deliveries(runtime) if d.status == "pending"]
        if not pending:
            return
        heads = {}
        for d in pending:  # the first pending delivery of each endpoint is the one that may be taken
            heads.setdefault(d.endpoint_id, d)
        w.run_once(now=min(d.next_attempt_at for d in heads.values()))
    raise AssertionError("deliveries still pending")


def test_a_delivery_is_signed_minimal_and_audited(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    endpoint = add_endpoint(runtime, "LENDER", receiver.url)
    _opened(runtime, "O-1")
    w = worker(runtime)
    assert w.run_once(now=NOW).delivered == 1
    (got,) = receiver.received
    assert receiver.verified(endpoint.secret) == [True]
    assert not verify(got.signature, got.body + b" ", endpoint.secret.encode(), now=int(time.time()))
    (delivery,) = deliveries(runtime)
    assert got.delivery_id == delivery.delivery_id and delivery.status == "delivered"
    body = got.payload
    assert body["type"] == "monitoring.new_credit" and set(body) == {"id", "type", "created_at", "data"}
    assert body["data"] == {"reference": "REF-0", "category": "account_opened",
                            "occurred_at": (NOW - timedelta(hours=1)).isoformat()}
    for secret in ("P1", "300000", PEOPLE[0][0], PEOPLE[0][2]):
        assert secret not in got.body.decode()
    with session_scope(runtime.engine) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "webhook.deliver")).one()
        assert entry.person_id is not None and json.loads(entry.details)["outcome"] == "delivered"


def test_failure_timeout_and_slow_answer_are_retried_under_one_delivery_id(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    _opened(runtime, "O-1")
    receiver.plan = [500, ("sleep", 2.5, 200), ("sleep", 0.6, 200)]  # fails, times out (1 s), answers slowly
    w = worker(runtime, timeout=1.0)
    _until_settled(runtime, w)
    (delivery,) = deliveries(runtime)
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert len({r.delivery_id for r in receiver.received}) == 1 and len(receiver.received) == 3
    with session_scope(runtime.engine) as session:
        attempts = MonitoringRepository(session.connection()).attempts_of(delivery.id)
    assert [(a.outcome, a.status_code) for a in attempts] == [("retry", 500), ("retry", None), ("delivered", 200)]
    assert "no answer within 1 s" in attempts[1].error
    assert attempts[1].at > attempts[0].at and attempts[2].at > attempts[1].at  # backoff between tries


def test_a_later_trigger_waits_for_an_earlier_one_of_the_same_endpoint(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    _opened(runtime, "O-1", hours_ago=3)
    _opened(runtime, "O-2", hours_ago=2)
    receiver.plan = [500, 500]
    w = worker(runtime)
    assert w.run_once(now=NOW).handled == 1  # only the first is taken while it is pending
    _until_settled(runtime, w)
    first, second = deliveries(runtime)
    assert [r.delivery_id for r in receiver.received] == [first.delivery_id] * 3 + [second.delivery_id]


def test_a_slow_receiver_does_not_hold_up_another(market, receiver) -> None:
    runtime, _ = market
    fast = Receiver().start()
    try:
        register(runtime, "LENDER", 0, "REF-0")
        add_endpoint(runtime, "LENDER", receiver.url)
        add_endpoint(runtime, "LENDER", fast.url)
        receiver.plan = [("sleep", 3, 200)]
        _opened(runtime, "O-1")
        stop = threading.Event()
        w = worker(runtime, timeout=5)
        thread = threading.Thread(target=w.run, args=(stop,), kwargs={"poll": 0.05})
        started = time.monotonic()
        thread.start()
        while not fast.received and time.monotonic() - started < 10:
            time.sleep(0.02)
        assert fast.received and time.monotonic() - started < 2.5
        while len([d for d in deliveries(runtime) if d.status == "delivered"]) < 2 and time.monotonic() - started < 15:
            time.sleep(0.05)
        stop.set()
        thread.join()
        assert [d.status for d in deliveries(runtime)] == ["delivered", "delivered"]
    finally:
        fast.stop()


def test_dead_after_the_retry_window_then_replayed(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    _opened(runtime, "O-1")
    receiver.plan = [500] * 500
    w = worker(runtime)
    _until_settled(runtime, w, steps=500)
    (dead,) = deliveries(runtime)
    assert dead.status == "dead" and dead.attempts >= 20
    with session_scope(runtime.engine) as session:
        attempts = MonitoringRepository(session.connection()).attempts_of(dead.id)
    assert attempts[-1].at - attempts[0].at >= timedelta(hours=24)
    waits = [(b.at - a.at).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
    assert max(waits) <= 3600 and len(set(waits)) > len(waits) // 2  # capped at an hour, jittered
    lender = principal(runtime, "LENDER")
    with session_scope(runtime.engine, write=True) as session:
        assert [d.id for d in webhooks.list_deliveries(session, principal=lender, status="dead")] == [dead.id]
        with pytest.raises(NotFound):
            webhooks.replay(session, principal=principal(runtime, "OTHER"), delivery_row_id=dead.id)
        replayed = webhooks.replay(session, principal=lender, delivery_row_id=dead.id, now=NOW + timedelta(days=2))
        assert replayed.status == "pending" and replayed.delivery_id == dead.delivery_id
    with session_scope(runtime.engine, write=True) as session, pytest.raises(Conflict):
        webhooks.replay(session, principal=lender, delivery_row_id=dead.id)
    receiver.plan = []
    assert w.run_once(now=NOW + timedelta(days=2)).delivered == 1
    assert receiver.received[-1].delivery_id == dead.delivery_id


def test_a_rotated_secret_signs_beside_the_old_one_for_its_grace_period(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    old = add_endpoint(runtime, "LENDER", receiver.url)
    with session_scope(runtime.engine, write=True) as session:
        new = webhooks.rotate_secret(session, vault=runtime.vault, principal=principal(runtime, "LENDER"),
                                     endpoint_id=old.id, grace_hours=24, now=NOW)
    assert new.secret != old.secret and new.previous_secret_valid_until == NOW + timedelta(hours=24)
    _opened(runtime, "O-1")
    w = worker(runtime)
    w.run_once(now=NOW + timedelta(hours=1))
    assert receiver.verified(old.secret) == [True] and receiver.verified(new.secret) == [True]
    assert receiver.received[0].signature.count("v1=") == 2
    _opened(runtime, "O-2")
    w.run_once(now=NOW + timedelta(hours=25))  # the grace period is over: the new secret only
    assert receiver.verified(old.secret) == [True, False] and receiver.verified(new.secret) == [True, True]
    with session_scope(runtime.engine, write=True) as session:
        listed = webhooks.list_endpoints(session, principal=principal(runtime, "LENDER"))
        assert "secret" not in listed[0].model_dump()
        with pytest.raises(NotFound):
            webhooks.rotate_secret(session, vault=runtime.vault, principal=principal(runtime, "OTHER"),
                                   endpoint_id=old.id)


def test_a_lease_shorter_than_a_delivery_could_last_is_refused(market) -> None:
    runtime, _ = market
    with pytest.raises(ValueError):
        worker(runtime, timeout=10, lease=15)


def test_a_key_rotation_re_encrypts_secrets_and_subjects_and_deliveries_still_verify(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    endpoint = add_endpoint(runtime, "LENDER", receiver.url)
    rotate_encryption_key(runtime.settings)
    vault = PiiVault(load_keys(runtime.settings))
    columns = {c.name: c for c in encrypted_columns(target_metadata)}
    for name in ("monitored_subjects.id_enc", "webhook_endpoints.secret_enc"):
        assert rewrite(runtime.engine, columns[name], vault) == 1
        assert dict(key_counts(runtime.engine, columns[name])) == {2: 1}
    _opened(runtime, "O-1")
    rotated = Worker(runtime.engine, vault=vault, config=WorkerSettings(timeout=2))
    assert rotated.run_once(now=NOW).delivered == 1
    assert receiver.verified(endpoint.secret) == [True]

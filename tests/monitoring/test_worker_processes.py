"""The delivery worker as a process (``openbureau webhooks run``) against a real HTTP receiver: it drains an
endpoint's queue in order at the receiver's pace, and a worker killed with SIGKILL while the receiver fails,
times out and answers slowly loses nothing: after a restart every trigger arrives, at least once, each under
its one delivery id, and in the order written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openbureau.intake.events.service import receive_events
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from tests.events.factories import event, frame
from tests.monitoring.factories import add_endpoint, deliveries, register, worker

CLI = Path(sys.executable).parent / "openbureau"


def _opened(runtime, count: int) -> None:
    """``count`` loans opened by P1 for person 0 just now (a trigger each for LENDER, its retry window from
    now), oldest first."""
    now = datetime.now(UTC)
    with session_scope(runtime.engine) as session:
        member = get_member(session, code="P1")
    result = receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=member,
                            batch=frame([event(0, f"O-{n}", at=now - timedelta(minutes=count - n))
                                         for n in range(count)]), now=now)
    assert result.stored == count, result.findings.to_dicts()


def _env(runtime, **extra: str) -> dict[str, str]:
    settings = runtime.settings
    return {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
            "OPENBUREAU_DATABASE_URL": settings.resolved_database_url,
            "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
            "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value(), **extra}


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_worker_drains_an_endpoint_in_order_without_waiting_for_its_next_look(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    _opened(runtime, 30)
    stop = threading.Event()
    thread = threading.Thread(target=worker(runtime).run, args=(stop,), kwargs={"poll": 30})
    started = time.monotonic()
    thread.start()
    try:
        # A look every 30 s; the 30 deliveries still arrive at once, each claimed as the one before is recorded.
        assert _until(lambda: len(receiver.received) == 30, 20)
        assert time.monotonic() - started < 20
    finally:
        stop.set()
        thread.join()
    written = deliveries(runtime)
    assert [r.delivery_id for r in receiver.received] == [d.delivery_id for d in written]
    assert [r.payload["id"] for r in receiver.received] == [f"trg_{d.trigger_id}" for d in written]
    assert {d.status for d in written} == {"delivered"}


def test_a_failing_delivery_holds_the_ones_after_it_until_it_is_delivered(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    _opened(runtime, 3)
    receiver.plan = [200, 500]  # the second fails: the third waits for its retry
    stop = threading.Event()
    w = worker(runtime, retry_base=0.01)  # a retry a second later (the shortest wait)
    thread = threading.Thread(target=w.run, args=(stop,), kwargs={"poll": 0.05})
    thread.start()
    try:
        assert _until(lambda: len(receiver.received) == 4, 15)
    finally:
        stop.set()
        thread.join()
    first, second, third = deliveries(runtime)
    assert [r.delivery_id for r in receiver.received] == [first.delivery_id, second.delivery_id, second.delivery_id,
                                                          third.delivery_id]
    assert (first.attempts, second.attempts, third.attempts) == (1, 2, 1)


def test_kill_9_while_the_receiver_fails_times_out_and_is_slow_loses_nothing(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    secret = add_endpoint(runtime, "LENDER", receiver.url).secret
    _opened(runtime, 12)
    # Fails, times out (the worker waits 1 s), answers slowly but in time, then holds the 5th request while the
    # worker is killed; then every answer is 200.
    receiver.plan = [500, ("sleep", 2.5, 200), ("sleep", 0.5, 200), 200, ("sleep", 20, 200)]
    env = _env(runtime, OPENBUREAU_WEBHOOK_LEASE_SECONDS="3", OPENBUREAU_WEBHOOK_TIMEOUT_SECONDS="1",
               OPENBUREAU_WEBHOOK_RETRY_SECONDS="0.01")
    processes = [subprocess.Popen([str(CLI), "webhooks", "run", "--poll", "0.1"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)]
    try:
        assert _until(lambda: len(receiver.received) >= 5 or processes[0].poll() is not None, 60), "no 5th request"
        assert processes[0].poll() is None, processes[0].stderr.read().decode()
        os.kill(processes[0].pid, signal.SIGKILL)
        assert processes[0].wait(10) == -signal.SIGKILL
        processes.append(subprocess.Popen([str(CLI), "webhooks", "run", "--poll", "0.1"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        assert _until(lambda: all(d.status == "delivered" for d in deliveries(runtime)), 60), \
            [(d.status, d.attempts, d.last_error) for d in deliveries(runtime)]
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    written = deliveries(runtime)
    ids = [r.delivery_id for r in receiver.received]
    assert set(ids) == {d.delivery_id for d in written}  # none lost
    by_trigger: dict[str, set[str]] = {}
    for r in receiver.received:
        by_trigger.setdefault(r.payload["id"], set()).add(r.delivery_id)
    assert all(len(keys) == 1 for keys in by_trigger.values())  # a trigger again comes under its one delivery id
    assert len(ids) > len(written)  # the failure, the timeout and the killed delivery came again
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == [d.delivery_id for d in written]  # in the order written, the retries in between
    assert receiver.verified(secret) == [True] * len(ids)
    killed = written[2]  # the first took three requests, the second one, the third was held when the worker died
    assert ids.count(killed.delivery_id) == 2 and killed.attempts == 1  # taken again when its lease ended


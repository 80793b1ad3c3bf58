"""With Redis configured, a worker process is woken through Redis when another process commits triggers, and
neither Redis nor the worker holds a delivery: the database's log does. Wakes sent while no worker listens are
lost, and nothing else: a worker killed with SIGKILL and started again delivers every trigger, each once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

import redis

from openbureau.intake.events.service import receive_events
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.monitoring import wakequeue
from tests.events.factories import event, frame
from tests.monitoring.factories import add_endpoint, deliveries, register
from tests.monitoring.test_worker_processes import CLI, _env, _until

REDIS = "redis://127.0.0.1:6379/0"


def _opened(runtime, *names: str) -> None:
    now = datetime.now(UTC)
    with session_scope(runtime.engine) as session:
        member = get_member(session, code="P1")
    result = receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=member,
                            batch=frame([event(0, name, at=now - timedelta(seconds=30)) for name in names]), now=now)
    assert result.stored == len(names)


def test_a_worker_is_woken_through_redis_and_a_restart_loses_nothing(market, receiver) -> None:
    runtime, _ = market
    prefix = f"obtest:{uuid.uuid4().hex}:"  # a channel of this test's own
    client = redis.Redis.from_url(REDIS)
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    stop_sending = wakequeue.send_through(REDIS, prefix)  # this process commits triggers: it sends the wakes
    env = _env(runtime, OPENBUREAU_REDIS_URL=REDIS, OPENBUREAU_REDIS_KEY_PREFIX=prefix)
    command = [str(CLI), "webhooks", "run", "--poll", "60"]  # looks once a minute unless woken

    def listening() -> bool:
        return dict(client.pubsub_numsub(wakequeue.channel(prefix))).get(wakequeue.channel(prefix).encode()) == 1

    processes = []
    try:
        _opened(runtime, "O-1", "O-2")  # nobody listens: their wakes are lost; the first look takes them
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        assert _until(lambda: len(receiver.received) == 2, 90), processes[0].stderr.read().decode()
        assert _until(listening, 10)
        started = time.monotonic()
        _opened(runtime, "O-3")
        assert _until(lambda: len(receiver.received) == 3, 10)
        assert time.monotonic() - started < 5  # woken, not the minute's look
        assert _until(lambda: [d.status for d in deliveries(runtime)] == ["delivered"] * 3, 10)  # and recorded
        os.kill(processes[0].pid, signal.SIGKILL)
        assert processes[0].wait(10) == -signal.SIGKILL
        _opened(runtime, "O-4")  # while no worker runs
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        assert _until(lambda: all(d.status == "delivered" for d in deliveries(runtime)), 90), \
            processes[1].stderr.read().decode() if processes[1].poll() is not None else "still running"
    finally:
        stop_sending()
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
        client.close()
    written = deliveries(runtime)
    assert len(written) == 4
    assert [r.delivery_id for r in receiver.received] == [d.delivery_id for d in written]  # each once, in order

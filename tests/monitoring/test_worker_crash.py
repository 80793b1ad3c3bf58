"""A worker killed with SIGKILL in the middle of a delivery loses nothing: when its lease ends the delivery is
made again, under the same delivery id, and the deliveries after it follow in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.monitoring.factories import add_endpoint, deliveries, register, worker
from tests.monitoring.test_webhooks import _opened


def test_kill_9_during_a_delivery_then_delivered_once_more_with_the_same_id(market, receiver) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    _opened(runtime, "O-1", hours_ago=2)
    _opened(runtime, "O-2", hours_ago=1)
    receiver.plan = [("sleep", 20, 200)]  # holds the first delivery while the worker is killed
    settings = runtime.settings
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_DATABASE_URL": settings.resolved_database_url,
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value(),
           "OPENBUREAU_WEBHOOK_LEASE_SECONDS": "3", "OPENBUREAU_WEBHOOK_TIMEOUT_SECONDS": "1"}
    cli = Path(sys.executable).parent / "openbureau"
    process = subprocess.Popen([str(cli), "webhooks", "run", "--poll", "0.05"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert receiver.started.wait(60), process.stderr.read().decode() if process.poll() is not None else ""
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -9
    finally:
        if process.poll() is None:
            process.kill()
    first, second = deliveries(runtime)
    assert (first.status, first.attempts, second.status) == ("pending", 0, "pending")  # leased, never recorded
    w = worker(runtime)
    assert w.run_once(now=datetime.now(UTC)).handled == 0  # the lease still holds it
    later = datetime.now(UTC) + timedelta(seconds=4)
    assert w.run_once(now=later).delivered == 1 and w.run_once(now=later).delivered == 1
    first, second = deliveries(runtime)
    assert (first.status, first.attempts, second.status) == ("delivered", 1, "delivered")
    assert [r.delivery_id for r in receiver.received] == [first.delivery_id, first.delivery_id, second.delivery_id]

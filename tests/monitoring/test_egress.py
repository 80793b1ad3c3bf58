"""A delivery's connection: only to a public address, judged by what the endpoint's host resolves to when the
delivery connects (a lender cannot point a registered name at the bureau's own network later: SSRF, DNS
rebinding); within the attempt's deadline however the receiver paces its answer; and once more at once when
the receiver drops the connection under it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from datetime import timedelta

import httpcore
import httpx
import pytest

from openbureau.kit.db import session_scope
from openbureau.monitoring import egress
from openbureau.monitoring.delivery import Worker, WorkerSettings
from openbureau.monitoring.repository import MonitoringRepository
from tests.events.conftest import NOW
from tests.events.factories import event
from tests.monitoring.factories import add_endpoint, deliveries, receive, register

HOST = "hooks.lender.example"


def resolver(table: dict[str, list[str]]):
    """A name service answering from ``table`` as getaddrinfo would (an unknown name fails to resolve)."""

    def resolve(host, port, type=0):  # noqa: A002 - getaddrinfo's own keyword
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]]
    return resolve


@pytest.mark.parametrize("addresses", [
    ["10.0.0.5"], ["169.254.169.254"], ["127.0.0.1"], ["192.168.1.20"], ["::1"], ["fd00::1"], ["0.0.0.0"],
    ["::ffff:127.0.0.1"], ["::ffff:10.1.2.3"], ["224.0.0.1"],
    ["93.184.216.34", "10.0.0.5"],  # one private address among public ones is enough to refuse
])
def test_a_name_resolving_to_a_private_address_is_refused(addresses) -> None:
    backend = egress.PublicOnly(resolve=resolver({HOST: addresses}))
    with pytest.raises(egress.Refused, match=f"{egress.REFUSED} {HOST} resolves to .*not a public address"):
        backend.address_of(HOST, 443)


def test_a_public_name_connects_to_the_address_checked() -> None:
    backend = egress.PublicOnly(resolve=resolver({HOST: ["93.184.216.34", "2606:2800:220:1::1"]}))
    assert backend.address_of(HOST, 443) == "93.184.216.34"
    with pytest.raises(httpcore.ConnectError, match="could not be resolved"):
        backend.address_of("unknown.example", 443)


def test_a_loopback_endpoint_reaches_the_loopback_address_only() -> None:
    backend = egress.PublicOnly(resolve=resolver({"localhost": ["127.0.0.1", "::1"], "127.0.0.1": ["127.0.0.1"]}))
    assert backend.address_of("localhost", 8080) == "127.0.0.1"
    assert backend.address_of("127.0.0.1", 8080) == "127.0.0.1"
    tampered = egress.PublicOnly(resolve=resolver({"localhost": ["10.0.0.9"]}))
    with pytest.raises(egress.Refused):
        tampered.address_of("localhost", 8080)


def test_the_worker_records_a_refused_connection_and_retries_it(market, receiver) -> None:
    """An endpoint registered under a public-looking name that resolves to the loopback address at delivery
    (where the bureau's own services listen): nothing is sent, the attempt says why, the delivery is retried."""
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", f"https://{HOST}:{receiver.server.server_address[1]}/hooks")
    receive(runtime, "P1", [event(0, "O-1", at=NOW - timedelta(hours=1))])
    limits = httpx.Limits(max_connections=4)
    rebinding = egress.transport(limits=limits, backend=egress.PublicOnly(resolve=resolver({HOST: ["127.0.0.1"]})))
    w = Worker(runtime.engine, vault=runtime.vault, transport=rebinding,
               config=WorkerSettings(timeout=2, concurrency=4, per_endpoint=2, lease=timedelta(seconds=60)))
    try:
        outcome = w.run_once(now=NOW)
    finally:
        w.close()
    assert (outcome.delivered, outcome.retried) == (0, 1)
    assert receiver.received == []
    (delivery,) = deliveries(runtime)
    assert delivery.status == "pending" and delivery.next_attempt_at > NOW
    assert delivery.last_error == f"{egress.REFUSED} {HOST} resolves to 127.0.0.1, which is not a public address"
    with session_scope(runtime.engine) as session:
        (attempt,) = MonitoringRepository(session.connection()).attempts_of(delivery.id)
    assert attempt.status_code is None and attempt.error == delivery.last_error


class Dripping:
    """A receiver on the loopback address that answers each request a byte at a time, every ``pause`` seconds:
    each step within a per-step timeout, the whole far beyond it."""

    def __init__(self, pause: float) -> None:
        self.pause, self.server = pause, socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.server.accept()
                with conn:
                    conn.recv(65536)
                    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                        conn.sendall(bytes([byte]))
                        time.sleep(self.pause)

    def close(self) -> None:
        self.server.close()


def test_an_attempt_ends_at_its_deadline_however_its_receiver_paces_the_answer(market) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    drip = Dripping(pause=0.25)  # 38 bytes: about 9.5 s in all, each byte well within the 1 s step timeout
    add_endpoint(runtime, "LENDER", drip.url)
    receive(runtime, "P1", [event(0, "O-1", at=NOW - timedelta(hours=1))])
    w = Worker(runtime.engine, vault=runtime.vault,
               config=WorkerSettings(timeout=1, deadline=1.5, concurrency=4, per_endpoint=2, lease=timedelta(seconds=60)))
    started = time.monotonic()
    try:
        outcome = w.run_once(now=NOW)
    finally:
        w.close()
        drip.close()
    took = time.monotonic() - started
    assert outcome.retried == 1 and took < 5, took
    (delivery,) = deliveries(runtime)
    assert delivery.status == "pending" and delivery.last_error == f"{egress.OVERDUE} (1.5 s)"


def test_the_lease_must_outlast_the_deadline(market) -> None:
    runtime, _ = market
    with pytest.raises(ValueError, match="deadline"):
        Worker(runtime.engine, vault=runtime.vault,
               config=WorkerSettings(timeout=1, deadline=40, lease=timedelta(seconds=30)))


class Dropping:
    """A receiver on the loopback address that closes the connection under the first ``drops`` requests without
    answering (as a server drops a kept-alive connection), then answers 200; it keeps every delivery id."""

    def __init__(self, drops: int) -> None:
        self.drops, self.ids = drops, []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.server.accept()
                with conn:
                    request = conn.recv(65536)
                    self.ids += [line.split(b":", 1)[1].strip().decode() for line in request.split(b"\r\n")
                                 if line.lower().startswith(b"openbureau-delivery-id:")]
                    if self.drops > 0:
                        self.drops -= 1
                        continue  # closed without a word
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def close(self) -> None:
        self.server.close()


def test_a_connection_dropped_under_a_delivery_is_tried_once_more_at_once(market) -> None:
    runtime, _ = market
    register(runtime, "LENDER", 0, "REF-0")
    config = WorkerSettings(timeout=2, concurrency=4, per_endpoint=2, lease=timedelta(seconds=60))
    once = Dropping(drops=1)
    add_endpoint(runtime, "LENDER", once.url)
    receive(runtime, "P1", [event(0, "O-1", at=NOW - timedelta(hours=1))])
    w = Worker(runtime.engine, vault=runtime.vault, config=config)
    try:
        assert w.run_once(now=NOW).delivered == 1  # in the same attempt, not after a backoff
    finally:
        once.close()
    assert len(once.ids) == 2 and once.ids[0] == once.ids[1]  # the same delivery, under its one id
    (delivery,) = deliveries(runtime)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)

    receive(runtime, "P1", [event(0, "O-2", at=NOW - timedelta(minutes=30))])
    twice = Dropping(drops=2)  # a receiver that keeps dropping is a failed attempt, retried after the backoff
    with session_scope(runtime.engine, write=True) as session:
        endpoint = MonitoringRepository(session.connection()).endpoints(
            deliveries(runtime)[0].subscriber_id)[0]
        MonitoringRepository(session.connection()).update_endpoint(endpoint.id, url=twice.url)
    try:
        outcome = w.run_once(now=NOW)
    finally:
        w.close()
        twice.close()
    assert (outcome.delivered, outcome.retried) == (0, 1) and len(twice.ids) == 2
    assert deliveries(runtime)[1].last_error.startswith("could not reach the endpoint")

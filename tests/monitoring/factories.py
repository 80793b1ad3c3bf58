"""Factories of the monitoring tests: a lender's registrations and endpoints, events and files of other lenders,
and a real HTTP receiver that checks each delivery's signature."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

from openbureau.audit.service import terminal_operator
from openbureau.consent.schemas import Subject
from openbureau.inquiries import access
from openbureau.intake import service as intake
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.monitoring import service, webhooks
from openbureau.monitoring.delivery import Worker, WorkerSettings
from openbureau.monitoring.models import Trigger, WebhookDelivery
from openbureau.monitoring.schemas import SubscriptionCreate
from openbureau.monitoring.signing import verify
from openbureau.principals import Principal
from tests.events.conftest import NOW
from tests.events.factories import receive as receive
from tests.intake.factories import PEOPLE, write_file


def principal(runtime, code: str) -> Principal:
    """The principal of a member."""
    with session_scope(runtime.engine) as session:
        return Principal.of_member(get_member(session, code=code))


def registrar(runtime) -> service.Registrar:
    """What registrations need, with the inquiry's own access rules."""
    return service.Registrar(vault=runtime.vault, policy=runtime.policy, access=access)


def subscription(index: int, reference: str, consent_ref: str | None = None) -> SubscriptionCreate:
    """A registration of one of the known people."""
    return SubscriptionCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[index][0]),
                              reference=reference, consent_ref=consent_ref)


def register(runtime, code: str, index: int, reference: str, consent_ref: str | None = None):
    """Register person ``index`` for monitoring by ``code``."""
    with session_scope(runtime.engine, write=True) as session:
        return service.register(session, registrar=registrar(runtime), principal=principal(runtime, code),
                                data=subscription(index, reference, consent_ref), now=NOW)


def load(runtime, tmp_path: Path, code: str, records: list[dict], name: str = "file.csv"):
    """Submit and load a monthly file of ``code``."""
    result = intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code=code,
                           path=write_file(tmp_path / name, records), today=date(2026, 11, 20))
    assert result.submission.records_rejected == 0, result.submission.finding_counts
    return result.submission


def triggers(runtime, subscriber_code: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, category, reference) of every trigger (of one lender), in order."""
    with session_scope(runtime.engine) as session:
        stmt = select(Trigger).order_by(Trigger.id)
        if subscriber_code is not None:
            stmt = stmt.where(Trigger.subscriber_id == get_member(session, code=subscriber_code).id)
        return [(t.kind, t.category, t.reference) for t in session.scalars(stmt)]


def deliveries(runtime) -> list[WebhookDelivery]:
    """Every delivery, in order."""
    with session_scope(runtime.engine) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        session.expunge_all()
        return list(rows)


def add_endpoint(runtime, code: str, url: str):
    """Register an endpoint of ``code``; returns it with its secret."""
    with session_scope(runtime.engine, write=True) as session:
        return webhooks.create_endpoint(session, vault=runtime.vault, principal=principal(runtime, code), url=url,
                                        allow_loopback=True, now=NOW)


def worker(runtime, *, timeout: float = 2.0, lease: float = 60, retry_base: float = 30, concurrency: int = 4,
           per_endpoint: int = 8) -> Worker:
    """A delivery worker of the test's bureau."""
    return Worker(runtime.engine, vault=runtime.vault,
                  config=WorkerSettings(timeout=timeout, concurrency=concurrency, per_endpoint=per_endpoint,
                                        lease=timedelta(seconds=lease), retry_base=retry_base))


@dataclass
class Received:
    """One request the receiver got."""

    delivery_id: str
    signature: str
    body: bytes
    status: int

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on the loopback address. ``plan`` says how to answer each request in turn (an HTTP
    status, or ``("sleep", seconds, status)``); then 200; ``answer``, when set, says it from the body instead.
    Every request is kept, with its answer."""

    plan: list = field(default_factory=list)
    answer: Callable[[dict], int | tuple] | None = None
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    started: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.answer is not None:
                    step = receiver.answer(json.loads(body))
                else:
                    step = receiver.plan.pop(0) if receiver.plan else 200
                receiver.received.append(Received(self.headers["OpenBureau-Delivery-Id"],
                                                  self.headers["OpenBureau-Signature"], body,
                                                  step[2] if isinstance(step, tuple) else step))
                receiver.started.set()
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = step[2]
                try:
                    self.send_response(step)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the worker gave up waiting
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def verified(self, secret: str) -> list[bool]:
        """Whether each request's signature verifies with ``secret``."""
        return [verify(r.signature, r.body, secret.encode(), now=int(time.time())) for r in self.received]


def operator() -> Principal:
    """The operator at the terminal."""
    return terminal_operator()

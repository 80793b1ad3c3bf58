"""The outbox and its dispatcher, against real servers: an SMTP server (aiosmtpd) started in the test, an
HTTP SMS gateway (the standard library's server) answering as scripted, and the file channel. Retries with
backoff and every attempt recorded; expired codes never sent; nothing personal in clear. Both engines."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.identity.repository import find_person_by_any
from openbureau.kit.db import session_scope
from openbureau.notifications import service as notifications
from openbureau.notifications.channels import Contact, FileChannel, SmtpChannel, WebhookChannel
from openbureau.notifications.models import Notification, NotificationStatus
from openbureau.notifications.repository import NotificationRepository
from openbureau.people.service import contact_of
from tests.intake.factories import PEOPLE
from tests.reports.conftest import NOW

ID = PEOPLE[0][0]


def _queue(runtime, *, kind="inquiry.hard", expires_at=None, recipient=None, person_id=None, **names) -> int:
    with session_scope(runtime.engine, write=True) as session:
        if person_id is None and recipient is None and not names:
            person_id = _person_id(session, runtime)
        notifications.enqueue(session, [notifications.compose(
            runtime.vault, kind=kind, subject="A lender looked at your credit file", body="LENDER looked on 2026-11-20.",
            now=NOW, person_id=person_id, recipient=recipient, expires_at=expires_at, **names)])
        return session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))


def _person_id(session, runtime) -> int:
    return find_person_by_any(session, id_type="CN_RESIDENT_ID",
                              id_indexes=subject_indexes(runtime.vault, Subject(id_type="CN_RESIDENT_ID", id_number=ID))).id


def _dispatch(runtime, channel, now, **kwargs):
    return notifications.dispatch(runtime.engine, vault=runtime.vault, channel=channel,
                                  resolve=contact_of(runtime.vault), now=now, **kwargs)


def _state(runtime, notification_id):
    with session_scope(runtime.engine) as session:
        repo = NotificationRepository(session)
        row = repo.get(notification_id)
        return row.status, row.attempts, [(a.attempt, a.outcome) for a in repo.attempts_of(notification_id)]


def _clear_outbox(runtime) -> None:
    """Deliver what the fixture's consents queued, so that each test sees only its own messages."""
    with session_scope(runtime.engine, write=True) as session:
        for row in session.scalars(select(Notification)):
            row.status = NotificationStatus.SENT


class Recorder:
    """An aiosmtpd handler keeping what it received; refuses recipients at ``refuse.example``."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@refuse.example"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    recorder = Recorder()
    with socket.socket() as probe:  # a free port (aiosmtpd checks readiness by connecting to its port)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def test_smtp_delivers_through_an_email_to_sms_gateway_and_records_the_attempt(market, smtp) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    recorder, port = smtp
    notification_id = _queue(runtime)
    channel = SmtpChannel(host="127.0.0.1", port=port, sender="notices@bureau.example", sms_domain="sms.example")
    outcome = _dispatch(runtime, channel, NOW)
    assert (outcome.sent, outcome.handled) == (1, 1)
    [(sender, to, content)] = recorder.messages
    email = message_from_bytes(content)
    assert (sender, to) == ("notices@bureau.example", ["13800138000@sms.example"])
    assert email["Subject"] == "A lender looked at your credit file" and "LENDER looked" in email.get_payload()
    assert _state(runtime, notification_id) == ("sent", 1, [(1, "sent")])
    with session_scope(runtime.engine) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "notification.send")).one()
        assert entry.person_id is not None and json.loads(entry.details)["channel"] == "smtp"
    assert _dispatch(runtime, channel, NOW + timedelta(hours=1)).handled == 0  # sent once


def test_smtp_refusals_are_permanent_and_an_unreachable_server_is_retried(market, smtp) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    _, port = smtp
    refused = _queue(runtime, recipient=Contact("email", "someone@refuse.example"))
    _dispatch(runtime, SmtpChannel(host="127.0.0.1", port=port, sender="n@bureau.example"), NOW)
    assert _state(runtime, refused) == ("failed", 1, [(1, "failed")])
    phone_only = _queue(runtime)  # no e-mail-to-SMS domain: a phone cannot be mailed
    _dispatch(runtime, SmtpChannel(host="127.0.0.1", port=port, sender="n@bureau.example"), NOW)
    assert _state(runtime, phone_only)[0] == "failed"
    down = _queue(runtime, recipient=Contact("email", "person@example.org"))
    _dispatch(runtime, SmtpChannel(host="127.0.0.1", port=1, sender="n@bureau.example", timeout=2), NOW)
    assert _state(runtime, down) == ("pending", 1, [(1, "retry")])


class Gateway(BaseHTTPRequestHandler):
    """An SMS gateway answering each POST with the next scripted status."""

    script: list[int] = []
    received: list[tuple[dict, dict]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((body, dict(self.headers)))
        status = type(self).script.pop(0) if type(self).script else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def gateway():
    handler = type("ScriptedGateway", (Gateway,), {"script": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()


def test_the_sms_gateway_is_retried_with_backoff_until_it_accepts(market, gateway) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    handler, url = gateway
    handler.script = [503, 429]
    notification_id = _queue(runtime)
    channel = WebhookChannel(url=url, token="gateway-secret")
    assert _dispatch(runtime, channel, NOW, retry_seconds=30).retried == 1
    assert _dispatch(runtime, channel, NOW + timedelta(seconds=29), retry_seconds=30).handled == 0  # not due yet
    assert _dispatch(runtime, channel, NOW + timedelta(seconds=30), retry_seconds=30).retried == 1
    assert _dispatch(runtime, channel, NOW + timedelta(seconds=89), retry_seconds=30).handled == 0  # 60 s later
    assert _dispatch(runtime, channel, NOW + timedelta(seconds=90), retry_seconds=30).sent == 1
    assert _state(runtime, notification_id) == ("sent", 3, [(1, "retry"), (2, "retry"), (3, "sent")])
    bodies = [(b["id"], b["to"], h["Idempotency-Key"], h["Authorization"]) for b, h in handler.received]
    assert bodies == [(notification_id, "13800138000", f"openbureau-{notification_id}", "Bearer gateway-secret")] * 3
    assert handler.received[0][0]["text"].startswith("A lender looked at your credit file: LENDER looked")


def test_a_gateway_refusal_fails_at_once_and_attempts_are_capped(market, gateway) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    handler, url = gateway
    handler.script = [400]
    refused = _queue(runtime)
    _dispatch(runtime, WebhookChannel(url=url), NOW)
    assert _state(runtime, refused) == ("failed", 1, [(1, "failed")])
    handler.script = [500] * 3
    capped = _queue(runtime)
    for step in range(4):
        _dispatch(runtime, WebhookChannel(url=url), NOW + timedelta(hours=step), max_attempts=3)
    assert _state(runtime, capped) == ("failed", 3, [(1, "retry"), (2, "retry"), (3, "failed")])


def test_an_expired_code_is_never_sent_and_a_person_without_a_file_is_not_guessed(market, tmp_path) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    folder = tmp_path / "out"
    code = _queue(runtime, kind="signin.code", recipient=Contact("phone", "13800138000"),
                  expires_at=NOW + timedelta(minutes=10))
    nobody = _queue(runtime, kind="consent.granted", subject_id_type="CN_RESIDENT_ID",
                    subject_id_enc=runtime.vault.encrypt(PEOPLE[3][0]))
    outcome = _dispatch(runtime, FileChannel(folder), NOW + timedelta(minutes=10))
    assert (outcome.expired, outcome.failed) == (1, 1) and not folder.exists()
    assert _state(runtime, code) == ("failed", 1, [(1, "expired")])
    assert _state(runtime, nobody) == ("failed", 1, [(1, "failed")])


def test_the_file_channel_writes_what_the_person_reads_and_no_clear_identifier(market, tmp_path) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    folder = tmp_path / "out"
    by_document = _queue(runtime, kind="consent.granted", subject_id_type="CN_RESIDENT_ID",
                         subject_id_enc=runtime.vault.encrypt(ID))
    assert _dispatch(runtime, FileChannel(folder), NOW).sent == 1
    path = folder / f"{by_document}.json"
    content = json.loads(path.read_text("utf-8"))
    assert content["to"] == "138******00" and content["body"] == "LENDER looked on 2026-11-20."
    raw = path.read_text("utf-8")
    assert ID not in raw and "13800138000" not in raw and PEOPLE[0][2] not in raw
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_outbox_holds_nothing_in_clear(market) -> None:
    runtime, _ = market
    _queue(runtime, recipient=Contact("phone", "13800138000"))
    with session_scope(runtime.engine) as session:
        rows = session.execute(select(Notification.__table__)).all()
    blob = repr(rows)
    assert "13800138000" not in blob and "LENDER looked" not in blob and ID not in blob


def test_a_sign_in_code_never_waits_behind_a_backlog_of_notices(market, tmp_path) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    backlog = [_queue(runtime) for _ in range(3)]
    code = _queue(runtime, kind="signin.code", recipient=Contact("phone", "13800138000"),
                  expires_at=NOW + timedelta(minutes=10))
    assert _dispatch(runtime, FileChannel(tmp_path / "out"), NOW, limit=1).sent == 1
    assert _state(runtime, code)[0] == "sent" and [_state(runtime, n)[0] for n in backlog] == ["pending"] * 3


def test_an_unwritable_folder_is_retried_later(market, tmp_path) -> None:
    runtime, _ = market
    _clear_outbox(runtime)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    notification_id = _queue(runtime)
    assert _dispatch(runtime, FileChannel(blocked / "out"), NOW).retried == 1
    assert _state(runtime, notification_id) == ("pending", 1, [(1, "retry")])
    assert _dispatch(runtime, FileChannel(tmp_path / "out"), NOW + timedelta(seconds=30)).sent == 1

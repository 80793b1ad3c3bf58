"""Rules of notifications: compose a sealed outbox row with the event that causes it; dispatch the outbox.

Writing a message is part of its event's transaction (a hard inquiry and its notice commit together, or
neither does), so no notice is lost to a crash between the two and none is sent for an event that was
rolled back. Delivery happens later, outside any request: :func:`dispatch` (``openbureau notifications
dispatch``) leases due messages, resolves each recipient to the newest contact on file, hands it to the
channel and records the attempt; transient failures are retried with exponential backoff, and a message
is given up after ``max_attempts`` or once it expired (a sign-in code nobody can use any more).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, Engine, Row
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.dialects import dialect_for
from openbureau.notifications.channels import Channel, Contact, DeliveryFailed, Outgoing
from openbureau.notifications.models import Notification, NotificationStatus
from openbureau.notifications.repository import NotificationRepository

DISPATCHER_CODE = "NOTIFICATIONS"  # the actor code of deliveries in the audit log
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=5)  # how long a claimed message is left to its dispatcher before it is due again


def compose(vault: PiiVault, *, kind: str, subject: str, body: str, now: datetime, person_id: int | None = None,
            subject_id_type: str | None = None, subject_id_enc: bytes | None = None,
            recipient: Contact | None = None, expires_at: datetime | None = None,
            not_before: datetime | None = None) -> dict:
    """The values of one outbox row, its text and recipient sealed; written by :func:`enqueue` (or by a log
    that writes its event's rows in a batch, as the inquiry log does).

    ``not_before`` holds the message back until that moment (default: due at once): a notice written with its
    event but owed only later, such as a request by an authority kept from the person until a non-disclosure
    order ends. The dispatcher takes a message only once it is due."""
    if recipient is None and person_id is None and subject_id_enc is None:
        raise ValueError("a notification needs a recipient, a person or an identity document")
    if not_before is not None and (not_before.tzinfo is None or expires_at is not None and not_before >= expires_at):
        raise ValueError("not_before carries its time zone and comes before the message expires")
    return dict(kind=kind, person_id=person_id, subject_id_type=subject_id_type, subject_id_enc=subject_id_enc,
                recipient_enc=None if recipient is None else vault.encrypt_json(
                    {"kind": recipient.kind, "address": recipient.address}),
                message_enc=vault.encrypt_json({"subject": subject, "body": body}),
                status=NotificationStatus.PENDING, attempts=0, next_attempt_at=max(now, not_before or now),
                expires_at=expires_at, created_at=now, sent_at=None, channel=None)


def enqueue(session: Session, rows: list[dict]) -> None:
    """Write composed messages in the caller's transaction (flushes, never commits)."""
    NotificationRepository(session).add_many(rows)


def enqueue_frame(conn: Connection, messages: pl.DataFrame, *, now: datetime) -> None:
    """Write many sealed messages in the caller's transaction with the engine's bulk insert (a file's or a
    load's notices). ``messages``: ``kind``, ``person_id``, ``subject_id_type``, ``subject_id_enc`` and
    ``message_enc`` (JSON ``{subject, body}`` sealed with the vault, as :func:`compose` seals it), each
    message due at once."""
    if messages.height == 0:
        return
    dialect_for(conn).insert(conn, Notification.__table__, messages.select(
        "kind", pl.col("person_id").cast(pl.Int64), pl.col("subject_id_type").cast(pl.String),
        pl.col("subject_id_enc").cast(pl.Binary), pl.lit(None, dtype=pl.Binary).alias("recipient_enc"),
        "message_enc", pl.lit(NotificationStatus.PENDING).alias("status"),
        pl.lit(0, dtype=pl.Int32).alias("attempts"), pl.lit(now).alias("next_attempt_at"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("expires_at"), pl.lit(now).alias("created_at"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("sent_at"), pl.lit(None, dtype=pl.String).alias("channel")))


# Who a message names, resolved at delivery: the session, the row's person id, id type and sealed identity
# number -> the contact and the person found (None: nobody on file to tell).
Resolver = Callable[[Session, int | None, str | None, bytes | None], tuple[Contact, int] | None]


@dataclass(slots=True)
class DispatchOutcome:
    """What one dispatch run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0

    @property
    def handled(self) -> int:
        """Messages the run took."""
        return self.sent + self.retried + self.failed + self.expired


def backoff(attempt: int, *, first: float) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1, 2, ...): ``first`` seconds doubled each time, at
    most an hour."""
    return min(timedelta(seconds=first * 2 ** (attempt - 1)), MAX_BACKOFF)


def dispatch(engine: Engine, *, vault: PiiVault, channel: Channel, resolve: Resolver, now: datetime | None = None,
             limit: int = 100, max_attempts: int = 8, retry_seconds: float = 30) -> DispatchOutcome:
    """Deliver the messages due at ``now`` through ``channel``, each attempt recorded (and audited when a
    person's contact was read) in a short transaction of its own.

    Args:
        resolve: Finds the newest contact on file of the person a message names.
        limit: Most messages taken in this run.
        max_attempts: Attempts before a message is given up.
        retry_seconds: Wait before the first retry (then doubled, at most an hour).
    """
    now = now or datetime.now(UTC)
    outcome = DispatchOutcome()
    with session_scope(engine, write=True) as session:
        due = NotificationRepository(session).claim_due(now=now, limit=limit, lease_until=now + LEASE)
    for row in due:
        _deliver_one(engine, row, vault=vault, channel=channel, resolve=resolve, now=now, outcome=outcome,
                     max_attempts=max_attempts, retry_seconds=retry_seconds)
    return outcome


def _deliver_one(engine: Engine, row: Row, *, vault: PiiVault, channel: Channel, resolve: Resolver, now: datetime,
                 outcome: DispatchOutcome, max_attempts: int, retry_seconds: float) -> None:
    attempt = row.attempts + 1
    person_id = row.person_id
    if row.expires_at is not None and now >= row.expires_at:
        result, error, status = "expired", "expired before it could be delivered", NotificationStatus.FAILED
    else:
        contact = None
        if row.recipient_enc is not None:
            sealed = vault.decrypt_json(row.recipient_enc)
            contact = Contact(sealed["kind"], sealed["address"])
        else:
            with session_scope(engine, read_only=True) as session:
                found = resolve(session, row.person_id, row.subject_id_type, row.subject_id_enc)
            if found is not None:
                contact, person_id = found
        if contact is None:
            result, error, status = "failed", "no contact on file for the person", NotificationStatus.FAILED
        else:
            text = vault.decrypt_json(row.message_enc)
            try:
                channel.deliver(Outgoing(id=row.id, kind=row.kind, recipient=contact, subject=text["subject"],
                                         body=text["body"], created_at=row.created_at))
                result, error, status = "sent", None, NotificationStatus.SENT
            except DeliveryFailed as exc:
                error = str(exc)
                gave_up = not exc.transient or attempt >= max_attempts
                result = "failed" if gave_up else "retry"
                status = NotificationStatus.FAILED if gave_up else NotificationStatus.PENDING
    next_at = now + backoff(attempt, first=retry_seconds) if status == NotificationStatus.PENDING else None
    with session_scope(engine, write=True) as session:
        NotificationRepository(session).record_attempt(
            notification_id=row.id, attempt=attempt, channel=channel.name, at=now, outcome=result, error=error,
            status=status, next_attempt_at=next_at)
        if result != "expired":  # a person's contact was read to send it
            audit.record(session, actor_member_id=None, actor_code=DISPATCHER_CODE, action="notification.send",
                         person_id=person_id, purpose=None,
                         details={"notification_id": row.id, "kind": row.kind, "channel": channel.name,
                                  "attempt": attempt, "outcome": result})
    outcome.sent += result == "sent"
    outcome.retried += result == "retry"
    outcome.failed += result == "failed"
    outcome.expired += result == "expired"


@dataclass(frozen=True, slots=True)
class Sent:
    """A message to a person as they may see it again: its kind, subject and delivery (never its text, which
    may have been a sign-in code)."""

    kind: str
    subject: str
    created_at: datetime
    status: str
    sent_at: datetime | None


def messages_about(session: Session, *, vault: PiiVault, person_ids: set[int], documents: set[tuple[str, str]],
                   at: set[datetime]) -> list[Sent]:
    """The messages to a person: those naming one of ``person_ids``, and those addressed by one of their
    identity ``documents`` ((id type, number)) written at one of the moments ``at`` (when the consents about
    them changed); oldest first. No principal: the caller checked who asks and audits."""
    rows = NotificationRepository(session).about(person_ids=sorted(person_ids), id_types=sorted({t for t, _ in documents}),
                                                 at=sorted(at))
    found = []
    for row in rows:
        if row.person_id is None and (row.subject_id_type, vault.decrypt(row.subject_id_enc)) not in documents:
            continue
        found.append(Sent(row.kind, vault.decrypt_json(row.message_enc)["subject"], row.created_at, row.status,
                          row.sent_at))
    return found


def message_text(vault: PiiVault, message_enc: bytes) -> dict[str, str]:
    """The subject and body of a stored message (tests, the operator's checks)."""
    return json.loads(vault.decrypt(message_enc))

"""Queries of the notifications domain: the outbox and its attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from openbureau.kit.dialects import dialect_for
from openbureau.notifications.models import DeliveryAttempt, Notification, NotificationStatus

N = Notification.__table__.c
_DUE = (N.id, N.kind, N.person_id, N.subject_id_type, N.subject_id_enc, N.recipient_enc, N.message_enc,
        N.attempts, N.expires_at, N.created_at)


class NotificationRepository:
    """All SQL about the outbox."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, rows: list[dict]) -> None:
        """Write new outbox rows (the same columns in each) in the caller's transaction."""
        conn = self.session.connection()
        dialect_for(conn).insert_rows(conn, Notification.__table__, rows)

    def claim_due(self, *, now: datetime, limit: int, lease_until: datetime) -> Sequence[Row]:
        """Pending messages due by ``now``, leased to the caller until ``lease_until``: another dispatcher skips
        them (PostgreSQL: rows locked by another are skipped; SQLite has one writer), and a dispatcher killed
        mid-way leaves them due again when the lease ends. Messages that expire (sign-in codes) go first, then
        the oldest, so that a code never waits behind a backlog of notices."""
        stmt = (select(*_DUE).where(N.status == NotificationStatus.PENDING, N.next_attempt_at <= now)
                .order_by(N.expires_at.is_(None), N.next_attempt_at, N.id).limit(limit)
                .with_for_update(skip_locked=True))
        rows = self.session.connection().execute(stmt).all()
        if rows:
            self.session.connection().execute(update(Notification.__table__).where(N.id.in_([r.id for r in rows]))
                                              .values(next_attempt_at=lease_until))
        return rows

    def record_attempt(self, *, notification_id: int, attempt: int, channel: str, at: datetime, outcome: str,
                       error: str | None, status: str, next_attempt_at: datetime | None) -> None:
        """Store one attempt and the message's new state."""
        conn = self.session.connection()
        conn.execute(insert(DeliveryAttempt.__table__).values(
            notification_id=notification_id, attempt=attempt, channel=channel, at=at, outcome=outcome,
            error=None if error is None else error[:200]))
        values: dict = {"status": status, "attempts": attempt}
        if status == NotificationStatus.SENT:
            values.update(sent_at=at, channel=channel)
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        conn.execute(update(Notification.__table__).where(N.id == notification_id).values(**values))

    def get(self, notification_id: int) -> Notification | None:
        """One outbox row."""
        return self.session.get(Notification, notification_id)

    def of_person(self, person_id: int) -> list[Notification]:
        """The messages to one person, oldest first."""
        return list(self.session.scalars(select(Notification).where(Notification.person_id == person_id)
                                         .order_by(Notification.id)))

    def about(self, *, person_ids: Sequence[int], id_types: Sequence[str], at: Sequence[datetime]) -> Sequence[Row]:
        """(kind, person_id, subject_id_type, subject_id_enc, message_enc, status, created_at, sent_at) of the
        messages to ``person_ids``, and of those addressed by an identity document of one of ``id_types`` made
        at one of the moments ``at`` (candidates: the caller compares their documents), oldest first."""
        to_person = N.person_id.in_(list(person_ids))
        cond = to_person if not (id_types and at) else or_(to_person, and_(
            N.person_id.is_(None), N.subject_id_type.in_(list(id_types)), N.created_at.in_(list(at))))
        return self.session.connection().execute(
            select(N.kind, N.person_id, N.subject_id_type, N.subject_id_enc, N.message_enc, N.status, N.created_at,
                   N.sent_at).where(cond).order_by(N.created_at, N.id)).all()

    def attempts_of(self, notification_id: int) -> list[DeliveryAttempt]:
        """Every attempt at one message, in order."""
        return list(self.session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.notification_id == notification_id).order_by(DeliveryAttempt.attempt)))

    def counts(self) -> dict[str, int]:
        """Messages per status."""
        return {s: int(n) for s, n in self.session.execute(
            select(N.status, func.count()).group_by(N.status))}

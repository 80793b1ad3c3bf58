"""Tables of the notifications domain: the outbox and every delivery attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class NotificationStatus:
    """Where a message stands: waiting (``pending``), delivered (``sent``) or given up (``failed``)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    """One message to a person, written in the same transaction as the event that causes it.

    The recipient is named in one of three ways, resolved when the message is sent so that the newest
    contact on file is used: an address sealed with the message (``recipient_enc``: a sign-in code goes to the
    phone it was promised to), a person (``person_id``: a hard inquiry), or an identity document
    (``subject_id_type`` and ``subject_id_enc``: a consent, which may name a person the bureau has no file of
    yet). The text is sealed too; nothing personal is in clear.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "status", "next_attempt_at"), Index(None, "person_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), doc="signin.code, inquiry.hard, consent.granted, consent.revoked, "
                                                          "authority.request, negative.new, dispute.*, alert.*, "
                                                          "freeze.*, identity_theft.blocked, objection.changed, "
                                                          "erasure.done")
    person_id: Mapped[int | None] = mapped_column(BigInteger)
    subject_id_type: Mapped[str | None] = mapped_column(String(16))
    subject_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info=CIPHERTEXT)
    recipient_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info=CIPHERTEXT)
    message_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT, doc="JSON {subject, body}, sealed.")
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="Not taken before (a notice owed later).")
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="Not worth sending after (a sign-in code).")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    channel: Mapped[str | None] = mapped_column(String(16), doc="The channel that delivered it.")


class DeliveryAttempt(Base):
    """One try at delivering a notification: when, through which channel, and how it ended."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16), doc="sent, retry, failed or expired")
    error: Mapped[str | None] = mapped_column(String(200), doc="What went wrong; never an address or a text.")

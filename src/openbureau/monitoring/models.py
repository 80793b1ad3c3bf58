"""Tables of the monitoring domain: registrations, triggers, webhook endpoints, deliveries and attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT, blind_index_of
from openbureau.kit.db import Base, BigId, UtcDateTime


class MonitoredSubject(Base):
    """A subject a lender registered for monitoring: the identity document sealed and blind-indexed, the
    person it named when registered, the lender's own reference and the lawful basis it was checked on."""

    __tablename__ = "monitored_subjects"
    __table_args__ = (UniqueConstraint("subscriber_id", "id_type", "id_index"), Index(None, "person_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reference: Mapped[str] = mapped_column(String(64), doc="The lender's own reference (an account number).")
    id_type: Mapped[str] = mapped_column(String(32))
    id_index: Mapped[bytes] = mapped_column(LargeBinary(16), info=blind_index_of("id_enc", "id_type"))
    id_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    person_id: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(String(80), doc="consent:<ref> or the exception relied on.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    score_threshold: Mapped[int | None] = mapped_column(
        Integer, doc="Points the score must move (either way) for a score_change trigger; None: not watched.")
    score_baseline: Mapped[int | None] = mapped_column(
        Integer, doc="The score the last trigger (or the first look) saw; changes are measured from it.")


class Trigger(Base):
    """Something a monitoring lender is told about one of its subjects: the minimum (kind, category, when,
    the lender's own reference), never another lender's name or an amount."""

    __tablename__ = "monitoring_triggers"
    __table_args__ = (Index(None, "subscriber_id", "id"), Index(None, "person_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[int] = mapped_column(BigInteger, doc="The registration (it may be deleted since).")
    person_id: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), doc="new_credit, delinquency, fraud_alert, freeze, score_change, "
                                                      "identity_change")
    category: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookEndpoint(Base):
    """Where a lender receives its triggers; the signing secret sealed, and the one it replaced while its
    grace period lasts."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index(None, "subscriber_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    url: Mapped[str] = mapped_column(String(500))
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    previous_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info=CIPHERTEXT)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeliveryStatus:
    """Where a delivery stands: waiting or leased (``pending``), ``delivered``, or given up (``dead``)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class WebhookDelivery(Base):
    """One trigger to one endpoint, with its idempotency key (``delivery_id``), written with the trigger.

    ``next_attempt_at`` is also the lease: a worker that claims a delivery pushes it past the lease's end, so a
    worker killed mid-delivery leaves it due again, under the same delivery id."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index(None, "status", "next_attempt_at"), Index(None, "endpoint_id", "status", "id"),
                      Index(None, "subscriber_id", "id"), Index(None, "endpoint_id", "subject_id", "status", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    subscriber_id: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[int | None] = mapped_column(
        BigInteger, doc="The trigger's registration: the order is kept per endpoint and registration (always "
                        "written; nullable only because revision 0021 filled it in place, without a rebuild).")
    trigger_id: Mapped[int] = mapped_column(ForeignKey("monitoring_triggers.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retry_until: Mapped[datetime] = mapped_column(UtcDateTime, doc="Failures after it are dead (reset by a replay).")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200), doc="What went wrong; never a personal value.")


class WebhookAttempt(Base):
    """One try at a delivery: when, the answer's status, how long it took, and how it ended."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_row_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16), doc="delivered, retry or dead")
    error: Mapped[str | None] = mapped_column(String(200))

"""API schemas of the monitoring domain: registrations, triggers, webhook endpoints and deliveries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openbureau.consent.schemas import Subject

MAX_BULK = 1_000  # subjects registered in one request
REFERENCE = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$",
                  description="Your own reference for the subject (an account number); echoed in every trigger.")


SCORE_THRESHOLD = Field(default=None, ge=1, le=1_000, description="Points the person's score must move, either "
                        "way, from the score last told, for a score_change trigger; null: the score is not watched.")


class SubscriptionCreate(BaseModel):
    """A subject to monitor: its identity document, your reference and, optionally, the consent relied on."""

    subject: Subject
    reference: str = REFERENCE
    consent_ref: str | None = Field(default=None, min_length=1, max_length=64)
    score_threshold: int | None = SCORE_THRESHOLD


class SubscriptionUpdate(BaseModel):
    """A registration's score watch: the threshold in points, or null to stop watching the score."""

    score_threshold: int | None = SCORE_THRESHOLD


class SubscriptionBulkCreate(BaseModel):
    """Up to 1,000 subjects at once; each is checked on its own."""

    subscriptions: list[SubscriptionCreate] = Field(min_length=1, max_length=MAX_BULK)


class SubscriptionRead(BaseModel):
    """A registration as its lender sees it (never the identity number)."""

    id: int
    reference: str
    id_type: str
    basis: str
    created_at: datetime
    score_threshold: int | None = None


class BulkOutcome(BaseModel):
    """What happened to one subject of a bulk registration."""

    position: int
    reference: str
    outcome: str  # registered | refused
    subscription_id: int | None = None
    code: str | None = None
    message: str | None = None


class BulkResult(BaseModel):
    """Counts and each subject's outcome, in the order sent."""

    registered: int
    refused: int
    outcomes: list[BulkOutcome]


class TriggerRead(BaseModel):
    """One trigger: what happened, to the subject of which of your references, when; nothing more."""

    id: int
    kind: str
    category: str
    reference: str
    occurred_at: datetime
    created_at: datetime


class EndpointCreate(BaseModel):
    """A URL to receive your triggers (HTTPS)."""

    url: str = Field(min_length=8, max_length=500)


class EndpointRead(BaseModel):
    """An endpoint (its secret is shown once, when made or rotated)."""

    id: int
    url: str
    created_at: datetime
    previous_secret_valid_until: datetime | None = None


class EndpointSecret(EndpointRead):
    """An endpoint with its signing secret: store it now, the bureau will not show it again."""

    secret: str


class RotateSecret(BaseModel):
    """How long the replaced secret still signs deliveries beside the new one."""

    grace_hours: int = Field(default=24, ge=0, le=168)


class DeliveryRead(BaseModel):
    """A delivery as its lender's log shows it."""

    id: int
    delivery_id: str
    endpoint_id: int
    trigger_id: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None

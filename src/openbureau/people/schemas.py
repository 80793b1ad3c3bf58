"""API schemas of the people domain: sign-in, sessions, the person's view of their consents, erasure and
objection (the export's document: ``people/export_schemas.py``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from openbureau.consent.profiles import ErasureScope, Purpose
from openbureau.consent.schemas import ConsentRead, Subject


class SigninStart(BaseModel):
    """Ask for a sign-in code: the identity document the bureau knows you by."""

    document: Subject


class SigninStarted(BaseModel):
    """The same answer whether or not the bureau knows the document."""

    challenge: str = Field(description="Send it back with the code (POST /v1/me/signin/verify).")
    expires_at: datetime
    message: str


class SigninVerify(BaseModel):
    """The code received, with the challenge it answers."""

    challenge: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=1, max_length=16)


class SessionIssued(BaseModel):
    """A signed-in session: send the token as ``Authorization: Bearer <token>`` to /v1/me."""

    token: str
    token_type: str = "bearer"
    expires_at: datetime


class HeldByLender(BaseModel):
    """Records a lender furnished about you that are held back because it holds no consent to furnish."""

    lender: str
    lender_name: str | None
    records: int


class ConsentWallet(BaseModel):
    """Every consent held about you, and what lenders hold back for want of your consent."""

    consents: list[ConsentRead]
    held_for_consent: list[HeldByLender]


class RevokeMine(BaseModel):
    """Why you revoke a consent (optional)."""

    reason: str = Field(default="revoked by the person", min_length=1, max_length=500)


# -- erasure and objection --------------------------------------------------------------------------------
class ErasureCreate(BaseModel):
    """What to erase: ``held_records`` (records held back for want of your consent), ``expired_negative``
    (negative months past their retention period) or ``all_allowed`` (everything your jurisdiction allows)."""

    scope: ErasureScope


class Refusal(BaseModel):
    """Something the erasure left in place, and why."""

    what: str = Field(description="negative_within_retention, credit_history or logs")
    count: int | None = Field(description="How many (months or records), when countable.")
    code: str
    reason: str


class ErasureResult(BaseModel):
    """What was erased (counts) and what was kept and why."""

    id: int
    scope: str
    jurisdiction: str
    status: str = Field(description="completed, or in_progress when a step was cut short: ask again")
    requested_at: datetime
    completed_at: datetime | None
    erased: dict[str, int] = Field(description="held_records, held_events, expired_negative_months, "
                                               "expired_negative_records")
    grounds: dict[str, str] = Field(description="The rule that allows each category erased.")
    refused: list[Refusal]


class ObjectionCreate(BaseModel):
    """The purpose you refuse: a use of your file that needs no consent of yours (``GET /v1/me/objections``
    lists them)."""

    purpose: Purpose


class ObjectionRead(BaseModel):
    """An objection: in force from ``objected_at`` until it is withdrawn."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    purpose: str
    objected_at: datetime
    withdrawn_at: datetime | None


class Objections(BaseModel):
    """The purposes you may object to under the bureau's jurisdiction (with the rule), and your objections."""

    jurisdiction: str
    objectable: dict[str, str]
    note: str
    objections: list[ObjectionRead]

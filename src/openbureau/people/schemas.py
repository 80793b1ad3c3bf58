"""API schemas of the people domain: sign-in, sessions, and the person's view of their consents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

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

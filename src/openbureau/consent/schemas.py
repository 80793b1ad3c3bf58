"""API schemas of the consent domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from openbureau.consent.profiles import Purpose

ID_TYPES = ("CN_RESIDENT_ID", "PASSPORT", "OTHER")


class Subject(BaseModel):
    """Who the data is about, by identity document."""

    id_type: str = Field(pattern="^(CN_RESIDENT_ID|PASSPORT|OTHER)$")
    id_number: str = Field(min_length=1, max_length=32)


class Evidence(BaseModel):
    """How and when the person consented."""

    channel: str = Field(min_length=1, max_length=32, description="app, web, paper, branch, call, api ...")
    captured_at: AwareDatetime
    document_hash: str | None = Field(default=None, max_length=128,
                                      description="Hash or signature of the signed consent document.")


class ConsentCreate(BaseModel):
    """A consent the calling member records."""

    consent_ref: str = Field(min_length=1, max_length=64, description="Your own reference of the consent.")
    subject: Subject
    purpose: Purpose
    scope: list[str] = Field(default_factory=lambda: ["accounts"], min_length=1)
    valid_from: AwareDatetime | None = Field(default=None, description="Default: now.")
    valid_until: AwareDatetime | None = None
    evidence: Evidence


class ConsentRevoke(BaseModel):
    """Why a consent is revoked."""

    reason: str = Field(default="revoked by the person", max_length=500)


class ConsentRead(BaseModel):
    """A consent as its grantee (or the operator) sees it; the identity number is masked."""

    id: int
    consent_ref: str
    grantee: str
    purpose: str
    scope: list[str]
    subject_id_type: str
    subject_id_number_masked: str
    valid_from: datetime
    valid_until: datetime | None
    status: str = Field(description="active, revoked, expired or pending, as of now")
    evidence_channel: str
    evidence_at: datetime
    evidence_hash: str | None
    revoked_at: datetime | None
    revocation_reason: str | None
    source: str


class ImportFinding(BaseModel):
    """A problem with one line of a consent file."""

    line: int
    field: str | None
    code: str
    message: str


class ConsentImportResult(BaseModel):
    """What a consent file came to."""

    received: int
    created: int
    revoked: int
    unchanged: int
    rejected: int
    released: int = Field(description="quarantined records released because their consent arrived")
    findings: list[ImportFinding]

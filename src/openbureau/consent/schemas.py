"""API schemas of the consent domain."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from openbureau.consent.profiles import Purpose
from openbureau.documents import id_problem, normalise_id

# How far a consent's capture time may lie ahead of the bureau's clock (members' clocks drift a little).
CLOCK_SKEW = timedelta(minutes=5)
# How a consent may have been captured (docs/consent.md, "Evidence").
EVIDENCE_CHANNELS = ("app", "web", "sms", "paper", "branch", "call", "api")
# The signed consent document's digest (SHA-256 or SM3 as 64 hex digits, SHA-512 as 128, optionally
# prefixed with the algorithm) or a detached signature (``sig:`` and base64, e.g. Ed25519 or ECDSA).
DOCUMENT_HASH_PATTERN = (r"^(?:(?:sha256:|sm3:)?[0-9a-fA-F]{64}|(?:sha512:)?[0-9a-fA-F]{128}"
                         r"|sig:[A-Za-z0-9+/_=-]{43,124})$")


class Subject(BaseModel):
    """Who the data is about, by identity document; the number must be well formed, as intake requires."""

    id_type: Literal["CN_RESIDENT_ID", "PASSPORT", "OTHER"]
    id_number: str = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _well_formed(self) -> Subject:
        self.id_number = normalise_id(self.id_number)
        problem = id_problem(self.id_type, self.id_number)
        if problem is not None:
            raise ValueError(f"{problem[0]}: {problem[1]}")
        return self


class Evidence(BaseModel):
    """How and when the person consented: the channel, the moment and the signed document's hash."""

    channel: Literal["app", "web", "sms", "paper", "branch", "call", "api"] = Field(
        description="How the consent was captured: " + ", ".join(EVIDENCE_CHANNELS))
    captured_at: AwareDatetime = Field(description="When the person gave the consent; not in the future.")
    document_hash: str = Field(pattern=DOCUMENT_HASH_PATTERN, max_length=128,
                               description="Hash (hex SHA-256/SM3/SHA-512) or signature (sig:base64) of the "
                                           "signed consent document.")


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
    findings: list[ImportFinding] = Field(description="the file's first 1,000 findings, in line order")
    finding_counts: dict[str, int] = Field(default_factory=dict, description="every finding, counted by code")

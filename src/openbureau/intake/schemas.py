"""API schemas of the intake domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SubmissionRead(BaseModel):
    """A submission and its outcome. ``received`` = ``accepted`` + ``warnings`` + ``rejected``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    format: str
    sha256: str
    size_bytes: int
    status: str = Field(description="received (not yet loaded), loaded, or failed (see error_code)")
    received_at: datetime
    loaded_at: datetime | None
    records_received: int
    records_accepted: int = Field(description="stored without findings")
    records_warnings: int = Field(description="stored, with warnings")
    records_rejected: int = Field(description="not stored; see the findings")
    records_quarantined: int = Field(description="stored records held back awaiting consent")
    findings_count: int
    error_code: str | None = None
    error_message: str | None = None
    repeated: bool = Field(default=False, description="the same bytes were submitted before")


class FindingRead(BaseModel):
    """One problem with one record (line 0: the file as a whole)."""

    model_config = ConfigDict(from_attributes=True)

    line: int
    furnisher_account_id: str | None
    field: str | None
    code: str
    severity: str
    value: str | None
    message: str


class FindingsPage(BaseModel):
    """A page of findings."""

    submission_id: int
    total: int
    offset: int
    items: list[FindingRead]

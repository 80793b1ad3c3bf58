"""API schemas of the intake domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SubmissionRead(BaseModel):
    """A submission and its outcome. ``received`` = ``accepted`` + ``warnings`` + ``rejected``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    format: str
    sha256: str
    size_bytes: int
    kind: str = Field(default="records", description="records (a monthly file) or events (lending events)")
    status: str = Field(description="received (not yet loaded), loaded, or failed (see error_code)")
    received_at: datetime
    loaded_at: datetime | None
    records_received: int
    records_accepted: int = Field(description="stored without findings")
    records_warnings: int = Field(description="stored, with warnings")
    records_rejected: int = Field(description="not stored; see the findings")
    records_quarantined: int = Field(description="stored records held back awaiting consent")
    parties_held: int | None = Field(default=0, description="related persons (co-borrowers, guarantors) stored "
                                                            "held back for want of their consent to furnish")
    findings_count: int = Field(description="every finding of the file, counted")
    findings_stored: int | None = Field(
        default=None, description="findings stored and listed: at most a sample per code (null: all of them)")
    finding_counts: dict[str, int] | None = Field(default=None, description="exact number of findings by code")
    findings_note: str | None = Field(default=None, description="says when some findings were counted, not stored")
    file_purged_at: datetime | None = Field(default=None, description="when the kept file was purged (retention)")
    error_code: str | None = None
    error_message: str | None = None
    repeated: bool = Field(default=False, description="the same bytes were submitted before")

    @model_validator(mode="after")
    def _note_unstored(self) -> SubmissionRead:
        if self.findings_stored is not None and self.findings_stored < self.findings_count:
            self.findings_note = findings_note(self.findings_count, self.findings_stored)
        return self


def findings_note(counted: int, stored: int) -> str:
    """What to say when only a sample of a file's findings was stored."""
    return (f"{counted:,} findings were counted (see finding_counts); only the first of each code were stored: "
            f"{stored:,} are listed, the other {counted - stored:,} were not stored")


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
    total: int = Field(description="findings listed (stored)")
    counted: int = Field(description="every finding of the file, stored or not")
    finding_counts: dict[str, int] | None = Field(default=None, description="exact number of findings by code")
    note: str | None = Field(default=None, description="says when some findings were counted, not stored")
    offset: int
    items: list[FindingRead]


class FurnisherIntakeStats(BaseModel):
    """Aggregate intake figures of one furnisher."""

    furnisher: str
    submissions: int
    records_received: int
    records_rejected: int
    records_stored: int
    records_held: int = Field(description="stored records held in quarantine now (no consent)")
    consent_coverage: float = Field(description="share of stored records not held for want of consent")

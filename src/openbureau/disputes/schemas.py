"""API schemas of the disputes domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from openbureau.consent.schemas import Subject
from openbureau.disputes.models import DisputeKind, DisputeOutcome


class DisputeCreate(BaseModel):
    """A person's dispute, as recorded at the bureau."""

    subject: Subject
    kind: DisputeKind
    lender: str | None = Field(default=None, max_length=32, description="The furnisher's member code (account).")
    furnisher_account_id: str | None = Field(default=None, max_length=64)
    reporting_period: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                         description="The disputed month; omitted: the whole account.")
    inquiry_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="The disputed inquiry.")
    statement: str = Field(min_length=1, max_length=2000, description="What the person says is wrong.")
    channel: str = Field(default="counter", pattern="^(counter|portal|mail|call)$")


class DisputeRead(BaseModel):
    """A dispute as the bureau's staff see it (the statement is shown only to the person and to staff)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    kind: str
    furnisher_id: int | None
    furnisher_account_id: str | None
    reporting_period: str | None
    inquiry_id: int | None
    status: str
    outcome: str | None
    channel: str
    filed_by: str
    filed_at: datetime
    due_at: datetime
    resolved_at: datetime | None


class DisputeResolve(BaseModel):
    """How a dispute ended."""

    outcome: DisputeOutcome

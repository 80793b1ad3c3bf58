"""API schemas of the disputes domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from openbureau.consent.schemas import Subject
from openbureau.disputes.models import DisputeKind, DisputeOutcome


class MyDisputeCreate(BaseModel):
    """A dispute the signed-in person files about their own file (``/v1/me/disputes``): it names no person,
    and a body that does is refused."""

    model_config = ConfigDict(extra="forbid")

    kind: DisputeKind
    lender: str | None = Field(default=None, max_length=32, description="The furnisher's member code (account).")
    furnisher_account_id: str | None = Field(default=None, max_length=64)
    reporting_period: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                         description="The disputed month; omitted: the whole account.")
    inquiry_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="The disputed inquiry.")
    fraud_report_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                        description="The disputed fraud report (its id is in your report).")
    statement: str = Field(min_length=1, max_length=2000, description="What the person says is wrong.")


class DisputeCreate(MyDisputeCreate):
    """A person's dispute, as recorded at the bureau: the operator names the person (``subject``); the person
    signed in names nobody (their own file)."""

    subject: Subject | None = None
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
    fraud_report_id: int | None = None
    status: str
    outcome: str | None
    channel: str
    filed_by: str
    filed_at: datetime
    due_at: datetime
    resolved_at: datetime | None


class MyDisputeRead(BaseModel):
    """One of the person's own disputes, as they follow it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    furnisher_account_id: str | None
    reporting_period: str | None
    inquiry_id: int | None
    fraud_report_id: int | None = None
    status: str
    outcome: str | None = Field(description="verified, corrected or deleted, once answered.")
    filed_at: datetime
    due_at: datetime = Field(description="The lender answers by this instant; from it on, unanswered, the item "
                                         "is left out of your reports until it does.")
    resolved_at: datetime | None


class DisputeResolve(BaseModel):
    """How a dispute ended."""

    outcome: DisputeOutcome


MAX_EVIDENCE = 4_000  # characters of a furnisher's evidence
MAX_CONSUMER_STATEMENT = 200  # characters of the person's statement shown on reports


class TaskRead(BaseModel):
    """A furnisher's open investigation task: the disputed item of its own account and the deadline."""

    id: int
    dispute_id: int
    furnisher_account_id: str
    reporting_period: str | None = Field(description="The disputed month; None: the whole account.")
    kind: str = Field(description="What the person disputes: account data.")
    due_at: datetime = Field(description="Answer before this instant; from it on the item is left out of "
                                         "every report until you answer (FCRA §611(a)(5)).")
    created_at: datetime


class CorrectionRef(BaseModel):
    """The correction record a ``corrected`` answer rests on: its submission, and optionally its period and
    version (the record's key, with the task's account)."""

    submission_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    reporting_period: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    version: int | None = Field(default=None, ge=1, le=32_767)


class TaskAnswer(BaseModel):
    """The furnisher's answer to a dispute of its data."""

    outcome: DisputeOutcome = Field(description="verified (the item is right), corrected (a correction record "
                                                "was sent through intake) or deleted (delete the item).")
    evidence: str = Field(min_length=1, max_length=MAX_EVIDENCE, description="What was checked, and how.")
    correction: CorrectionRef | None = Field(default=None, description="Required when corrected.")


class TaskAnswered(BaseModel):
    """An answered task."""

    id: int
    dispute_id: int
    outcome: str
    late: bool = Field(description="Answered at or after the deadline.")
    answered_at: datetime
    correction_submission_id: int | None
    correction_period: str | None
    correction_version: int | None


class MyStatement(BaseModel):
    """The person's statement about a disputed item, shown on every later report of it (FCRA §611(b))."""

    statement: str = Field(min_length=1, max_length=MAX_CONSUMER_STATEMENT)


class StatementCreate(MyStatement):
    """The person's statement, taken by the operator at the person's request."""

    subject: Subject

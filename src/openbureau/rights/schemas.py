"""API schemas of the rights domain: fraud alerts, security freezes and identity-theft reports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from openbureau.consent.schemas import Subject
from openbureau.rights.models import AlertKind

MAX_BLOCKED_ACCOUNTS = 50


class SubjectOnly(BaseModel):
    """A request about one person's file (the identity number travels in the body, never in a URL)."""

    subject: Subject


class MyFraudAlert(BaseModel):
    """Place a fraud alert on one's own file (``/v1/me``)."""

    kind: AlertKind = AlertKind.INITIAL
    identity_theft_report_ref: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="The identity-theft report's reference (police or authority): required for an extended alert.")


class FraudAlertCreate(MyFraudAlert):
    """Place a fraud alert on the person's file (the operator, at the person's request)."""

    subject: Subject


class MyFreezeLift(BaseModel):
    """Lift a freeze: for a window (``starts_at`` included, ``ends_at`` excluded), or for good without one."""

    starts_at: datetime | None = Field(default=None, description="Default: now.")
    ends_at: datetime | None = Field(default=None, description="None: the freeze is removed for good.")


class FreezeLiftCreate(MyFreezeLift):
    """Lift the person's freeze (the operator, at the person's request)."""

    subject: Subject


class BlockedAccount(BaseModel):
    """An account of the person's file named in an identity-theft report."""

    lender: str = Field(min_length=1, max_length=32, description="The furnisher's member code.")
    furnisher_account_id: str = Field(min_length=1, max_length=64)


class MyTheftReport(BaseModel):
    """One's identity-theft report and the accounts of one's file it names, to be blocked (FCRA §605B)."""

    report_ref: str = Field(min_length=1, max_length=64, description="The report's reference at the authority.")
    accounts: list[BlockedAccount] = Field(default_factory=list, max_length=MAX_BLOCKED_ACCOUNTS)


class IdentityTheftReportCreate(MyTheftReport):
    """The person's identity-theft report (the operator, at the person's request)."""

    subject: Subject


class FraudAlertRead(BaseModel):
    """A fraud alert as the person and the operator see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    placed_by: str
    placed_at: datetime
    expires_at: datetime
    removed_at: datetime | None


class FreezeLiftRead(BaseModel):
    """A window during which the freeze does not refuse."""

    model_config = ConfigDict(from_attributes=True)

    starts_at: datetime
    ends_at: datetime


class FreezeRead(BaseModel):
    """A security freeze with its temporary lifts."""

    id: int
    placed_by: str
    placed_at: datetime
    removed_at: datetime | None
    lifts: list[FreezeLiftRead]


class TheftReportRead(BaseModel):
    """A filed identity-theft report (its reference is shown only to the person and the operator)."""

    id: int
    report_ref: str
    filed_at: datetime


class ProtectionsRead(BaseModel):
    """Everything protecting the person's file, and what is in force at ``at``."""

    at: datetime
    fraud_alert_in_force: bool
    frozen: bool = Field(description="New-credit inquiries are refused at this moment.")
    fraud_alerts: list[FraudAlertRead]
    freezes: list[FreezeRead]
    identity_theft_reports: list[TheftReportRead]

"""API schemas of the fraud domain: the fraud list's reports as a lender files and reads them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from openbureau.consent.schemas import Subject

MAX_ACCOUNTS = 20  # accounts named in one report
MAX_DESCRIPTION = 1_000  # characters of the lender's description


class FraudCategory(StrEnum):
    """What the lender confirmed."""

    IDENTITY_THEFT = "identity_theft"  # someone used the person's identity
    SYNTHETIC_IDENTITY = "synthetic_identity"  # an identity made up of real and invented parts
    APPLICATION_FRAUD = "application_fraud"  # false statements or documents in an application
    FIRST_PARTY_FRAUD = "first_party_fraud"  # borrowing with no intent to repay (bust-out)
    ACCOUNT_TAKEOVER = "account_takeover"  # the account was taken over by someone else


class FraudReportCreate(BaseModel):
    """Confirmed fraud about a person the bureau holds a file of, with its evidence."""

    model_config = ConfigDict(extra="forbid")

    subject: Subject
    category: FraudCategory
    occurred_on: date = Field(description="When the fraud was committed (or found, if unknown); not in the future.")
    reference: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$",
                           description="Your own case reference.")
    description: str = Field(min_length=10, max_length=MAX_DESCRIPTION,
                             description="What was confirmed and how (documents checked, the victim's statement).")
    accounts: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=MAX_ACCOUNTS,
                                description="Your account or application numbers concerned (64 characters each).")
    police_report_ref: str | None = Field(default=None, min_length=1, max_length=64,
                                          description="The police report's reference, if one was made.")

    def evidence(self) -> dict:
        """The evidence kept encrypted with the report."""
        return {"description": self.description, "accounts": self.accounts, "police_report_ref": self.police_report_ref}


class FraudReportWithdraw(BaseModel):
    """Why the reporting lender withdraws its report."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


class FraudReportRead(BaseModel):
    """A report as the lender that filed it sees it (never the identity number)."""

    id: int
    category: str
    occurred_on: date
    reference: str
    status: str
    reported_at: datetime
    withdrawn_at: datetime | None = None

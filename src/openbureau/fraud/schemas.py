"""API schemas of the fraud domain: the fraud list's reports as a lender files and reads them, the fraud-risk
score in a report, and the regulator's aggregates of rings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from openbureau.consent.schemas import Subject
from openbureau.scoring.schemas import Reason

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


class FraudScoreView(BaseModel):
    """The fraud-risk score of the released fraud model: separate from the credit score, and read the other way
    round (higher means more risk)."""

    score: int = Field(description="0-999; higher means more risk of fraud (500: even odds; +50 points doubles "
                                   "the odds).")
    band: str = Field(description="low < 300 <= medium < 500 <= high < 700 <= very high.")
    scale: str
    model_version: str
    probability_fraud: float = Field(description="Modelled chance that the file is a fraudulent identity.")
    reasons: list[Reason] = Field(description="Up to 4 factors that added the most risk, in plain words.")


class RingCell(BaseModel):
    """Rings of one group (a size band, or a region) and their exposure across lenders; the figures of a cell
    about fewer than k persons are blanked (``suppressed``)."""

    group: str
    rings: int | None
    persons: int | None
    lenders: int | None = Field(description="Distinct lenders holding accounts of the cell's persons.")
    open_accounts: int | None
    open_balance: int | None = Field(description="Balances of the persons' open credit accounts, minor units.")
    past_due_balance: int | None = Field(description="Of which on accounts 30 or more days past due or charged "
                                                     "off, minor units.")
    delinquent_persons: int | None = Field(description="Persons 30 or more days past due in the ring window.")
    suppressed: bool


class RingStatistics(BaseModel):
    """Rings across the market as aggregates for the regulator: never a ring's or a person's identity."""

    built_at: datetime | None = Field(description="When the rings were last built; None before any build.")
    k: int = Field(description="Cells about fewer than k persons are suppressed.")
    min_ring_size: int
    rings: int | None
    persons: int | None
    by_size: list[RingCell]
    by_region: list[RingCell] = Field(description="By province (the first two digits of the resident ID's region "
                                                  "code); other documents: unknown.")

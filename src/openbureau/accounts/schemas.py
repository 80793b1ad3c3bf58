"""API schemas of the accounts domain."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class AccountStateRead(BaseModel):
    """One stored version of an account for one period, as its furnisher sees it."""

    model_config = ConfigDict(from_attributes=True)

    furnisher_account_id: str
    reporting_period: str
    version: int
    submission_id: int
    line: int
    product_type: str
    balance: int
    past_due_amount: int
    days_past_due: int
    payment_status: str
    account_status: str
    correction: int
    negative_held: int = Field(description="1: negative status held back until a notice is furnished")
    held_reason: str | None = Field(description="no_consent: held in quarantine until consent arrives")
    stored_at: datetime


class FundedAccount(BaseModel):
    """An account the viewing member is listed as a funder of, as its newest record in the files describes it
    (standard v1.1; docs/reports.md, The funder's review). No personal identifier: the loan is named by its
    furnisher's account number, as a lender's report names its own customer's account."""

    furnisher: str = Field(description="Member code of the furnisher whose record lists the funder.")
    furnisher_account_id: str = Field(description="That furnisher's account number of the loan.")
    facilitator: str = Field(description="Member code of the platform that originated the loan (the furnisher "
                                         "itself unless its record names another).")
    facilitator_account_id: str = Field(description="The facilitator's account number of the loan.")
    reporting_period: str = Field(description="The newest period reported.")
    product_type: str
    opened_on: date
    currency: str
    share_bp: int = Field(description="The funder's share in basis points (10000 = 100%).")
    balance: int = Field(description="The loan's balance, minor units.")
    funded_balance: int = Field(description="balance x share_bp / 10000, rounded down: the funder's exposure.")
    past_due_amount: int
    days_past_due: int
    payment_status: str
    account_status: str


class FundedAccountPage(BaseModel):
    """A page of funded accounts, in (furnisher, account) order."""

    accounts: list[FundedAccount]
    next_after: str | None = Field(description="Pass as ``after`` for the next page; null: the last page.")

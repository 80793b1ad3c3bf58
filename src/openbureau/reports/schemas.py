"""API schemas of the reports domain."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject


class InquiryCreate(BaseModel):
    """A subscriber's request to look at a person's file."""

    subject: Subject
    purpose: Purpose
    consent_ref: str | None = Field(default=None, max_length=64,
                                    description="Your reference of the person's consent for this purpose.")
    declared_monthly_income: int | None = Field(default=None, ge=0, description="Minor units, if declared.")


class AccountView(BaseModel):
    """One account as the report shows it (latest reporting period)."""

    lender: str = Field(description="The furnisher's code; another lender's name is masked for subscribers.")
    own_account: bool
    product_type: str
    opened_on: date
    currency: str
    credit_limit: int | None
    original_amount: int | None
    balance: int
    amount_due: int
    past_due_amount: int
    days_past_due: int
    payment_status: str = Field(description="PBoC alphabet; negative status without a notice shows as held.")
    account_status: str
    reporting_period: str


class InquiryResult(BaseModel):
    """The answer to an inquiry."""

    inquiry_id: int
    purpose: str
    hard: bool
    basis: str = Field(description="consent:<ref> or the lawful exception relied on")
    person_found: bool
    accounts: list[AccountView]
    created_at: datetime

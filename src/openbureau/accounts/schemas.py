"""API schemas of the accounts domain."""

from __future__ import annotations

from datetime import datetime

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

"""API schemas of an enterprise's report (standard v1.1): the firm's accounts across lenders, as a member
sees them (other lenders masked, their account numbers hidden). Pydantic only."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class EnterpriseAccountView(BaseModel):
    """One credit account of an enterprise borrower, at its newest reported month."""

    lender: str = Field(description="Another lender's name is masked (Lender 1, 2 ...).")
    own_account: bool = Field(description="Furnished by the member viewing the report.")
    account_number: str | None = Field(description="Shown to the lender that furnished it only.")
    product_type: str
    opened_on: date
    closed_on: date | None
    currency: str
    credit_limit: int | None
    original_amount: int | None
    term_months: int | None
    balance: int
    amount_due: int
    amount_paid: int
    past_due_amount: int
    days_past_due: int
    payment_status: str = Field(description="PBoC monthly repayment alphabet.")
    account_status: str
    reporting_period: str = Field(description="The newest period reported.")
    payment_history_start: str = Field(description="Period of the first character of payment_history.")
    payment_history: str = Field(description="One PBoC status per month, oldest first, ending at "
                                             "reporting_period; / where nothing was reported.")


class EnterpriseSummary(BaseModel):
    """Totals over the enterprise's open accounts (amounts in minor units of each account's currency)."""

    credit_accounts: int
    open_accounts: int
    distinct_lenders: int = Field(description="Lenders of open accounts.")
    total_balance: int
    past_due_amount: int
    worst_status: str = Field(description="The worst payment status of any account's newest month (N: none late).")


class EnterpriseReport(BaseModel):
    """An enterprise's credit report: not personal data, so no person's consent is asked (docs/reports.md)."""

    generated_at: datetime
    enterprise_uscc: str = Field(description="The unified social credit code asked about (GB 32100-2015).")
    enterprise_name: str = Field(description="The name in the newest record furnished for the enterprise.")
    summary: EnterpriseSummary
    accounts: list[EnterpriseAccountView] = Field(description="Credit accounts, oldest first.")


class EnterpriseInquiryResult(BaseModel):
    """An enterprise inquiry as logged, and the report when the bureau holds accounts of the enterprise."""

    inquiry_id: int
    purpose: str
    hard: bool
    found: bool = Field(description="The bureau holds published accounts of this enterprise.")
    created_at: datetime
    report: EnterpriseReport | None

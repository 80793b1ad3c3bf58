"""API schemas of an enterprise's report (standard v1.1): the firm's accounts across lenders, as a member
sees them (other lenders masked, their account numbers hidden). Pydantic only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openbureau.reports.schemas import AccountFigures


class EnterpriseAccountView(AccountFigures):
    """One credit account of an enterprise borrower, at its newest reported month (account numbers are shown
    to the lender that furnished them only: the enterprise has no view of its own here)."""


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

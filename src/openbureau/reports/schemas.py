"""API schemas of the reports domain: the consolidated credit report (schema version 1) and inquiries.

The report's JSON Schema is published in ``docs/report-schema.json`` (generated from these models; a test
keeps the two equal) and described field by field in ``docs/reports.md``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.fraud.schemas import FraudScoreView
from openbureau.scoring.schemas import ScoreView
from openbureau.signals.schemas import RiskSignal

REPORT_SCHEMA_VERSION = "1"


class View(StrEnum):
    """Who a report is for."""

    SUBSCRIBER = "subscriber"  # a lender: other lenders masked, other lenders' soft inquiries left out
    CONSUMER = "consumer"  # the person: everything, with who looked at the file and why


class IdentityVariant(BaseModel):
    """One way lenders have described the person, and when."""

    value: str
    first_reported: str = Field(description="First reporting period (YYYY-MM) that carried it.")
    last_reported: str = Field(description="Last reporting period that carried it.")
    lenders: int = Field(description="How many furnishers (lenders or service providers) reported it.")


class PersonSection(BaseModel):
    """Who the report is about, with every name, birth date, phone and address variant on file."""

    id_type: str
    id_number: str = Field(description="Masked in the subscriber view.")
    names: list[IdentityVariant]
    birth_dates: list[IdentityVariant]
    phones: list[IdentityVariant] = Field(description="CN mobile numbers normalised to 11 digits.")
    addresses: list[IdentityVariant]


class Summary(BaseModel):
    """The person's credit at a glance (amounts in minor units of ``currency``; credit accounts only)."""

    currency: str = Field(description="The profile's currency; accounts in others are counted apart.")
    credit_accounts: int
    open_accounts: int
    closed_accounts: int
    distinct_lenders: int = Field(description="Lenders with an open credit account.")
    total_credit_limit: int = Field(description="Limits of open revolving lines and cards.")
    total_balance: int = Field(description="Balances of open credit accounts.")
    revolving_balance: int
    utilisation: float | None = Field(description="Revolving balance / limit; None without a limit.")
    monthly_obligations: int = Field(description="Amounts due this month on open credit accounts.")
    past_due_amount: int
    worst_status_12m: str = Field(description="Worst payment status in the last 12 periods (PBoC alphabet).")
    worst_status_24m: str
    non_credit_accounts: int = Field(description="Utility, telecom and rent accounts.")
    accounts_in_other_currencies: int
    hard_inquiries_12m: int = Field(description="Hard inquiries by any lender in the last 12 months.")


class FunderView(BaseModel):
    """A funder of a loan (furnishing standard v1.1) and its share, named like every other lender."""

    lender: str = Field(description="The funding member: name and code for the person; masked (Lender 1, 2 ...) in "
                                    "the subscriber view unless it is the viewer, like the account's lender.")
    own: bool = Field(description="The member viewing the report.")
    share_bp: int = Field(description="Its share of the loan in basis points (10000 = 100 %).")


class RelatedAccountView(BaseModel):
    """An account another person borrowed that this person answers for: as a guarantor (a guarantee given) or
    as a co-borrower (a joint account). The borrower's identity is never shown to a lender."""

    role: Literal["guarantor", "co_borrower"]
    lender: str = Field(description="Masked (Lender 1, 2 ...) in the subscriber view unless it is the viewer.")
    own_account: bool
    account_number: str | None = Field(description="Shown to the person and to the lender that furnished it.")
    product_type: str
    currency: str
    amount_lent: int | None = Field(description="original_amount, or the credit limit of a revolving line.")
    balance: int
    payment_status: str
    account_status: str
    reporting_period: str
    liability: int | None = Field(description="The guaranteed amount (guarantor) or the joint liability "
                                              "(co-borrower: the balance unless the lender gave another).")
    borrower_name: str | None = Field(default=None, description="The borrower's name, masked; in the person's own "
                                                                "view only.")


class AccountFigures(BaseModel):
    """One credit account at its newest reported month with its repayment record: what every report shows of
    an account (a person's ``AccountView``, an enterprise's ``EnterpriseAccountView``)."""

    lender: str = Field(description="Another lender's name is masked (Lender 1, 2 ...) in the subscriber view.")
    own_account: bool = Field(description="Furnished by the member viewing the report.")
    account_number: str | None = Field(description="Shown to the person and to the lender that furnished it.")
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
    payment_status: str = Field(description="PBoC alphabet; # when negative status awaits a notice (Art. 15).")
    account_status: str
    reporting_period: str = Field(description="The newest period reported.")
    payment_history_start: str = Field(description="Period of the first character of payment_history.")
    payment_history: str = Field(description="One PBoC status per month, oldest first, ending at "
                                             "reporting_period; / where nothing was reported.")


class AccountView(AccountFigures):
    """One credit account with its repayment record."""

    balance_history: list[int | None] = Field(
        default_factory=list, description="The balance reported for each month of payment_history (minor units), "
                                          "oldest first; null where nothing was reported.")
    disputed: bool = Field(description="The person has an open dispute about this account.")
    consumer_statements: list[str] = Field(
        default_factory=list, description="The person's statements about this account (200 characters each, a "
                                          "disputed month's prefixed by it), newest first (FCRA §611(b)).")
    joint: bool = Field(default=False, description="A co-borrower is jointly liable for the account (standard v1.1).")
    facilitator: str | None = Field(
        default=None, description="The platform that originated the loan, when the record shown is a funder's that "
                                  "names it (its own record of the loan is not in the file); named like a lender.")
    funders: list[FunderView] = Field(
        default_factory=list, description="Who funds the loan and in what share, as the newest record lists them "
                                          "(standard v1.1); empty: the lender funds it alone.")
    funder_records: int = Field(
        default=0, description="Records of this same loan that its funders furnished too, counted here once and not "
                               "as accounts of their own (docs/reports.md, one loan reported twice).")


class BusinessAccountView(AccountView):
    """A sole trader's business account (standard v1.1): the owner's debt (PRC Civil Code Art. 56), shown in a
    section of its own with the business it was furnished for."""

    business_name: str = Field(description="The business's registered name as the lender furnished it.")
    enterprise_uscc: str = Field(description="The business's unified social credit code (GB 32100-2015); masked "
                                             "in the subscriber view, like the person's identity number.")


class ObligationView(BaseModel):
    """A non-credit payment obligation (utility, telecom, rent) and its payment record."""

    provider: str
    own_account: bool
    account_number: str | None
    product_type: str
    opened_on: date
    currency: str
    balance: int
    amount_due: int
    past_due_amount: int
    payment_status: str
    account_status: str
    reporting_period: str
    payment_history_start: str
    payment_history: str
    balance_history: list[int | None] = Field(default_factory=list, description="As for credit accounts.")
    months_late_24m: int = Field(description="Months with a past-due status in the last 24 reported.")
    disputed: bool
    consumer_statements: list[str] = Field(default_factory=list, description="As for credit accounts.")


class InquiryView(BaseModel):
    """Someone's look at the file."""

    at: datetime
    lender: str = Field(description="Who looked (masked for other lenders in the subscriber view).")
    purpose: str
    hard: bool = Field(description="A hard inquiry (an application for credit).")
    basis: str | None = Field(description="The consent or exception relied on (the person's view only).")


class DisputeView(BaseModel):
    """An open dispute and its legal deadline."""

    id: int
    kind: str
    lender: str | None
    account_number: str | None
    reporting_period: str | None
    filed_at: datetime
    due_at: datetime
    overdue: bool = Field(default=False, description="Not answered by its deadline: the item is left out of "
                                                     "reports until the furnisher answers (FCRA §611(a)(5)).")


class FraudAlertView(BaseModel):
    """A fraud alert in force on the file (FCRA §605A)."""

    kind: Literal["initial", "extended"]
    placed_at: datetime
    expires_at: datetime
    instruction: str = Field(description="What the lender must do before granting credit.")


class IdentityFlag(BaseModel):
    """A contradiction between lenders' descriptions of the person."""

    kind: str
    lender: str | None
    detected_at: datetime
    explanation: str


class MatchedRecord(BaseModel):
    """An account filed under the person by probabilistic matching rather than by their ID number: shown in the
    person's own report (and to the operator serving them) so that a wrong link can be disputed and split."""

    lender: str
    account_number: str
    linked_at: datetime
    method: Literal["automatic", "operator review"]
    match_probability: float | None
    agreeing: list[str] = Field(description="The descriptions that agreed: name, birth_date, phone, address.")


class RecentLoanView(BaseModel):
    """A loan opened since the lender's last monthly file, as its same-day lending events describe it."""

    lender: str
    own_account: bool
    account_number: str | None = Field(description="Shown to the person and to the lender that holds it.")
    product_type: str | None
    currency: str | None
    amount: int | None = Field(description="Amount lent or credit limit, minor units.")
    term_months: int | None
    opened_on: date | None
    monthly_amount: int = Field(description="The instalment counted among the monthly obligations (minor units).")
    status: str = Field(description="open, late, settled, closed or written off, from the latest event.")
    days_past_due: int
    reported_at: datetime = Field(description="When the latest event about the loan happened.")


class Report(BaseModel):
    """The consolidated credit report of one person."""

    schema_version: Literal["1"] = REPORT_SCHEMA_VERSION
    view: View
    generated_at: datetime
    as_of_period: str = Field(description="The last complete month: the end of the summary's windows.")
    jurisdiction: str
    currency_minor_unit: Literal[2] = Field(
        default=2, description="Every amount in the report (balances, limits, amounts due and past due, declared "
        "income) is an integer in minor units of its currency: divide by 10 ** currency_minor_unit for major "
        "units (CNY: fen, 123456 = 1,234.56 yuan).")
    person: PersonSection
    summary: Summary
    accounts: list[AccountView] = Field(description="Credit accounts, oldest first.")
    obligations: list[ObligationView] = Field(description="Utility, telecom and rent accounts.")
    guarantees: list[RelatedAccountView] = Field(
        default_factory=list, description="Guarantees you have given: accounts of other borrowers this person "
                                          "guarantees, with the guaranteed amount (standard v1.1).")
    joint_accounts: list[RelatedAccountView] = Field(
        default_factory=list, description="Joint accounts another borrower furnished with this person as "
                                          "co-borrower (standard v1.1).")
    business_accounts: list[BusinessAccountView] = Field(
        default_factory=list, description="Credit accounts of the person's businesses as a sole trader (standard "
                                          "v1.1), oldest first; counted in the summary and the score as the "
                                          "person's own debts, not repeated in accounts.")
    recent_loans: list[RecentLoanView] = Field(
        default_factory=list, description="Loans opened since the lenders' last monthly files, from the lending "
                                          "events reported the day they happened; oldest first.")
    inquiries: list[InquiryView] = Field(description="Inquiries of the last 2 years (profile), newest first.")
    disputes: list[DisputeView]
    fraud_alerts: list[FraudAlertView] = Field(default_factory=list, description="Fraud alerts in force.")
    security_freeze: bool = Field(default=False, description="A security freeze is in force: inquiries for new "
                                                             "credit are refused (403 FROZEN).")
    identity_flags: list[IdentityFlag]
    matched_records: list[MatchedRecord] = Field(
        default_factory=list, description="The person's own report only: accounts linked to the person by "
                                          "probabilistic matching, with the evidence's agreeing fields.")
    signals: list[RiskSignal]
    score: ScoreView | None = Field(description="The released model's score with its reasons; None before a "
                                                "model is released.")
    fraud_score: FraudScoreView | None = Field(
        default=None, description="The released fraud model's fraud-risk score (0-999, higher = more risk) with its "
                                  "reasons, separate from the credit score; None before a fraud model is released.")
    notes: list[str] = Field(description="What the reader should know about what is and is not shown.")


class InquiryCreate(BaseModel):
    """A subscriber's request to look at a person's file."""

    subject: Subject
    purpose: Purpose
    consent_ref: str | None = Field(default=None, max_length=64,
                                    description="Your reference of the person's consent for this purpose.")
    declared_monthly_income: int | None = Field(default=None, ge=0, le=10**15,
                                                description="Minor units, if the applicant declared one.")
    history_months: int = Field(default=24, ge=1, le=60, description="Months of repayment record per account.")


class InquiryResult(BaseModel):
    """The answer to an inquiry: the report (with its risk signals) when a file matched."""

    inquiry_id: int
    purpose: str
    hard: bool
    basis: str = Field(description="consent:<ref> or the lawful exception relied on")
    person_found: bool
    identity_confirmation_required: bool = Field(
        default=False, description="A fraud alert is on the file: confirm the applicant's identity before "
                                   "granting credit (FCRA §605A(h)).")
    created_at: datetime
    report: Report | None = Field(description="None when the bureau holds no file for this person.")


class InquiryRead(BaseModel):
    """One of a subscriber's own inquiries, from its log."""

    id: int
    person_found: bool
    enterprise: bool = Field(default=False, description="An enterprise's report (standard v1.1; basis "
                                                        "enterprise): person_found is then false.")
    purpose: str
    hard: bool
    basis: str
    created_at: datetime


class PersonInquiry(BaseModel):
    """A look at the person's file as the person sees it: who, when, why and on what basis."""

    at: datetime
    by: str = Field(description="The member's code; the bureau itself for the person's own reports.")
    by_name: str | None = Field(description="The member's name.")
    purpose: str
    hard: bool = Field(description="A hard inquiry (an application for credit), seen by other lenders.")
    basis: str = Field(description="consent, exception (an existing account) or self")
    consent_ref: str | None = Field(description="The lender's reference of the consent relied on.")
    note: str | None = Field(description="The exception relied on, when no consent was.")


class ReportFormat(StrEnum):
    """How a report is rendered."""

    JSON = "json"
    HTML = "html"
    PDF = "pdf"


class SelfReportCreate(BaseModel):
    """The person's request for their own report, made at the bureau after their identity was checked."""

    subject: Subject
    history_months: int = Field(default=24, ge=1, le=60, description="Months of repayment record per account.")


if __name__ == "__main__":  # python -m openbureau.reports.schemas > docs/report-schema.json
    import json

    print(json.dumps(InquiryResult.model_json_schema(), indent=2, ensure_ascii=False))

"""The export's document: everything the bureau holds about one person, machine-readable (``people.export``).

Versioned by ``format`` and ``format_version``: a field is added without a new version, a field removed or
changed in meaning takes one (docs/rights.md, "Your data, exported").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from openbureau.consent.schemas import ConsentRead
from openbureau.people.schemas import ObjectionRead
from openbureau.reports.schemas import PersonInquiry
from openbureau.rights.schemas import ProtectionsRead

EXPORT_FORMAT = "openbureau.person-export"
EXPORT_FORMAT_VERSION = 1


class ExportedDocument(BaseModel):
    """An identity document the bureau knows the person by."""

    id_type: str
    id_number: str
    anchor: bool = Field(description="The document the person's file is filed under; the others were linked to it.")


class ExportedIdentity(BaseModel):
    """One description of the person as lenders furnished it (name, birth date, phone, address)."""

    full_name: str | None
    birth_date: str | None
    phone: str | None
    address: str | None
    reported_by: list[str] = Field(description="The lenders whose records carry it.")
    records: int
    first_seen: str = Field(description="Earliest reporting period (or month of a lending event) carrying it.")
    last_seen: str


class ExportedState(BaseModel):
    """An account's record for one reporting period and version, as stored."""

    reporting_period: str
    version: int
    product_type: str
    opened_on: date
    currency: str
    credit_limit: int | None
    original_amount: int | None
    term_months: int | None
    balance: int
    amount_due: int
    amount_paid: int
    past_due_amount: int
    days_past_due: int
    payment_status: str
    account_status: str
    first_delinquency_date: date | None
    closed_on: date | None
    consent_ref: str | None
    negative_notice_date: date | None
    correction: int
    negative_held: bool = Field(description="Negative information furnished without a notice to you: not shown.")
    held_reason: str | None = Field(description="Why the record is held back from your file (see legend).")
    released_at: datetime | None
    stored_at: datetime
    submission_id: int = Field(description="The furnished file it came from.")
    history_profile: str | None = Field(default=None, description=(
        "A Metro 2 record's payment history profile as furnished: 24 CRRG characters, the month before the "
        "record's first; it gives the account's earlier months that no record of their own shows."))


class ExportedAccount(BaseModel):
    """An account a lender furnished about the person, with every stored record of it (amounts in minor units)."""

    lender: str
    lender_name: str | None
    account_id: str
    records: list[ExportedState]


class ExportedBusiness(BaseModel):
    """The business a sole trader's record of the person was furnished for (standard v1.1)."""

    lender: str
    account_id: str
    reporting_period: str
    version: int
    business_name: str
    enterprise_uscc: str


class ExportedEvent(BaseModel):
    """A lending event furnished the day it happened."""

    lender: str
    event_id: str
    event_type: str
    occurred_at: datetime
    account_id: str
    product_type: str | None
    currency: str | None
    amount: int | None
    term_months: int | None
    opened_on: date | None
    amount_due: int | None
    balance: int | None
    days_past_due: int | None
    past_due_amount: int | None
    consent_ref: str | None
    held_reason: str | None
    released_at: datetime | None
    received_at: datetime


class ExportedDispute(BaseModel):
    """A dispute of the person, with their statements."""

    id: int
    kind: str
    lender: str | None
    account_id: str | None
    reporting_period: str | None
    statement: str
    status: str
    outcome: str | None
    channel: str
    filed_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    consumer_statement: str | None
    consumer_statement_at: datetime | None


class ExportedNotice(BaseModel):
    """A message the bureau wrote to the person (its subject only: a text may have held a sign-in code)."""

    kind: str
    subject: str
    created_at: datetime
    status: str
    sent_at: datetime | None


class ExportedErasure(BaseModel):
    """An erasure the person asked for, and its outcome (counts and reasons)."""

    id: int
    scope: str
    status: str
    requested_at: datetime
    completed_at: datetime | None
    outcome: dict[str, Any]


class ExportedAccess(BaseModel):
    """An entry of the audit log about the person: who read or changed their data, when, why."""

    at: datetime
    by: str = Field(description="A member's code, 'you', or 'the bureau' (its staff and its own jobs).")
    action: str
    purpose: str | None


class ExportedMonitoring(BaseModel):
    """A lender that registered the person for portfolio monitoring: it is told of new credit, delinquencies,
    protections, contact changes (and score changes if it watches the score) while the registration lasts."""

    lender: str
    reference: str = Field(description="The lender's own reference of you (an account number).")
    basis: str = Field(description="The lawful basis checked at registration: consent:<ref> or the exception "
                                   "relied on (an existing customer's account review).")
    registered_at: datetime
    score_watched: bool


class ExportedTrigger(BaseModel):
    """What a monitoring lender was told about the person: the kind of change and when, never its details."""

    lender: str
    kind: str
    category: str
    occurred_at: datetime
    sent_at: datetime = Field(description="When the bureau wrote it for the lender (delivered by webhook or "
                                          "read from the lender's list).")


class PersonExport(BaseModel):
    """Everything the bureau holds about one person, at ``generated_at``."""

    format: str = EXPORT_FORMAT
    format_version: int = EXPORT_FORMAT_VERSION
    generated_at: datetime
    jurisdiction: str
    legal_basis: str = Field(description="The right this export answers.")
    legend: dict[str, str] = Field(description="What coded values mean.")
    person_id: int = Field(description="The bureau's number of the person's file.")
    documents: list[ExportedDocument]
    identities: list[ExportedIdentity]
    accounts: list[ExportedAccount]
    businesses: list[ExportedBusiness] = Field(default_factory=list, description="The businesses the person's "
                                               "records as a sole trader name, record by record.")
    lending_events: list[ExportedEvent]
    inquiries: list[PersonInquiry] = Field(description="Every look at the file, newest first.")
    consents: list[ConsentRead]
    objections: list[ObjectionRead]
    disputes: list[ExportedDispute]
    protections: ProtectionsRead
    notifications: list[ExportedNotice]
    erasures: list[ExportedErasure]
    monitored_by: list[ExportedMonitoring] = Field(default_factory=list, description="Lenders that monitor your "
                                                   "file now, oldest registration first.")
    monitoring_triggers: list[ExportedTrigger] = Field(default_factory=list, description="Every change of your file "
                                                       "a monitoring lender was told of, oldest first.")
    access_log: list[ExportedAccess] = Field(description="Oldest first.")

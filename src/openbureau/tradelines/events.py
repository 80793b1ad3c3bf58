"""What a person's lending events add to the file: new credit as it happens, the changes of contact details
lenders furnish on existing accounts (``contact_changed``), and the loans opened since the last monthly file.

The month's file is the record of truth. An event is *covered* when the same lender's monthly file already
reports the account for the event's month or a later one: the tradeline then says what the event said, and
the event adds nothing (it still dates new credit for the multi-lending windows, which count lenders and
accounts once however many records and events speak of them). An ``opened`` event that no file covers yet
is a *loan opened since the last file*: it is shown as such, and its instalment counts among the person's
monthly obligations until a later event ends it (settled, closed, written off) or a file covers it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openbureau.tradelines.history import Tradeline

APPLICATION, OPENED, CONTACT_CHANGED = "application", "opened", "contact_changed"
ENDED = {"settled": "settled", "closed": "closed", "written_off": "written off"}


@dataclass(frozen=True, slots=True)
class NewCredit:
    """A lender's new-credit event: a loan applied for or opened, and when."""

    furnisher_id: int
    account_id: str
    kind: str  # application | opened
    at: datetime
    product_type: str | None = None
    phone: str | None = None  # the contact details the lender was given, when the reader opened them
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ContactUpdate:
    """A lender's change of the contact details on an existing account (a ``contact_changed`` event): the new
    phone and address as the lender now holds them, when the reader opened them."""

    furnisher_id: int
    account_id: str
    at: datetime
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class RecentLoan:
    """A loan opened since the lender's last monthly file reported it, as its events describe it."""

    furnisher_id: int
    account_id: str
    product_type: str | None
    currency: str | None
    amount: int | None
    term_months: int | None
    opened_on: date | None
    monthly_amount: int  # the instalment (furnished, or the amount over the term); 0 when unknown
    status: str  # open | late | settled | closed | written off
    days_past_due: int
    reported_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "late")


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What a person's events add to the file."""

    new_credit: list[NewCredit]
    recent_loans: list[RecentLoan]
    contact_updates: list[ContactUpdate] = field(default_factory=list)


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _instalment(row) -> int:
    if row.amount_due is not None:
        return int(row.amount_due)
    if row.amount and row.term_months:
        return math.ceil(row.amount / row.term_months)
    return 0


def event_facts(events: Sequence, tradelines: Sequence[Tradeline],
                contacts: Mapping[int, tuple[str | None, str | None]] | None = None) -> EventFacts:
    """New credit, changes of contact details and loans opened since the last file, from a person's events
    (oldest first, rows of ``accounts.event_repository.EVENT_COLUMNS``) beside the person's tradelines;
    ``contacts``: event row id -> (phone, address) given with the new credit or furnished as changed, for the
    events whose contact details were opened."""
    contacts = contacts or {}
    reported = {(t.furnisher_id, t.account_id): t.latest.period for t in tradelines}
    new_credit: list[NewCredit] = []
    updates: list[ContactUpdate] = []
    loans: dict[tuple[int, str], RecentLoan] = {}
    for e in events:
        key = (e.furnisher_id, e.furnisher_account_id)
        if e.event_type in (APPLICATION, OPENED):
            new_credit.append(NewCredit(e.furnisher_id, e.furnisher_account_id, e.event_type, e.occurred_at,
                                        e.product_type, *contacts.get(e.id, (None, None))))
        elif e.event_type == CONTACT_CHANGED:
            updates.append(ContactUpdate(e.furnisher_id, e.furnisher_account_id, e.occurred_at,
                                         *contacts.get(e.id, (None, None))))
            continue
        covered = reported.get(key, "") >= _month(e.occurred_at)
        if covered:
            loans.pop(key, None)
            continue
        if e.event_type == OPENED:
            loans[key] = RecentLoan(e.furnisher_id, e.furnisher_account_id, e.product_type, e.currency, e.amount,
                                    e.term_months, e.opened_on, _instalment(e), "open", 0, e.occurred_at)
            continue
        loan = loans.get(key)
        if loan is None:
            continue
        if e.event_type in ENDED:
            status, late = ENDED[e.event_type], 0
        elif e.event_type == "delinquent":
            status, late = "late", int(e.days_past_due or 0)
        elif e.event_type == "repayment":
            status, late = ("open", 0) if loan.status in ("open", "late") else (loan.status, 0)
        else:
            continue
        loans[key] = RecentLoan(loan.furnisher_id, loan.account_id, loan.product_type, loan.currency, loan.amount,
                                loan.term_months, loan.opened_on, loan.monthly_amount, status, late, e.occurred_at)
    return EventFacts(new_credit, sorted(loans.values(), key=lambda loan: loan.reported_at), updates)


def recent_obligations(loans: Sequence[RecentLoan], *, currency: str) -> int:
    """The monthly instalments of loans opened since the last file and still open, in ``currency``."""
    return sum(loan.monthly_amount for loan in loans if loan.is_open and loan.currency == currency)

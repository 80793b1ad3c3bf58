"""The events section of the furnishing standard: one row per lending event, reported as it happens.

A monthly record says where an account stood at the end of a month; an event says what happened to it
and when, the same day. The identity columns are those of the monthly records (the same person
description, the same rules); the columns an event type needs are required per type
(``REQUIRED_BY_TYPE``), checked by ``intake.events.validation``. docs/furnishing-format.md lists them.
"""

from __future__ import annotations

from enum import StrEnum

from openbureau.intake import standard
from openbureau.intake.standard import Field, FieldType, Layout


class EventType(StrEnum):
    """What happened to a loan."""

    APPLICATION = "application"  # a loan was applied for (a lender's new-credit decision is under way)
    OPENED = "opened"  # a loan was granted: amount, term, product, opening date
    REPAYMENT = "repayment"  # the borrower paid
    DELINQUENT = "delinquent"  # a payment is late: days past due
    SETTLED = "settled"  # paid off early or in full by agreement
    CLOSED = "closed"  # ended normally
    WRITTEN_OFF = "written_off"  # the lender gave the debt up as lost
    CONTACT_CHANGED = "contact_changed"  # the borrower's phone or address on the account changed (the new ones)


EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
NEW_CREDIT_EVENTS: tuple[str, ...] = (EventType.APPLICATION, EventType.OPENED)  # counted by multi-lending
ENDING_EVENTS: tuple[str, ...] = (EventType.SETTLED, EventType.CLOSED, EventType.WRITTEN_OFF)
CREDIT_PRODUCTS: tuple[str, ...] = tuple(p for p in standard.PRODUCT_TYPES if p not in standard.NON_CREDIT_PRODUCTS)

_RECORD = standard.FIELD_BY_NAME

EVENT_FIELDS: tuple[Field, ...] = (
    Field("event_id", FieldType.TEXT, True, "The furnisher's own id of the event, unique per furnisher: a "
          "resent event with the same id is stored once.", 64),
    Field("event_type", FieldType.ENUM, True, "What happened.", values=EVENT_TYPES),
    Field("occurred_at", FieldType.TIMESTAMP, True, "When it happened: ISO 8601 with a UTC offset."),
    Field("furnisher_account_id", FieldType.TEXT, True, "The account (for an application: the application's "
          "reference, which becomes the account's id when the loan is granted).", 64),
    _RECORD["id_type"], _RECORD["id_number"], _RECORD["full_name"], _RECORD["birth_date"], _RECORD["phone"],
    _RECORD["address"],
    Field("product_type", FieldType.ENUM, False, "Kind of credit; required on application and opened.",
          values=CREDIT_PRODUCTS),
    Field("currency", FieldType.TEXT, False, "ISO 4217 code of the event's amounts; required with an amount.", 3),
    Field("amount", FieldType.AMOUNT, False, "application: amount applied for; opened: amount lent or credit "
          "limit (required); repayment: amount paid (required); settled: amount paid to settle; written_off: "
          "amount written off (required)."),
    Field("term_months", FieldType.INTEGER, False, "opened: number of monthly instalments."),
    Field("opened_on", FieldType.DATE, False, "opened: date the loan was opened (required)."),
    Field("amount_due", FieldType.AMOUNT, False, "opened: the scheduled monthly instalment."),
    Field("balance", FieldType.AMOUNT, False, "Amount owed after the event."),
    Field("days_past_due", FieldType.INTEGER, False, "delinquent: days past due (required, at least 1)."),
    Field("past_due_amount", FieldType.AMOUNT, False, "delinquent: amount past due."),
    _RECORD["consent_ref"],
)
EVENTS = Layout("events", EVENT_FIELDS)
EVENT_COLUMNS: tuple[str, ...] = EVENTS.columns

# The columns each event type needs besides the always-required ones.
REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    EventType.APPLICATION: ("product_type",),
    EventType.OPENED: ("product_type", "amount", "opened_on"),
    EventType.REPAYMENT: ("amount",),
    EventType.DELINQUENT: ("days_past_due",),
    EventType.SETTLED: (),
    EventType.CLOSED: (),
    EventType.WRITTEN_OFF: ("amount",),
    EventType.CONTACT_CHANGED: (),  # a phone or an address: checked by intake.events.validation
}
MAX_BATCH_EVENTS = 10_000  # events in one API request

"""The catalogue of event rules: code, severity, reason and a failing and a passing example of each.

Field rules (presence, type, length, codes) and the identity document's rules are the monthly records'
own (``intake.validation``), applied to the events' field table; the rules below are the events' own.
The tests run every example and docs/furnishing-format.md lists every rule.
"""

from __future__ import annotations

from openbureau.documents import resident_id
from openbureau.intake.events.standard import EVENTS
from openbureau.intake.validation.catalogue import (
    CIVIL_CODE,
    ERROR,
    ISO_4217,
    ISO_8601,
    MAX_TERM_MONTHS,
    RULE_BY_CODE,
    WARNING,
    Patch,
    Rule,
)

# A documented valid event: an instalment loan of 3,000.00 CNY over 6 months, opened on 2026-10-03.
BASE_EVENT: dict[str, str | None] = {
    "event_id": "EVT-20261003-000123",
    "event_type": "opened",
    "occurred_at": "2026-10-03T09:15:00+08:00",
    "furnisher_account_id": "LOAN-000123",
    "id_type": "CN_RESIDENT_ID",
    "id_number": resident_id("110101", "19900307", "123"),
    "full_name": "王小明",
    "birth_date": "1990-03-07",
    "phone": "+86 138-0013-8000",
    "address": "北京市东城区东华门街道1号",
    "product_type": "installment",
    "currency": "CNY",
    "amount": "300000",
    "term_months": "6",
    "opened_on": "2026-10-03",
    "amount_due": "52000",
    "balance": "300000",
    "days_past_due": None,
    "past_due_amount": None,
    "consent_ref": "CONSENT-2026-000123",
}
EVENT_NOW = "2026-10-03T12:00:00+00:00"  # the moment the examples are validated at

REPAYMENT: Patch = {"event_type": "repayment", "amount": "52000", "balance": "248000", "term_months": None,
                    "opened_on": None, "amount_due": None, "product_type": None}
LATE: Patch = {"event_type": "delinquent", "amount": None, "term_months": None, "opened_on": None,
               "amount_due": None, "days_past_due": "31", "past_due_amount": "52000", "product_type": None}


def example_event(patch: Patch) -> dict[str, str | None]:
    """The base event with a rule example's patch applied."""
    return BASE_EVENT | patch


def _rule(code: str, severity: str, fields: tuple[str, ...], description: str, citation: str | None,
          fail: Patch, ok: Patch) -> Rule:  # fmt: skip
    return Rule(code, severity, fields, description, citation, "cross_field", fail, ok)  # type: ignore[arg-type]


def _shared(code: str, fields: tuple[str, ...], fail: Patch, ok: Patch) -> Rule:
    """A rule of the monthly records applied to events: its severity and reason, the events' examples."""
    rule = RULE_BY_CODE[code]
    return Rule(code, rule.severity, fields, rule.description, rule.citation, rule.kind, fail, ok)


_REQUIRED = tuple(f.name for f in EVENTS.fields if f.required)

EVENT_RULES: tuple[Rule, ...] = (
    _shared("REQUIRED_MISSING", _REQUIRED, {"event_id": None}, {}),
    Rule("INVALID_TIMESTAMP", ERROR, ("occurred_at",),
         "A moment is not an ISO 8601 date and time with a UTC offset (Z, +08:00).", ISO_8601, "field",
         {"occurred_at": "2026-10-03T09:15:00"}, {"occurred_at": "2026-10-03T01:15:00Z"}),
    _shared("INVALID_DATE", ("birth_date", "opened_on"), {"opened_on": "2026-02-30"}, {}),
    _shared("INVALID_INTEGER", ("amount", "term_months", "amount_due", "balance", "days_past_due",
                                "past_due_amount"), {"amount": "3000.00"}, {}),
    _shared("NEGATIVE_AMOUNT", ("amount", "balance", "amount_due", "past_due_amount", "days_past_due",
                                "term_months"), {"balance": "-1"}, {"balance": "0"}),
    _shared("AMOUNT_TOO_LARGE", ("amount", "balance", "amount_due", "past_due_amount"),
            {"amount": "1000000000000001"}, {}),
    _shared("INVALID_ENUM", ("event_type", "id_type", "product_type"), {"event_type": "granted"}, {}),
    _shared("TOO_LONG", ("event_id", "furnisher_account_id", "id_number", "full_name", "phone", "address",
                         "consent_ref"), {"event_id": "E" * 65}, {"event_id": "E" * 64}),
    _shared("INVALID_CURRENCY", ("currency",), {"currency": "RMB¥"}, {"currency": "cny"}),
    _shared("INVALID_PHONE", ("phone",), {"phone": "12345"}, {}),
    _shared("ID_FORMAT", ("id_number",), {"id_number": "11010119900307123"}, {}),
    _shared("ID_CHECK_DIGIT", ("id_number",), {"id_number": resident_id("110101", "19900307", "123")[:-1] + (
        "0" if resident_id("110101", "19900307", "123")[-1] != "0" else "1")}, {}),
    _shared("ID_REGION", ("id_number",), {"id_number": resident_id("990101", "19900307", "123")}, {}),
    _shared("ID_BIRTH_DATE_INVALID", ("id_number",), {"id_number": resident_id("110101", "19901307", "123")}, {}),
    _shared("ID_BIRTH_DATE_MISMATCH", ("birth_date",), {"birth_date": "1990-03-08"}, {}),
    _shared("PASSPORT_FORMAT", ("id_number",), {"id_type": "PASSPORT", "id_number": "E-123"},
            {"id_type": "PASSPORT", "id_number": "E12345678"}),
    _shared("BIRTH_DATE_IN_FUTURE", ("birth_date",), {"birth_date": "2099-01-01"}, {}),
    _shared("BIRTH_DATE_TOO_OLD", ("birth_date",), {"birth_date": "1890-01-01",
                                                    "id_type": "PASSPORT", "id_number": "E12345678"},
            {"id_type": "PASSPORT", "id_number": "E12345678"}),
    _rule("EVENT_FIELD_MISSING", ERROR, ("product_type", "amount", "opened_on", "days_past_due", "phone"),
          "A field the event's type needs is empty: product_type on application and opened; amount on opened, "
          "repayment and written_off; opened_on on opened; days_past_due on delinquent; a phone or an address "
          "(the new ones) on contact_changed.", None,
          {"amount": None}, {"event_type": "application", "amount": None, "opened_on": None}),
    _rule("CURRENCY_MISSING", ERROR, ("currency",), "An amount is given without its currency.", ISO_4217,
          {"currency": None}, LATE | {"currency": None, "past_due_amount": None, "balance": None}),
    _rule("EVENT_IN_FUTURE", ERROR, ("occurred_at",),
          "The event is dated more than five minutes after the bureau received it.", None,
          {"occurred_at": "2026-10-03T12:10:00Z"}, {"occurred_at": "2026-10-03T12:04:00Z"}),
    _rule("EVENT_TOO_OLD", ERROR, ("occurred_at",),
          "The event happened more than 90 days before it was sent: events are same-day news; older "
          "history belongs in the monthly file.", None,
          REPAYMENT | {"occurred_at": "2026-07-04T00:00:00Z"}, REPAYMENT | {"occurred_at": "2026-07-06T00:00:00Z"}),
    _rule("OPENED_AFTER_EVENT", ERROR, ("opened_on",),
          "opened_on is after the day the event happened (a day's grace for time zones).", None,
          {"opened_on": "2026-10-05"}, {"opened_on": "2026-10-04"}),
    _rule("AMOUNT_NOT_POSITIVE", ERROR, ("amount",),
          "A loan opened, a repayment or a write-off of nothing: amount must be more than 0.", None,
          {"amount": "0", "amount_due": None}, {"amount": "1", "amount_due": None}),
    _rule("DPD_NOT_POSITIVE", ERROR, ("days_past_due",),
          "A delinquent event must say how many days (at least 1) the payment is late.", None,
          LATE | {"days_past_due": "0"}, LATE | {"days_past_due": "1"}),
    _rule("TERM_MONTHS_OUT_OF_RANGE", ERROR, ("term_months",),
          f"term_months is 0 or more than {MAX_TERM_MONTHS}.", None, {"term_months": "0"}, {"term_months": "1"}),
    _rule("TERM_MONTHS_MISSING", WARNING, ("term_months",),
          "An instalment loan is opened without its number of instalments; its monthly obligation is "
          "counted from amount_due alone.", None, {"term_months": None}, {"product_type": "revolving",
                                                                          "term_months": None}),
    _rule("AMOUNT_DUE_OVER_AMOUNT", WARNING, ("amount_due",),
          "The monthly instalment is more than the amount lent.", None, {"amount_due": "300001"},
          {"amount_due": "300000"}),
    _rule("BORROWER_UNDER_18", WARNING, ("birth_date",),
          "birth_date makes the borrower under 18 on the day the loan was opened.", CIVIL_CODE,
          {"birth_date": "2010-01-01", "id_type": "PASSPORT", "id_number": "E12345678"},
          {"birth_date": "2008-10-03", "id_type": "PASSPORT", "id_number": "E12345678"}),
    Rule("DUPLICATE_EVENT_ID", ERROR, ("event_id",),
         "The same event_id appears twice in one batch or file; the later one is rejected and names the line "
         "of the first.", None, "file", {}, {}),
    Rule("EVENT_ID_REUSED", ERROR, ("event_id",),
         "The event_id was stored before for a different event: an id names one event for good (a resent "
         "identical event is acknowledged as a duplicate, not stored twice).", None, "file", {}, {}),
)  # fmt: skip
EVENT_RULE_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in EVENT_RULES}

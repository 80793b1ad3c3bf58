"""Checks of Metro 2 meaning across the fields of a base segment (CRRG reporting guidelines).

Each rule skips values that cannot be read (their field check already reported them), so one mistake is
reported once.
"""

from __future__ import annotations

from collections.abc import Callable

from openbureau.metro2.layout import BASE, PAYMENT_HISTORY_CODES
from openbureau.metro2.records import parse_date, parse_int

# CRRG: a payment rating says how the account stood before it was paid, transferred or closed by a
# government claim, deed in lieu, foreclosure or surrender. Required with these statuses; 05 (transferred)
# may carry one too (some editions of the guide require it there as well).
RATING_STATUSES = frozenset({"13", "65", "88", "89", "94", "95"})
RATED_STATUSES = RATING_STATUSES | {"05"}
DELINQUENT_STATUSES = {"71": 1, "78": 2, "80": 3, "82": 4, "83": 5, "84": 6}  # status -> 30-day buckets late
PAID_STATUSES = frozenset({"13", "61", "62", "63", "64", "65"})
# Statuses that carry a date of first delinquency (it starts the FCRA 605(c) seven-year period).
DOFD_STATUSES = frozenset({"61", "62", "63", "64", "65", *DELINQUENT_STATUSES, "88", "89", "93", "94", "95",
                           "96", "97"})
DEROGATORY_RATINGS = frozenset("123456GL")
CHARGE_OFF_STATUSES = frozenset({"64", "97"})
CLOSED_AT_REQUEST_CCC = frozenset({"XA", "XD", "XE", "XJ"})
DISPUTE_CCC = frozenset({"XB", "XC", "XD", "XE", "XF", "XG", "XJ"})
DELETION_STATUSES = frozenset({"DA", "DF"})
_HISTORY_LEVEL = {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "G": 6, "L": 6, "E": 0}

_OFFSETS = {f.name: f.start for f in BASE.fields}

Report = Callable[[str, str, int], None]  # (code, field, offset within the base segment)


def check_base(values: dict[str, str], report: Report) -> None:
    """Report every semantic problem of one base segment through ``report(code, field, offset)``."""
    if len(values) < len(_OFFSETS):
        return  # a record too short to hold its base segment: reported once by the reader
    status = values["account_status"].strip()
    rating = values["payment_rating"].strip()

    def say(code: str, name: str, at: int | None = None) -> None:
        report(code, name, _OFFSETS[name] if at is None else at)

    if status in RATING_STATUSES and not rating:
        say("RATING_REQUIRED", "payment_rating")
    elif rating and status not in RATED_STATUSES and status not in DELETION_STATUSES:
        say("RATING_NOT_ALLOWED", "payment_rating")

    balance = parse_int(values["current_balance"])
    past_due = parse_int(values["amount_past_due"])
    if past_due is not None:
        if past_due > 0 and (status == "11" or (status in RATED_STATUSES and rating == "0")):
            say("PAST_DUE_WHILE_CURRENT", "amount_past_due")
        if past_due == 0 and status in DELINQUENT_STATUSES:
            say("DELINQUENT_WITHOUT_PAST_DUE", "amount_past_due")
        if balance is not None and past_due > balance and status not in DELETION_STATUSES:
            say("PAST_DUE_OVER_BALANCE", "amount_past_due")
    if balance is not None and balance > 0 and status in PAID_STATUSES:
        say("PAID_WITH_BALANCE", "current_balance")
    if status == "05" and (balance or past_due):
        # the account moved to another holder, who reports what is owed: reported here too, it counts twice
        say("TRANSFERRED_WITH_BALANCE", "current_balance" if balance else "amount_past_due")
    if status == "97" and balance is not None and past_due is not None and past_due != balance:
        say("CHARGE_OFF_PAST_DUE_MISMATCH", "amount_past_due")
    charge_off = parse_int(values["original_charge_off_amount"])
    if status in CHARGE_OFF_STATUSES and not charge_off and charge_off is not None:
        say("CHARGE_OFF_AMOUNT_MISSING", "original_charge_off_amount")

    history = values["payment_history_profile"]
    for i, char in enumerate(history):
        if char not in PAYMENT_HISTORY_CODES and char.isascii() and char.isprintable():
            say("INVALID_HISTORY_CODE", "payment_history_profile", _OFFSETS["payment_history_profile"] + i)
            break
    level = DELINQUENT_STATUSES.get(status)
    previous = _HISTORY_LEVEL.get(history[:1])
    if level is not None and previous is not None and previous < level - 1:
        # an account moves at most one 30-day bucket a month: 60 days late needs 30 days late before
        say("HISTORY_STATUS_MISMATCH", "payment_history_profile")

    reported = parse_date(values["date_of_account_information"])
    opened = parse_date(values["date_opened"])
    closed = parse_date(values["date_closed"])
    dofd = parse_date(values["date_of_first_delinquency"])
    needs_dofd = status in DOFD_STATUSES or (status in {"05", "13"} and rating in DEROGATORY_RATINGS)
    if dofd is None and needs_dofd:
        say("DOFD_REQUIRED", "date_of_first_delinquency")
    if dofd and (status == "11" or (status == "13" and rating == "0")):
        say("DOFD_WHILE_CURRENT", "date_of_first_delinquency")
    if dofd and reported and dofd > reported:
        say("DOFD_AFTER_ACCOUNT_INFORMATION", "date_of_first_delinquency")
    if dofd and opened and dofd < opened:
        say("DOFD_BEFORE_OPENED", "date_of_first_delinquency")
    if opened and reported and opened > reported:
        say("OPENED_AFTER_ACCOUNT_INFORMATION", "date_opened")
    if closed and reported and closed > reported:
        say("CLOSED_AFTER_ACCOUNT_INFORMATION", "date_closed")

    ccc = values["compliance_condition_code"].strip()
    if ccc in CLOSED_AT_REQUEST_CCC and closed is None:
        say("CCC_CLOSED_WITHOUT_DATE", "compliance_condition_code")
    if ccc in DISPUTE_CCC and status in DELETION_STATUSES:
        say("CCC_DISPUTE_ON_DELETION", "compliance_condition_code")

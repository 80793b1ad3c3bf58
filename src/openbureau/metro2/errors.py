"""Stable codes of every problem the Metro 2 reader and the semantic checks report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openbureau.kit.errors import BureauError

Severity = Literal["error", "warning"]

# code -> (severity, plain-language reason). Codes are a public contract: never renamed or reused.
CODES: dict[str, tuple[Severity, str]] = {
    # structure
    "RDW_INVALID": ("error", "The record descriptor word is not four digits between 0004 and 9999 "
                    "(packed, binary descriptor words are not read)."),
    "RDW_LENGTH_MISMATCH": ("error", "The record descriptor word differs from the record's length."),
    "RECORD_TRUNCATED": ("error", "The file ends before the length the record descriptor word declares."),
    "RECORD_TOO_LONG": ("error", "A line is longer than the longest record a descriptor word can declare."),
    "RECORD_TOO_SHORT": ("error", "A record is shorter than its 426-character base segment, header or trailer."),
    "SEGMENT_UNKNOWN": ("error", "Characters after the base segment do not start a J1, J2, K1, K2, K3, K4, "
                        "L1 or N1 segment; the rest of the record is not read."),
    "SEGMENT_TRUNCATED": ("error", "An appended segment is cut short by the end of the record."),
    "HEADER_MISSING": ("error", "The first record is not a header record."),
    "HEADER_NOT_FIRST": ("error", "A header record appears after the first record."),
    "TRAILER_MISSING": ("error", "The last record is not a trailer record."),
    "RECORD_AFTER_TRAILER": ("error", "A record follows the trailer record."),
    "TRAILER_TOTAL_MISMATCH": ("error", "A trailer total differs from the count of what the file holds."),
    # fields
    "INVALID_CHARACTER": ("error", "A field holds a character outside printable ASCII."),
    "REQUIRED_MISSING": ("error", "A required field is blank."),
    "INVALID_NUMERIC": ("error", "A numeric field holds other than digits (numeric fields are zero-filled)."),
    "INVALID_DATE": ("error", "A date is not MMDDYYYY with a real calendar date (zeros when unknown)."),
    "INVALID_CODE": ("error", "A coded field holds a value outside its CRRG code list."),
    # semantics (CRRG guidelines)
    "RATING_REQUIRED": ("error", "Account statuses 13, 65, 88, 89, 94 and 95 need a payment rating."),
    "RATING_NOT_ALLOWED": ("error", "A payment rating is reported only with statuses 05, 13, 65, 88, 89, 94 and 95."),
    "PAST_DUE_WHILE_CURRENT": ("error", "Status 11 (current) or a rating of 0 with an amount past due."),
    "DELINQUENT_WITHOUT_PAST_DUE": ("error", "Statuses 71-84 need an amount past due above zero."),
    "PAID_WITH_BALANCE": ("error", "Statuses 13 and 61-65 (paid or closed) need a current balance of zero."),
    "PAST_DUE_OVER_BALANCE": ("error", "The amount past due is more than the current balance."),
    "HISTORY_STATUS_MISMATCH": ("error", "The first payment history profile character (the month before "
                                "this one) cannot follow the current account status."),
    "INVALID_HISTORY_CODE": ("error", "A payment history profile character is outside 0-6, B, D, E, G, H, J, K, L."),
    "DOFD_REQUIRED": ("error", "A delinquent, collection or charged-off account needs a date of first delinquency."),
    "DOFD_WHILE_CURRENT": ("warning", "A current account (status 11, or 13 rated 0) reports a date of first "
                           "delinquency; it is zero-filled unless a later delinquency is reported."),
    "DOFD_AFTER_ACCOUNT_INFORMATION": ("error", "The date of first delinquency is after the date of account information."),
    "DOFD_BEFORE_OPENED": ("error", "The date of first delinquency is before the date opened."),
    "OPENED_AFTER_ACCOUNT_INFORMATION": ("error", "The date opened is after the date of account information."),
    "CLOSED_AFTER_ACCOUNT_INFORMATION": ("error", "The date closed is after the date of account information."),
    "CCC_CLOSED_WITHOUT_DATE": ("error", "Compliance conditions XA, XD, XE and XJ (closed at the consumer's "
                                "request) need a date closed."),
    "CCC_DISPUTE_ON_DELETION": ("warning", "A dispute compliance condition code on an account being deleted "
                                "(status DA or DF) has no effect."),
    "CHARGE_OFF_AMOUNT_MISSING": ("error", "Statuses 64 and 97 (charged off) need the original charge-off amount."),
    "TRANSFERRED_WITH_BALANCE": ("warning", "Status 05 (transferred) reports a current balance or an amount past "
                                 "due: the new holder reports the debt, so both are zero."),
    "CHARGE_OFF_PAST_DUE_MISMATCH": ("warning", "Status 97 (charged off) with an amount past due other than the "
                                     "current balance: the whole unpaid balance is past due."),
}


@dataclass(frozen=True, slots=True)
class Metro2Error:
    """One problem of one record, located to the byte.

    ``offset`` is the 0-based byte offset in the file of the field (or record) at fault.
    """

    record_number: int  # 1-based physical record, the header being 1
    segment: str  # header, base, trailer, J1 ... N1, or "record" for the record as a whole
    field: str | None
    offset: int
    code: str
    value: str = ""

    @property
    def severity(self) -> Severity:
        return CODES[self.code][0]

    @property
    def message(self) -> str:
        return CODES[self.code][1]

    def as_dict(self) -> dict[str, object]:
        """The error as a plain dictionary (JSON lines)."""
        return {"record_number": self.record_number, "segment": self.segment, "field": self.field,
                "offset": self.offset, "code": self.code, "severity": self.severity, "value": self.value,
                "message": self.message}


class Metro2ValueError(BureauError, ValueError):
    """A value that cannot be written in its Metro 2 field (too long, negative, not a date)."""

    code = "METRO2_VALUE_INVALID"

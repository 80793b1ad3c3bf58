"""The Metro 2 character format (CRRG layout) as a declarative field table.

One table drives the reader, the writer and the docs: every segment is a tuple of fields with its
0-based start within the segment, its length, its kind and whether the CRRG requires it. Positions are
those of the published Credit Reporting Resource Guide layout for the 426-character character format.

Example:
    >>> BASE.length, J1.length, TRAILER.fields[2].name
    (426, 100, 'total_base_records')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a field's characters are written."""

    ALPHANUMERIC = "A"  # left-justified, blank-filled
    NUMERIC = "N"  # right-justified, zero-filled digits
    DATE = "D"  # MMDDYYYY, zero-filled or blank when unknown
    TIMESTAMP = "T"  # MMDDYYYYHHMMSS


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a segment: where it sits and how it is written."""

    name: str
    start: int  # 0-based within the segment
    length: int
    kind: Kind
    required: bool = False
    codes: frozenset[str] | None = None  # allowed values (blank allowed unless required)

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment of a Metro 2 record: its identifier, fixed length and fields (contiguous, in order)."""

    name: str
    length: int
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


A, N, D, T = Kind.ALPHANUMERIC, Kind.NUMERIC, Kind.DATE, Kind.TIMESTAMP

RECORD_LENGTH = 426  # header, base segment and trailer of the character format
MAX_RECORD_LENGTH = 9999  # a four-digit record descriptor word

# --- codes (CRRG Frequently Requested Formats) -------------------------------------------------------
PORTFOLIO_TYPES = frozenset("CIMOR")  # line of credit, installment, mortgage, open, revolving
TERMS_FREQUENCIES = frozenset("DPWBESMQTY")  # deferred, single payment, weekly ... yearly
ACCOUNT_STATUSES = frozenset(
    {"05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93",
     "94", "95", "96", "97", "DA", "DF"}
)
PAYMENT_RATINGS = frozenset("0123456GL")
PAYMENT_HISTORY_CODES = frozenset("0123456BDEGHJKL")
ECOA_CODES = frozenset("12357TWXZ")
COMPLIANCE_CONDITION_CODES = frozenset({"XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XJ", "XR"})
CONSUMER_INFORMATION_INDICATORS = frozenset(
    {*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "1A", "2A", "V", "W", "X", "Y", "Z"}
)
INTEREST_TYPES = frozenset("FV")
ADDRESS_INDICATORS = frozenset("CYNMSBUDPXZ")
RESIDENCE_CODES = frozenset("OR")
GENERATION_CODES = frozenset("JS234567")
SEGMENT_IDS = ("J1", "J2", "K1", "K2", "K3", "K4", "L1", "N1")


def _segment(name: str, length: int, *spec: tuple) -> Segment:
    fields, start = [], 0
    for item in spec:
        fname, flen, kind, *rest = item
        required = bool(rest and rest[0])
        codes = frozenset(rest[1]) if len(rest) > 1 else None
        fields.append(Field(fname, start, flen, kind, required, codes))
        start += flen
    if start != length:  # the table itself is checked when the module loads
        raise ValueError(f"{name}: fields cover {start} characters, segment is {length}")
    return Segment(name, length, tuple(fields))


HEADER = _segment(
    "header", RECORD_LENGTH,
    ("record_descriptor_word", 4, N, True),
    ("record_identifier", 6, A, True),
    ("cycle_identifier", 2, A),
    ("innovis_program_identifier", 10, A),
    ("equifax_program_identifier", 10, A),
    ("experian_program_identifier", 5, A),
    ("transunion_program_identifier", 10, A),
    ("activity_date", 8, D, True),
    ("date_created", 8, D, True),
    ("program_date", 8, D),
    ("program_revision_date", 8, D),
    ("reporter_name", 40, A, True),
    ("reporter_address", 96, A, True),
    ("reporter_telephone_number", 10, N),
    ("software_vendor_name", 40, A),
    ("software_version_number", 5, A),
    ("prbc_program_identifier", 10, A),
    ("reserved", 146, A),
)

# The consumer's fields, the same in the base segment and in the J1 and J2 (associated consumer) segments.
_ASSOCIATED = (
    ("surname", 25, A, True),
    ("first_name", 20, A, True),
    ("middle_name", 20, A),
    ("generation_code", 1, A, False, GENERATION_CODES),
    ("social_security_number", 9, N),
    ("date_of_birth", 8, D),
    ("telephone_number", 10, N),
    ("ecoa_code", 1, A, True, ECOA_CODES),
    ("consumer_information_indicator", 2, A, False, CONSUMER_INFORMATION_INDICATORS),
)

BASE = _segment(
    "base", RECORD_LENGTH,
    ("record_descriptor_word", 4, N, True),
    ("processing_indicator", 1, N),
    ("time_stamp", 14, T),
    ("correction_indicator", 1, N),
    ("identification_number", 20, A, True),
    ("cycle_identifier", 2, A),
    ("consumer_account_number", 30, A, True),
    ("portfolio_type", 1, A, True, PORTFOLIO_TYPES),
    ("account_type", 2, A, True),
    ("date_opened", 8, D, True),
    ("credit_limit", 9, N),
    ("highest_credit", 9, N),
    ("terms_duration", 3, A, True),
    ("terms_frequency", 1, A, False, TERMS_FREQUENCIES),
    ("scheduled_monthly_payment_amount", 9, N),
    ("actual_payment_amount", 9, N),
    ("account_status", 2, A, True, ACCOUNT_STATUSES),
    ("payment_rating", 1, A, False, PAYMENT_RATINGS),
    ("payment_history_profile", 24, A, True),
    ("special_comment", 2, A),
    ("compliance_condition_code", 2, A, False, COMPLIANCE_CONDITION_CODES),
    ("current_balance", 9, N),
    ("amount_past_due", 9, N),
    ("original_charge_off_amount", 9, N),
    ("date_of_account_information", 8, D, True),
    ("date_of_first_delinquency", 8, D),
    ("date_closed", 8, D),
    ("date_of_last_payment", 8, D),
    ("interest_type_indicator", 1, A, False, INTEREST_TYPES),
    ("reserved", 17, A),
    *_ASSOCIATED,
    ("country_code", 2, A),
    ("first_line_of_address", 32, A, True),
    ("second_line_of_address", 32, A),
    ("city", 20, A, True),
    ("state", 2, A, True),
    ("postal_zip_code", 9, A, True),
    ("address_indicator", 1, A, False, ADDRESS_INDICATORS),
    ("residence_code", 1, A, False, RESIDENCE_CODES),
)

_STATUS_TOTALS = ("05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88",
                  "89", "93", "94", "95", "96", "97")

TRAILER = _segment(
    "trailer", RECORD_LENGTH,
    ("record_descriptor_word", 4, N, True),
    ("record_identifier", 7, A, True),
    ("total_base_records", 9, N, True),
    ("reserved_1", 9, A),
    ("total_status_code_df", 9, N),
    ("total_j1_segments", 9, N),
    ("total_j2_segments", 9, N),
    ("block_count", 9, N),
    ("total_status_code_da", 9, N),
    *((f"total_status_code_{code}", 9, N) for code in _STATUS_TOTALS),
    ("total_ecoa_code_z", 9, N),
    ("total_employment_segments", 9, N),
    ("total_original_creditor_segments", 9, N),
    ("total_purchased_to_segments", 9, N),
    ("total_mortgage_information_segments", 9, N),
    ("total_specialized_payment_segments", 9, N),
    ("total_change_segments", 9, N),
    ("total_ssn_all_segments", 9, N),
    ("total_ssn_base_segments", 9, N),
    ("total_ssn_j1_segments", 9, N),
    ("total_ssn_j2_segments", 9, N),
    ("total_birth_dates_all_segments", 9, N),
    ("total_birth_dates_base_segments", 9, N),
    ("total_birth_dates_j1_segments", 9, N),
    ("total_birth_dates_j2_segments", 9, N),
    ("total_telephone_numbers_all_segments", 9, N),
    ("reserved_2", 19, A),
)


J1 = _segment("J1", 100, ("segment_identifier", 2, A, True), ("reserved_1", 1, A), *_ASSOCIATED,
              ("reserved_2", 1, A))
J2 = _segment(
    "J2", 200, ("segment_identifier", 2, A, True), ("reserved_1", 1, A), *_ASSOCIATED,
    ("country_code", 2, A),
    ("first_line_of_address", 32, A, True),
    ("second_line_of_address", 32, A),
    ("city", 20, A, True),
    ("state", 2, A, True),
    ("postal_zip_code", 9, A, True),
    ("address_indicator", 1, A, False, ADDRESS_INDICATORS),
    ("residence_code", 1, A, False, RESIDENCE_CODES),
    ("reserved_2", 2, A),
)
K1 = _segment("K1", 34, ("segment_identifier", 2, A, True), ("original_creditor_name", 30, A, True),
              ("creditor_classification", 2, N, True))
K2 = _segment("K2", 34, ("segment_identifier", 2, A, True), ("purchased_or_sold_indicator", 1, N, True, "129"),
              ("purchased_from_or_sold_to_name", 30, A), ("reserved", 1, A))
K3 = _segment("K3", 40, ("segment_identifier", 2, A, True), ("agency_identifier", 2, N),
              ("agency_account_number", 18, A), ("mortgage_identification_number", 18, A))
K4 = _segment("K4", 30, ("segment_identifier", 2, A, True), ("specialized_payment_indicator", 2, N, True),
              ("deferred_payment_start_date", 8, D), ("payment_due_date", 8, D), ("payment_amount", 9, N),
              ("reserved", 1, A))
L1 = _segment("L1", 54, ("segment_identifier", 2, A, True), ("change_indicator", 1, N, True, "123"),
              ("new_consumer_account_number", 30, A), ("new_identification_number", 20, A), ("reserved", 1, A))
N1 = _segment("N1", 146, ("segment_identifier", 2, A, True), ("employer_name", 30, A, True),
              ("first_line_of_employer_address", 32, A), ("second_line_of_employer_address", 32, A),
              ("employer_city", 20, A), ("employer_state", 2, A), ("employer_postal_zip_code", 9, A),
              ("occupation", 18, A), ("reserved", 1, A))

APPENDED: dict[str, Segment] = {s.name: s for s in (J1, J2, K1, K2, K3, K4, L1, N1)}
SEGMENTS: dict[str, Segment] = {"header": HEADER, "base": BASE, "trailer": TRAILER, **APPENDED}
STATUS_TOTALS = _STATUS_TOTALS

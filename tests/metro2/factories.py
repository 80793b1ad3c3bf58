"""Metro 2 files built from the CRRG field positions: a valid header, accounts and trailer."""

from __future__ import annotations

import io
from datetime import date

from openbureau.metro2 import base, header, with_trailer, write
from openbureau.metro2.records import Record

REPORTED = date(2026, 9, 30)


def a_header(**overrides: object) -> Record:
    """A valid header record."""
    return header(**{
        "cycle_identifier": "", "equifax_program_identifier": "EQ12345678", "activity_date": REPORTED,
        "date_created": date(2026, 10, 1), "reporter_name": "FIRST EXAMPLE BANK",
        "reporter_address": "1 MAIN STREET SPRINGFIELD IL 62701", "reporter_telephone_number": 2175550100,
        "software_vendor_name": "OPENBUREAU", "software_version_number": "1.0", **overrides})


def base_values(account: str = "ACC0001", **overrides: object) -> dict[str, object]:
    """A valid current revolving account's base segment."""
    return {
        "processing_indicator": 1, "time_stamp": "10012026120000", "correction_indicator": 0,
        "identification_number": "FURN000001", "consumer_account_number": account, "portfolio_type": "R",
        "account_type": "18", "date_opened": date(2022, 5, 15), "credit_limit": 5000, "highest_credit": 4200,
        "terms_duration": "REV", "terms_frequency": "M", "scheduled_monthly_payment_amount": 50,
        "actual_payment_amount": 50, "account_status": "11", "payment_rating": "",
        "payment_history_profile": "000000000000000000000000", "special_comment": "",
        "compliance_condition_code": "", "current_balance": 1200, "amount_past_due": 0,
        "original_charge_off_amount": 0, "date_of_account_information": REPORTED,
        "date_of_first_delinquency": None, "date_closed": None, "date_of_last_payment": date(2026, 9, 12),
        "interest_type_indicator": "V", "surname": "DOE", "first_name": "JANE", "middle_name": "Q",
        "generation_code": "", "social_security_number": "123456789", "date_of_birth": date(1980, 3, 7),
        "telephone_number": 2175550123, "ecoa_code": "1", "consumer_information_indicator": "",
        "country_code": "US", "first_line_of_address": "12 ELM ST", "second_line_of_address": "APT 4",
        "city": "SPRINGFIELD", "state": "IL", "postal_zip_code": "62701", "address_indicator": "Y",
        "residence_code": "R", **overrides}


J1 = {"surname": "DOE", "first_name": "JOHN", "social_security_number": "987654321",
      "date_of_birth": date(1979, 1, 2), "telephone_number": 0, "ecoa_code": "2"}
J2 = {**J1, "first_name": "JIM", "ecoa_code": "5", "country_code": "US", "first_line_of_address": "9 OAK AVE",
      "city": "CHICAGO", "state": "IL", "postal_zip_code": "60601", "address_indicator": "Y", "residence_code": "O"}
K1 = {"original_creditor_name": "ORIGINAL RETAIL CO", "creditor_classification": 2}
K2 = {"purchased_or_sold_indicator": "1", "purchased_from_or_sold_to_name": "SELLER BANK NA"}
K3 = {"agency_identifier": 1, "agency_account_number": "FN123", "mortgage_identification_number": "MIN0001"}
K4 = {"specialized_payment_indicator": 1, "deferred_payment_start_date": date(2026, 1, 1),
      "payment_due_date": date(2027, 1, 1), "payment_amount": 10000}
L1 = {"change_indicator": "1", "new_consumer_account_number": "ACC0003-NEW"}
N1 = {"employer_name": "ACME WIDGETS", "first_line_of_employer_address": "100 FACTORY RD",
      "employer_city": "PEORIA", "employer_state": "IL", "employer_postal_zip_code": "61602",
      "occupation": "ENGINEER"}


def accounts() -> list[Record]:
    """Several valid accounts using every appended segment."""
    return [
        base(base_values("ACC0001"), ("J1", J1), ("N1", N1)),
        base(base_values("ACC0002", portfolio_type="I", account_type="00", credit_limit=0, highest_credit=20000,
                         terms_duration="060", account_status="71", amount_past_due=400, current_balance=15000,
                         date_of_first_delinquency=date(2026, 8, 1), payment_history_profile="0" * 24),
             ("J2", J2), ("K4", K4)),
        base(base_values("ACC0003", account_status="13", payment_rating="0", current_balance=0,
                         date_closed=date(2026, 9, 20), compliance_condition_code="XA"),
             ("K1", K1), ("K2", K2), ("L1", L1)),
        base(base_values("ACC0004", portfolio_type="M", account_type="26", credit_limit=0, highest_credit=300000,
                         terms_duration="360", current_balance=250000), ("K3", K3), ("J1", J1), ("J1", J1)),
        base(base_values("ACC0005", account_status="97", current_balance=3000, amount_past_due=3000,
                         original_charge_off_amount=3000, date_of_first_delinquency=date(2025, 11, 1),
                         payment_history_profile="L6543210" + "0" * 16, ecoa_code="Z")),
    ]


def valid_file(records: list[Record] | None = None, *, newline: bytes = b"\n") -> bytes:
    """A whole valid file: header, the accounts, a trailer with matching totals."""
    out = io.BytesIO()
    write(with_trailer([a_header(), *(accounts() if records is None else records)]), out, newline=newline)
    return out.getvalue()


# US consumers of the intake tests: (social security number, surname, first name, birth date); distinctive
# names, so that a search of the bureau's files for them finds nothing else.
CONSUMERS = [
    ("518273946", "KOWALCZYK", "BRUNHILDA", date(1980, 3, 7)),
    ("602914735", "OYELARAN", "THADDEUS", date(1975, 11, 22)),
    ("431876205", "VANDERHOEK", "PERPETUA", date(1990, 6, 15)),
    ("287650913", "QUISENBERRY", "ALOYSIUS", date(1968, 1, 30)),
]


def consumer_values(index: int, account: str | None = None, **overrides: object) -> dict[str, object]:
    """A valid current revolving account of one of the known consumers (each with its own phone)."""
    ssn, surname, first, born = CONSUMERS[index % len(CONSUMERS)]
    return base_values(account or f"M2-{index:04d}", **{
        "social_security_number": ssn, "surname": surname, "first_name": first, "middle_name": "",
        "date_of_birth": born, "telephone_number": 3125550100 + index % len(CONSUMERS), **overrides})


def consumer_file(n: int, *, records: list[Record] | None = None, **overrides: object) -> bytes:
    """A valid file of ``n`` accounts of the known consumers, then ``records`` (if any)."""
    accounts_ = [base(consumer_values(i, **overrides)) for i in range(n)]
    return valid_file([*accounts_, *(records or [])])


def consumer_secrets() -> set[bytes]:
    """Every ID number, name and phone of the known consumers, as bytes."""
    found: set[bytes] = set()
    for i, (ssn, surname, first, _) in enumerate(CONSUMERS):
        found |= {ssn.encode(), surname.encode(), first.encode(), str(3125550100 + i).encode()}
    return found

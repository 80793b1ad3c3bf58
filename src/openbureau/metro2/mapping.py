"""Metro 2 base segments to the furnishing standard's columns and back (docs/metro2.md, "Mapping").

The standard's column names are written here as text (this package sits below intake and does not import
it; a test keeps the names in step with ``openbureau.intake.standard``). Metro 2 fields the standard has no
column for travel as ``metro2_*`` columns, which the writer reads back, so a file read and written again
through the standard keeps them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date

from openbureau.metro2.layout import BASE
from openbureau.metro2.records import Record, SegmentValues, parse_date, parse_int
from openbureau.metro2.semantics import CHARGE_OFF_STATUSES, DELINQUENT_STATUSES, RATING_STATUSES

# Metro 2 account status -> the standard's account_status (CRRG Account Status codes).
ACCOUNT_STATUS = {
    "05": "transferred", "11": "open", "13": "closed", "61": "closed", "62": "closed", "63": "closed",
    "64": "closed", "65": "closed", "71": "open", "78": "open", "80": "open", "82": "open", "83": "open",
    "84": "open", "88": "charged_off", "89": "charged_off", "93": "charged_off", "94": "charged_off",
    "95": "charged_off", "96": "charged_off", "97": "charged_off", "DA": "deleted", "DF": "deleted",
}
# Metro 2 delinquency (status 71-84, payment rating 1-6, history 1-6) -> days past due (the bucket's lower
# bound) and the PBoC payment_status whose range holds it.
DELINQUENCY = {1: (30, "1"), 2: (60, "2"), 3: (90, "3"), 4: (120, "4"), 5: (150, "5"), 6: (180, "6")}
COLLECTION_OR_CHARGE_OFF = (181, "7")  # rating/history G or L: past 180 days (CRRG), taken as 181
# Status -> payment_status when the account is not delinquent now.
PAID_STATUS = {"11": "N", "13": "C", "61": "C", "62": "C", "63": "Z", "64": "C", "65": "Z", "05": "G",
               "DA": "#", "DF": "#", "88": "#", "89": "Z", "94": "Z", "95": "Z", "96": "Z"}
# Payment history profile character -> PBoC monthly status (the 24 months before this one).
HISTORY = {"0": "N", "1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "6": "6", "B": "", "D": "#", "E": "*",
           "G": "7", "L": "7", "H": "Z", "J": "Z", "K": "Z"}
# Standard v1.1's joint-lending columns (intake.standard.JOINT_LENDING_COLUMNS, named here as text).
JOINT_LENDING_COLUMNS = (
    "facilitator_code", "facilitator_account_id",
    *(f"funder_{n}_{s}" for n in range(1, 6) for s in ("code", "share")),
    *(f"party_{n}_{s}" for n in range(1, 5)
      for s in ("role", "id_type", "id_number", "full_name", "birth_date", "liability", "consent_ref")),
)
# ECOA code of an associated consumer (J1, J2) -> the standard v1.1 role of a related person (CRRG: 2 joint
# contractual liability, 5 co-maker or guarantor). Other codes (authorised user, terminated, deceased ...) name
# nobody who answers for the loan: they travel in ``metro2_associated`` only.
ECOA_ROLE = {"2": "co_borrower", "5": "guarantor"}
ROLE_ECOA = {role: code for code, role in ECOA_ROLE.items()}
MAX_PARTIES = 4
ECOA = {
    "1": "individual: the borrower alone is liable", "2": "joint contractual liability (J1/J2 holds the other)",
    "3": "authorised user: not liable", "5": "co-maker or guarantor: liable if the maker does not pay",
    "7": "maker: primary borrower with a co-maker", "T": "association with the account terminated",
    "W": "business or commercial account", "X": "consumer deceased", "Z": "delete this consumer from the account",
}
COMPLIANCE_CONDITION = {
    "XA": "closed at the consumer's request", "XB": "disputed by the consumer (FCRA)",
    "XC": "FCRA dispute investigated, consumer disagrees", "XD": "closed at the consumer's request, in FCRA dispute",
    "XE": "closed at the consumer's request, FCRA dispute investigated, consumer disagrees",
    "XF": "in dispute under the Fair Credit Billing Act", "XG": "FCBA dispute resolved, consumer disagrees",
    "XH": "previously in dispute, now resolved by the furnisher",
    "XJ": "closed at the consumer's request, in FCBA dispute", "XR": "removes the last reported condition code",
}
DISPUTED_CCC = frozenset({"XB", "XC", "XD", "XE", "XF", "XG", "XJ"})
CONSUMER_INFORMATION = {
    "A": "petition for Chapter 7 bankruptcy", "B": "petition for Chapter 11", "C": "petition for Chapter 12",
    "D": "petition for Chapter 13", "E": "discharged through Chapter 7", "F": "discharged through Chapter 11",
    "G": "discharged through Chapter 12", "H": "discharged or completed through Chapter 13",
    "I": "Chapter 7 dismissed", "J": "Chapter 11 dismissed", "K": "Chapter 12 dismissed", "L": "Chapter 13 dismissed",
    "M": "Chapter 7 withdrawn", "N": "Chapter 11 withdrawn", "O": "Chapter 12 withdrawn", "P": "Chapter 13 withdrawn",
    "Q": "removes a previously reported bankruptcy indicator", "R": "reaffirmation of debt",
    "S": "removes a previously reported indicator", "T": "furnisher cannot locate the consumer",
    "U": "consumer now located", "V": "reaffirmation of debt rescinded",
}
BANKRUPTCY_CII = frozenset("ABCDEFGH")
SPECIAL_COMMENT = {
    "AC": "paying under a partial payment agreement", "AH": "purchased by another company",
    "AU": "paid in full for less than the full balance", "AW": "affected by a natural or declared disaster",
    "M": "closed at the credit grantor's request",
}
# Portfolio type / account type -> product_type; account types first, then the portfolio type.
ACCOUNT_TYPE_PRODUCT = {"18": "credit_card", "00": "auto", "3A": "auto", "4D": "telecom", "29": "rent",
                        "92": "utility"}
PORTFOLIO_PRODUCT = {"R": "revolving", "C": "revolving", "O": "revolving", "I": "installment", "M": "mortgage"}
PRODUCT_PORTFOLIO = {"credit_card": ("R", "18"), "revolving": ("C", "15"), "installment": ("I", "01"),
                     "auto": ("I", "00"), "mortgage": ("M", "26"), "bnpl": ("I", "01"), "utility": ("O", "92"),
                     "telecom": ("O", "4D"), "rent": ("O", "29")}
# Base fields carried as metro2_<name> columns (the standard has no column for them).
CARRIED = ("identification_number", "portfolio_type", "account_type", "account_status", "payment_rating",
           "payment_history_profile", "special_comment", "compliance_condition_code",
           "consumer_information_indicator", "ecoa_code", "terms_frequency", "highest_credit",
           "original_charge_off_amount", "date_of_last_payment", "surname", "first_name", "middle_name",
           "generation_code", "first_line_of_address", "second_line_of_address", "city", "state",
           "postal_zip_code", "country_code")
CENTS = 100  # Metro 2 amounts are whole dollars; the standard's are minor units


def _iso(text: str) -> str | None:
    value = parse_date(text)
    return value.isoformat() if isinstance(value, date) else None


def _cents(text: str) -> str | None:
    value = parse_int(text)
    return None if value is None else str(value * CENTS)


RATED_OWING = frozenset({"88", "89", "94", "95"})  # rated statuses whose balance may still be owed


def delinquency(status: str, rating: str) -> tuple[int, str]:
    """Days past due and the PBoC payment_status of a Metro 2 account status and payment rating."""
    if status in DELINQUENT_STATUSES:
        return DELINQUENCY[DELINQUENT_STATUSES[status]]
    if (rating in ("G", "L") and status in RATED_OWING) or status in ("93", "97"):
        return COLLECTION_OR_CHARGE_OFF
    if status in RATED_OWING and rating in ("1", "2", "3", "4", "5", "6"):
        return DELINQUENCY[int(rating)]
    # 05 and 13: the rating says how the account stood before it was transferred or paid; nothing is
    # past due now (the rating travels as metro2_payment_rating)
    return 0, PAID_STATUS.get(status, "#")


def history_statuses(profile: str) -> list[str]:
    """The payment history profile as PBoC monthly statuses, newest month first ("" where no history)."""
    return [HISTORY.get(char, "#") for char in profile]


def to_standard(record: Record) -> dict[str, str | None]:
    """One base record as the furnishing standard's columns, plus ``metro2_*`` columns."""
    v = record.main
    if record.kind != "base" or len(v) < len(BASE.fields):
        raise ValueError(f"record {record.number} has no whole base segment")
    status, rating = v["account_status"].strip(), v["payment_rating"].strip()
    portfolio, account_type = v["portfolio_type"].strip(), v["account_type"].strip()
    product = ACCOUNT_TYPE_PRODUCT.get(account_type) or PORTFOLIO_PRODUCT.get(portfolio, "installment")
    days, payment_status = delinquency(status, rating)
    name = " ".join(p for p in (v["first_name"].strip(), v["middle_name"].strip(), v["surname"].strip(),
                                v["generation_code"].strip()) if p)
    address = ", ".join(p for p in (v["first_line_of_address"].strip(), v["second_line_of_address"].strip(),
                                    v["city"].strip(), f"{v['state'].strip()} {v['postal_zip_code'].strip()}".strip())
                        if p)
    revolving = portfolio in ("R", "C", "O")
    duration = v["terms_duration"].strip()
    reported = parse_date(v["date_of_account_information"])
    row: dict[str, str | None] = {
        "furnisher_account_id": v["consumer_account_number"].strip(),
        "reporting_period": reported.strftime("%Y-%m") if isinstance(reported, date) else None,
        "id_type": "OTHER",  # US Social Security number
        "id_number": v["social_security_number"].strip() or None,
        "full_name": name or None,
        "birth_date": _iso(v["date_of_birth"]),
        "phone": v["telephone_number"].strip("0 ") and v["telephone_number"],
        "address": address or None,
        "product_type": product,
        "opened_on": _iso(v["date_opened"]),
        "currency": "USD",
        "credit_limit": _cents(v["credit_limit"]) if revolving else None,
        "original_amount": None if revolving else _cents(v["highest_credit"]),
        "term_months": duration.lstrip("0") if duration.isdigit() and v["terms_frequency"] == "M" else None,
        "balance": _cents(v["current_balance"]),
        "amount_due": _cents(v["scheduled_monthly_payment_amount"]),
        "amount_paid": _cents(v["actual_payment_amount"]),
        "past_due_amount": _cents(v["amount_past_due"]),
        "days_past_due": str(days),
        "payment_status": payment_status,
        "account_status": ACCOUNT_STATUS.get(status),
        "first_delinquency_date": _iso(v["date_of_first_delinquency"]),
        "closed_on": _iso(v["date_closed"]),
        "consent_ref": None,
        "negative_notice_date": None,
        "correction": "1" if v["correction_indicator"] == "1" else "0",
        **dict.fromkeys(JOINT_LENDING_COLUMNS),
    }
    for name_ in CARRIED:
        row[f"metro2_{name_}"] = v[name_].strip() or None
    row["metro2_date_of_last_payment"] = _iso(v["date_of_last_payment"])
    row["metro2_disputed"] = "1" if v["compliance_condition_code"].strip() in DISPUTED_CCC else "0"
    row["metro2_bankruptcy"] = "1" if v["consumer_information_indicator"].strip() in BANKRUPTCY_CII else "0"
    row["metro2_associated_consumers"] = str(len(record.appended("J1")) + len(record.appended("J2")))
    row.update(_parties(record, v["social_security_number"].strip()))
    return row


def _parties(record: Record, borrower_ssn: str) -> dict[str, str | None]:
    """The associated consumers (J1, J2) as standard v1.1 related persons, and the segments themselves as
    ``metro2_associated`` (their characters as read, so that writing them back gives the same bytes).

    A consumer becomes a related person when its ECOA code names a liable role (``ECOA_ROLE``) and it carries a
    social security number and a birth date (what identifies a person); the same number twice, or the
    borrower's own, is one person: it is mapped once, or not at all."""
    segments = [(s.name, s.values) for s in record.segments[1:] if s.name in ("J1", "J2")]
    row: dict[str, str | None] = {"metro2_associated": json.dumps(segments) if segments else None}
    seen = {borrower_ssn}
    n = 0
    for _, values in segments:
        role, ssn, birth = ECOA_ROLE.get(values["ecoa_code"].strip()), values["social_security_number"].strip(), \
            _iso(values["date_of_birth"])
        if role is None or not ssn.strip("0") or birth is None or ssn in seen or n == MAX_PARTIES:
            continue
        seen.add(ssn)
        n += 1
        name = " ".join(p for p in (values["first_name"].strip(), values["middle_name"].strip(),
                                    values["surname"].strip(), values["generation_code"].strip()) if p)
        row |= {f"party_{n}_role": role, f"party_{n}_id_type": "OTHER", f"party_{n}_id_number": ssn,
                f"party_{n}_full_name": name or None, f"party_{n}_birth_date": birth}
    return row


def _associated(row: Mapping[str, object]) -> list[tuple[str, dict[str, object]]]:
    """The J1/J2 segments of a row: as read (``metro2_associated``), else one J1 per related person (same
    address as the borrower's) with the ECOA code of its role."""
    kept = row.get("metro2_associated")
    if kept not in (None, ""):
        return [(name, values) for name, values in json.loads(str(kept))]
    built = []
    for n in range(1, MAX_PARTIES + 1):
        role = row.get(f"party_{n}_role")
        if role not in ROLE_ECOA or row.get(f"party_{n}_id_number") in (None, ""):
            continue
        parts = str(row.get(f"party_{n}_full_name") or "").split()
        built.append(("J1", {"surname": parts[-1] if parts else "", "first_name": parts[0] if len(parts) > 1 else "",
                             "middle_name": " ".join(parts[1:-1]), "ecoa_code": ROLE_ECOA[str(role)],
                             "social_security_number": row.get(f"party_{n}_id_number"),
                             "date_of_birth": _date(row.get(f"party_{n}_birth_date"))}))
    return built


def _date(text: object) -> date | None:
    return date.fromisoformat(str(text)) if text not in (None, "") else None


def _dollars(value: object) -> int:
    return int(value) // CENTS if value not in (None, "") else 0


def from_standard(row: Mapping[str, object], *, identification_number: str = "") -> Record:
    """A base record from the standard's columns (and ``metro2_*`` columns when present)."""
    def carried(name: str, default: object = "") -> object:
        value = row.get(f"metro2_{name}")
        return default if value in (None, "") else value

    product = str(row.get("product_type") or "installment")
    portfolio, account_type = PRODUCT_PORTFOLIO.get(product, ("I", "01"))
    status = str(carried("account_status", _status_code(row)))
    period = str(row.get("reporting_period") or "")
    reported = period_end(period) if period else None
    parts = str(row.get("full_name") or "").split()
    term = row.get("term_months")
    parts_of_address = address_parts(str(row.get("address") or ""))
    values = {
        "correction_indicator": 1 if str(row.get("correction")) == "1" else 0,
        "identification_number": carried("identification_number", identification_number),
        "consumer_account_number": row.get("furnisher_account_id"),
        "portfolio_type": carried("portfolio_type", portfolio), "account_type": carried("account_type", account_type),
        "date_opened": _date(row.get("opened_on")), "credit_limit": _dollars(row.get("credit_limit")),
        "highest_credit": int(carried("highest_credit", _dollars(row.get("original_amount")))),
        "terms_duration": f"{int(term):03d}" if term not in (None, "") else "REV",
        "terms_frequency": carried("terms_frequency", "M"),
        "scheduled_monthly_payment_amount": _dollars(row.get("amount_due")),
        "actual_payment_amount": _dollars(row.get("amount_paid")), "account_status": status,
        # statuses that need a rating (13: paid or closed) carry "0" when the standard has none to give
        "payment_rating": carried("payment_rating", "0" if status in RATING_STATUSES else ""),
        "payment_history_profile": carried("payment_history_profile", "B" * 24),
        "special_comment": carried("special_comment"),
        "compliance_condition_code": carried("compliance_condition_code"),
        "current_balance": _dollars(row.get("balance")), "amount_past_due": _dollars(row.get("past_due_amount")),
        # charged-off statuses need the amount charged off: the balance when the standard has none to give
        "original_charge_off_amount": int(carried("original_charge_off_amount",
                                                  _dollars(row.get("balance")) if status in CHARGE_OFF_STATUSES else 0)),
        "date_of_account_information": reported,
        "date_of_first_delinquency": _date(row.get("first_delinquency_date")),
        "date_closed": _date(row.get("closed_on")),
        "date_of_last_payment": _date(carried("date_of_last_payment", None)),
        "surname": carried("surname", parts[-1] if parts else ""),
        "first_name": carried("first_name", parts[0] if len(parts) > 1 else ""),
        "middle_name": carried("middle_name", " ".join(parts[1:-1])),
        "generation_code": carried("generation_code"),
        "social_security_number": row.get("id_number") or "",
        "date_of_birth": _date(row.get("birth_date")),
        "telephone_number": "".join(c for c in str(row.get("phone") or "") if c.isdigit())[-10:],
        "ecoa_code": carried("ecoa_code", "1"), "consumer_information_indicator": carried("consumer_information_indicator"),
        "country_code": carried("country_code"),
        **{name: carried(name, parts_of_address.get(name, "")) for name in ADDRESS_FIELDS},
    }
    return Record("base", [SegmentValues("base", values),
                           *(SegmentValues(name, segment) for name, segment in _associated(row))])


ADDRESS_FIELDS = ("first_line_of_address", "second_line_of_address", "city", "state", "postal_zip_code")
_STATE_ZIP = re.compile(r"\A(?:([A-Z]{2})(?: |\Z))?(\d{5}(?:\d{4})?)?\Z")


def address_parts(address: str) -> dict[str, str]:
    """The Metro 2 address fields of an address as ``to_standard`` joins them ("line 1, line 2, city, ST
    ZIP"); an address in another form goes whole (cut to 32 characters) to the first line.

    Example:
        >>> address_parts("12 ELM ST, APT 4, SPRINGFIELD, IL 62701")["postal_zip_code"]
        '62701'
    """
    parts = [p.strip() for p in address.split(",")]
    match = _STATE_ZIP.match(parts[-1]) if len(parts) >= 3 and parts[-1] else None
    if match is None or not any(match.groups()):
        return {"first_line_of_address": address[:32]}
    state, postal = match.groups()
    return {"first_line_of_address": parts[0], "second_line_of_address": ", ".join(parts[1:-2]),
            "city": parts[-2], "state": state or "", "postal_zip_code": postal or ""}


def _status_code(row: Mapping[str, object]) -> str:
    status = row.get("account_status")
    days = int(row.get("days_past_due") or 0)
    if status == "deleted":
        return "DA"
    if status == "transferred":
        return "05"
    if status == "closed":
        return "13"
    if status == "charged_off":
        return "97"
    for code, bucket in DELINQUENT_STATUSES.items():
        if days < 30 * (bucket + 1):
            return code if days >= 30 else "11"
    return "84"


def period_end(period: str) -> date:
    """The last day of a YYYY-MM period."""
    year, month = int(period[:4]), int(period[5:7])
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)

"""The catalogue of validation rules of furnishing standard v1: code, severity, reason, citation, examples.

The catalogue is data only; `fields.py` and `cross_field.py` implement each code as Polars expressions and
the validator takes every severity from here. Each rule carries two patches over `BASE_RECORD` (a valid,
current instalment loan): `example_fail` triggers the rule and `example_pass` does not. The tests run every
example and docs/furnishing-format.md lists every rule, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from openbureau.documents import resident_id
from openbureau.intake import standard

ERROR: Final = "error"
WARNING: Final = "warning"
Severity = Literal["error", "warning"]
RuleKind = Literal["field", "cross_field", "file"]
Patch = dict[str, str | None]

MAX_AMOUNT = 10**15  # minor units; ten trillion yuan is beyond any consumer account
MAX_TERM_MONTHS = 480
MAX_AGE_YEARS = 120
ADULT_AGE_YEARS = 18

GB_11643 = "GB 11643-1999 Citizen identification number"
MOD_11_2 = "GB 11643-1999 §6 check code; ISO 7064 MOD 11-2"
GB_T_2260 = "GB/T 2260 Codes for the administrative divisions of the PRC"
ICAO_9303 = "ICAO Doc 9303 Machine Readable Travel Documents (document number)"
ISO_8601 = "ISO 8601 calendar dates"
ISO_4217 = "ISO 4217 currency codes"
PBOC_STATUS = "PBoC Credit Reference Center monthly repayment status alphabet"
CIVIL_CODE = "PRC Civil Code Art. 17-18 (adulthood at 18)"
CIVIL_CODE_ART_56 = "PRC Civil Code Art. 56 (an individual business's debts are borne by the individual)"
REGULATION_ART_14 = "Regulation on the Administration of the Credit Reporting Industry (2013) Art. 14"
REGULATION_ART_15 = "Regulation on the Administration of the Credit Reporting Industry (2013) Art. 15"
CIVIL_CODE_GUARANTEE = "PRC Civil Code Art. 681-691 (guarantee contracts: the guarantor answers for the debt agreed)"
GB_32100 = "GB 32100-2015 Coding rule of the unified social credit identifier (check character: §5, ISO 7064 MOD 31)"
NUMBERING_PLAN = ("MIIT telecommunications numbering plan (mobile numbers 1[3-9]x, 11 digits); US profile: North "
                  "American Numbering Plan (NXX-NXX-XXXX)")


@dataclass(frozen=True, slots=True)
class Rule:
    """One validation rule: what it checks, why, and a failing and a passing example."""

    code: str
    severity: Severity
    fields: tuple[str, ...]
    description: str
    citation: str | None
    kind: RuleKind
    example_fail: Patch
    example_pass: Patch


# A documented valid record: a current instalment loan of 36,000.00 CNY over 36 months. The resident ID
# is built from region 110101 (Beijing Dongcheng), birth 1990-03-07 and sequence 123, check digit 3.
BASE_RECORD: dict[str, str | None] = {
    "furnisher_account_id": "ACC-000123",
    "reporting_period": "2026-09",
    "id_type": "CN_RESIDENT_ID",
    "id_number": resident_id("110101", "19900307", "123"),
    "full_name": "王小明",
    "birth_date": "1990-03-07",
    "phone": "+86 138-0013-8000",
    "address": "北京市东城区东华门街道1号",
    "product_type": "installment",
    "opened_on": "2024-05-15",
    "currency": "CNY",
    "credit_limit": None,
    "original_amount": "3600000",
    "term_months": "36",
    "balance": "2400000",
    "amount_due": "112000",
    "amount_paid": "112000",
    "past_due_amount": "0",
    "days_past_due": "0",
    "payment_status": "N",
    "account_status": "open",
    "first_delinquency_date": None,
    "closed_on": None,
    "consent_ref": "CONSENT-2024-000123",
    "negative_notice_date": None,
    "correction": "0",
}

# Valid patches reused by the examples: 45 days past due (bucket 2), notified; a charged-off account;
# a passport holder; a credit card; a closed account.
LATE: Patch = {
    "payment_status": "2",
    "days_past_due": "45",
    "past_due_amount": "112000",
    "first_delinquency_date": "2026-08-17",
    "negative_notice_date": "2026-08-20",
}
CHARGED_OFF: Patch = {
    "account_status": "charged_off",
    "payment_status": "7",
    "days_past_due": "200",
    "past_due_amount": "2400000",
    "first_delinquency_date": "2026-03-14",
    "negative_notice_date": "2026-03-20",
}
PASSPORT: Patch = {"id_type": "PASSPORT", "id_number": "E12345678"}
CARD: Patch = {"product_type": "credit_card", "original_amount": None, "term_months": None}
CLOSED: Patch = {"account_status": "closed", "closed_on": "2026-09-10", "balance": "0"}
# v1.1: a sole trader (the person columns name the owner; an individual business, USCC category 92) and an
# enterprise (the firm alone; the example code printed with GB 32100-2015).
SOLE_TRADER: Patch = {"borrower_type": "sole_trader", "enterprise_uscc": "92440300MA5EQ7X81X",
                      "enterprise_name": "深圳市南山区王小明便利店"}
ENTERPRISE: Patch = {"borrower_type": "enterprise", "enterprise_uscc": "91350100M000100Y43",
                     "enterprise_name": "福州示例贸易有限公司", "id_type": None, "id_number": None, "full_name": None,
                     "birth_date": None, "phone": None, "address": None}


def example_record(patch: Patch) -> dict[str, str | None]:
    """The base record with a rule example's patch applied."""
    return BASE_RECORD | patch


def _field(code: str, severity: Severity, fields: tuple[str, ...], description: str, citation: str | None,
           fail: Patch, ok: Patch) -> Rule:  # fmt: skip
    return Rule(code, severity, fields, description, citation, "field", fail, ok)


def _cross(code: str, severity: Severity, fields: tuple[str, ...], description: str, citation: str | None,
           fail: Patch, ok: Patch) -> Rule:  # fmt: skip
    return Rule(code, severity, fields, description, citation, "cross_field", fail, ok)


# Standard v1.1 examples: a guarantor of 10,000.00 CNY (born 1985-01-01) and two funders sharing 70/30 %.
# Member codes are checked against the members registered when a load starts; the examples run against these.
EXAMPLE_MEMBERS: dict[str, int] = {"BANK01": 101, "BANK02": 102, "PLATFORM01": 103}
GUARANTOR: Patch = {
    "party_1_role": "guarantor",
    "party_1_id_type": "CN_RESIDENT_ID",
    "party_1_id_number": resident_id("110101", "19850101", "001"),
    "party_1_full_name": "李四",
    "party_1_birth_date": "1985-01-01",
    "party_1_liability": "1000000",
    "party_1_consent_ref": "CONSENT-G-0001",
}
CO_BORROWER_2: Patch = {
    "party_2_role": "co_borrower",
    "party_2_id_type": "PASSPORT",
    "party_2_id_number": "E98765432",
    "party_2_full_name": "张三",
    "party_2_birth_date": "1988-08-08",
}
FUNDED: Patch = {"funder_1_code": "BANK01", "funder_1_share": "7000", "funder_2_code": "BANK02",
                 "funder_2_share": "3000"}
PARTY_ROLE_COLUMNS = tuple(standard.party_column(n, "role") for n in range(1, standard.MAX_PARTIES + 1))

_TEXT_LIMITED = tuple(f.name for f in standard.FIELDS if f.max_length and f.name != "currency")
# A related person's role has its own code (PARTY_ROLE_INVALID), so INVALID_ENUM leaves it alone.
_ENUMS = tuple(f.name for f in standard.FIELDS if f.type is standard.FieldType.ENUM and f.name not in PARTY_ROLE_COLUMNS)


def _columns(suffix: str, count: int, kind: str) -> tuple[str, ...]:
    return tuple(f"{kind}_{n}_{suffix}" for n in range(1, count + 1))

FIELD_RULES: tuple[Rule, ...] = (
    _field("REQUIRED_MISSING", ERROR, standard.REQUIRED_COLUMNS,
           "A required field is empty.", None, {"balance": None}, {"balance": "0"}),
    _field("INVALID_PERIOD", ERROR, ("reporting_period",),
           "A period is not YYYY-MM with a month 01-12.", ISO_8601,
           {"reporting_period": "2026-13"}, {"reporting_period": "2026-10"}),
    _field("INVALID_DATE", ERROR, standard.DATE_COLUMNS,
           "A date is not YYYY-MM-DD or is not a real calendar date.", ISO_8601,
           {"opened_on": "2024-02-30"}, {"opened_on": "2024-02-29"}),
    _field("INVALID_INTEGER", ERROR, standard.INTEGER_COLUMNS,
           "A number is not a whole number; amounts are integers in minor units (12.50 CNY is 1250).", None,
           {"balance": "12.50"}, {"balance": "1250"}),
    _field("NEGATIVE_AMOUNT", ERROR, standard.INTEGER_COLUMNS,
           "Amounts and counts are never negative; credits and refunds are not furnished.", None,
           {"amount_paid": "-100"}, {"amount_paid": "0"}),
    _field("INVALID_ENUM", ERROR, _ENUMS,
           "A coded field holds a value outside its list of codes (codes are case-sensitive).", None,
           {"payment_status": "X"}, {"payment_status": "#"}),
    _field("TOO_LONG", ERROR, _TEXT_LIMITED,
           "A text field is longer than its maximum length.", None,
           {"consent_ref": "C" * 65}, {"consent_ref": "C" * 64}),
    _field("INVALID_CURRENCY", ERROR, ("currency",),
           "The currency is not three letters (upper-cased before the check).", ISO_4217,
           {"currency": "RM"}, {"currency": "cny"}),
    _field("INVALID_PHONE", WARNING, ("phone",),
           "The phone is not a number of the profile's numbering plan (CN: a mobile number, after removing "
           "spaces, dashes and a leading +86 or 0086; US: 10 digits of the North American Numbering Plan, "
           "optionally after +1); the record is kept and the phone is not used for matching.", NUMBERING_PLAN,
           {"phone": "12345"}, {"phone": "0086 139 1234 5678"}),
    _field("AMOUNT_TOO_LARGE", ERROR, standard.AMOUNT_COLUMNS,
           "An amount is over 10^15 minor units, beyond any consumer account (usually a unit error).", None,
           {"balance": "1000000000000001"}, {"balance": "2500000"}),
)

CROSS_FIELD_RULES: tuple[Rule, ...] = (
    _cross("ID_FORMAT", ERROR, ("id_number", "id_type"),
           "A resident ID is 17 digits followed by a digit or X (spaces and case are normalised).", GB_11643,
           {"id_number": "11010119900307123"}, {"id_number": "1101 0119 9003 0712 33"}),
    _cross("ID_CHECK_DIGIT", ERROR, ("id_number", "id_type"),
           "The 18th character of a resident ID is the MOD 11-2 check code of the first 17; a mismatch is a "
           "typing error or a made-up number.", MOD_11_2,
           {"id_number": "110101199003071234"}, {}),
    _cross("ID_REGION", ERROR, ("id_number", "id_type"),
           "The first two digits of a resident ID are a province-level region code.", GB_T_2260,
           {"id_number": resident_id("990101", "19900307", "123")}, {}),
    _cross("ID_BIRTH_DATE_INVALID", ERROR, ("id_number", "id_type"),
           "Positions 7-14 of a resident ID are the holder's birth date and must be a real date.", GB_11643,
           {"id_number": resident_id("110101", "19900230", "123")}, {}),
    _cross("ID_BIRTH_DATE_MISMATCH", ERROR, ("birth_date", "id_number"),
           "birth_date must equal the birth date in positions 7-14 of the resident ID.", GB_11643,
           {"birth_date": "1990-03-08"}, {}),
    _cross("PASSPORT_FORMAT", ERROR, ("id_number", "id_type"),
           "A passport number is 6-12 letters and digits with at least one digit.", ICAO_9303,
           PASSPORT | {"id_number": "E12-345"}, PASSPORT),
    _cross("PERIOD_IN_FUTURE", ERROR, ("reporting_period",),
           "A record cannot describe a month after the current one.", None,
           {"reporting_period": "2099-01"}, {}),
    _cross("OPENED_AFTER_PERIOD", ERROR, ("opened_on", "reporting_period"),
           "An account cannot be reported for a month that ends before it was opened.", None,
           {"opened_on": "2026-10-01"}, {"opened_on": "2026-09-30"}),
    _cross("BIRTH_AFTER_OPENED", ERROR, ("birth_date", "opened_on"),
           "The borrower cannot be born after the account was opened.", None,
           PASSPORT | {"birth_date": "2025-01-01"}, PASSPORT | {"birth_date": "1990-01-01"}),
    _cross("BIRTH_DATE_IN_FUTURE", ERROR, ("birth_date",),
           "A birth date cannot be after today.", None,
           PASSPORT | {"birth_date": "2099-01-01"}, PASSPORT),
    _cross("BIRTH_DATE_TOO_OLD", ERROR, ("birth_date",),
           f"A borrower older than {MAX_AGE_YEARS} years today is a data error.", None,
           PASSPORT | {"birth_date": "1890-01-01"}, PASSPORT | {"birth_date": "1920-01-01"}),
    _cross("BORROWER_UNDER_18", WARNING, ("birth_date", "opened_on"),
           "The borrower was under 18 when the account was opened; minors have limited capacity to contract, "
           "so the furnisher should check the record.", CIVIL_CODE,
           PASSPORT | {"birth_date": "2010-01-01"}, PASSPORT | {"birth_date": "2006-05-15"}),
    _cross("STATUS_DPD_MISMATCH", ERROR, ("payment_status", "days_past_due"),
           "payment_status must agree with days_past_due: N, C, G and * need 0; 1 = 1-30, 2 = 31-60, "
           "3 = 61-90, 4 = 91-120, 5 = 121-150, 6 = 151-180, 7 = over 180; D, Z and # take any value.",
           PBOC_STATUS, LATE | {"payment_status": "1"}, LATE),
    _cross("PAST_DUE_AMOUNT_WITHOUT_DPD", ERROR, ("past_due_amount", "days_past_due"),
           "An amount past due means the account is late, so days_past_due cannot be 0.", None,
           {"past_due_amount": "112000"}, {}),
    _cross("DPD_WITHOUT_PAST_DUE_AMOUNT", ERROR, ("days_past_due", "past_due_amount"),
           "Days past due mean something is unpaid, so past_due_amount cannot be 0.", None,
           LATE | {"past_due_amount": "0"}, LATE),
    _cross("DPD_EXCEEDS_ACCOUNT_AGE", ERROR, ("days_past_due", "opened_on"),
           "An account cannot be late for longer than it has been open.", None,
           LATE | {"opened_on": "2026-09-01", "first_delinquency_date": "2026-09-05"}, LATE),
    _cross("DELINQUENCY_DATE_MISSING", ERROR, ("first_delinquency_date", "days_past_due"),
           "A late account needs the date its current delinquency started.", None,
           LATE | {"first_delinquency_date": None}, LATE),
    _cross("DELINQUENCY_AFTER_PERIOD", ERROR, ("first_delinquency_date", "reporting_period"),
           "A delinquency cannot start after the end of the month reported.", None,
           LATE | {"first_delinquency_date": "2026-10-02"}, LATE),
    _cross("DELINQUENCY_BEFORE_OPENED", ERROR, ("first_delinquency_date", "opened_on"),
           "A delinquency cannot start before the account was opened.", None,
           LATE | {"first_delinquency_date": "2024-05-01"}, LATE),
    _cross("DELINQUENCY_TOO_RECENT", WARNING, ("first_delinquency_date", "days_past_due"),
           "days_past_due is more than the days from first_delinquency_date to the end of the period, "
           "counting both days.", None,
           LATE | {"first_delinquency_date": "2026-09-20"}, LATE),
    _cross("DELINQUENCY_DATE_WHILE_CURRENT", WARNING, ("first_delinquency_date", "payment_status"),
           "An open, current account (status N, 0 days past due) has no current delinquency to date.", None,
           {"first_delinquency_date": "2026-08-17"}, {}),
    _cross("PAST_DUE_OVER_BALANCE", ERROR, ("past_due_amount", "balance"),
           "The amount past due is part of the balance and cannot exceed it.", None,
           LATE | {"past_due_amount": "2500000"}, LATE),
    _cross("CLOSED_WITH_BALANCE", ERROR, ("balance", "account_status"),
           "A closed account owes nothing; an account with a balance is open, charged off or transferred.",
           None, CLOSED | {"balance": "2400000"}, CLOSED),
    _cross("CLOSED_DATE_MISSING", ERROR, ("closed_on", "account_status"),
           "A closed account needs the date it was closed.", None, CLOSED | {"closed_on": None}, CLOSED),
    _cross("CLOSED_ON_WHILE_OPEN", ERROR, ("closed_on", "account_status"),
           "An open account cannot have a closing date (charged-off and transferred accounts may).", None,
           {"closed_on": "2026-09-10"}, {}),
    _cross("CLOSED_AFTER_PERIOD", ERROR, ("closed_on", "reporting_period"),
           "An account cannot be closed after the end of the month reported.", None,
           CLOSED | {"closed_on": "2026-10-05"}, CLOSED),
    _cross("CLOSED_BEFORE_OPENED", ERROR, ("closed_on", "opened_on"),
           "An account cannot be closed before it was opened.", None,
           CLOSED | {"closed_on": "2024-05-01"}, CLOSED),
    _cross("CHARGED_OFF_WITHOUT_DELINQUENCY", ERROR, ("first_delinquency_date", "account_status"),
           "A charged-off account needs the date its delinquency started; negative information is kept "
           "for a fixed time from it.", None, {"account_status": "charged_off"}, CHARGED_OFF),
    _cross("SETTLED_WITH_BALANCE", ERROR, ("payment_status", "balance"),
           "Status C (settled) means the account is paid off, so the balance is 0.", PBOC_STATUS,
           {"payment_status": "C"}, CLOSED | {"payment_status": "C"}),
    _cross("NOTHING_DUE_WITH_AMOUNT_DUE", ERROR, ("payment_status", "amount_due"),
           "Status * (nothing due this month) contradicts an amount_due above 0.", PBOC_STATUS,
           {"payment_status": "*"}, {"payment_status": "*", "amount_due": "0", "amount_paid": "0"}),
    _cross("CREDIT_LIMIT_MISSING", ERROR, ("credit_limit", "product_type"),
           "Revolving accounts and credit cards need a credit_limit above 0.", None,
           CARD, CARD | {"credit_limit": "5000000"}),
    _cross("ORIGINAL_AMOUNT_MISSING", ERROR, ("original_amount", "product_type"),
           "Instalment, mortgage, auto and BNPL accounts need an original_amount above 0.", None,
           {"original_amount": None}, {}),
    _cross("TERM_MONTHS_MISSING", ERROR, ("term_months", "product_type"),
           "Instalment, mortgage, auto and BNPL accounts need term_months.", None, {"term_months": None}, {}),
    _cross("TERM_MONTHS_OUT_OF_RANGE", ERROR, ("term_months",),
           f"term_months, when given, is between 1 and {MAX_TERM_MONTHS} (40 years).", None,
           {"term_months": str(MAX_TERM_MONTHS + 1)}, {"term_months": str(MAX_TERM_MONTHS)}),
    _cross("BALANCE_OVER_LIMIT", WARNING, ("balance", "credit_limit"),
           "The balance is over credit_limit by more than the tolerance (default 10 %: fees and interest "
           "may exceed the limit a little).", None,
           CARD | {"credit_limit": "2000000"}, CARD | {"credit_limit": "2200000"}),
    _cross("BALANCE_OVER_ORIGINAL", WARNING, ("balance", "original_amount"),
           "An instalment balance is over original_amount by more than the tolerance.", None,
           {"balance": "4000000"}, {"balance": "3900000"}),
    _cross("NON_CREDIT_WITH_CREDIT_TERMS", WARNING, ("product_type", "credit_limit", "original_amount"),
           "Utility, telecom and rent accounts are not credit and should not carry a credit_limit or "
           "original_amount.", None,
           {"product_type": "utility"}, {"product_type": "utility", "original_amount": None, "term_months": None}),
    _cross("NEGATIVE_NOTICE_MISSING", WARNING, ("negative_notice_date", "payment_status"),
           "The person must be told before negative information is furnished; without negative_notice_date "
           "the record is accepted but its negative status is held back from reports. Not applied under the US "
           "profile: FCRA §623(a)(7)(B) lets the notice follow furnishing by up to 30 days, so nothing is "
           "missing yet at intake and nothing is held.", REGULATION_ART_15,
           LATE | {"negative_notice_date": None}, LATE),
    _cross("NOTICE_AFTER_PERIOD", WARNING, ("negative_notice_date", "reporting_period"),
           "The negative-information notice is dated after the month reported; it must precede furnishing "
           "(not applied under the US profile, where it may follow furnishing by up to 30 days).",
           REGULATION_ART_15, LATE | {"negative_notice_date": "2026-10-05"}, LATE),
    _cross("NOTICE_IN_FUTURE", ERROR, ("negative_notice_date",),
           "A notice cannot be dated after today.", REGULATION_ART_15,
           LATE | {"negative_notice_date": "2099-01-01"}, LATE),
    _cross("TRANSFERRED_WITH_BALANCE", ERROR, ("balance", "account_status"),
           "A transferred account is owed to its new holder, who furnishes the balance; the seller reports 0.",
           None, {"account_status": "transferred"}, {"account_status": "transferred", "balance": "0"}),
    _cross("PAYMENT_WITHOUT_DEBT", WARNING, ("amount_paid", "amount_due", "balance"),
           "A payment was reported although nothing was due, past due or owed.", None,
           {"balance": "0", "amount_due": "0"}, {"balance": "0", "amount_due": "0", "amount_paid": "0"}),
)

_FUNDER_CODES = _columns("code", standard.MAX_FUNDERS, "funder")
_FUNDER_SHARES = _columns("share", standard.MAX_FUNDERS, "funder")
_PARTY_IDS = _columns("id_number", standard.MAX_PARTIES, "party")
_PARTY_COLUMNS = tuple(standard.party_column(n, s) for n in range(1, standard.MAX_PARTIES + 1)
                       for s in standard.PARTY_SUFFIXES)

# Standard v1.1: joint lending and related persons (docs/furnishing-format.md, "Standard v1.1").
JOINT_LENDING_RULES: tuple[Rule, ...] = (
    _field("PARTY_ROLE_INVALID", ERROR, PARTY_ROLE_COLUMNS,
           "A related person's role is not co_borrower or guarantor.", None,
           GUARANTOR | {"party_1_role": "cosigner"}, GUARANTOR | {"party_1_role": "co_borrower"}),
    _cross("FACILITATOR_UNKNOWN", ERROR, ("facilitator_code",),
           "The facilitator is not a registered member of the bureau.", None,
           {"facilitator_code": "NOBODY"}, {"facilitator_code": "PLATFORM01"}),
    _cross("FACILITATOR_ACCOUNT_WITHOUT_FACILITATOR", WARNING, ("facilitator_account_id",),
           "A facilitator's account number without facilitator_code matches nothing; it is stored as furnished.",
           None, {"facilitator_account_id": "P-778812"},
           {"facilitator_code": "PLATFORM01", "facilitator_account_id": "P-778812"}),
    _cross("FUNDER_GROUP_INCOMPLETE", ERROR, (*_FUNDER_CODES, *_FUNDER_SHARES),
           "A funder code without its share, or a share without its code.", None,
           FUNDED | {"funder_2_share": None}, FUNDED),
    _cross("FUNDER_UNKNOWN", ERROR, _FUNDER_CODES,
           "A funder is not a registered member of the bureau.", None,
           {"funder_1_code": "NOBODY", "funder_1_share": "10000"}, {"funder_1_code": "BANK01", "funder_1_share": "10000"}),
    _cross("FUNDER_SHARE_RANGE", ERROR, _FUNDER_SHARES,
           "A funder's share is outside 1-10000 basis points.", None,
           FUNDED | {"funder_1_share": "0", "funder_2_share": "10000"}, FUNDED),
    _cross("FUNDER_DUPLICATE", ERROR, _FUNDER_CODES,
           "The same funder appears twice in one record; give it one share.", None,
           FUNDED | {"funder_2_code": "BANK01"}, FUNDED),
    _cross("FUNDER_SHARES_NOT_100", ERROR, ("funder_1_share",),
           "The funders' shares do not add up to exactly 10000 basis points (100 %).", None,
           FUNDED | {"funder_2_share": "2000"}, FUNDED),
    _cross("PARTY_GROUP_INCOMPLETE", ERROR, _PARTY_COLUMNS,
           "A related person lacks one of role, document type, document number, name and birth date while "
           "another of its columns is given.", None, GUARANTOR | {"party_1_birth_date": None}, GUARANTOR),
    _cross("PARTY_ID_INVALID", ERROR, (*_PARTY_IDS, *_columns("birth_date", standard.MAX_PARTIES, "party")),
           "A related person's document is not well formed (resident ID format, check character, region or "
           "birth date; passport format), or the birth date differs from the one in the resident ID.", GB_11643,
           GUARANTOR | {"party_1_id_number": "110101198501010010"}, GUARANTOR),
    _cross("PARTY_IS_BORROWER", ERROR, _PARTY_IDS,
           "A related person has the borrower's own document: nobody guarantees or co-borrows their own loan.",
           None, GUARANTOR | {"party_1_id_number": BASE_RECORD["id_number"], "party_1_birth_date": "1990-03-07"},
           GUARANTOR),
    _cross("PARTY_DUPLICATE", ERROR, _PARTY_IDS,
           "The same document appears in two related-person groups of one record.", None,
           GUARANTOR | {"party_2_" + k.removeprefix("party_1_"): v for k, v in GUARANTOR.items()},
           GUARANTOR | CO_BORROWER_2),
    _cross("PARTY_LIABILITY_EXCEEDS", WARNING, _columns("liability", standard.MAX_PARTIES, "party"),
           "A related person's liability (a guarantor's guaranteed amount) is above the amount lent "
           "(original_amount) or the credit limit; the record loads.", CIVIL_CODE_GUARANTEE,
           GUARANTOR | {"party_1_liability": "3600001"}, GUARANTOR | {"party_1_liability": "3600000"}),
)

# v1.1, who borrows (implemented in borrowers.py; docs/furnishing-format.md#enterprise-borrowers-and-sole-traders-standard-v11).
BORROWER_RULES: tuple[Rule, ...] = (
    _cross("USCC_FORMAT", ERROR, ("enterprise_uscc",),
           "A unified social credit code is 18 characters of 0-9 and A-Y without I, O, S, V and Z, with digits in "
           "positions 3-8 (spaces and case are normalised).", GB_32100,
           ENTERPRISE | {"enterprise_uscc": "91350100M000100Y4"}, ENTERPRISE | {"enterprise_uscc": "9135 0100 m000 100y43"}),
    _cross("USCC_CHECK_CHARACTER", ERROR, ("enterprise_uscc",),
           "The 18th character of a unified social credit code is the check character of the first 17 (weights "
           "3^(i-1) mod 31); a mismatch is a typing error or a made-up code.", GB_32100,
           ENTERPRISE | {"enterprise_uscc": "91350100M000100Y44"}, ENTERPRISE),
    _cross("ENTERPRISE_USCC_MISSING", ERROR, ("enterprise_uscc",),
           "A sole trader's or an enterprise's record needs the business's unified social credit code.", GB_32100,
           ENTERPRISE | {"enterprise_uscc": None}, SOLE_TRADER),
    _cross("ENTERPRISE_NAME_MISSING", ERROR, ("enterprise_name",),
           "A sole trader's or an enterprise's record needs the business's registered name.", None,
           SOLE_TRADER | {"enterprise_name": None}, SOLE_TRADER),
    _cross("ENTERPRISE_FIELDS_WITHOUT_TYPE", ERROR, ("enterprise_uscc", "enterprise_name"),
           "enterprise_uscc or enterprise_name on a person's record (no borrower_type, or person): a business loan "
           "must say whether a sole trader or an enterprise borrows.", None,
           {"enterprise_uscc": "91350100M000100Y43"}, {"borrower_type": "person"}),
    _cross("SOLE_TRADER_PERSON_MISSING", ERROR, ("id_type", "id_number", "full_name", "birth_date"),
           "A sole trader's record identifies the owner, who is liable for the business's debts, by id_type, "
           "id_number, full_name and birth_date (instead of REQUIRED_MISSING, which persons' records keep).",
           CIVIL_CODE_ART_56, SOLE_TRADER | {"full_name": None}, SOLE_TRADER),
    _cross("ENTERPRISE_PERSON_GIVEN", ERROR, ("id_type", "id_number", "full_name", "birth_date", "phone", "address"),
           "An enterprise's record names the firm only: the person columns stay empty (a legal representative "
           "who answers for the loan is furnished as a guarantor, with the person's own consent).", None,
           ENTERPRISE | {"full_name": "王小明"}, ENTERPRISE),
    _cross("ENTERPRISE_PARTIES_NOT_SUPPORTED", WARNING, _columns("role", standard.MAX_PARTIES, "party"),
           "A related person (party_N_*: a guarantor or co-borrower) on an enterprise's record is not stored: the "
           "enterprise's loan loads without it, and the person's report does not show the guarantee. Said on "
           "each group, so that nothing furnished is dropped unseen.", None,
           ENTERPRISE | GUARANTOR, ENTERPRISE),
    _cross("ENTERPRISE_FUNDERS_NOT_SUPPORTED", WARNING, ("facilitator_code", "funder_1_code"),
           "A facilitator (facilitator_code, facilitator_account_id) or funders (funder_N_*) on an enterprise's "
           "record are not stored: the enterprise's loan loads without them and joint lending's statistics do not "
           "count it. One finding for the facilitator, one for the funders.", None,
           ENTERPRISE | FUNDED | {"facilitator_code": "PLATFORM01"}, ENTERPRISE),
)

FILE_RULES: tuple[Rule, ...] = (
    Rule("DUPLICATE_IN_FILE", ERROR, ("furnisher_account_id", "reporting_period"),
         "The same account and period appear twice in one file; the later record is rejected and names the "
         "line of the first.", None, "file", {}, {}),
    Rule("BANNED_ATTRIBUTE", ERROR, (),
         "A column name holds an attribute a credit bureau may not collect (religion, genes, fingerprints, "
         "blood type, diseases, medical history); the whole file is rejected before any record is read "
         "(checked on the header by intake.files.check_columns).", REGULATION_ART_14, "file",
         {}, {}),
)  # fmt: skip

RULES: list[Rule] = [*FIELD_RULES, *CROSS_FIELD_RULES, *JOINT_LENDING_RULES, *BORROWER_RULES, *FILE_RULES]
RULE_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}

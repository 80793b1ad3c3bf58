"""Furnishing standard v1.1: the declarative field table behind every reader, validator and writer.

The column names are a public contract (docs/furnishing-format.md). Each field says its logical type,
whether it is required, and, for enumerations, the allowed codes. Readers, the validator and the
simulator's writer are all driven by this table so that they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openbureau.documents import ID_TYPES
from openbureau.uscc import USCC_MAX_CHARS

STANDARD_VERSION = "1.1"
V1 = "1"  # files without the joint-lending fields load exactly as under v1


class FieldType(StrEnum):
    """Logical type of a furnished field."""

    TEXT = "text"
    PERIOD = "period"  # YYYY-MM
    DATE = "date"  # ISO YYYY-MM-DD
    TIMESTAMP = "timestamp"  # ISO 8601 date and time with a UTC offset (events)
    AMOUNT = "amount"  # integer, minor units, >= 0
    INTEGER = "integer"  # integer, >= 0
    ENUM = "enum"


PRODUCT_TYPES = (
    "revolving",
    "installment",
    "credit_card",
    "mortgage",
    "auto",
    "bnpl",
    "utility",
    "telecom",
    "rent",
)
REVOLVING_PRODUCTS = ("revolving", "credit_card")
INSTALLMENT_PRODUCTS = ("installment", "mortgage", "auto", "bnpl")
NON_CREDIT_PRODUCTS = ("utility", "telecom", "rent")
ACCOUNT_STATUSES = ("open", "closed", "charged_off", "transferred", "deleted")
# PBoC monthly repayment alphabet: N normal; 1..7 past-due buckets of 30 days (7 = over 180 days);
# C settled; G terminated; D paid by guarantor; Z repaid with assets; * nothing due; # unknown.
PAYMENT_STATUSES = ("N", "1", "2", "3", "4", "5", "6", "7", "C", "G", "D", "Z", "*", "#")
PAST_DUE_STATUSES = ("1", "2", "3", "4", "5", "6", "7")
CORRECTION_FLAGS = ("0", "1")
# Standard v1.1, joint lending: who a related person on the account is (docs/furnishing-format.md).
PARTY_ROLES = ("co_borrower", "guarantor")
MAX_FUNDERS = 5
MAX_PARTIES = 4
FULL_SHARE_BP = 10_000  # funders' shares are basis points of the loan and add up to exactly this
# v1.1: who borrows. A person (the default, and every v1 record); a sole trader, a person borrowing for their
# registered business (the person columns name the owner); an enterprise, a firm borrowing in its own name.
BORROWER_TYPES = ("person", "sole_trader", "enterprise")


@dataclass(frozen=True, slots=True)
class Field:
    """One column of the furnishing standard."""

    name: str
    type: FieldType
    required: bool
    description: str
    max_length: int | None = None
    values: tuple[str, ...] = ()
    personal: bool = False  # a personal identifier: encrypted at rest, masked in error reports
    since: str = "1"  # the version of the standard that added the field; a file of an earlier one omits it


V1_FIELDS: tuple[Field, ...] = (
    Field("furnisher_account_id", FieldType.TEXT, True, "The furnisher's own account number, stable across periods.", 64),
    Field("reporting_period", FieldType.PERIOD, True, "Month the record describes, YYYY-MM."),
    Field("id_type", FieldType.ENUM, True, "Kind of identity document.", values=ID_TYPES),
    Field("id_number", FieldType.TEXT, True, "Identity document number.", 32, personal=True),
    Field("full_name", FieldType.TEXT, True, "Borrower's name as on the document.", 100, personal=True),
    Field("birth_date", FieldType.DATE, True, "Borrower's date of birth.", personal=True),
    Field("phone", FieldType.TEXT, False, "Mobile number; +86 prefix, spaces and dashes allowed.", 32, personal=True),
    Field("address", FieldType.TEXT, False, "Residential address.", 200, personal=True),
    Field("product_type", FieldType.ENUM, True, "Kind of account.", values=PRODUCT_TYPES),
    Field("opened_on", FieldType.DATE, True, "Date the account was opened."),
    Field("currency", FieldType.TEXT, True, "ISO 4217 code of every amount in the record.", 3),
    Field("credit_limit", FieldType.AMOUNT, False, "Credit limit (revolving, credit cards)."),
    Field("original_amount", FieldType.AMOUNT, False, "Amount lent (installment, mortgage, auto, BNPL)."),
    Field("term_months", FieldType.INTEGER, False, "Number of monthly instalments."),
    Field("balance", FieldType.AMOUNT, True, "Amount owed at period end."),
    Field("amount_due", FieldType.AMOUNT, True, "Amount scheduled for the period."),
    Field("amount_paid", FieldType.AMOUNT, True, "Amount paid in the period."),
    Field("past_due_amount", FieldType.AMOUNT, True, "Amount past due at period end."),
    Field("days_past_due", FieldType.INTEGER, True, "Days past due at period end."),
    Field("payment_status", FieldType.ENUM, True, "PBoC monthly repayment status.", values=PAYMENT_STATUSES),
    Field("account_status", FieldType.ENUM, True, "State of the account.", values=ACCOUNT_STATUSES),
    Field("first_delinquency_date", FieldType.DATE, False, "Start of the current delinquency."),
    Field("closed_on", FieldType.DATE, False, "Date the account was closed."),
    Field("consent_ref", FieldType.TEXT, False, "Furnisher's reference of the person's consent.", 64),
    Field("negative_notice_date", FieldType.DATE, False, "Date the person was told of negative information."),
    Field("correction", FieldType.ENUM, True, "0 original record, 1 replacement of a stored one.", values=CORRECTION_FLAGS),
)

# Standard v1.1, enterprise borrowers and sole traders
# (docs/furnishing-format.md#enterprise-borrowers-and-sole-traders-standard-v11). Optional: a v1 file omits them.
BORROWER_FIELDS: tuple[Field, ...] = (
    Field("borrower_type", FieldType.ENUM, False, "person (default), sole_trader or enterprise.", values=BORROWER_TYPES,
          since="1.1"),
    Field("enterprise_uscc", FieldType.TEXT, False, "Unified social credit code of the business (GB 32100-2015).",
          USCC_MAX_CHARS, personal=True, since="1.1"),
    Field("enterprise_name", FieldType.TEXT, False, "Registered name of the business.", 200, personal=True,
          since="1.1"),
)


def _funder_fields(n: int) -> tuple[Field, ...]:
    return (
        Field(f"funder_{n}_code", FieldType.TEXT, False, f"Member code of funder {n} of the loan.", 16, since="1.1"),
        Field(f"funder_{n}_share", FieldType.INTEGER, False,
              f"Share of the loan funder {n} funds, in basis points (1-10000).", since="1.1"),
    )


def _party_fields(n: int) -> tuple[Field, ...]:
    return (
        Field(f"party_{n}_role", FieldType.ENUM, False, f"Role of related person {n}.", values=PARTY_ROLES,
              since="1.1"),
        Field(f"party_{n}_id_type", FieldType.ENUM, False, f"Identity document of related person {n}.",
              values=ID_TYPES, since="1.1"),
        Field(f"party_{n}_id_number", FieldType.TEXT, False, f"Identity document number of related person {n}.", 32,
              personal=True, since="1.1"),
        Field(f"party_{n}_full_name", FieldType.TEXT, False, f"Name of related person {n} as on the document.", 100,
              personal=True, since="1.1"),
        Field(f"party_{n}_birth_date", FieldType.DATE, False, f"Date of birth of related person {n}.",
              personal=True, since="1.1"),
        Field(f"party_{n}_liability", FieldType.AMOUNT, False,
              f"Amount related person {n} answers for: a guarantor's guaranteed amount; a co-borrower's joint "
              "liability (default: the balance).", since="1.1"),
        Field(f"party_{n}_consent_ref", FieldType.TEXT, False,
              f"Furnisher's reference of related person {n}'s consent.", 64, since="1.1"),
    )


# Standard v1.1: joint lending (a facilitator that originated the loan, the funders that fund it) and the
# related persons on an account (co-borrowers and guarantors). Every field is optional: a v1 file omits them.
JOINT_LENDING_FIELDS: tuple[Field, ...] = (
    Field("facilitator_code", FieldType.TEXT, False,
          "Member code of the platform that originated the loan; absent: the furnisher.", 16, since="1.1"),
    Field("facilitator_account_id", FieldType.TEXT, False,
          "The facilitator's account number of the same loan, when a funder reports it.", 64, since="1.1"),
    *(f for n in range(1, MAX_FUNDERS + 1) for f in _funder_fields(n)),
    *(f for n in range(1, MAX_PARTIES + 1) for f in _party_fields(n)),
)
FIELDS: tuple[Field, ...] = (*V1_FIELDS, *BORROWER_FIELDS, *JOINT_LENDING_FIELDS)
V1_COLUMNS: tuple[str, ...] = tuple(f.name for f in V1_FIELDS)
JOINT_LENDING_COLUMNS: tuple[str, ...] = tuple(f.name for f in JOINT_LENDING_FIELDS)
FUNDER_SUFFIXES = ("code", "share")
PARTY_SUFFIXES = ("role", "id_type", "id_number", "full_name", "birth_date", "liability", "consent_ref")


def funder_column(n: int, suffix: str) -> str:
    """The column of funder ``n`` (1-based): ``funder_2_share``."""
    return f"funder_{n}_{suffix}"


def party_column(n: int, suffix: str) -> str:
    """The column of related person ``n`` (1-based): ``party_1_id_number``."""
    return f"party_{n}_{suffix}"

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
PERSONAL_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.personal)
AMOUNT_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.type is FieldType.AMOUNT)
DATE_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.type is FieldType.DATE)
INTEGER_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in FIELDS if f.type in (FieldType.AMOUNT, FieldType.INTEGER)
)


@dataclass(frozen=True, slots=True)
class Layout:
    """A table of fields a furnished file follows: the monthly records, or the lending events."""

    name: str
    fields: tuple[Field, ...]

    @property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


RECORDS = Layout("records", FIELDS)
# The field rules every chunk runs: v1's and the borrower's (cheap, and a v1 record is a person's); joint
# lending's run only on a chunk that holds one of its values (intake.validation.engine).
V1_RECORDS = Layout("records_v1", (*V1_FIELDS, *BORROWER_FIELDS))

# Attributes a credit bureau may not collect (PRC Regulation on the Administration of Credit Reporting
# Industry, Art. 14: religion, genes, fingerprints, blood type, diseases and medical history). A file whose
# column names contain any of these words is rejected whole before anything is stored.
BANNED_ATTRIBUTE_WORDS: tuple[str, ...] = (
    "religion",
    "religious",
    "faith",
    "belief",
    "gene",
    "genetic",
    "genome",
    "dna",
    "fingerprint",
    "biometric",
    "blood",
    "medical",
    "health",
    "disease",
    "diagnosis",
    "illness",
    "宗教",
    "基因",
    "指纹",
    "血型",
    "疾病",
    "病史",
)

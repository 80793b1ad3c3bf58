"""Furnishing standard v1: the declarative field table behind every reader, validator and writer.

The column names are a public contract (docs/furnishing-format.md). Each field says its logical type,
whether it is required, and, for enumerations, the allowed codes. Readers, the validator and the
simulator's writer are all driven by this table so that they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openbureau.documents import ID_TYPES
from openbureau.uscc import USCC_MAX_CHARS

STANDARD_VERSION = "1"


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


FIELDS: tuple[Field, ...] = (
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
    # v1.1, enterprise borrowers and sole traders (docs/furnishing-format.md#enterprise-borrowers-and-sole-traders-standard-v11)
    Field("borrower_type", FieldType.ENUM, False, "person (default), sole_trader or enterprise.", values=BORROWER_TYPES),
    Field("enterprise_uscc", FieldType.TEXT, False, "Unified social credit code of the business (GB 32100-2015).",
          USCC_MAX_CHARS, personal=True),
    Field("enterprise_name", FieldType.TEXT, False, "Registered name of the business.", 200, personal=True),
)

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

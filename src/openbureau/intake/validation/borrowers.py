"""Standard v1.1 rules of who borrows: persons, sole traders and enterprises.

A record without ``borrower_type`` (every v1 record) is a person's and is checked exactly as before. A sole
trader's record names its owner in the person columns, which stay required (a missing one is
SOLE_TRADER_PERSON_MISSING instead of REQUIRED_MISSING, to say why), and its business by
``enterprise_uscc`` and ``enterprise_name``. An enterprise's record names the firm only: the person columns
must be empty (ENTERPRISE_PERSON_GIVEN), because a firm's debt is not a person's, and a legal
representative who answers for it is furnished as a guarantor. The Art. 15 notice rules are about personal
negative information, so they do not apply to an enterprise's record. Codes, severities and reasons live
in ``catalogue.py``; the USCC itself is ``openbureau.uscc``'s.
"""

from __future__ import annotations

import polars as pl

from openbureau import uscc
from openbureau.intake.standard import MAX_FUNDERS, MAX_PARTIES
from openbureau.intake.validation.fields import Check, raw

BORROWER = "_borrower_type"
# The columns that identify a person: required of persons and sole traders (the owner), empty for enterprises.
PERSON_REQUIRED = ("id_type", "id_number", "full_name", "birth_date")
PERSON_COLUMNS = (*PERSON_REQUIRED, "phone", "address")
ENTERPRISE_COLUMNS = ("enterprise_uscc", "enterprise_name")
# Rules about personal information only (Regulation Art. 15: the person is told of negative information).
PERSONAL_ONLY = ("NEGATIVE_NOTICE_MISSING", "NOTICE_AFTER_PERIOD")


def typed_columns() -> list[pl.Expr]:
    """The normalised USCC (no spaces, upper case) and the borrower type with its default, ``person`` (null when
    the type given is no code: INVALID_ENUM says so, and no rule that depends on the type fires beside it)."""
    return [
        uscc.normalise_uscc_expr(raw("enterprise_uscc")).alias("enterprise_uscc"),
        pl.when(raw("borrower_type").is_null()).then(pl.lit("person")).otherwise(pl.col("borrower_type"))
        .alias(BORROWER),
    ]


def for_borrower_type(checks: list[Check]) -> list[Check]:
    """The v1 checks as they apply to each borrower type: person columns required of persons only (sole
    traders have their own code, enterprises none), the notice rules for persons and sole traders only."""
    is_person = pl.col(BORROWER) == "person"
    is_enterprise = pl.col(BORROWER) == "enterprise"
    adjusted = []
    for check in checks:
        if check.code == "REQUIRED_MISSING" and check.field in PERSON_REQUIRED:
            check = Check(check.code, check.field, check.fires & is_person, check.message)
        elif check.code in PERSONAL_ONLY:
            check = Check(check.code, check.field, check.fires & ~is_enterprise, check.message)
        adjusted.append(check)
    return adjusted


def borrower_checks() -> list[Check]:
    """The v1.1 checks of the borrower type, the USCC and the columns each borrower type needs."""
    kind = pl.col(BORROWER)
    business = kind.is_in(["sole_trader", "enterprise"])
    code, furnished = pl.col("enterprise_uscc"), raw("enterprise_uscc")
    fits = furnished.str.len_chars() <= uscc.USCC_MAX_CHARS  # longer is TOO_LONG already
    well_formed = uscc.uscc_format_ok(code)
    checks = [
        Check("USCC_FORMAT", "enterprise_uscc", furnished.is_not_null() & fits & ~well_formed,
              pl.lit(uscc.PROBLEMS["USCC_FORMAT"] + ".")),
        Check("USCC_CHECK_CHARACTER", "enterprise_uscc", well_formed & ~uscc.uscc_check_ok(code),
              pl.lit(uscc.PROBLEMS["USCC_CHECK_CHARACTER"] + ".")),
        Check("ENTERPRISE_USCC_MISSING", "enterprise_uscc", business & furnished.is_null(),
              pl.format("borrower_type '{}' needs the business's unified social credit code in enterprise_uscc.",
                        kind)),
        Check("ENTERPRISE_NAME_MISSING", "enterprise_name", business & raw("enterprise_name").is_null(),
              pl.format("borrower_type '{}' needs the business's registered name in enterprise_name.", kind)),
    ]
    checks += [
        Check("ENTERPRISE_FIELDS_WITHOUT_TYPE", name, (kind == "person") & raw(name).is_not_null(),
              pl.lit(f"{name} is given on a person's record; set borrower_type to sole_trader or enterprise for "
                     "a business loan, or leave it empty."))
        for name in ENTERPRISE_COLUMNS
    ]
    checks += [
        Check("SOLE_TRADER_PERSON_MISSING", name, (kind == "sole_trader") & raw(name).is_null(),
              pl.lit(f"{name} is empty; a sole trader's record identifies the owner by id_type, id_number, "
                     "full_name and birth_date, as a person's does."))
        for name in PERSON_REQUIRED
    ]
    checks += [
        Check("ENTERPRISE_PERSON_GIVEN", name, (kind == "enterprise") & raw(name).is_not_null(),
              pl.lit(f"{name} is given on an enterprise's record; an enterprise is identified by enterprise_uscc "
                     "only (a legal representative who answers for the loan is furnished as a guarantor), so "
                     "the person columns stay empty."))
        for name in PERSON_COLUMNS
    ]
    return checks


def enterprise_party_checks() -> list[Check]:
    """An enterprise's record with related persons (standard v1.1 ``party_N_*``), a facilitator or funders: the
    loan loads, they are not stored (an enterprise's states have none yet), and a warning says so on each party
    group's role, on the facilitator and on the funders, so that nothing furnished is lost without the
    furnisher being told. Run with joint lending's checks (only a chunk with v1.1 values can carry them)."""
    enterprise = pl.col(BORROWER) == "enterprise"
    return [
        Check("ENTERPRISE_PARTIES_NOT_SUPPORTED", f"party_{n}_role",
              enterprise & (raw(f"party_{n}_role").is_not_null() | raw(f"party_{n}_id_number").is_not_null()),
              pl.lit(f"party_{n} is given on an enterprise's record; the bureau does not yet store the co-borrowers "
                     "and guarantors of an enterprise's loan: the loan loads without this related person, who "
                     "is not on their own report."))
        for n in range(1, MAX_PARTIES + 1)
    ] + [
        Check("ENTERPRISE_FUNDERS_NOT_SUPPORTED", "facilitator_code",
              enterprise & (raw("facilitator_code").is_not_null() | raw("facilitator_account_id").is_not_null()),
              pl.lit("facilitator_code or facilitator_account_id is given on an enterprise's record; the bureau does "
                     "not yet store the facilitator of an enterprise's loan: the loan loads without it.")),
        Check("ENTERPRISE_FUNDERS_NOT_SUPPORTED", "funder_1_code",
              enterprise & pl.any_horizontal(raw(f"funder_{n}_code").is_not_null() for n in range(1, MAX_FUNDERS + 1)),
              pl.lit("funder codes are given on an enterprise's record; the bureau does not yet store the funders "
                     "of an enterprise's loan: the loan loads without them.")),
    ]

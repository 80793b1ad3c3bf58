"""Rules of standard v1.1: the facilitator, the funders and the related persons (co-borrowers, guarantors).

Like `cross_field.py`, every check reads the typed columns, where a value that failed its field rule is null,
so a mistake is reported once. A group's completeness is read on the raw columns (an unreadable value is not
also called missing). Messages never quote a personal value: the finding's ``value`` is masked by the engine.
Codes, severities and reasons live in `catalogue.py` (``JOINT_LENDING_RULES``).
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from openbureau import documents as ids
from openbureau.intake import standard
from openbureau.intake.validation.fields import Check, raw

# The problems of a party's document this module owns; the others (an unknown type, a missing or too long
# number) are the field rules' and PARTY_GROUP_INCOMPLETE's.
_DOCUMENT_PROBLEMS = ("PASSPORT_FORMAT", "ID_FORMAT", "ID_CHECK_DIGIT", "ID_REGION", "ID_BIRTH_DATE_INVALID")
_CORE = ("role", "id_type", "id_number", "full_name", "birth_date")
_CODE_LENGTH = standard.FIELD_BY_NAME["funder_1_code"].max_length


def _member(column: str, members: Collection[str]) -> pl.Expr:
    """The code is given, not too long (TOO_LONG says so), and no registered member's."""
    code = raw(column)
    known = pl.Series(sorted(members), dtype=pl.String)
    return code.is_not_null() & (code.str.len_chars() <= _CODE_LENGTH) & ~code.is_in(known.implode())


def _facilitator_checks(members: Collection[str]) -> list[Check]:
    return [
        Check("FACILITATOR_UNKNOWN", "facilitator_code", _member("facilitator_code", members),
              pl.format("facilitator_code '{}' is not a member of the bureau.", raw("facilitator_code"))),
        Check("FACILITATOR_ACCOUNT_WITHOUT_FACILITATOR", "facilitator_account_id",
              raw("facilitator_account_id").is_not_null() & raw("facilitator_code").is_null(),
              pl.lit("facilitator_account_id is given without facilitator_code; it matches no facilitator.")),
    ]  # fmt: skip


def _funder_checks(members: Collection[str]) -> list[Check]:
    checks: list[Check] = []
    codes = [standard.funder_column(n, "code") for n in range(1, standard.MAX_FUNDERS + 1)]
    shares = [standard.funder_column(n, "share") for n in range(1, standard.MAX_FUNDERS + 1)]
    for n, (code, share) in enumerate(zip(codes, shares, strict=True), start=1):
        share_value = pl.col(share)
        checks += [
            Check("FUNDER_GROUP_INCOMPLETE", share, raw(code).is_not_null() & raw(share).is_null(),
                  pl.lit(f"{share} is empty but {code} is given; every funder needs its share.")),
            Check("FUNDER_GROUP_INCOMPLETE", code, raw(share).is_not_null() & raw(code).is_null(),
                  pl.lit(f"{code} is empty but {share} is given; every share needs its funder.")),
            Check("FUNDER_UNKNOWN", code, _member(code, members),
                  pl.format(f"{code} '{{}}' is not a member of the bureau.", raw(code))),
            Check("FUNDER_SHARE_RANGE", share, (share_value < 1) | (share_value > standard.FULL_SHARE_BP),
                  pl.format(f"{share} '{{}}' is outside 1-{standard.FULL_SHARE_BP} basis points.", share_value)),
        ]
        earlier = [pl.col(code) == pl.col(other) for other in codes[: n - 1]]
        if earlier:
            checks.append(Check("FUNDER_DUPLICATE", code, pl.any_horizontal(earlier),
                                pl.format(f"{code} '{{}}' is named twice in the record.", raw(code))))
    # The total is checked only when every group is whole and every share readable and in range: otherwise
    # the finding that explains the group already says what is wrong.
    given = [raw(s).is_not_null() for s in shares]
    whole = pl.all_horizontal(raw(c).is_not_null() == raw(s).is_not_null() for c, s in zip(codes, shares, strict=True))
    readable = pl.all_horizontal(raw(s).is_null() | pl.col(s).is_between(1, standard.FULL_SHARE_BP) for s in shares)
    total = pl.sum_horizontal(pl.col(s).fill_null(0) for s in shares)
    checks.append(Check("FUNDER_SHARES_NOT_100", shares[0],
                        pl.any_horizontal(given) & whole & readable & (total != standard.FULL_SHARE_BP),
                        pl.format(f"the funders' shares add up to {{}} basis points; they must add up to exactly "
                                  f"{standard.FULL_SHARE_BP}.", total)))  # fmt: skip
    return checks


def _party_checks() -> list[Check]:
    checks: list[Check] = []
    limit = pl.max_horizontal(pl.col("original_amount"), pl.col("credit_limit"))
    for n in range(1, standard.MAX_PARTIES + 1):
        column = {suffix: standard.party_column(n, suffix) for suffix in standard.PARTY_SUFFIXES}
        described = pl.any_horizontal(raw(c).is_not_null() for c in column.values())
        for suffix in _CORE:
            checks.append(Check("PARTY_GROUP_INCOMPLETE", column[suffix], described & raw(column[suffix]).is_null(),
                                pl.lit(f"{column[suffix]} is empty but related person {n} is described by other "
                                       "columns; give role, document type, document number, name and birth date.")))
        id_type, number, birth = pl.col(column["id_type"]), pl.col(column["id_number"]), pl.col(column["birth_date"])
        problem = ids.id_problem_expr(id_type, number)
        resident_ok = (id_type == "CN_RESIDENT_ID") & problem.is_null()
        liability = pl.col(column["liability"])
        checks += [
            Check("PARTY_ID_INVALID", column["id_number"], problem.is_in(_DOCUMENT_PROBLEMS),
                  pl.concat_str([pl.lit(f"{column['id_number']}: "),
                                 problem.replace_strict(ids.PROBLEMS, default="", return_dtype=pl.String),
                                 pl.lit(".")])),
            Check("PARTY_ID_INVALID", column["birth_date"], resident_ok & (birth != ids.cn_id_birth_date(number)),
                  pl.lit(f"{column['birth_date']} differs from the birth date in positions 7-14 of "
                         f"{column['id_number']}.")),
            Check("PARTY_IS_BORROWER", column["id_number"],
                  (id_type == pl.col("id_type")) & (number == pl.col("id_number")),
                  pl.lit(f"{column['id_number']} is the borrower's own document; the borrower cannot be their own "
                         "co-borrower or guarantor.")),
            Check("PARTY_LIABILITY_EXCEEDS", column["liability"], liability > limit,
                  pl.format(f"{column['liability']} {{}} is above the amount lent or the credit limit ({{}}).",
                            liability, limit)),
        ]  # fmt: skip
        earlier = [(id_type == pl.col(standard.party_column(m, "id_type")))
                   & (number == pl.col(standard.party_column(m, "id_number"))) for m in range(1, n)]
        if earlier:
            checks.append(Check("PARTY_DUPLICATE", column["id_number"], pl.any_horizontal(earlier),
                                pl.lit(f"{column['id_number']} names a person already named by an earlier "
                                       "related-person group of the record.")))
    return checks


def joint_lending_checks(*, members: Collection[str]) -> list[Check]:
    """Every check of the v1.1 rules over the typed columns.

    Args:
        members: the codes of the bureau's registered members (a facilitator or funder must be one).

    Returns:
        Checks over the typed columns of `fields.typed_columns`.
    """
    return [*_facilitator_checks(members), *_funder_checks(members), *_party_checks()]

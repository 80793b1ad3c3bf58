"""Identity documents: their types, how a number is normalised, and when it is well formed.

The one owner of these rules: intake validates furnished records with the Polars expressions, and the
consent registry validates a consent's subject with the scalar twins (:func:`normalise_id`,
:func:`id_problems`), so a consent and the records of the same person always normalise and index alike.
CN resident ID numbers follow GB 11643-1999; passports ICAO Doc 9303.

Example:
    >>> check_digit("11010519491231002")
    'X'
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

# Kinds of identity document a record or a consent may name (docs/furnishing-format.md).
ID_TYPES: tuple[str, ...] = ("CN_RESIDENT_ID", "PASSPORT", "OTHER")
ID_NUMBER_MAX_CHARS = 32

# GB 11643-1999 §6: weights W_i = 2^(i-1) mod 11 for positions 18..2, the check character is the
# ISO 7064 MOD 11-2 complement, written as "X" when it is 10.
CHECK_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"  # indexed by (weighted sum mod 11)

# GB/T 2260 province-level codes: the first two digits of a resident ID (71 Taiwan, 81 Hong Kong,
# 82 Macao, 91 abroad, as listed by the issuing authorities' validators).
PROVINCE_CODES: tuple[str, ...] = (
    "11", "12", "13", "14", "15",
    "21", "22", "23",
    "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46",
    "50", "51", "52", "53", "54",
    "61", "62", "63", "64", "65",
    "71", "81", "82", "91",
)  # fmt: skip

CN_ID_PATTERN = r"^[0-9]{17}[0-9X]$"
# ICAO Doc 9303 document numbers are letters and digits; the MRZ field holds 9 characters and longer
# numbers continue in the optional data, so 6 to 12 characters with at least one digit are accepted.
PASSPORT_PATTERN = r"^[A-Z0-9]{6,12}$"
_CN_ID, _PASSPORT = re.compile(r"\A\d{17}[\dX]\Z", re.ASCII), re.compile(r"\A[A-Z0-9]{6,12}\Z", re.ASCII)


def check_digit(first17: str) -> str:
    """Return the GB 11643-1999 check character for the first 17 digits of a resident ID.

    Args:
        first17: the region code, birth date and sequence number, 17 digits.

    Returns:
        One of "0"-"9" or "X".
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("a resident ID body is exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def resident_id(region: str, birth: str, sequence: str) -> str:
    """Build a well-formed resident ID from its parts (region 6 digits, birth YYYYMMDD, sequence 3)."""
    body = f"{region}{birth}{sequence}"
    return body + check_digit(body)


# The white space removed from a number: ASCII spaces and controls, the no-break and the ideographic space
# (one explicit set, so that Python and Polars regular expressions cannot disagree on what \s means).
_SPACES = "[ \t\n\r\f\v\u00a0\u3000]+"
_SPACES_RE = re.compile(_SPACES)


def normalise_id_number(raw: pl.Expr) -> pl.Expr:
    """Upper-case an identity document number and remove every space inside it."""
    return raw.str.replace_all(_SPACES, "").str.to_uppercase()


def normalise_id(id_number: str) -> str:
    """The scalar twin of :func:`normalise_id_number`: upper case, no white space."""
    return _SPACES_RE.sub("", id_number).upper()


def cn_id_format_ok(id_number: pl.Expr) -> pl.Expr:
    """True when a normalised number is 17 digits followed by a digit or X."""
    return id_number.str.contains(CN_ID_PATTERN)


def check_digit_expr(id_number: pl.Expr) -> pl.Expr:
    """The expected check character of each well-formed resident ID (positions 1-17 weighted)."""
    total = pl.sum_horizontal(
        id_number.str.slice(i, 1).cast(pl.Int32, strict=False) * weight for i, weight in enumerate(CHECK_WEIGHTS)
    )
    return total.mod(11).replace_strict(list(range(11)), list(CHECK_CHARACTERS), return_dtype=pl.String)


def cn_id_check_digit_ok(id_number: pl.Expr) -> pl.Expr:
    """True when the 18th character equals the MOD 11-2 check character of the first 17."""
    return id_number.str.slice(17, 1) == check_digit_expr(id_number)


def cn_id_region_ok(id_number: pl.Expr) -> pl.Expr:
    """True when the first two digits are a real province-level code."""
    return id_number.str.slice(0, 2).is_in(PROVINCE_CODES)


def cn_id_birth_date(id_number: pl.Expr) -> pl.Expr:
    """The birth date in positions 7-14 (YYYYMMDD), null when it is not a real date."""
    return id_number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def passport_format_ok(id_number: pl.Expr) -> pl.Expr:
    """True when a normalised passport number is 6-12 letters and digits with at least one digit."""
    return id_number.str.contains(PASSPORT_PATTERN) & id_number.str.contains(r"\d")


# Why a number is not well formed, by code (the same codes as intake's cross-field rules).
PROBLEMS = {
    "INVALID_ENUM": f"id_type must be one of {', '.join(ID_TYPES)}",
    "REQUIRED_MISSING": "id_number is required",
    "TOO_LONG": f"id_number is longer than {ID_NUMBER_MAX_CHARS} characters",
    "PASSPORT_FORMAT": "id_number is not a passport number: use 6-12 letters and digits without separators",
    "ID_FORMAT": "id_number is not a resident ID number: it needs 17 digits followed by a digit or X",
    "ID_CHECK_DIGIT": "id_number fails the GB 11643-1999 check: its last character does not match the first "
                      "17 digits, so a digit was probably mistyped",
    "ID_REGION": "id_number does not start with a province-level region code",
    "ID_BIRTH_DATE_INVALID": "id_number positions 7-14 are not a real birth date (YYYYMMDD)",
}


def id_problem_expr(id_type: pl.Expr, number: pl.Expr) -> pl.Expr:
    """The code (a key of ``PROBLEMS``) of the first reason a normalised number is not well formed for its
    type, null when it is well formed."""
    resident, passport = id_type == "CN_RESIDENT_ID", id_type == "PASSPORT"
    return (pl.when(id_type.is_null() | ~id_type.is_in(ID_TYPES)).then(pl.lit("INVALID_ENUM"))
            .when(number.is_null() | (number == "")).then(pl.lit("REQUIRED_MISSING"))
            .when(number.str.len_chars() > ID_NUMBER_MAX_CHARS).then(pl.lit("TOO_LONG"))
            .when(passport & ~passport_format_ok(number)).then(pl.lit("PASSPORT_FORMAT"))
            .when(resident & ~cn_id_format_ok(number)).then(pl.lit("ID_FORMAT"))
            .when(resident & ~cn_id_check_digit_ok(number)).then(pl.lit("ID_CHECK_DIGIT"))
            .when(resident & ~cn_id_region_ok(number)).then(pl.lit("ID_REGION"))
            .when(resident & cn_id_birth_date(number).is_null()).then(pl.lit("ID_BIRTH_DATE_INVALID"))
            .otherwise(pl.lit(None, dtype=pl.String)))


def id_problem(id_type: str, id_number: str | None) -> tuple[str, str] | None:
    """The scalar twin of :func:`id_problem_expr` (pure Python: it runs on every inquiry and consent):
    (code, message) of the first problem of a normalised number, or None when it is well formed.

    Example:
        >>> id_problem("CN_RESIDENT_ID", "110101199003071234")[0]
        'ID_CHECK_DIGIT'
    """
    code = _first_problem(id_type, id_number)
    return None if code is None else (code, PROBLEMS[code])


def _first_problem(id_type: str, n: str | None) -> str | None:
    if id_type not in ID_TYPES:
        return "INVALID_ENUM"
    if not n:
        return "REQUIRED_MISSING"
    if len(n) > ID_NUMBER_MAX_CHARS:
        return "TOO_LONG"
    if id_type == "PASSPORT":
        return None if _PASSPORT.match(n) and any(c.isdigit() for c in n) else "PASSPORT_FORMAT"
    if id_type != "CN_RESIDENT_ID":
        return None
    if not _CN_ID.match(n):
        return "ID_FORMAT"
    if n[17] != check_digit(n[:17]):
        return "ID_CHECK_DIGIT"
    if n[:2] not in PROVINCE_CODES:
        return "ID_REGION"
    try:
        date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return "ID_BIRTH_DATE_INVALID"
    return None

"""Identity-document checks as Polars expressions: CN resident ID (GB 11643-1999) and passports.

Every function takes and returns expressions, so a whole chunk is checked at once. `check_digit` is the
scalar twin of `check_digit_expr`, used to build documented examples and to cross-check in tests.

Example:
    >>> check_digit("11010519491231002")
    'X'
"""

from __future__ import annotations

import polars as pl

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

CN_ID_PATTERN = r"^\d{17}[\dX]$"
# ICAO Doc 9303 document numbers are letters and digits; the MRZ field holds 9 characters and longer
# numbers continue in the optional data, so 6 to 12 characters with at least one digit are accepted.
PASSPORT_PATTERN = r"^[A-Z0-9]{6,12}$"


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


def normalise_id_number(raw: pl.Expr) -> pl.Expr:
    """Upper-case an identity document number and remove every space inside it."""
    return raw.str.to_uppercase().str.replace_all(r"\s+", "")


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

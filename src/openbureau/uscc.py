"""Unified social credit codes (统一社会信用代码): normalisation, well-formedness and the check character.

The one owner of these rules, as ``documents`` is of identity documents: intake validates furnished records
with the Polars expressions, and the enterprise inquiry validates the code it is asked about with the scalar
twins (:func:`normalise_uscc`, :func:`uscc_problem`), so a code looked up and a code furnished always
normalise and index alike.

GB 32100-2015 (Coding rule of the unified social credit identifier for legal entities and other
organizations): 18 characters over the 31 characters 0-9 and A-Y without I, O, Z, S and V; position 1 the
registering authority, 2 the kind of organisation (``92`` an individual business, 个体工商户), 3-8 the GB/T
2260 division of the registering office (digits), 9-17 the organisation code (GB 11714), 18 a check
character over the first 17: each character's value (its place in the alphabet) weighted by 3^(i-1) mod 31
for position i, and the check character is the one whose value is 31 minus the weighted sum mod 31 (0 when
that is 31).

Example:
    >>> uscc_check_character("91350100M000100Y4")
    '3'
"""

from __future__ import annotations

import re

import polars as pl

from openbureau.documents import normalise_id, normalise_id_number

USCC_LENGTH = 18
USCC_MAX_CHARS = 32  # as furnished, before spaces are removed; longer is TOO_LONG, not a format error
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015 §4.2: I, O, Z, S and V are never used
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, ...
INDIVIDUAL_BUSINESS_CATEGORY = "92"  # positions 1-2 of an individual business (个体工商户) registered by SAMR
_CLASS = "[0-9A-HJ-NPQRTUWXY]"
USCC_PATTERN = rf"^{_CLASS}{{2}}[0-9]{{6}}{_CLASS}{{10}}$"
_USCC = re.compile(rf"\A{_CLASS}{{2}}[0-9]{{6}}{_CLASS}{{10}}\Z", re.ASCII)

PROBLEMS = {
    "REQUIRED_MISSING": "enterprise_uscc is required",
    "TOO_LONG": f"enterprise_uscc is longer than {USCC_MAX_CHARS} characters",
    "USCC_FORMAT": "enterprise_uscc is not a unified social credit code: it needs 18 characters of 0-9 and "
                   "A-Y without I, O, S, V and Z, with digits in positions 3-8",
    "USCC_CHECK_CHARACTER": "enterprise_uscc fails the GB 32100-2015 check: its 18th character does not match "
                            "the first 17, so a character was probably mistyped",
}


def uscc_check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character of the first 17 characters of a unified social credit code.

    Args:
        first17: the registering authority, category, division and organisation code, 17 characters of
            ``ALPHABET``.

    Returns:
        One character of ``ALPHABET``.
    """
    if len(first17) != 17 or any(c not in ALPHABET for c in first17):
        raise ValueError("a unified social credit code body is 17 characters of the GB 32100 alphabet")
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_uscc_expr(raw: pl.Expr) -> pl.Expr:
    """Upper-case a code and remove every space inside it (the same white space as identity numbers)."""
    return normalise_id_number(raw)


def normalise_uscc(code: str) -> str:
    """The scalar twin of :func:`normalise_uscc_expr`."""
    return normalise_id(code)


def uscc_format_ok(code: pl.Expr) -> pl.Expr:
    """True when a normalised code is 18 characters of the alphabet with digits in positions 3-8."""
    return code.str.contains(USCC_PATTERN)


def uscc_check_character_expr(code: pl.Expr) -> pl.Expr:
    """The expected check character of each well-formed code (positions 1-17 weighted)."""
    values = list(range(len(ALPHABET)))
    total = pl.sum_horizontal(
        code.str.slice(i, 1).replace_strict(list(ALPHABET), values, default=None, return_dtype=pl.Int32) * weight
        for i, weight in enumerate(WEIGHTS)
    )
    return ((31 - total.mod(31)).mod(31)).replace_strict(values, list(ALPHABET), return_dtype=pl.String)


def uscc_check_ok(code: pl.Expr) -> pl.Expr:
    """True when the 18th character equals the GB 32100-2015 check character of the first 17."""
    return code.str.slice(17, 1) == uscc_check_character_expr(code)


def uscc_problem_expr(code: pl.Expr) -> pl.Expr:
    """The code (a key of ``PROBLEMS``) of the first reason a normalised code is not well formed, null when it
    is well formed."""
    return (pl.when(code.is_null() | (code == "")).then(pl.lit("REQUIRED_MISSING"))
            .when(code.str.len_chars() > USCC_MAX_CHARS).then(pl.lit("TOO_LONG"))
            .when(~uscc_format_ok(code)).then(pl.lit("USCC_FORMAT"))
            .when(~uscc_check_ok(code)).then(pl.lit("USCC_CHECK_CHARACTER"))
            .otherwise(pl.lit(None, dtype=pl.String)))


def uscc_problem(code: str | None) -> tuple[str, str] | None:
    """The scalar twin of :func:`uscc_problem_expr`: (code, message) of the first problem of a normalised
    code, or None when it is well formed.

    Example:
        >>> uscc_problem("91350100M000100Y44")[0]
        'USCC_CHECK_CHARACTER'
    """
    if not code:
        found: str | None = "REQUIRED_MISSING"
    elif len(code) > USCC_MAX_CHARS:
        found = "TOO_LONG"
    elif not _USCC.match(code):
        found = "USCC_FORMAT"
    elif code[17] != uscc_check_character(code[:17]):
        found = "USCC_CHECK_CHARACTER"
    else:
        found = None
    return None if found is None else (found, PROBLEMS[found])


def is_individual_business(code: str) -> bool:
    """True when a well-formed code is an individual business's (category 92, 个体工商户)."""
    return code.startswith(INDIVIDUAL_BUSINESS_CATEGORY)

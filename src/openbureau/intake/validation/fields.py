"""Field rules driven by the standard's field table: presence, type, range, codes and length.

Each raw column `raw.<name>` (String) gives one typed column `<name>` and a list of checks. A value that
fails a type or range rule is null in its typed column, so cross-field rules never see it and never add
noise to the finding that already explains it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import overload

import polars as pl

from openbureau.documents import normalise_id_number
from openbureau.intake import standard
from openbureau.intake.standard import Field, FieldType
from openbureau.intake.validation.catalogue import MAX_AMOUNT

RAW_PREFIX = "raw."
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
INTEGER_PATTERN = r"^-?\d+$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$"
# A CN mobile number 1[3-9]\d{9}, optionally after +86 or 0086, with spaces and dashes anywhere between
# digits: one regex instead of removing separators first (six times faster).
CN_MOBILE_PATTERN = r"^(?:\+86|0086)?[\s-]*1[\s-]*[3-9](?:[\s-]*\d){9}[\s-]*$"
# A North American Numbering Plan number: area code and exchange each start 2-9 (NANP numbering rules), 10
# digits in all, optionally after +1 or 1, with spaces, dots, dashes or parentheses around the area code.
NANP_PATTERN = (r"^(?:\+?1)?[\s.-]*\(?[\s]*[2-9](?:[\s.-]*\d){2}[\s]*\)?[\s.-]*[2-9](?:[\s.-]*\d){6}[\s.-]*$")


@dataclass(frozen=True, slots=True)
class PhonePlan:
    """A numbering plan the phone of a record is checked against (the profile's ``phone_plan``)."""

    pattern: str
    describes: str  # what a valid number is, in the finding's words


PHONE_PLANS: dict[str, PhonePlan] = {
    "CN_MOBILE": PhonePlan(CN_MOBILE_PATTERN, "a CN mobile number (11 digits starting 13-19, optionally with +86)"),
    "NANP": PhonePlan(NANP_PATTERN, "a US number (10 digits of the North American Numbering Plan, area code and "
                                    "exchange starting 2-9, optionally with +1)"),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One implemented rule on one field: where it fires and what the finding says."""

    code: str
    field: str
    fires: pl.Expr  # Boolean; null counts as not firing
    message: pl.Expr  # String, evaluated only on the rows where the check fires


def raw(name: str) -> pl.Expr:
    """The stripped raw string of a standard column, as furnished."""
    return pl.col(RAW_PREFIX + name)


@overload
def mask_value(value: str) -> str: ...
@overload
def mask_value(value: None) -> None: ...
@overload
def mask_value(value: pl.Expr) -> pl.Expr: ...
def mask_value(value: str | None | pl.Expr) -> str | None | pl.Expr:
    """Hide a personal value: keep the first 3 and last 2 characters of 8 or more, the first of shorter.

    Works on a Python string or on a String expression, with the same result.

    Example:
        >>> mask_value("11010519491231002X")
        '110*************2X'
    """
    if isinstance(value, pl.Expr):
        length = value.str.len_chars()
        head = pl.when(length >= 8).then(3).when(length >= 2).then(1).otherwise(0)
        tail = pl.when(length >= 8).then(2).otherwise(0)
        middle = value.str.slice(head, length - head - tail).str.replace_all(r"(?s).", "*")
        return pl.concat_str([value.str.slice(0, head), middle, value.str.slice(length - tail, tail)])
    if value is None:
        return None
    length = len(value)
    head, tail = (3, 2) if length >= 8 else (1, 0) if length >= 2 else (0, 0)
    return value[:head] + "*" * (length - head - tail) + value[length - tail :]


def shown_value(name: str, layout: standard.Layout = standard.RECORDS) -> pl.Expr:
    """The raw value of a column as it may appear in a finding: masked when the field is personal."""
    value = raw(name)
    return mask_value(value) if layout.by_name[name].personal else value


def _subject(field: Field) -> pl.Expr:
    """The start of a message: the field name, with its value unless the field is personal."""
    if field.personal:
        return pl.lit(field.name)
    return pl.format(f"{field.name} '{{}}'", raw(field.name))


def _says(field: Field, text: str) -> pl.Expr:
    return pl.concat_str([_subject(field), pl.lit(text)])


def _text(field: Field) -> tuple[pl.Expr, list[Check]]:
    value = raw(field.name)
    checks: list[Check] = []
    if field.name == "id_number" or (field.name.startswith("party_") and field.name.endswith("_id_number")):
        value = normalise_id_number(value)
    if field.name == "currency":
        value = value.str.to_uppercase()
        valid = value.str.contains(CURRENCY_PATTERN)
        checks.append(Check("INVALID_CURRENCY", field.name, value.is_not_null() & ~valid,
                            _says(field, " is not a currency code of three letters, such as CNY.")))  # fmt: skip
        return pl.when(valid).then(value), checks
    if field.max_length is not None:
        length = raw(field.name).str.len_chars()
        message = pl.format(f"{field.name} is {{}} characters long; at most {field.max_length} are allowed.", length)
        checks.append(Check("TOO_LONG", field.name, length > field.max_length, message))
    return value, checks


def phone_check(field: Field, plan: PhonePlan) -> Check:
    """INVALID_PHONE: the phone is no number of the profile's plan (kept, not used for matching)."""
    return Check("INVALID_PHONE", field.name, ~raw(field.name).str.contains(plan.pattern),
                 _says(field, f" is not {plan.describes}; it will not be used for matching."))


def _period(field: Field) -> tuple[pl.Expr, list[Check]]:
    value = raw(field.name)
    valid = value.str.contains(PERIOD_PATTERN)
    message = _says(field, " is not a month in the form YYYY-MM with a month from 01 to 12.")
    return pl.when(valid).then(value), [Check("INVALID_PERIOD", field.name, ~valid, message)]


def _date(field: Field) -> tuple[pl.Expr, list[Check]]:
    value = raw(field.name)
    # The pattern first: the parser alone would accept 2024-1-5.
    parsed = pl.when(value.str.contains(DATE_PATTERN)).then(value.str.to_date("%Y-%m-%d", strict=False))
    message = _says(field, " is not a real date in the form YYYY-MM-DD.")
    return parsed, [Check("INVALID_DATE", field.name, value.is_not_null() & parsed.is_null(), message)]


def _timestamp(field: Field) -> tuple[pl.Expr, list[Check]]:
    value = raw(field.name)
    # ISO 8601 with a UTC offset (Z, +08:00 or +0800), a T or a space between date and time, seconds'
    # fraction optional; a time without an offset is refused: it would name a different moment per zone.
    iso = value.str.replace(r"[Zz]$", "+00:00").str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
    parsed = pl.when(value.str.contains(TIMESTAMP_PATTERN)).then(
        iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC", time_unit="us"))
    message = _says(field, " is not a date and time in ISO 8601 with a UTC offset, such as "
                           "2026-10-03T09:15:00+08:00.")  # fmt: skip
    return parsed, [Check("INVALID_TIMESTAMP", field.name, value.is_not_null() & parsed.is_null(), message)]


def _integer(field: Field) -> tuple[pl.Expr, list[Check]]:
    value = raw(field.name)
    is_integer = value.str.contains(INTEGER_PATTERN)
    parsed = value.cast(pl.Int64, strict=False)  # null beyond the Int64 range
    negative = is_integer & value.str.starts_with("-") & value.str.contains(r"[1-9]")
    is_amount = field.type is FieldType.AMOUNT
    if is_amount:
        invalid = ~is_integer
        hint = " is not a whole number; amounts are integers in minor units (12.50 is written 1250)."
        too_large = is_integer & ~negative & (parsed.is_null() | (parsed > MAX_AMOUNT))
    else:
        invalid = ~is_integer | (~negative & parsed.is_null())
        hint = " is not a whole number in range."
        too_large = pl.lit(False)
    checks = [
        Check("INVALID_INTEGER", field.name, invalid, _says(field, hint)),
        Check("NEGATIVE_AMOUNT", field.name, negative, _says(field, " is negative; it must be 0 or more.")),
    ]
    if is_amount:
        checks.append(Check("AMOUNT_TOO_LARGE", field.name, too_large,
                            _says(field, f" is over {MAX_AMOUNT:,} minor units; amounts are in minor units "
                                         "(fen for CNY), check the unit.")))  # fmt: skip
    return pl.when(is_integer & ~negative & ~too_large).then(parsed), checks


def _enum(field: Field) -> tuple[pl.Expr, list[Check]]:
    value = raw(field.name)
    valid = value.is_in(field.values)
    message = _says(field, f" is not an allowed code; use one of: {', '.join(field.values)}.")
    typed = pl.when(valid).then(value)
    if field.name == "correction":
        typed = typed.cast(pl.Int8)
    # A related person's role (standard v1.1) has a code of its own: what it names is not a list of codes but
    # who answers for the loan.
    code = "PARTY_ROLE_INVALID" if field.name.startswith("party_") and field.name.endswith("_role") else "INVALID_ENUM"
    return typed, [Check(code, field.name, ~valid, message)]


_BY_TYPE = {
    FieldType.TEXT: _text,
    FieldType.PERIOD: _period,
    FieldType.DATE: _date,
    FieldType.TIMESTAMP: _timestamp,
    FieldType.AMOUNT: _integer,
    FieldType.INTEGER: _integer,
    FieldType.ENUM: _enum,
}


@functools.cache
def typed_columns(layout: standard.Layout = standard.RECORDS) -> tuple[pl.Expr, ...]:
    """One expression per column of ``layout`` turning `raw.<name>` into its typed column `<name>` (built once
    per layout: an expression is immutable)."""
    return tuple(_BY_TYPE[field.type](field)[0].alias(field.name) for field in layout.fields)


def field_checks(layout: standard.Layout = standard.RECORDS, *, phone_plan: str = "CN_MOBILE") -> list[Check]:
    """Every field check of every standard column, in field-table order.

    A missing value is reported once, as REQUIRED_MISSING when the field is required; type checks only
    fire on values that are present. ``phone_plan`` names the profile's numbering plan (``PHONE_PLANS``).
    """
    plan = PHONE_PLANS[phone_plan]
    checks: list[Check] = []
    for field in layout.fields:
        if field.required:
            checks.append(Check("REQUIRED_MISSING", field.name, raw(field.name).is_null(),
                                pl.lit(f"{field.name} is required but empty.")))  # fmt: skip
        typed = _BY_TYPE[field.type](field)[1] + ([phone_check(field, plan)] if field.name == "phone" else [])
        for check in typed:
            present = raw(field.name).is_not_null()
            checks.append(Check(check.code, check.field, present & check.fires, check.message))
    return checks

"""Validator of furnishing standard v1: field and cross-field rules over Polars chunks.

Example:
    >>> from datetime import date
    >>> state = FileState()  # one per file
    >>> result = validate_chunk(chunk, today=date(2026, 11, 22), state=state)  # doctest: +SKIP
    >>> result.findings.filter(pl.col("severity") == "error")  # doctest: +SKIP
"""

from openbureau.intake.validation.catalogue import BASE_RECORD, RULE_BY_CODE, RULES, Rule, example_record
from openbureau.intake.validation.engine import (
    FINDINGS_SCHEMA,
    FileState,
    ValidationResult,
    validate_chunk,
)
from openbureau.intake.validation.fields import mask_value

__all__ = [
    "BASE_RECORD",
    "FINDINGS_SCHEMA",
    "RULES",
    "RULE_BY_CODE",
    "FileState",
    "Rule",
    "ValidationResult",
    "example_record",
    "mask_value",
    "validate_chunk",
]

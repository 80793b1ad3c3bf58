"""Error codes of the authorities domain (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

NONDISCLOSURE_END_REQUIRED = "NONDISCLOSURE_END_REQUIRED"  # an order without its end date
NONDISCLOSURE_REF_REQUIRED = "NONDISCLOSURE_REF_REQUIRED"  # an end date without the order it ends
INVALID_NONDISCLOSURE_END = "INVALID_NONDISCLOSURE_END"  # in the past, too far ahead, or without a time zone
INVALID_REQUEST_TEXT = "INVALID_REQUEST_TEXT"  # a citation or reference empty or too long
INVALID_YEAR = "INVALID_YEAR"

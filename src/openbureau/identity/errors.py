"""Error codes of the identity domain (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

PERSON_NOT_FOUND = "PERSON_NOT_FOUND"
REVIEW_NOT_FOUND = "REVIEW_NOT_FOUND"
PERSON_MERGED = "PERSON_MERGED"

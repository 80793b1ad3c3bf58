"""Error codes of the members domain (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

INVALID_API_KEY = "INVALID_API_KEY"
MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"

"""Error codes of the consent domain (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

CONSENT_NOT_FOUND = "CONSENT_NOT_FOUND"

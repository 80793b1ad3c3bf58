"""Error codes of the inquiries domain (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

OBJECTION_IN_FORCE = "OBJECTION_IN_FORCE"  # the person refused this use of their file (PIPL Art. 44)
OBJECTION_NOT_AVAILABLE = "OBJECTION_NOT_AVAILABLE"  # the profile gives no objection to this purpose
OBJECTION_NOT_FOUND = "OBJECTION_NOT_FOUND"

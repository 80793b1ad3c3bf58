"""Error codes of the metering domain (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

MONTH_INVALID = "MONTH_INVALID"
MONTH_NOT_STARTED = "MONTH_NOT_STARTED"

"""Error codes of the scoring domain (the ``code`` of a :class:`~openbureau.kit.errors.BureauError`)."""

from __future__ import annotations

MODEL_NOT_FOUND = "MODEL_NOT_FOUND"

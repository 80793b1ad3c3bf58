"""Received files: their digest, their columns' admissibility, and where the bureau keeps them."""

from __future__ import annotations

import re
from pathlib import Path

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.kit.settings import Settings


def banned_columns(columns: list[str]) -> list[str]:
    """Columns whose name names a banned attribute: a whole word of it (``blood_type``, ``Religion``,
    ``genetic-test``), or a Chinese term anywhere in it; ``general_note`` is not ``gene``."""
    words = [w for w in standard.BANNED_ATTRIBUTE_WORDS if w.isascii()]
    terms = [w for w in standard.BANNED_ATTRIBUTE_WORDS if not w.isascii()]
    banned = []
    for column in columns:
        if column in standard.FIELD_BY_NAME:
            continue
        tokens = set(re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", column).lower()))
        if tokens & set(words) or any(t in column for t in terms):
            banned.append(column)
    return banned


def check_columns(columns: list[str]) -> list[str]:
    """Refuse a file with banned attributes or missing required columns; return its unknown columns."""
    banned = banned_columns(columns)
    if banned:
        raise FileRejected(
            "the file carries attributes a credit bureau may not collect (Credit Reporting Regulation "
            f"Art. 14): {', '.join(banned)}; nothing was stored",
            code="BANNED_ATTRIBUTE", field=banned[0], details={"columns": banned},
        )
    missing = [c for c in standard.REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FileRejected(
            f"the file lacks required columns: {', '.join(missing)}",
            code="FILE_MISSING_COLUMNS", field=missing[0], details={"columns": missing},
        )
    return [c for c in columns if c not in standard.FIELD_BY_NAME]


def stored_path(settings: Settings, *, sha: str, fmt: str) -> Path:
    """Where the bureau keeps a received file."""
    return settings.submissions_dir / sha[:2] / f"{sha}.{fmt}"

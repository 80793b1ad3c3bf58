"""Received files: their digest, their columns' admissibility, and where the bureau keeps them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.kit.settings import Settings


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_columns(columns: list[str]) -> list[str]:
    """Refuse a file with banned attributes or missing required columns; return its unknown columns."""
    lowered = {c: c.lower() for c in columns}
    banned = [c for c, low in lowered.items()
              if c not in standard.FIELD_BY_NAME and any(w in low for w in standard.BANNED_ATTRIBUTE_WORDS)]
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

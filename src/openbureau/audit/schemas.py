"""API schemas of the audit domain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class AuditEntryRead(BaseModel):
    """One audit entry as the API shows it; ``details`` is parsed from its stored canonical JSON."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor_member_id: int | None
    actor_code: str
    action: str
    person_id: int | None
    purpose: str | None
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str

    @field_validator("details", mode="before")
    @classmethod
    def _parse_details(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

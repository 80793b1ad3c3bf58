"""API schemas of the identity domain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ReviewRead(BaseModel):
    """A pair of persons the resolver could not decide on, waiting for an operator."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int = Field(description="the weakly identified person (no resident ID)")
    candidate_person_id: int = Field(description="the resident-ID person it may be")
    match_weight: float
    match_probability: float
    evidence: dict[str, Any] = Field(description="agreeing fields and the weight of each; no identifier in clear")
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None

    @field_validator("evidence", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

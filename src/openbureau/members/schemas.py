"""API schemas of the members domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from openbureau.members.models import Role


class MemberCreate(BaseModel):
    """A new member institution."""

    code: str = Field(pattern=r"^[A-Z0-9_]{2,32}$", description="Upper-case code, e.g. BANK_A.")
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)


class MemberRead(BaseModel):
    """A member as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    roles: list[Role]
    created_at: datetime


class IssuedKey(BaseModel):
    """A freshly issued API key: the only time the secret is visible."""

    member_code: str
    prefix: str
    api_key: str

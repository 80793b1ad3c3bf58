"""API schemas of the members domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from openbureau.members.models import LicenceKind, Product, Role, Vetting

# Business data of an institution, never personal: still bounded and plain (no control characters, no markup).
Plain = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                         pattern=r"^[^\x00-\x1f\x7f<>]+$")]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f<>]*$")]


class MemberCreate(BaseModel):
    """A new member institution."""

    code: str = Field(pattern=r"^[A-Z0-9_]{2,32}$", description="Upper-case code, e.g. BANK_A.")
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    vetting: Vetting = Field(default=Vetting.PENDING, description="pending until the bureau vets it, or approved "
                                                                  "when registered after vetting.")


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


class LicenceUpdate(BaseModel):
    """A member's licence or registration, as its issuing authority gave it (business data, not personal)."""

    kind: LicenceKind
    number: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9./ -]{0,63}$",
                        description="The licence's or registration's number, 1 to 64 letters, digits, . / - or space.")
    authority: Plain = Field(description="Who issued it, e.g. the central bank.")
    valid_from: date
    valid_until: date | None = Field(default=None, description="The last day it is valid; None: open-ended.")

    @model_validator(mode="after")
    def _window(self) -> LicenceUpdate:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


class VettingDecision(BaseModel):
    """The operator's vetting decision about a member."""

    status: Vetting
    notes: Notes = ""


class Permissions(BaseModel):
    """The purposes a member may query for and the products it may use (None: leave as they are)."""

    purposes: list[str] | None = Field(default=None, max_length=20)
    products: list[Product] | None = Field(default=None, max_length=20)


class SuspensionCreate(BaseModel):
    """Why the operator suspends a member."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500,
                                             pattern=r"^[^\x00-\x08\x0b-\x1f\x7f<>]+$")]


class Licence(BaseModel):
    """A member's licence or registration as recorded."""

    kind: str
    number: str
    authority: str
    valid_from: date | None
    valid_until: date | None


class MembershipRead(BaseModel):
    """A member's standing: vetting, licence, what it may use, and its suspension."""

    code: str
    name: str
    roles: list[Role]
    vetting: Vetting
    vetted_by: str | None
    vetted_at: datetime | None
    vetting_notes: str | None
    licence: Licence | None
    licence_in_force: bool = Field(description="No licence recorded, or today within its validity.")
    purposes: list[str] = Field(description="Purposes it may query for; ['*']: every purpose the bureau allows.")
    products: list[str] = Field(description="Products it may use; ['*']: every product.")
    may_query: bool = Field(description="Approved, its licence in force and not suspended.")
    suspended: bool
    suspended_at: datetime | None
    suspended_by: str | None
    suspension_reason: str | None

"""Tables of the members domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class Role(StrEnum):
    """What a member may do at the bureau."""

    FURNISHER = "furnisher"
    SUBSCRIBER = "subscriber"
    REGULATOR = "regulator"
    OPERATOR = "operator"
    AUTHORITY = "authority"  # a court, the police, a tax office (docs/rights.md, Requests by authorities)


class Member(Base):
    """An institution: a lender that furnishes and/or queries, a regulator, an authority (a court, the police,
    a tax office), or the bureau's operator."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles_text: Mapped[str] = mapped_column("roles", String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="member")

    @property
    def roles(self) -> frozenset[Role]:
        """The member's roles."""
        return frozenset(Role(r) for r in self.roles_text.split(",") if r)

    def has_role(self, role: Role) -> bool:
        """Whether the member holds ``role``."""
        return role in self.roles


class ApiKey(Base):
    """An API key; only its SHA-256 hash is stored, the key itself is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (Index(None, "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)

    member: Mapped[Member] = relationship(back_populates="keys", lazy="joined")

"""Tables of the members domain."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow
from openbureau.principals import ANY, Standing


class Role(StrEnum):
    """What a member may do at the bureau."""

    FURNISHER = "furnisher"
    SUBSCRIBER = "subscriber"
    REGULATOR = "regulator"
    OPERATOR = "operator"
    AUTHORITY = "authority"  # a court, the police, a tax office (docs/rights.md, Requests by authorities)


class Vetting(StrEnum):
    """Where the bureau's vetting of a member stands (docs/membership.md)."""

    PENDING = "pending"  # registered, not vetted yet: may furnish, may use no product
    APPROVED = "approved"  # vetted: may use the products and purposes it is permitted
    REJECTED = "rejected"  # vetted and refused: may use no product


class LicenceKind(StrEnum):
    """What a member's licence or registration is."""

    LICENCE = "licence"  # a lending or credit-reporting licence
    REGISTRATION = "registration"  # a registration with a regulator (no licence needed for the activity)
    AUTHORISATION = "authorisation"  # an authority's statutory power, or a regulator's own mandate


class Product(StrEnum):
    """What a member may use at the bureau, each refused with ``PRODUCT_NOT_PERMITTED`` unless permitted."""

    REPORT = "report"  # an online inquiry: the person's report (POST /v1/inquiries)
    SCORE = "score"  # the score and its reasons within a report (left out when not permitted)
    SIGNALS = "signals"  # the risk signals within a report (left out when not permitted)
    BATCH = "batch"  # batch inquiries (POST /v1/inquiries/batches)
    MONITORING = "monitoring"  # monitoring registrations and their webhook deliveries
    PRESCREEN = "prescreen"  # prescreened lists


class Member(Base):
    """An institution: a lender that furnishes and/or queries, a regulator, an authority (a court, the police,
    a tax office), or the bureau's operator; with its vetting, licence, permitted purposes and products, and a
    suspension by the operator (docs/membership.md)."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles_text: Mapped[str] = mapped_column("roles", String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    vetting: Mapped[str] = mapped_column(String(16), default=Vetting.PENDING)
    vetted_by: Mapped[str | None] = mapped_column(String(64), default=None)
    vetted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    vetting_notes: Mapped[str | None] = mapped_column(String(500), default=None)
    licence_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    licence_number: Mapped[str | None] = mapped_column(String(64), default=None)
    licence_authority: Mapped[str | None] = mapped_column(String(200), default=None)
    licence_valid_from: Mapped[date | None] = mapped_column(Date, default=None)
    licence_valid_until: Mapped[date | None] = mapped_column(Date, default=None, doc="Inclusive.")
    purposes_text: Mapped[str] = mapped_column("purposes", String(200), default=ANY,
                                               doc="Comma-separated purposes it may query for; * all.")
    products_text: Mapped[str] = mapped_column("products", String(200), default=ANY,
                                               doc="Comma-separated products it may use; * all.")
    suspended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    suspended_by: Mapped[str | None] = mapped_column(String(64), default=None)
    suspension_reason: Mapped[str | None] = mapped_column(String(500), default=None)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="member")

    @property
    def roles(self) -> frozenset[Role]:
        """The member's roles."""
        return frozenset(Role(r) for r in self.roles_text.split(",") if r)

    def has_role(self, role: Role) -> bool:
        """Whether the member holds ``role``."""
        return role in self.roles

    @property
    def standing(self) -> Standing:
        """What the principal of this member carries: vetting, licence validity, permitted purposes and products."""
        return Standing(approved=self.vetting == Vetting.APPROVED, licence_from=self.licence_valid_from,
                        licence_until=self.licence_valid_until,
                        purposes=frozenset((self.purposes_text or "").split(",")) - {""},
                        products=frozenset((self.products_text or "").split(",")) - {""})


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
    second_factor_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, default=None, info=CIPHERTEXT,
        doc="The TOTP secret of the key's second factor for the web sign-in (members.second_factor), encrypted.")
    second_factor_step: Mapped[int | None] = mapped_column(
        BigInteger, default=None, doc="The last TOTP time step accepted: a code is taken once.")
    second_factor_failures: Mapped[int] = mapped_column(
        SmallInteger, default=0, server_default="0", doc="Wrong codes in a row since the last right one.")
    second_factor_locked_until: Mapped[datetime | None] = mapped_column(
        UtcDateTime, default=None, doc="Too many wrong codes: no code is taken before this moment.")

    member: Mapped[Member] = relationship(back_populates="keys", lazy="joined")


class ConsoleSession(Base):
    """A web sign-in of a member's staff (with the member's API key) or of the bureau's operator (with a one-time
    code the command line issued), and the operator's one-time codes themselves (docs/portal.md).

    Only hashes of the tokens and codes are kept; a member's session names the key it was opened with (its
    prefix, never the key), so that revoking the key or suspending the member ends it at the next request.
    """

    __tablename__ = "console_sessions"
    __table_args__ = (Index(None, "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), doc="member, operator, or operator_code (not yet used)")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the session token or code.")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), default=None)
    key_prefix: Mapped[str | None] = mapped_column(String(16), default=None)
    actor_code: Mapped[str] = mapped_column(String(64), doc="who acts: the member's code or OPERATOR:<user>")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None, doc="signed out, or code used")

"""Tables of the consent domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT, blind_index_of
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class ConsentStatus(StrEnum):
    """Stored status; ``expired`` is derived from the validity window when read."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    PENDING = "pending"  # its validity window has not begun


class Consent(Base):
    """A person's consent to one member, for one purpose, over a validity window, with its evidence.

    Modelled on consent artefacts of open banking (India's Account Aggregator ReBIT consent: consent id,
    data principal, data consumer, purpose code, fetch/data scope, consent start and expiry, status,
    signature). The subject is held by the blind index of an identity document so that a consent can arrive
    before any record of the person does.
    """

    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("grantee_member_id", "consent_ref"),
        Index(None, "subject_id_index", "grantee_member_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consent_ref: Mapped[str] = mapped_column(String(64), doc="The grantee's own reference of the consent.")
    grantee_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(200), doc="Comma-separated data scopes, e.g. accounts,report,score.")
    subject_id_type: Mapped[str] = mapped_column(String(16))
    subject_id_index: Mapped[bytes] = mapped_column(LargeBinary(16),
                                                   info=blind_index_of("subject_id_enc", "subject_id_type"))
    subject_id_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default=ConsentStatus.ACTIVE)
    evidence_channel: Mapped[str] = mapped_column(String(32), doc="app, web, paper, branch, call, api ...")
    evidence_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="When the person gave the consent.")
    evidence_hash: Mapped[str | None] = mapped_column(String(128), doc="Hash or signature of the signed document.")
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), doc="import or api")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger, doc="Member who recorded it (None: operator).")

    def status_at(self, moment: datetime) -> ConsentStatus:
        """The consent's status at ``moment``: revoked, expired, pending or active."""
        return status_at(self, moment)


def status_at(consent, moment: datetime) -> ConsentStatus:
    """The status at ``moment`` of a consent, or of a row of its terms (``status``, ``valid_from``,
    ``valid_until``): revoked, expired, pending or active."""
    if consent.status == ConsentStatus.REVOKED:
        return ConsentStatus.REVOKED
    if consent.valid_until is not None and moment >= consent.valid_until:
        return ConsentStatus.EXPIRED
    if moment < consent.valid_from:
        return ConsentStatus.PENDING
    return ConsentStatus.ACTIVE

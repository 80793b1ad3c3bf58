"""Tables of the audit domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.db import Base, BigId, UtcDateTime


class AuditEntry(Base):
    """One access to personal data, or one change to who may access it; never updated or deleted.

    Each entry carries the hash of the one before it (``prev_hash``) and its own hash over its fields and
    that link (``entry_hash``), so that a changed, removed or moved entry breaks the chain at that point.
    ``details`` holds ids and references only, never a personal identifier in clear (docs/audit.md).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index(None, "person_id", "seq"), Index(None, "actor_code", "seq"))

    # Assigned by the service (last seq + 1 under the append lock), never by the database, so that a
    # rolled-back append leaves no gap.
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_member_id: Mapped[int | None] = mapped_column(BigInteger, doc="None: the operator, from the CLI.")
    actor_code: Mapped[str] = mapped_column(String(64), doc="Member code, or OPERATOR:<os user>.")
    action: Mapped[str] = mapped_column(String(48), doc="What was done, e.g. inquiry.read, consent.grant.")
    person_id: Mapped[int | None] = mapped_column(BigInteger, doc="Whose data; None when no one person's.")
    purpose: Mapped[str | None] = mapped_column(String(48))
    details: Mapped[str] = mapped_column(Text, doc="Canonical JSON: sorted keys, no whitespace, UTF-8.")
    prev_hash: Mapped[str] = mapped_column(String(64), doc="entry_hash of the entry before (hex).")
    entry_hash: Mapped[str] = mapped_column(String(64), doc="SHA-256 or HMAC-SHA256 of this entry (hex).")

"""Tables of the people domain: sign-in challenges, lock-outs, person sessions and erasure requests.

Nothing here holds an identifier in clear: a document is kept as a keyed hash (sign-in key) or sealed
(``id_enc``), codes and tokens only as hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime


class SigninChallenge(Base):
    """A one-time code sent for a sign-in (or, for a document the bureau does not know, a challenge that no
    code can answer, so that both look alike to the asker)."""

    __tablename__ = "signin_challenges"
    __table_args__ = (Index(None, "document_hash", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the challenge token.")
    document_hash: Mapped[str] = mapped_column(String(64), doc="Keyed hash of the identity document.")
    person_id: Mapped[int | None] = mapped_column(BigInteger, doc="None: no file, or no phone on file.")
    code_hash: Mapped[str] = mapped_column(String(64), doc="Keyed hash of the code.")
    status: Mapped[str] = mapped_column(String(16), doc="open, used, superseded or locked")
    attempts: Mapped[int] = mapped_column(Integer, default=0, doc="Wrong codes entered.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SigninLockout(Base):
    """Sign-in with one identity document refused until ``locked_until`` after too many wrong codes."""

    __tablename__ = "signin_lockouts"
    __table_args__ = (Index(None, "document_hash", "locked_until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_hash: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime] = mapped_column(UtcDateTime)


class PersonSession(Base):
    """A signed-in person: a short-lived bearer token (only its hash is kept), revocable by signing out."""

    __tablename__ = "person_sessions"
    __table_args__ = (Index(None, "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the session token.")
    person_id: Mapped[int] = mapped_column(BigInteger)
    id_type: Mapped[str] = mapped_column(String(16), doc="The identity document proven at sign-in ...")
    id_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT, doc="... and its number, sealed.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ErasureRequest(Base):
    """A person's request to erase what the profile allows (``people.erasure``): what was asked, and once done
    what was erased and what was kept and why (counts and reasons only, JSON)."""

    __tablename__ = "erasure_requests"
    __table_args__ = (Index(None, "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    scope: Mapped[str] = mapped_column(String(32), doc="held_records, expired_negative or all_allowed")
    status: Mapped[str] = mapped_column(String(16), doc="in_progress (cut short: ask again) or completed")
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    outcome: Mapped[str] = mapped_column(Text, default="{}", doc="Canonical JSON: {erased: {...}, refused: [...]}.")

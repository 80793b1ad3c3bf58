"""Tables of the identity domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT, blind_index_of
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class Person(Base):
    """A data subject. Its anchor identifier is stored encrypted, found by its blind index."""

    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("id_type", "id_index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    id_type: Mapped[str] = mapped_column(String(16))
    id_index: Mapped[bytes] = mapped_column(LargeBinary(16), info=blind_index_of("id_enc", "id_type"))
    id_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), default=None, index=True)


class IdentityMerge(Base):
    """One change of who a person is: a merge (automatic or by an operator) or a split, with its evidence.

    ``kind`` is ``merge`` (``person_id`` was merged into ``into_person_id``) or ``split`` (records of
    ``person_id`` were moved out to ``into_person_id``). ``evidence`` is JSON without clear identifiers:
    match weight and probability, the fields that agreed, the moved accounts.
    """

    __tablename__ = "identity_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(16))  # splink | review | operator
    person_id: Mapped[int] = mapped_column(BigInteger, index=True)
    into_person_id: Mapped[int] = mapped_column(BigInteger, index=True)
    match_weight: Mapped[float | None] = mapped_column(Float, default=None)
    match_probability: Mapped[float | None] = mapped_column(Float, default=None)
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    actor_code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdentityAccountMove(Base):
    """An account whose records moved from one person to another by a merge or split (to undo it)."""

    __tablename__ = "identity_account_moves"
    __table_args__ = (Index(None, "furnisher_id", "furnisher_account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merge_id: Mapped[int] = mapped_column(ForeignKey("identity_merges.id"), index=True)
    furnisher_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_account_id: Mapped[str] = mapped_column(String(64))
    from_person_id: Mapped[int] = mapped_column(BigInteger)
    to_person_id: Mapped[int] = mapped_column(BigInteger)


class IdentityReview(Base):
    """A candidate link between the thresholds, waiting for an operator; or the operator's decision."""

    __tablename__ = "identity_reviews"
    __table_args__ = (UniqueConstraint("person_id", "candidate_person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger, index=True)  # the weakly identified person
    candidate_person_id: Mapped[int] = mapped_column(BigInteger)
    match_weight: Mapped[float] = mapped_column(Float)
    match_probability: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted | rejected
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)


class IdentityConflict(Base):
    """Contradicting descriptions of a person, charged to the furnisher whose data conflicts.

    ``kind``: ``birth_date_mismatch``, ``name_mismatch``, ``name_typo``, ``shared_phone``, ``many_phones``. ``evidence``
    is JSON without clear identifiers (counts, periods, keyed digests).
    """

    __tablename__ = "identity_conflicts"
    __table_args__ = (Index(None, "person_id"), Index(None, "furnisher_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdentityModel(Base):
    """A linkage model estimated from the bureau's records: versioned JSON with its training date.

    ``model`` is the JSON of ``resolution.model.default_model`` with the estimated m and u probabilities;
    resolution uses the latest row. ``version`` names the model's format, ``id`` this training.
    """

    __tablename__ = "identity_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    trained_by: Mapped[str] = mapped_column(String(64))
    descriptions: Mapped[int] = mapped_column(BigInteger)
    model: Mapped[str] = mapped_column(Text)

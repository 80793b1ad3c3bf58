"""Tables of the identity domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class Person(Base):
    """A data subject. Its anchor identifier is stored encrypted, found by its blind index."""

    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("id_type", "id_index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    id_type: Mapped[str] = mapped_column(String(16))
    id_index: Mapped[bytes] = mapped_column(LargeBinary(16))
    id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), default=None)

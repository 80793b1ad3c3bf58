"""Tables of the disputes domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class DisputeKind(StrEnum):
    """What the person disputes."""

    ACCOUNT = "account"  # an account's data (amounts, status, dates), one period or all
    INQUIRY = "inquiry"  # an inquiry the person did not authorise
    IDENTITY = "identity"  # a name, phone or address that is not theirs


class DisputeStatus(StrEnum):
    """Where a dispute is."""

    OPEN = "open"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


class DisputeOutcome(StrEnum):
    """How a resolved dispute ended."""

    CORRECTED = "corrected"  # the furnisher sent a correction
    VERIFIED = "verified"  # the item was checked and is right
    DELETED = "deleted"  # the item was removed


class Dispute(Base):
    """A person's dispute of an item of their file, with the deadline the profile sets for answering it.

    The person's own words are personal data and are stored encrypted (``statement_enc``).
    """

    __tablename__ = "disputes"
    __table_args__ = (Index(None, "person_id", "status"), Index(None, "status", "due_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    furnisher_id: Mapped[int | None] = mapped_column(BigInteger, doc="The furnisher whose data is disputed.")
    furnisher_account_id: Mapped[str | None] = mapped_column(String(64))
    reporting_period: Mapped[str | None] = mapped_column(String(7), doc="None: the whole account.")
    inquiry_id: Mapped[int | None] = mapped_column(BigInteger)
    statement_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT, doc="The person's statement, encrypted.")
    status: Mapped[str] = mapped_column(String(16), default=DisputeStatus.OPEN)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    channel: Mapped[str] = mapped_column(String(16), doc="counter, portal, mail, call")
    filed_by: Mapped[str] = mapped_column(String(64), doc="Who recorded it: OPERATOR:<user> or a member code.")
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="filed_at + the profile's dispute days.")
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)

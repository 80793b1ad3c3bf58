"""Tables of the fraud domain: the persons of the rings the last build found, and the fraud list."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime


class RingMember(Base):
    """A person of a ring (persons linked by phones or addresses they share), as the last build found it.

    One row per person, so an inquiry reads its subject's ring by the primary key. The ring's figures are
    repeated on each of its members' rows: the inquiry never reads another member's row. No clear
    identifier is stored: the ring was built over blind indexes.
    """

    __tablename__ = "fraud_ring_members"
    __table_args__ = (Index(None, "ring_id"),)

    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ring_id: Mapped[int] = mapped_column(BigInteger, doc="Numbered by each build; never shown to a lender.")
    ring_size: Mapped[int] = mapped_column(Integer, doc="Persons in the ring, this one included.")
    linked_by: Mapped[str] = mapped_column(String(32), doc="What the ring's persons share: address, phone.")
    lenders: Mapped[int] = mapped_column(Integer, doc="Distinct furnishers that reported the shared attributes.")
    delinquent: Mapped[int] = mapped_column(Integer, doc="Persons of the ring 30+ days past due in the window.")
    shared_attributes: Mapped[int] = mapped_column(Integer, doc="This person's phones and addresses shared.")
    first_seen: Mapped[str] = mapped_column(String(7), doc="The period the ring's first link was reported.")
    built_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportStatus(StrEnum):
    """Where a fraud report is."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"  # by the lender that reported it


class FraudReport(Base):
    """Confirmed fraud a lender reported about a person: the bureau's shared fraud list.

    ``evidence_enc`` holds the lender's description and the accounts concerned, encrypted (it is about the
    person). Who reported it is shown to the person and to that lender only.
    """

    __tablename__ = "fraud_reports"
    __table_args__ = (Index(None, "person_id", "status"), Index(None, "furnisher_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_id: Mapped[int] = mapped_column(ForeignKey("members.id"), doc="The reporting lender.")
    category: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(64), doc="The lender's own case reference.")
    evidence_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.ACTIVE)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200), default=None)

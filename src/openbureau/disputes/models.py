"""Tables of the disputes domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class DisputeKind(StrEnum):
    """What the person disputes."""

    ACCOUNT = "account"  # an account's data (amounts, status, dates), one period or all
    INQUIRY = "inquiry"  # an inquiry the person did not authorise
    IDENTITY = "identity"  # a name, phone or address that is not theirs
    FRAUD_REPORT = "fraud_report"  # a lender's report of confirmed fraud on the fraud list (docs/fraud.md)


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
    fraud_report_id: Mapped[int | None] = mapped_column(BigInteger, default=None,
                                                        doc="The disputed report of the fraud list.")
    statement_enc: Mapped[bytes] = mapped_column(LargeBinary, info=CIPHERTEXT, doc="The person's statement, encrypted.")
    status: Mapped[str] = mapped_column(String(16), default=DisputeStatus.OPEN)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    channel: Mapped[str] = mapped_column(String(16), doc="counter, portal, mail, call")
    filed_by: Mapped[str] = mapped_column(String(64), doc="Who recorded it: OPERATOR:<user> or a member code.")
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, doc="filed_at + the profile's dispute days.")
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    consumer_statement_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=CIPHERTEXT, default=None,
        doc="The person's statement about the item (200 characters at most), shown on every later report of it "
            "(FCRA §611(b)), encrypted.")
    consumer_statement_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class TaskStatus(StrEnum):
    """Where a furnisher's investigation task is."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"  # the dispute was closed by the bureau (withdrawn, or resolved by the operator)


class DisputeTask(Base):
    """The furnisher's part of an account dispute: investigate the item and answer by ``due_at``.

    One per account dispute, made when it is filed. The evidence is the furnisher's free text and may name
    the person, so it is stored encrypted. A ``corrected`` answer names the correction record the furnisher
    sent through intake (its submission, and the period and version of the record).
    """

    __tablename__ = "dispute_tasks"
    __table_args__ = (Index(None, "furnisher_id", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    furnisher_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_account_id: Mapped[str] = mapped_column(String(64))
    reporting_period: Mapped[str | None] = mapped_column(String(7), doc="None: the whole account.")
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    evidence_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info=CIPHERTEXT, default=None)
    correction_submission_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    correction_period: Mapped[str | None] = mapped_column(String(7), default=None)
    correction_version: Mapped[int | None] = mapped_column(Integer, default=None)
    answered_by: Mapped[str | None] = mapped_column(String(64), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    late: Mapped[int] = mapped_column(SmallInteger, default=0, doc="1: answered at or after the deadline.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BlockReason(StrEnum):
    """Why an item is kept out of every report."""

    DISPUTE_DELETED = "dispute_deleted"  # the furnisher answered a dispute by asking the bureau to delete it
    IDENTITY_THEFT = "identity_theft"  # named in the person's identity-theft report (FCRA §605B)


class ItemBlock(Base):
    """An item (an account, or one month of it) kept out of every report of the person from ``blocked_at``.

    ``source_id`` is the dispute or the identity-theft report that asked for it.
    """

    __tablename__ = "item_blocks"
    __table_args__ = (Index(None, "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_id: Mapped[int] = mapped_column(BigInteger)
    furnisher_account_id: Mapped[str] = mapped_column(String(64))
    reporting_period: Mapped[str | None] = mapped_column(String(7), doc="None: the whole account.")
    reason: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(BigInteger)
    blocked_by: Mapped[str] = mapped_column(String(64))
    blocked_at: Mapped[datetime] = mapped_column(UtcDateTime)

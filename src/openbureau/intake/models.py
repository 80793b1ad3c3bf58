"""Tables of the intake domain."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from openbureau.kit.crypto import CIPHERTEXT
from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class SubmissionStatus(StrEnum):
    """Where a submitted file is in its life."""

    RECEIVED = "received"  # stored and registered; its records are not loaded (yet, or a load was cut)
    LOADED = "loaded"  # every record validated; valid ones stored in one transaction
    FAILED = "failed"  # the file could not be read through; nothing of it was stored (see error_*)


class Submission(Base):
    """One file from one furnisher, received, validated and loaded as a unit."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("furnisher_id", "sha256"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    furnisher_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.RECEIVED)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    loaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    records_received: Mapped[int] = mapped_column(BigInteger, default=0)
    records_accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    records_warnings: Mapped[int] = mapped_column(BigInteger, default=0)
    records_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    records_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    findings_count: Mapped[int] = mapped_column(BigInteger, default=0)
    findings_stored: Mapped[int | None] = mapped_column(
        BigInteger, default=None,
        doc="Findings stored: at most the sample per code (OPENBUREAU_FINDINGS_SAMPLE_PER_CODE) of each code; "
            "None for submissions loaded before findings were sampled (all stored).")
    finding_counts: Mapped[dict | None] = mapped_column(JSON, default=None, doc="Exact count of findings by code.")
    file_purged_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, default=None, doc="When the kept file was deleted at the end of its retention.")
    error_code: Mapped[str | None] = mapped_column(String(48), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)


class Finding(Base):
    """One problem with one record (or with the file, line 0) of a submission."""

    __tablename__ = "findings"
    __table_args__ = (Index(None, "submission_id", "line"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    line: Mapped[int] = mapped_column(BigInteger)
    furnisher_account_id: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(8))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)


class AccountState(Base):
    """An account as furnished for one reporting period. Never updated: a correction is a new version.

    The largest table by far, so it carries no foreign-key constraints: a per-row check on each of its
    references more than doubled the bulk load on PostgreSQL. The loader is its only writer and takes
    ``submission_id``, ``furnisher_id`` and ``person_id`` from rows it has just read or written. Every row
    carries ``person_id`` so the table can be partitioned or distributed by person.
    """

    __tablename__ = "account_states"
    __table_args__ = (
        Index(None, "person_id"),
        Index("ix_account_states_held", "furnisher_id", "person_id", sqlite_where=text("held_reason IS NOT NULL"),
              postgresql_where=text("held_reason IS NOT NULL")),
    )

    # The natural key is the primary key: no surrogate id, so no sequence call and one index less per row.
    furnisher_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reporting_period: Mapped[str] = mapped_column(String(7), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    submission_id: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    identity_enc: Mapped[bytes] = mapped_column(
        LargeBinary, info=CIPHERTEXT, doc="The record's name, birth date, phone and address as furnished, encrypted."
    )
    product_type: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit: Mapped[int | None] = mapped_column(BigInteger)
    original_amount: Mapped[int | None] = mapped_column(BigInteger)
    term_months: Mapped[int | None] = mapped_column(Integer)
    balance: Mapped[int] = mapped_column(BigInteger)
    amount_due: Mapped[int] = mapped_column(BigInteger)
    amount_paid: Mapped[int] = mapped_column(BigInteger)
    past_due_amount: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer)
    payment_status: Mapped[str] = mapped_column(String(1))
    account_status: Mapped[str] = mapped_column(String(16))
    first_delinquency_date: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    consent_ref: Mapped[str | None] = mapped_column(String(64))
    negative_notice_date: Mapped[date | None] = mapped_column(Date)
    correction: Mapped[int] = mapped_column(SmallInteger)
    has_warnings: Mapped[int] = mapped_column(SmallInteger, default=0)
    negative_held: Mapped[int] = mapped_column(
        SmallInteger, default=0,
        doc="1: negative information furnished without a notice to the person (Art. 15); its negative "
            "status is not published until a record with a notice arrives.")
    held_reason: Mapped[str | None] = mapped_column(
        String(16), default=None,
        doc="Why the record is held back from the person's file: no_consent (quarantine). The only "
            "columns ever updated are this one and released_at, when the consent arrives.")
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoadInProgress(Base):
    """A submission whose records are being written: they are stored but not yet published.

    A load writes in short transactions; every reader of ``account_states`` leaves out the rows of the
    submissions listed here (``intake.repository.PUBLISHED``), and the load publishes all of its rows at
    once by deleting its entry in its last, short transaction. A killed load leaves its entry behind, so
    its rows stay invisible until the next load removes them (``intake.loader.discard_interrupted``).
    """

    __tablename__ = "loads_in_progress"

    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    furnisher_id: Mapped[int] = mapped_column(BigInteger)
    first_person_id: Mapped[int] = mapped_column(BigInteger, doc="Persons numbered from here on are the load's.")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

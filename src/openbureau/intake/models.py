"""Tables of the intake domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

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
    kind: Mapped[str] = mapped_column(String(8), default="records", server_default="records",
                                      doc="records (a monthly file) or events (a file of lending events)")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.RECEIVED)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    loaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    records_received: Mapped[int] = mapped_column(BigInteger, default=0)
    records_accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    records_warnings: Mapped[int] = mapped_column(BigInteger, default=0)
    records_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    records_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    parties_held: Mapped[int | None] = mapped_column(
        BigInteger, default=0, doc="Related persons (standard v1.1) stored held: furnished without their consent.")
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

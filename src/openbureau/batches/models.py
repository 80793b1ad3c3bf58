"""Tables of batch inquiries: a lender's job and the committed chunks of its answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.db import Base, BigId, UtcDateTime


class BatchStatus:
    """Where a job stands: ``queued`` or ``running`` until every row is answered (``done``), the lender cancels
    it (``cancelled``), or it fails again and again (``failed``)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    OPEN = (QUEUED, RUNNING)


class InquiryBatch(Base):
    """A lender's file of subjects and its progress. The file itself is kept sealed under the data directory
    (``token`` names its folder) until the job ends; the answers are the committed chunks' sealed parts.

    ``rows_done`` and ``input_offset`` (where the next row starts in the file) move only in the transaction
    that logs a chunk's inquiries and records its part, so a job resumes after its last committed chunk.
    ``lease_token``/``lease_until``: the worker running it, and until when (a killed worker's lease ends).
    """

    __tablename__ = "inquiry_batches"
    __table_args__ = (Index(None, "subscriber_id", "id"), Index(None, "status", "lease_until"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    actor_code: Mapped[str] = mapped_column(String(64), doc="Who submitted it (the member's code).")
    token: Mapped[str] = mapped_column(String(32), unique=True, doc="Random; names the job's folder.")
    file_format: Mapped[str] = mapped_column(String(8), doc="csv or jsonl")
    input_sha256: Mapped[str] = mapped_column(String(64))
    input_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    chunk_rows: Mapped[int] = mapped_column(Integer)
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer)
    rows_answered: Mapped[int] = mapped_column(Integer)
    rows_refused: Mapped[int] = mapped_column(Integer)
    rows_invalid: Mapped[int] = mapped_column(Integer)
    input_offset: Mapped[int] = mapped_column(BigInteger, doc="Byte offset of the next row in the file.")
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer, doc="Chunks that failed in a row (reset by one that commits).")
    last_error: Mapped[str | None] = mapped_column(String(200), doc="What went wrong; never a personal value.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InquiryBatchPart(Base):
    """One committed chunk of a job: the sealed file of its answers (``name``, in the job's folder) and how many
    rows it holds. Written in the transaction that logs the chunk's inquiries: a part file without its row is
    an attempt that never committed, and is never read."""

    __tablename__ = "inquiry_batch_parts"
    __table_args__ = (UniqueConstraint("batch_id", "chunk"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("inquiry_batches.id"))
    chunk: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

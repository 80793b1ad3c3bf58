"""Queries of batch inquiries: jobs, their leases and progress, and their committed parts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, func, insert, or_, select, update

from openbureau.batches.models import BatchStatus, InquiryBatch, InquiryBatchPart
from openbureau.members.repository import not_suspended

B = InquiryBatch.__table__.c
P = InquiryBatchPart.__table__.c


class BatchRepository:
    """All SQL about the batch tables, on the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict) -> int:
        """Insert a job; its id."""
        return self.conn.execute(insert(InquiryBatch.__table__).returning(B.id), values).scalar_one()

    def get(self, batch_id: int, *, subscriber_id: int | None = None) -> Row | None:
        """A job (only the member's own when ``subscriber_id`` is given)."""
        stmt = select(InquiryBatch.__table__).where(B.id == batch_id)
        if subscriber_id is not None:
            stmt = stmt.where(B.subscriber_id == subscriber_id)
        return self.conn.execute(stmt).first()

    def of_subscriber(self, subscriber_id: int, *, before_id: int, limit: int) -> Sequence[Row]:
        """A page of the member's jobs, newest first."""
        stmt = select(InquiryBatch.__table__).where(B.subscriber_id == subscriber_id)
        if before_id:
            stmt = stmt.where(B.id < before_id)
        return self.conn.execute(stmt.order_by(B.id.desc()).limit(limit)).all()

    def claim(self, *, now: datetime, token: str, lease_until: datetime, batch_id: int | None = None) -> Row | None:
        """Lease the oldest open job whose lease is free (never leased, or its worker's lease ended) to
        ``token``; the job as leased, or None. PostgreSQL: a job another worker is claiming is skipped. A
        suspended member's jobs wait until it is reinstated (docs/membership.md)."""
        stmt = (select(B.id).where(B.status.in_(BatchStatus.OPEN),
                                   or_(B.lease_until.is_(None), B.lease_until <= now), not_suspended(B.subscriber_id))
                .order_by(B.id).limit(1).with_for_update(skip_locked=True))
        if batch_id is not None:
            stmt = stmt.where(B.id == batch_id)
        found = self.conn.execute(stmt).scalar()
        if found is None:
            return None
        self.conn.execute(update(InquiryBatch.__table__).where(B.id == found).values(
            status=BatchStatus.RUNNING, lease_token=token, lease_until=lease_until))
        self.conn.execute(update(InquiryBatch.__table__).where(B.id == found, B.started_at.is_(None))
                          .values(started_at=now))
        return self.get(found)

    def advance(self, batch: Row, *, token: str, values: dict) -> bool:
        """Move a running job past a chunk, only if it is still leased to ``token`` and still where the chunk
        began (a compare-and-set: a second worker, a cancellation or an ended lease makes it False)."""
        result = self.conn.execute(update(InquiryBatch.__table__).where(
            B.id == batch.id, B.status == BatchStatus.RUNNING, B.lease_token == token,
            B.rows_done == batch.rows_done).values(**values))
        return result.rowcount == 1

    def failed_chunk(self, batch_id: int, *, token: str, error: str, give_up_after: int, now: datetime,
                     retry_at: datetime) -> str:
        """Count a chunk that failed: the job is taken again at ``retry_at``, and fails once ``give_up_after``
        chunks failed in a row. Its status."""
        row = self.conn.execute(select(B.failures, B.status, B.lease_token).where(B.id == batch_id)).one()
        if row.status != BatchStatus.RUNNING or row.lease_token != token:
            return row.status
        failures = row.failures + 1
        status = BatchStatus.FAILED if failures >= give_up_after else BatchStatus.RUNNING
        self.conn.execute(update(InquiryBatch.__table__).where(B.id == batch_id).values(
            failures=failures, last_error=error[:200], status=status, lease_until=retry_at,
            finished_at=now if status == BatchStatus.FAILED else None))
        return status

    def release(self, batch_id: int, *, token: str, now: datetime) -> None:
        """Give a lease back (a worker stopping between chunks): another may take the job at once."""
        self.conn.execute(update(InquiryBatch.__table__).where(B.id == batch_id, B.lease_token == token)
                          .values(lease_until=now))

    def cancel(self, batch_id: int, *, now: datetime) -> bool:
        """Cancel an open job; False when it had ended."""
        return self.conn.execute(update(InquiryBatch.__table__).where(
            B.id == batch_id, B.status.in_(BatchStatus.OPEN)).values(
            status=BatchStatus.CANCELLED, finished_at=now, lease_token=None)).rowcount == 1

    def add_part(self, values: dict) -> None:
        """Record a committed chunk's part."""
        self.conn.execute(insert(InquiryBatchPart.__table__), values)

    def parts(self, batch_id: int) -> Sequence[Row]:
        """The committed parts of a job, in chunk order."""
        return self.conn.execute(select(P.chunk, P.name, P.rows).where(P.batch_id == batch_id)
                                 .order_by(P.chunk)).all()

    def rows_used(self, *, subscriber_id: int, start: datetime, end: datetime) -> int:
        """Rows of the member's jobs answered in committed chunks from ``start`` to ``end`` (exclusive): answered,
        refused and invalid rows alike, each counted once, in the month its chunk committed (metering)."""
        stmt = (select(func.coalesce(func.sum(P.rows), 0)).select_from(InquiryBatchPart.__table__)
                .join(InquiryBatch.__table__, B.id == P.batch_id)
                .where(B.subscriber_id == subscriber_id, P.created_at >= start, P.created_at < end))
        return int(self.conn.execute(stmt).scalar_one())


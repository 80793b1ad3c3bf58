"""Queries of the audit domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from openbureau.audit.models import AuditEntry
from openbureau.kit.dialects import dialect_for

# PostgreSQL advisory lock held by an appending transaction until it ends (intake's lock is 7207301).
AUDIT_LOCK = 7207302

# The columns the chain covers, in the order verification reads them.
CHAIN_COLUMNS = (
    AuditEntry.seq, AuditEntry.at, AuditEntry.actor_member_id, AuditEntry.actor_code, AuditEntry.action,
    AuditEntry.person_id, AuditEntry.purpose, AuditEntry.details, AuditEntry.prev_hash, AuditEntry.entry_hash,
)


class AuditRepository:
    """All SQL about the audit log."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_appends(self) -> None:
        """Keep other appenders out until this transaction ends (PostgreSQL; SQLite has one writer anyway)."""
        dialect_for(self.session).transaction_lock(self.session.connection(), AUDIT_LOCK)

    def last_link(self) -> tuple[int, str] | None:
        """Seq and hash of the newest entry, or None when the log is empty."""
        row = self.session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
        return (row.seq, row.entry_hash) if row is not None else None

    def add_rows(self, rows: list[dict]) -> None:
        """Write new entries, given as column -> value (one executemany)."""
        conn = self.session.connection()
        dialect_for(conn).insert_rows(conn, AuditEntry.__table__, rows)

    def chain_after(self, seq: int | None, *, limit: int) -> Sequence[Row]:
        """Up to ``limit`` entries after ``seq`` (None: from the lowest), oldest first, as plain rows.

        Plain rows stay out of the session's identity map, so paging through millions keeps memory flat.
        """
        stmt = select(*CHAIN_COLUMNS).order_by(AuditEntry.seq).limit(limit)
        if seq is not None:
            stmt = stmt.where(AuditEntry.seq > seq)
        return self.session.execute(stmt).all()

    def search(self, *, person_id: int | None, actor_code: str | None, action: str | None, limit: int,
               offset: int) -> list[AuditEntry]:
        """Entries matching every given filter, newest first."""
        stmt = select(AuditEntry)
        if person_id is not None:
            stmt = stmt.where(AuditEntry.person_id == person_id)
        if actor_code is not None:
            stmt = stmt.where(AuditEntry.actor_code == actor_code)
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        return list(self.session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)))

    def about(self, person_ids: list[int]) -> list[AuditEntry]:
        """Entries about any of ``person_ids``, oldest first."""
        return list(self.session.scalars(select(AuditEntry).where(AuditEntry.person_id.in_(person_ids))
                                         .order_by(AuditEntry.seq)))

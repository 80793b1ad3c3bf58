"""Queries of the disputes domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from openbureau.disputes.models import Dispute, DisputeStatus

_D = Dispute.__table__.c
_OPEN_FOR = (select(_D.id, _D.kind, _D.furnisher_id, _D.furnisher_account_id, _D.reporting_period, _D.inquiry_id,
                    _D.filed_at, _D.due_at)
             .where(_D.person_id == bindparam("person_id"), _D.status == DisputeStatus.OPEN).order_by(_D.id))


class DisputeRepository:
    """All SQL about disputes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, dispute_id: int) -> Dispute | None:
        """The dispute with ``dispute_id``."""
        return self.session.get(Dispute, dispute_id)

    def add(self, dispute: Dispute) -> None:
        """Stage a new dispute and write it."""
        self.session.add(dispute)
        self.session.flush()

    def open_for(self, person_id: int) -> list[tuple]:
        """(id, kind, furnisher_id, furnisher_account_id, reporting_period, inquiry_id, filed_at, due_at) of
        the person's open disputes, oldest first, as plain rows (the report reads them on every inquiry)."""
        return [tuple(r) for r in self.session.connection().execute(_OPEN_FOR, {"person_id": person_id})]

    def search(self, *, status: str | None, overdue_at: datetime | None, limit: int, offset: int) -> list[Dispute]:
        """Disputes by status (and past their deadline at ``overdue_at``), oldest deadline first."""
        stmt = select(Dispute)
        if status is not None:
            stmt = stmt.where(Dispute.status == status)
        if overdue_at is not None:
            stmt = stmt.where(Dispute.status == DisputeStatus.OPEN, Dispute.due_at < overdue_at)
        return list(self.session.scalars(stmt.order_by(Dispute.due_at, Dispute.id).limit(limit).offset(offset)))

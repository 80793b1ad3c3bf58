"""Queries of the disputes domain: disputes, the furnishers' investigation tasks and blocked items."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    LargeBinary,
    String,
    bindparam,
    cast,
    exists,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from openbureau.disputes.models import Dispute, DisputeKind, DisputeStatus, DisputeTask, ItemBlock, TaskStatus
from openbureau.identity.repository import same_person
from openbureau.kit.db import UtcDateTime

_D = Dispute.__table__.c
_B = ItemBlock.__table__.c
_OPEN_FOR = (select(_D.id, _D.kind, _D.furnisher_id, _D.furnisher_account_id, _D.reporting_period, _D.inquiry_id,
                    _D.filed_at, _D.due_at)
             .where(same_person(_D.person_id, bindparam("person_id")), _D.status == DisputeStatus.OPEN)
             .order_by(_D.id))
_STATEMENTS_OF = (select(_D.furnisher_id, _D.furnisher_account_id, _D.reporting_period, _D.consumer_statement_enc,
                         _D.consumer_statement_at)
                  .where(same_person(_D.person_id, bindparam("person_id")), _D.consumer_statement_enc.is_not(None))
                  .order_by(_D.consumer_statement_at.desc(), _D.id.desc()))
_BLOCKS_OF = (select(_B.furnisher_id, _B.furnisher_account_id, _B.reporting_period)
              .where(same_person(_B.person_id, bindparam("person_id")), _B.blocked_at <= bindparam("moment")))



def _none(type_):
    return cast(null(), type_)


# What a report reads of the disputes domain on every inquiry, in one statement instead of three (a round trip
# each on PostgreSQL): part 0 the open disputes (as _OPEN_FOR), 1 the statements (as _STATEMENTS_OF, ``at``
# their time), 2 the items blocked at a moment (as _BLOCKS_OF); a part's missing columns are NULL. Each part's
# order is made in Python (DisputeRepository.marks_of).
_MARKS_OF = union_all(
    select(literal_column("0").label("part"), _D.id, _D.kind, _D.furnisher_id, _D.furnisher_account_id,
           _D.reporting_period, _D.inquiry_id, _D.filed_at.label("at"), _D.due_at,
           _none(LargeBinary).label("statement_enc"))
    .where(same_person(_D.person_id, bindparam("person_id")), _D.status == DisputeStatus.OPEN),
    select(literal_column("1"), _D.id, _none(String), _D.furnisher_id, _D.furnisher_account_id, _D.reporting_period,
           _none(BigInteger), _D.consumer_statement_at, _none(UtcDateTime), _D.consumer_statement_enc)
    .where(same_person(_D.person_id, bindparam("person_id")), _D.consumer_statement_enc.is_not(None)),
    select(literal_column("2"), _none(BigInteger), _none(String), _B.furnisher_id, _B.furnisher_account_id,
           _B.reporting_period, _none(BigInteger), _none(UtcDateTime), _none(UtcDateTime), _none(LargeBinary))
    .where(same_person(_B.person_id, bindparam("person_id")), _B.blocked_at <= bindparam("moment")))


def marks_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether any dispute or block names the person of ``person_id`` (a column or bound parameter of another
    domain's statement): false only when :meth:`DisputeRepository.marks_of` can find nothing, whatever the
    moment, so a report may skip that read."""
    return or_(exists().where(same_person(_D.person_id, person_id)), exists().where(same_person(_B.person_id, person_id)))


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

    def marks_of(self, person_id: int, moment: datetime) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """The rows of :meth:`open_for`, :meth:`blocks_of` (at ``moment``) and :meth:`statements_of`, in their
        orders, read in one statement (every inquiry reads them)."""
        disputes, blocks, statements = [], [], []
        for r in self.session.connection().execute(_MARKS_OF, {"person_id": person_id, "moment": moment}):
            if r[0] == 0:
                disputes.append(tuple(r[1:9]))
            elif r[0] == 1:
                statements.append((r[7], r[1], (r[3], r[4], r[5], r[9], r[7])))
            else:
                blocks.append((r[3], r[4], r[5]))
        disputes.sort(key=lambda d: d[0])  # oldest first, as _OPEN_FOR orders them
        statements.sort(key=lambda s: (s[0], s[1]), reverse=True)  # newest first, as _STATEMENTS_OF does
        return disputes, blocks, [s[2] for s in statements]

    def statements_of(self, person_id: int) -> list[tuple]:
        """(furnisher_id, furnisher_account_id, reporting_period, statement_enc, added_at) of the person's
        statements about items of their file, newest first."""
        return [tuple(r) for r in self.session.connection().execute(_STATEMENTS_OF, {"person_id": person_id})]

    def of_person(self, person_id: int, *, limit: int, offset: int) -> list[Dispute]:
        """Every dispute of a person, newest first."""
        stmt = (select(Dispute).where(same_person(Dispute.person_id, person_id)).order_by(Dispute.filed_at.desc(), Dispute.id.desc())
                .limit(limit).offset(offset))
        return list(self.session.scalars(stmt))

    def search(self, *, status: str | None, overdue_at: datetime | None, limit: int, offset: int) -> list[Dispute]:
        """Disputes by status (and past their deadline at ``overdue_at``: due at or before it), oldest
        deadline first."""
        stmt = select(Dispute)
        if status is not None:
            stmt = stmt.where(Dispute.status == status)
        if overdue_at is not None:
            stmt = stmt.where(Dispute.status == DisputeStatus.OPEN, Dispute.due_at <= overdue_at)
        return list(self.session.scalars(stmt.order_by(Dispute.due_at, Dispute.id).limit(limit).offset(offset)))

    # -- the furnishers' tasks -----------------------------------------------------------------------------
    def fraud_report_disputes(self, *, person_id: int, report_ids: list[int]
                              ) -> dict[int, tuple[str, str | None, datetime]]:
        """report id -> (status, outcome, due_at) of the latest dispute of each of the person's reports."""
        stmt = (select(Dispute.fraud_report_id, Dispute.status, Dispute.outcome, Dispute.due_at)
                .where(Dispute.person_id == person_id, Dispute.kind == DisputeKind.FRAUD_REPORT.value,
                       Dispute.fraud_report_id.in_(report_ids))
                .order_by(Dispute.filed_at, Dispute.id))
        return {row[0]: (row[1], row[2], row[3]) for row in self.session.execute(stmt)}

    def add_task(self, task: DisputeTask) -> None:
        """Stage a new task and write it."""
        self.session.add(task)
        self.session.flush()

    def task(self, task_id: int, *, for_update: bool = False) -> DisputeTask | None:
        """The task with ``task_id`` (locked against a concurrent answer when ``for_update``)."""
        stmt = select(DisputeTask).where(DisputeTask.id == task_id)
        return self.session.scalars(stmt.with_for_update() if for_update else stmt).first()

    def task_of(self, dispute_id: int) -> DisputeTask | None:
        """The task made for ``dispute_id``, if any."""
        return self.session.scalars(select(DisputeTask).where(DisputeTask.dispute_id == dispute_id)).first()

    def open_tasks(self, *, furnisher_id: int, limit: int, offset: int) -> list[DisputeTask]:
        """A furnisher's open tasks, nearest deadline first."""
        stmt = (select(DisputeTask).where(DisputeTask.furnisher_id == furnisher_id,
                                          DisputeTask.status == TaskStatus.OPEN)
                .order_by(DisputeTask.due_at, DisputeTask.id).limit(limit).offset(offset))
        return list(self.session.scalars(stmt))

    # -- blocked items -------------------------------------------------------------------------------------
    def add_blocks(self, blocks: list[ItemBlock]) -> None:
        """Stage blocks and write them."""
        self.session.add_all(blocks)
        self.session.flush()

    def blocks_of(self, person_id: int, moment: datetime) -> list[tuple[int, str, str | None]]:
        """(furnisher_id, furnisher_account_id, reporting_period or None) of the person's items blocked at
        ``moment``."""
        rows = self.session.connection().execute(_BLOCKS_OF, {"person_id": person_id, "moment": moment})
        return [tuple(r) for r in rows]

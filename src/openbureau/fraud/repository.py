"""All SQL on the fraud tables: the rings' members (rewritten by each build) and the fraud list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Row,
    String,
    bindparam,
    cast,
    delete,
    exists,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from openbureau.fraud.models import FraudReport, ReportStatus, RingMember

R = RingMember.__table__.c
F = FraudReport.__table__.c
_CHUNK = 5_000

# Read on every inquiry: the subject's ring (by primary key) and its reports in force (by the (person_id,
# status) index), in one statement and one round trip; built once.
_FACTS = union_all(
    select(literal("ring").label("kind"), cast(R.ring_size, BigInteger).label("a"),
           cast(R.lenders, BigInteger).label("b"), cast(R.delinquent, BigInteger).label("c"),
           cast(R.shared_attributes, BigInteger).label("d"), cast(R.linked_by, String).label("s1"),
           cast(R.first_seen, String).label("s2"), R.built_at.label("at"))
    .where(R.person_id == bindparam("person_id")),
    select(literal("report").label("kind"), cast(F.id, BigInteger), cast(F.furnisher_id, BigInteger),
           cast(null(), BigInteger), cast(null(), BigInteger), cast(F.category, String),
           cast(F.occurred_on, String), F.reported_at)
    .where(F.person_id == bindparam("person_id"), F.status == ReportStatus.ACTIVE.value),
)


def facts_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the person of ``person_id`` (a column or parameter of another domain's statement) is a ring's
    member or named by any fraud report, in force or not: when not, ``_FACTS`` finds nothing."""
    return or_(exists().where(R.person_id == person_id), exists().where(F.person_id == person_id))


class FraudRepository:
    """SQL about rings and fraud reports, on the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def of(cls, session: Session) -> FraudRepository:
        """The repository on a session's connection."""
        return cls(session.connection())

    # Rings
    def facts(self, person_id: int) -> Sequence[Row]:
        """The person's ring row and active reports (``kind``, ``a``-``d``, ``s1``, ``s2``, ``at``)."""
        return self.conn.execute(_FACTS, {"person_id": person_id}).all()

    def replace_rings(self, rows: list[dict]) -> None:
        """Replace every ring member with ``rows`` (a build's result)."""
        self.conn.execute(delete(RingMember.__table__))
        for start in range(0, len(rows), _CHUNK):
            self.conn.execute(insert(RingMember.__table__), rows[start:start + _CHUNK])

    def ring_members(self) -> Sequence[Row]:
        """Every ring member (the evaluation's and the operator's view; never a lender's)."""
        return self.conn.execute(select(R.person_id, R.ring_id, R.ring_size).order_by(R.person_id)).all()

    def rings_of_at_least(self, size: int) -> Sequence[Row]:
        """The members of rings of ``size`` persons or more (the regulator's aggregates; never a lender's)."""
        return self.conn.execute(select(R.person_id, R.ring_id, R.ring_size, R.delinquent, R.built_at)
                                 .where(R.ring_size >= size).order_by(R.ring_id, R.person_id)).all()

    # The fraud list
    def add_report(self, values: dict) -> int:
        """Insert a report; its id."""
        return self.conn.execute(insert(FraudReport.__table__).returning(F.id), values).scalar_one()

    def report(self, report_id: int) -> Row | None:
        """One report, whoever filed it."""
        return self.conn.execute(select(FraudReport.__table__).where(F.id == report_id)).first()

    def reports_of(self, *, furnisher_id: int, after_id: int, limit: int) -> Sequence[Row]:
        """A page of one lender's reports, in id order."""
        return self.conn.execute(select(F.id, F.category, F.occurred_on, F.reference, F.status, F.reported_at,
                                        F.withdrawn_at)
                                 .where(F.furnisher_id == furnisher_id, F.id > after_id).order_by(F.id)
                                 .limit(limit)).all()

    def withdraw(self, *, report_id: int, at: datetime, reason: str) -> bool:
        """Mark an active report withdrawn; whether it was active."""
        done = self.conn.execute(FraudReport.__table__.update()
                                 .where(F.id == report_id, F.status == ReportStatus.ACTIVE.value)
                                 .values(status=ReportStatus.WITHDRAWN.value, withdrawn_at=at, withdrawn_reason=reason))
        return done.rowcount == 1

"""Queries of the inquiries domain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import Connection, Row, bindparam, func, or_, select
from sqlalchemy.orm import Session

from openbureau.consent.models import Consent
from openbureau.consent.profiles import HARD_PURPOSES
from openbureau.identity.repository import same_person
from openbureau.inquiries.models import Inquiry, Objection
from openbureau.kit.dialects import dialect_for

I = Inquiry.__table__.c  # noqa: E741


_OF_PERSON_SINCE = (select(I.id, I.subscriber_id, I.purpose, I.hard, I.basis, I.consent_id, Consent.consent_ref,
                           I.basis_note, I.actor_code, I.created_at)
                    .outerjoin(Consent, Consent.id == I.consent_id)
                    .where(I.person_id == bindparam("person_id"), I.created_at >= bindparam("since"))
                    .order_by(I.created_at.desc(), I.id.desc()))


class InquiryRepository:
    """All SQL about inquiries."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def of_person_since(self, person_id: int, since: datetime) -> Sequence[Row]:
        """The person's inquiries since ``since``, newest first, as plain rows (read on every inquiry)."""
        return self.session.connection().execute(_OF_PERSON_SINCE, {"person_id": person_id, "since": since}).all()

    def self_inquiries_since(self, person_id: int, since: datetime) -> int:
        """How many times the person has had their own report since ``since`` (the free-report quota)."""
        return self.session.scalar(select(func.count()).select_from(Inquiry).where(
            I.person_id == person_id, I.basis == "self", I.created_at >= since)) or 0

    def get(self, inquiry_id: int) -> Inquiry | None:
        """The inquiry with ``inquiry_id``."""
        return self.session.get(Inquiry, inquiry_id)

    def hard_by_person(self, *, until: datetime) -> dict[int, list[datetime]]:
        """Moments of every person's hard inquiries up to ``until``."""
        out: dict[int, list[datetime]] = defaultdict(list)
        stmt = select(I.person_id, I.created_at).where(I.hard == 1, I.person_id.is_not(None), I.created_at <= until)
        for person_id, at in self.session.execute(stmt):
            out[person_id].append(at)
        return out

    def hard_of_persons(self, person_ids: Sequence[int], *, since: datetime, until: datetime
                        ) -> dict[int, list[datetime]]:
        """Moments of the hard inquiries about each of ``person_ids`` in ``[since, until]`` (a chunk at a time)."""
        out: dict[int, list[datetime]] = defaultdict(list)
        stmt = select(I.person_id, I.created_at).where(I.hard == 1, I.person_id.in_(list(person_ids)),
                                                      I.created_at >= since, I.created_at <= until)
        for person_id, at in self.session.connection().execute(stmt):
            out[person_id].append(at)
        return out

    def of_subscriber(self, subscriber_id: int, *, limit: int, offset: int) -> list[Inquiry]:
        """The subscriber's own inquiries, newest first."""
        stmt = (select(Inquiry).where(Inquiry.subscriber_id == subscriber_id)
                .order_by(Inquiry.id.desc()).limit(limit).offset(offset))
        return list(self.session.scalars(stmt))

    def add_many(self, rows: list[dict]) -> list[int]:
        """Write new inquiries (column -> value each, the same columns in all but ``enterprise_id``, which only
        an enterprise's inquiry names); their ids, in order. A group commit mixes both kinds in one batch, and
        writes it through the dialect (COPY on PostgreSQL), not the ORM's bulk path."""
        conn = self.session.connection()
        return dialect_for(conn).insert_returning_ids(conn, Inquiry.__table__,
                                                      [{"enterprise_id": None, **r} for r in rows])


HARD_INQUIRY_SCHEMA = {"inquiry_id": pl.Int64, "furnisher_id": pl.Int64, "person_id": pl.Int64,
                       "created_at": pl.Datetime("us", "UTC")}


def hard_inquiries(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Every hard inquiry (a lender deciding on an application) by a member about a known person in
    ``[since, until)``: ``inquiry_id``, ``furnisher_id`` (the lender that asked), ``person_id``, ``created_at``."""
    rows = conn.execute(select(I.id, I.subscriber_id, I.person_id, I.created_at).where(
        I.purpose.in_([str(p) for p in HARD_PURPOSES]), I.subscriber_id.is_not(None), I.person_id.is_not(None),
        I.created_at >= since, I.created_at < until)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=HARD_INQUIRY_SCHEMA, orient="row")


O = Objection.__table__.c  # noqa: E741
# The objection of a person (or of one merged into them) to a purpose, in force at a moment.
_OBJECTION_AT = (select(O.id, O.objected_at).where(
    same_person(O.person_id, bindparam("person_id")), O.purpose == bindparam("purpose"),
    O.objected_at <= bindparam("moment"), or_(O.withdrawn_at.is_(None), O.withdrawn_at > bindparam("moment")))
    .order_by(O.objected_at).limit(1))


class ObjectionRepository:
    """All SQL about the persons' objections."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, objection: Objection) -> None:
        """Stage a new objection and write it."""
        self.session.add(objection)
        self.session.flush()

    def get(self, objection_id: int) -> Objection | None:
        """The objection with ``objection_id``."""
        return self.session.get(Objection, objection_id)

    def of_person(self, person_id: int) -> list[Objection]:
        """Every objection of the person (and of persons merged into them), newest first."""
        return list(self.session.scalars(select(Objection).where(same_person(Objection.person_id, person_id))
                                         .order_by(Objection.objected_at.desc(), Objection.id.desc())))

    def in_force(self, *, person_id: int, purpose: str, moment: datetime) -> Row | None:
        """(id, objected_at) of the person's objection to ``purpose`` in force at ``moment``, if any."""
        return self.session.connection().execute(
            _OBJECTION_AT, {"person_id": person_id, "purpose": purpose, "moment": moment}).first()


def member_use(session: Session, *, member_id: int, start: datetime, end: datetime) -> list[tuple[str, bool, int]]:
    """(purpose, hard, inquiries) the member made from ``start`` (inclusive) to ``end`` (exclusive), online and
    batch alike: one grouped count over the inquiry log's (subscriber, time) index (metering)."""
    stmt = (select(I.purpose, I.hard, func.count()).where(I.subscriber_id == member_id, I.created_at >= start,
                                                         I.created_at < end)
            .group_by(I.purpose, I.hard).order_by(I.purpose, I.hard))
    return [(purpose, bool(hard), n) for purpose, hard, n in session.connection().execute(stmt)]


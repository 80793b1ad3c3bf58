"""All SQL of prescreening: the opt-out register, prescreens and their selections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Row, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from openbureau.identity.repository import same_person
from openbureau.prescreen.models import Prescreen, PrescreenOptOut, PrescreenSelection

O = PrescreenOptOut.__table__.c  # noqa: E741
P = Prescreen.__table__.c
L = PrescreenSelection.__table__.c


def _in_force(moment: datetime) -> tuple[ColumnElement[bool], ...]:
    return (O.starts_at <= moment, or_(O.expires_at.is_(None), O.expires_at > moment),
            or_(O.ended_at.is_(None), O.ended_at > moment))


def opted_out(person_id: ColumnElement, moment: datetime) -> ColumnElement[bool]:
    """Whether an opt-out of the person ``person_id`` (a column, or of a person merged into them) is in force at
    ``moment``: a condition for the candidates' statement."""
    return exists().where(same_person(O.person_id, person_id), *_in_force(moment))


class OptOutRepository:
    """SQL about the persons' opt-outs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, opt_out: PrescreenOptOut) -> None:
        """Write a new opt-out."""
        self.session.add(opt_out)
        self.session.flush()

    def in_force(self, person_id: int, moment: datetime) -> PrescreenOptOut | None:
        """The person's opt-out in force at ``moment`` (the longest-lasting one), if any."""
        stmt = (select(PrescreenOptOut).where(same_person(PrescreenOptOut.person_id, person_id), *_in_force(moment))
                .order_by(PrescreenOptOut.expires_at.is_(None).desc(), PrescreenOptOut.expires_at.desc()).limit(1))
        return self.session.scalars(stmt).first()

    def all_in_force(self, person_id: int, moment: datetime) -> list[PrescreenOptOut]:
        """Every opt-out of the person in force at ``moment``."""
        return list(self.session.scalars(select(PrescreenOptOut).where(
            same_person(PrescreenOptOut.person_id, person_id), *_in_force(moment))))

    def of_person(self, person_id: int) -> list[PrescreenOptOut]:
        """Every opt-out of the person, newest first."""
        return list(self.session.scalars(select(PrescreenOptOut).where(
            same_person(PrescreenOptOut.person_id, person_id))
            .order_by(PrescreenOptOut.starts_at.desc(), PrescreenOptOut.id.desc())))


class PrescreenRepository:
    """SQL about prescreens and the persons they selected."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, values: dict) -> int:
        """Write a new prescreen; its id."""
        return self.session.connection().execute(insert(Prescreen.__table__).returning(P.id), values).scalar_one()

    def get(self, prescreen_id: int, *, subscriber_id: int) -> Row | None:
        """The prescreen ``prescreen_id`` when it is ``subscriber_id``'s."""
        return self.session.connection().execute(select(Prescreen.__table__).where(
            P.id == prescreen_id, P.subscriber_id == subscriber_id)).first()

    def of_subscriber(self, subscriber_id: int, *, limit: int) -> Sequence[Row]:
        """The subscriber's prescreens, newest first."""
        return self.session.connection().execute(select(Prescreen.__table__).where(
            P.subscriber_id == subscriber_id).order_by(P.id.desc()).limit(limit)).all()

    def progress(self, prescreen_id: int, *, considered: int, selected: int, status: str,
                 finished_at: datetime | None) -> None:
        """Record how far a run got (in the transaction that committed its chunk)."""
        self.session.connection().execute(update(Prescreen.__table__).where(P.id == prescreen_id).values(
            persons_considered=considered, persons_selected=selected, status=status, finished_at=finished_at))

    def add_selections(self, rows: list[dict]) -> None:
        """Write the persons a chunk selected."""
        if rows:
            self.session.connection().execute(insert(PrescreenSelection.__table__), rows)

    def selections(self, prescreen_id: int, *, after: int, limit: int) -> Sequence[Row]:
        """(id, mailing_enc) of a page of a prescreen's list, in the order it was made."""
        return self.session.connection().execute(
            select(L.id, L.mailing_enc).where(L.prescreen_id == prescreen_id, L.id > after)
            .order_by(L.id).limit(limit)).all()

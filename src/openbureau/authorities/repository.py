"""Queries of the authorities domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from openbureau.authorities.models import AuthorityRequest
from openbureau.identity.repository import same_person

R = AuthorityRequest.__table__.c


class AuthorityRepository:
    """All SQL about requests by authorities."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: AuthorityRequest) -> None:
        """Stage a request and write it (its id is set)."""
        self.session.add(request)
        self.session.flush()

    def shown_to_person(self, person_id: int, moment: datetime) -> list[AuthorityRequest]:
        """The requests about the person (or a person merged into them) that no non-disclosure order keeps
        from them at ``moment`` (an order's end included), newest first."""
        return list(self.session.scalars(
            select(AuthorityRequest).where(
                same_person(AuthorityRequest.person_id, person_id), AuthorityRequest.created_at <= moment,
                or_(AuthorityRequest.nondisclosure_until.is_(None), AuthorityRequest.nondisclosure_until <= moment))
            .order_by(AuthorityRequest.created_at.desc(), AuthorityRequest.id.desc())))

    def listed(self, *, authority_id: int | None, limit: int, offset: int) -> Sequence[Row]:
        """(id, authority_id, person_id, basis, created_at, nondisclosure_until) of the requests, of one
        authority or of all, newest first; no encrypted column is read."""
        stmt = select(R.id, R.authority_id, R.person_id, R.basis, R.created_at, R.nondisclosure_until)
        if authority_id is not None:
            stmt = stmt.where(R.authority_id == authority_id)
        return self.session.connection().execute(
            stmt.order_by(R.created_at.desc(), R.id.desc()).limit(limit).offset(offset)).all()

    def made_between(self, start: datetime, end: datetime) -> Sequence[Row]:
        """(authority_id, person_id, basis, created_at, nondisclosure_until) of the requests made in
        [``start``, ``end``): what the transparency report counts."""
        return self.session.connection().execute(
            select(R.authority_id, R.person_id, R.basis, R.created_at, R.nondisclosure_until)
            .where(R.created_at >= start, R.created_at < end)).all()

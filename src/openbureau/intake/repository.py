"""Queries of the intake domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.orm import Session

from openbureau.accounts.repository import names_person
from openbureau.identity.models import Person
from openbureau.intake.models import Finding, Submission
from openbureau.members.models import Member


class SubmissionRepository:
    """SQL about submissions and their findings, for request-sized work in an ORM session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_hash(self, *, furnisher_id: int, sha256: str) -> Submission | None:
        """The furnisher's earlier submission of the same bytes."""
        stmt = select(Submission).where(Submission.furnisher_id == furnisher_id, Submission.sha256 == sha256)
        return self.session.scalars(stmt).one_or_none()

    def by_sha256(self, sha256: str) -> list[Submission]:
        """Every furnisher's submission of the same bytes."""
        return list(self.session.scalars(select(Submission).where(Submission.sha256 == sha256)))

    def get(self, submission_id: int) -> Submission | None:
        """The submission with ``submission_id``."""
        return self.session.get(Submission, submission_id)

    def list_for(self, *, furnisher_id: int | None, limit: int = 100, offset: int = 0) -> list[Submission]:
        """Submissions, newest first, of one furnisher (or all when ``furnisher_id`` is None)."""
        stmt = select(Submission).order_by(Submission.id.desc()).limit(limit).offset(offset)
        if furnisher_id is not None:
            stmt = stmt.where(Submission.furnisher_id == furnisher_id)
        return list(self.session.scalars(stmt))

    def add(self, submission: Submission) -> None:
        """Stage a new submission."""
        self.session.add(submission)
        self.session.flush()

    def kept_files_due(self, *, before: datetime) -> list[Submission]:
        """Loaded or failed submissions whose kept file was not purged, loaded (or received) before ``before``."""
        done = func.coalesce(Submission.loaded_at, Submission.received_at)
        stmt = (select(Submission).where(Submission.status.in_(["loaded", "failed"]),
                                         Submission.file_purged_at.is_(None), done < before)
                .order_by(Submission.id))
        return list(self.session.scalars(stmt))

    def findings(self, *, submission_id: int, limit: int | None = None, offset: int = 0) -> list[Finding]:
        """A page of the submission's findings by line."""
        stmt = (select(Finding).where(Finding.submission_id == submission_id)
                .order_by(Finding.line, Finding.id).offset(offset))
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def has_loaded(self, *, furnisher_id: int) -> bool:
        """Whether the member has a loaded submission (reciprocity)."""
        stmt = select(Submission.id).where(Submission.furnisher_id == furnisher_id,
                                           Submission.status == "loaded").limit(1)
        return self.session.execute(stmt).first() is not None

    def loaded_use(self, *, furnisher_id: int, start: datetime, end: datetime) -> tuple[int, int]:
        """(files, records accepted) of the member's submissions loaded from ``start`` to ``end`` (exclusive)."""
        stmt = (select(func.count(), func.coalesce(func.sum(Submission.records_accepted), 0))
                .where(Submission.furnisher_id == furnisher_id, Submission.status == "loaded",
                       Submission.loaded_at >= start, Submission.loaded_at < end))
        files, records = self.session.execute(stmt).one()
        return int(files), int(records)

    def intake_by_furnisher(self) -> list[tuple[str, int, int, int, int]]:
        """(code, furnisher id, submissions, received, rejected) per furnisher with submissions, by code."""
        subs = (select(Submission.furnisher_id, func.count().label("n"),
                       func.sum(Submission.records_received).label("received"),
                       func.sum(Submission.records_rejected).label("rejected"))
                .group_by(Submission.furnisher_id).subquery())
        stmt = (select(Member.code, Member.id, subs.c.n, subs.c.received, subs.c.rejected)
                .join(subs, subs.c.furnisher_id == Member.id).order_by(Member.code))
        return [tuple(int(v) if i else v for i, v in enumerate(r)) for r in self.session.execute(stmt)]

    def person_count(self) -> int:
        """How many persons the bureau holds."""
        return _count(self.session, select(Person.id))

    def iter_findings(self, *, submission_id: int, batch: int = 50_000) -> Iterator[list[Finding]]:
        """Every finding of the submission, in batches, for export."""
        offset = 0
        while page := self.findings(submission_id=submission_id, limit=batch, offset=offset):
            yield page
            offset += len(page)


class LoadRepository:
    """SQL of the bulk load, on the Core connection that holds the load's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def status(self, submission_id: int) -> str:
        """The submission's status, read inside the load's transaction."""
        return self.conn.execute(select(Submission.status).where(Submission.id == submission_id)).scalar_one()

    def finish(self, submission_id: int, **values: object) -> None:
        """Record the load's counts and status."""
        self.conn.execute(update(Submission).where(Submission.id == submission_id).values(**values))

    def delete_unused_persons(self, *, first_id: int, last_id: int) -> int:
        """Delete persons numbered ``first_id`` to ``last_id`` that no account state names; how many."""
        return self.conn.execute(delete(Person).where(Person.id >= first_id, Person.id <= last_id,
                                                      Person.merged_into_id.is_(None),
                                                      ~names_person(Person.id))).rowcount

    def delete_findings(self, submission_id: int) -> None:
        """Forget the findings of a load that is being discarded."""
        self.conn.execute(delete(Finding).where(Finding.submission_id == submission_id))


def _count(session: Session, stmt) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

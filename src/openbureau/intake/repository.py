"""Queries of the intake domain."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from openbureau.intake.models import AccountState, Finding, Submission


class SubmissionRepository:
    """SQL about submissions and their findings, for request-sized work in an ORM session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_hash(self, *, furnisher_id: int, sha256: str) -> Submission | None:
        """The furnisher's earlier submission of the same bytes."""
        stmt = select(Submission).where(Submission.furnisher_id == furnisher_id, Submission.sha256 == sha256)
        return self.session.scalars(stmt).one_or_none()

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

    def findings(self, *, submission_id: int, limit: int | None = None, offset: int = 0) -> list[Finding]:
        """A page of the submission's findings by line."""
        stmt = (select(Finding).where(Finding.submission_id == submission_id)
                .order_by(Finding.line, Finding.id).offset(offset))
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

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

    def latest_versions(self, *, furnisher_id: int, period: str) -> pl.DataFrame:
        """(``furnisher_account_id``, ``stored_version``) of every account stored for a period."""
        stmt = (
            select(AccountState.furnisher_account_id, func.max(AccountState.version))
            .where(AccountState.furnisher_id == furnisher_id, AccountState.reporting_period == period)
            .group_by(AccountState.furnisher_account_id)
        )
        rows = self.conn.execute(stmt).all()
        return pl.DataFrame(
            rows, schema={"furnisher_account_id": pl.String, "stored_version": pl.Int64}, orient="row"
        ).with_columns(pl.lit(period).alias("reporting_period"))

    def finish(self, submission_id: int, **values: object) -> None:
        """Record the load's counts and status."""
        self.conn.execute(update(Submission).where(Submission.id == submission_id).values(**values))


class AccountRepository:
    """SQL about stored account states, for request-sized reads."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest_states(self, *, person_id: int) -> list[AccountState]:
        """The newest version of every (account, period) of a person, newest period first."""
        stmt = select(AccountState).where(AccountState.person_id == person_id).order_by(
            AccountState.furnisher_id, AccountState.furnisher_account_id, AccountState.reporting_period.desc(),
            AccountState.version.desc(),
        )
        latest: dict[tuple[int, str, str], AccountState] = {}
        for state in self.session.scalars(stmt):
            latest.setdefault((state.furnisher_id, state.furnisher_account_id, state.reporting_period), state)
        return list(latest.values())

    def current_states(self, *, person_id: int) -> list[AccountState]:
        """The latest period's state of every account of a person that its furnisher has not deleted."""
        current: dict[tuple[int, str], AccountState] = {}
        for state in self.latest_states(person_id=person_id):
            current.setdefault((state.furnisher_id, state.furnisher_account_id), state)
        return [s for s in current.values() if s.account_status != "deleted"]

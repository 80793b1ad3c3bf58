"""Queries of the intake domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import polars as pl
from sqlalchemy import Connection, bindparam, delete, exists, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from openbureau.identity.models import Person
from openbureau.intake.models import AccountState, Finding, LoadInProgress, Submission
from openbureau.members.models import Member

# Rows of account states that a load has published: every reader of the table adds this condition (a load
# in progress writes in short transactions, and its rows appear all at once when it publishes).
PUBLISHED = AccountState.submission_id.not_in(select(LoadInProgress.submission_id).scalar_subquery())


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

    def intake_by_furnisher(self) -> list[tuple[str, int, int, int, int, int]]:
        """(code, submissions, received, rejected, stored, held) per furnisher with submissions."""
        subs = (select(Submission.furnisher_id, func.count().label("n"),
                       func.sum(Submission.records_received).label("received"),
                       func.sum(Submission.records_rejected).label("rejected"))
                .group_by(Submission.furnisher_id).subquery())
        states = (select(AccountState.furnisher_id, func.count().label("stored"),
                         func.count(AccountState.held_reason).label("held")).where(PUBLISHED)
                  .group_by(AccountState.furnisher_id).subquery())
        stmt = (select(Member.code, subs.c.n, subs.c.received, subs.c.rejected,
                       func.coalesce(states.c.stored, 0), func.coalesce(states.c.held, 0))
                .join(subs, subs.c.furnisher_id == Member.id)
                .outerjoin(states, states.c.furnisher_id == Member.id).order_by(Member.code))
        return [tuple(int(v) if i else v for i, v in enumerate(r)) for r in self.session.execute(stmt)]

    def totals(self) -> dict[str, int]:
        """Counts of persons, accounts and account states stored."""
        accounts = select(AccountState.furnisher_id, AccountState.furnisher_account_id).where(PUBLISHED).distinct()
        return {
            "persons": _count(self.session, select(Person.id)),
            "accounts": _count(self.session, accounts),
            "states": _count(self.session, select(AccountState.person_id).where(PUBLISHED)),
        }

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

    def begin_load(self, *, submission_id: int, furnisher_id: int, first_person_id: int) -> None:
        """List the submission as being loaded: its rows stay out of every read until :meth:`publish`."""
        self.conn.execute(insert(LoadInProgress).values(submission_id=submission_id, furnisher_id=furnisher_id,
                                                        first_person_id=first_person_id))

    def end_load(self, submission_id: int) -> None:
        """Unlist the submission's load: its rows become part of the files when the caller's transaction
        commits (with its status), or, after a discard, nothing of it is left."""
        self.conn.execute(delete(LoadInProgress).where(LoadInProgress.submission_id == submission_id))

    def loads_in_progress(self) -> list[tuple[int, int, int]]:
        """(submission_id, furnisher_id, first_person_id) of every listed load."""
        return [tuple(r) for r in self.conn.execute(select(
            LoadInProgress.submission_id, LoadInProgress.furnisher_id, LoadInProgress.first_person_id))]

    def state_keys(self, *, submission_id: int, furnisher_id: int) -> list[tuple[int, str, str, int]]:
        """The primary keys of the rows a submission stored (one read of the furnisher's rows)."""
        stmt = select(AccountState.furnisher_id, AccountState.furnisher_account_id, AccountState.reporting_period,
                      AccountState.version).where(AccountState.furnisher_id == furnisher_id,
                                                  AccountState.submission_id == submission_id)
        return [tuple(r) for r in self.conn.execute(stmt)]

    def delete_states(self, keys: list[tuple[int, str, str, int]]) -> int:
        """Delete account states by primary key; how many."""
        pk = tuple_(AccountState.furnisher_id, AccountState.furnisher_account_id, AccountState.reporting_period,
                    AccountState.version)
        return self.conn.execute(delete(AccountState).where(pk.in_(keys))).rowcount if keys else 0

    def delete_unused_persons(self, *, first_id: int, last_id: int) -> int:
        """Delete persons numbered ``first_id`` to ``last_id`` that no account state names; how many."""
        used = exists().where(AccountState.person_id == Person.id)
        return self.conn.execute(delete(Person).where(Person.id >= first_id, Person.id <= last_id,
                                                      Person.merged_into_id.is_(None), ~used)).rowcount

    def max_person_id(self) -> int:
        """The highest person id stored (0 when none)."""
        return self.conn.execute(select(func.coalesce(func.max(Person.id), 0))).scalar_one()

    def delete_findings(self, submission_id: int) -> None:
        """Forget the findings of a load that is being discarded."""
        self.conn.execute(delete(Finding).where(Finding.submission_id == submission_id))


# The published states of one furnisher's accounts of one person, newest first per account.
_PUBLISHED_OF = (select(AccountState.furnisher_account_id, AccountState.account_status, AccountState.opened_on)
                 .where(AccountState.furnisher_id == bindparam("furnisher_id"),
                        AccountState.person_id == bindparam("person_id"), AccountState.held_reason.is_(None),
                        PUBLISHED)
                 .order_by(AccountState.furnisher_account_id, AccountState.reporting_period.desc(),
                           AccountState.version.desc()))


class AccountRepository:
    """SQL about stored account states, for request-sized reads."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest_states(self, *, person_id: int) -> list[AccountState]:
        """The newest version of every (account, period) of a person, newest period first; records held in
        quarantine are not part of the person's file and are left out."""
        stmt = select(AccountState).where(AccountState.person_id == person_id,
                                          AccountState.held_reason.is_(None), PUBLISHED).order_by(
            AccountState.furnisher_id, AccountState.furnisher_account_id, AccountState.reporting_period.desc(),
            AccountState.version.desc(),
        )
        latest: dict[tuple[int, str, str], AccountState] = {}
        for state in self.session.scalars(stmt):
            latest.setdefault((state.furnisher_id, state.furnisher_account_id, state.reporting_period), state)
        return list(latest.values())

    def has_released_account(self, *, furnisher_id: int, person_id: int, moment: datetime,
                             statuses: tuple[str, ...]) -> bool:
        """Whether the furnisher holds an account of the person that is part of the person's file: released
        (records held for want of consent do not count: they are held precisely because the person did not
        agree), opened by ``moment``, and whose newest published state has one of ``statuses``."""
        rows = self.session.connection().execute(_PUBLISHED_OF, {"furnisher_id": furnisher_id,
                                                                 "person_id": person_id})
        newest: dict[str, tuple[str, date]] = {}
        for account, status, opened_on in rows:
            newest.setdefault(account, (status, opened_on))
        return any(status in statuses and opened_on <= moment.date() for status, opened_on in newest.values())

    def history(self, *, furnisher_id: int, furnisher_account_id: str) -> list[AccountState]:
        """Every stored version of one account, newest period and version first."""
        stmt = select(AccountState).where(
            AccountState.furnisher_id == furnisher_id, AccountState.furnisher_account_id == furnisher_account_id,
            PUBLISHED,
        ).order_by(AccountState.reporting_period.desc(), AccountState.version.desc())
        return list(self.session.scalars(stmt))

    def current_states(self, *, person_id: int) -> list[AccountState]:
        """The latest period's state of every account of a person that its furnisher has not deleted."""
        current: dict[tuple[int, str], AccountState] = {}
        for state in self.latest_states(person_id=person_id):
            current.setdefault((state.furnisher_id, state.furnisher_account_id), state)
        return [s for s in current.values() if s.account_status != "deleted"]


def _count(session: Session, stmt) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

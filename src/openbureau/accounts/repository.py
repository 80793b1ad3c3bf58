"""All SQL on account states (``account_states``) and on which of them are published (``loads_in_progress``).

A load in progress writes its rows in short transactions and publishes them all at once by removing its
entry from ``loads_in_progress``; every read here adds :data:`PUBLISHED`, so readers never wait for a load
and still see each file all or nothing. Other domains never name these tables: they call this repository
(bulk paths on a Core connection) or ``accounts.service`` (questions in the field's words).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Date,
    Row,
    Select,
    String,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from openbureau.accounts.event_repository import EventRepository
from openbureau.accounts.joint_rows import delete_of_periods, move_parties
from openbureau.accounts.models import AccountParty, AccountState, LendingEvent, LoadInProgress
from openbureau.kit.keys import keys_in
from openbureau.members.models import Member

S = AccountState.__table__.c

# Rows of account states that a load has published: every reader of the table adds this condition (a load
# in progress writes in short transactions, and its rows appear all at once when it publishes).
def published_by(submission_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the row written by ``submission_id`` is published: the one publication rule, also for the tables
    a load writes beside the account states (an enterprise's states and a sole trader's business links)."""
    return submission_id.not_in(select(LoadInProgress.submission_id).scalar_subquery())


PUBLISHED = published_by(AccountState.submission_id)


def of_furnisher(furnisher_id: ColumnElement | int) -> ColumnElement[bool]:
    """The states of a furnisher, as a condition beside one on the person: written so that no index answers it
    (``furnisher_id + 0``). SQLite plans without statistics and would otherwise read every state of the
    furnisher through the primary key's leading column (a lender's whole book: 17 ms a look on a 100,000-account
    lender, growing with it) rather than the person's few through their index (0.01 ms); PostgreSQL takes the
    person's index all the same."""
    return (S.furnisher_id + 0) == furnisher_id


def published_person(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether a person is published: a person numbered by a load still in progress is not known yet (the
    load publishes it with its records)."""
    return ~exists().where(person_id >= LoadInProgress.first_person_id)


def names_person(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether some account state, related person (standard v1.1) or lending event is filed under the person
    ``person_id`` (published or not)."""
    return or_(exists().where(AccountState.person_id == person_id), exists().where(AccountParty.person_id == person_id),
               exists().where(LendingEvent.person_id == person_id))


def has_state(furnisher_id: ColumnElement, furnisher_account_id: ColumnElement, reporting_period: ColumnElement,
              version: ColumnElement) -> ColumnElement[bool]:
    """Whether an account state with this key is stored (published or not): a condition of another domain's
    statement on rows keyed like account states (``enterprises``' business links of sole traders' states)."""
    return exists().where(S.furnisher_id == furnisher_id, S.furnisher_account_id == furnisher_account_id,
                          S.reporting_period == reporting_period, S.version == version)


# The columns a tradeline is built from.
_COLUMNS = (
    S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version, S.product_type, S.opened_on,
    S.currency, S.credit_limit, S.original_amount, S.term_months, S.balance, S.amount_due, S.amount_paid,
    S.past_due_amount, S.days_past_due, S.payment_status, S.account_status, S.first_delinquency_date,
    S.closed_on, S.negative_notice_date, S.negative_held, S.history_profile, S.facilitator_id,
    S.facilitator_account_id,
)
# Dates are read as the driver gives them and parsed only where used (``as_date``): SQLite keeps them as
# ISO text, and SQLAlchemy's per-value date parsing cost more than the whole query.
STATE_COLUMNS = tuple(type_coerce(c, String).label(c.name) if isinstance(c.type, Date) else c for c in _COLUMNS)


def keyed_rows_exist(person_id: ColumnElement, key: Sequence[ColumnElement]) -> ColumnElement[bool]:
    """Whether a row of another table keyed like a state version (``key``: its furnisher, account, period and
    version columns) belongs to any state of the person of ``person_id`` (a column or parameter of another
    domain's statement), held, in a load or not: a condition wider than any read of those rows for the file."""
    return exists().where(S.person_id == person_id, *(column == state for column, state in zip(
        key, (S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version), strict=True)))


def as_date(value: date | str | None) -> date | None:
    """A date read through ``STATE_COLUMNS`` (a date on PostgreSQL, ISO text on SQLite) as a date."""
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


# Read on every inquiry: built once (building a statement costs more than running it).
_IN_FILE = (S.person_id == bindparam("person_id"), S.held_reason.is_(None), PUBLISHED)
_STATES_OF = select(*STATE_COLUMNS).where(*_IN_FILE)
_STATES_WITH_IDENTITY_OF = select(*STATE_COLUMNS, S.identity_enc).where(*_IN_FILE)
# The published states of one furnisher's accounts of one person, newest first per account.
_PUBLISHED_OF = (select(S.furnisher_account_id, S.account_status, S.opened_on)
                 .where(of_furnisher(bindparam("furnisher_id")), S.person_id == bindparam("person_id"),
                        S.held_reason.is_(None), PUBLISHED)
                 .order_by(S.furnisher_account_id, S.reporting_period.desc(), S.version.desc()))
# The account states as the quality and market jobs read them (``AccountLoadRepository.state_frame``).
STATE_FRAME_SCHEMA = {
    "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
    "version": pl.Int64, "person_id": pl.Int64, "product_type": pl.String, "term_months": pl.Int64,
    "balance": pl.Int64, "days_past_due": pl.Int64, "payment_status": pl.String, "account_status": pl.String,
    "has_credit_limit": pl.Int8, "has_original_amount": pl.Int8, "has_first_delinquency_date": pl.Int8,
    "has_closed_on": pl.Int8, "has_consent_ref": pl.Int8, "has_negative_notice_date": pl.Int8, "held": pl.Int8,
}
# What a release returns of each record it released (the consent gate tells the person of negative ones).
RELEASED_SCHEMA = {
    "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String, "version": pl.Int64,
    "person_id": pl.Int64, "product_type": pl.String, "days_past_due": pl.Int64, "payment_status": pl.String,
    "account_status": pl.String, "negative_held": pl.Int64,
}
# Rewritten in this order by ``cluster_by_person``: a person's file is then read from a few pages.
PERSON_ORDER = ("person_id", "furnisher_id", "furnisher_account_id", "reporting_period", "version")


class AccountRepository:
    """SQL about stored account states on a session: a person's file, an account's history, the consent
    gate's releases, identity's moves, retention and clustering."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- a person's file -------------------------------------------------------------------------------
    def states_of(self, person_id: int, *, with_identity: bool = False) -> Sequence[Row]:
        """Every stored state of a person's accounts that is part of the file (quarantined ones are not), as
        plain rows of ``STATE_COLUMNS`` (plus ``identity_enc``); read on every inquiry, so no ORM objects."""
        stmt = _STATES_WITH_IDENTITY_OF if with_identity else _STATES_OF
        return self.session.connection().execute(stmt, {"person_id": person_id}).all()

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

    def furnisher_period(self, *, furnisher_id: int, period: str, batch: int = 5_000) -> Iterator[Row]:
        """The newest published version of each account one furnisher reported for one period, part of the
        files (held records left out), in account order: rows of ``STATE_COLUMNS`` with ``person_id``,
        ``correction`` and ``identity_enc``, streamed."""
        stmt = (select(*STATE_COLUMNS, S.person_id, S.correction, S.identity_enc)
                .where(S.furnisher_id == furnisher_id, S.reporting_period == period, S.held_reason.is_(None),
                       PUBLISHED)
                .order_by(S.furnisher_account_id, S.version.desc()).execution_options(yield_per=batch))
        last = None
        for row in self.session.execute(stmt):
            if row.furnisher_account_id != last:
                last = row.furnisher_account_id
                yield row

    def held_in_period(self, *, furnisher_id: int, period: str) -> int:
        """How many published states of one furnisher's period are held back from the files."""
        return _count(self.session, select(S.furnisher_account_id).where(
            S.furnisher_id == furnisher_id, S.reporting_period == period, S.held_reason.is_not(None), PUBLISHED))

    # -- whole-bureau reads ------------------------------------------------------------------------------
    def latest_period(self, *, furnisher_id: int | None = None) -> str | None:
        """The newest reporting period in the bureau (or furnished by one member)."""
        stmt = select(func.max(S.reporting_period)).where(PUBLISHED)
        if furnisher_id is not None:
            stmt = stmt.where(S.furnisher_id == furnisher_id)
        return self.session.scalar(stmt)

    def earliest_period(self) -> str | None:
        """The oldest reporting period in the bureau."""
        return self.session.scalar(select(func.min(S.reporting_period)).where(PUBLISHED))

    def states_by_person(self, *, batch: int = 20_000) -> Iterator[tuple[int, list[Row]]]:
        """(person_id, rows of ``STATE_COLUMNS``) of every person's stored states in the file, person by person."""
        stmt = (select(S.person_id, *STATE_COLUMNS).where(S.held_reason.is_(None), PUBLISHED)
                .order_by(S.person_id).execution_options(yield_per=batch))
        current, rows = None, []
        for row in self.session.execute(stmt):
            if row.person_id != current:
                if rows:
                    yield current, rows
                current, rows = row.person_id, []
            rows.append(row)
        if rows:
            yield current, rows

    def states_of_persons(self, person_ids: Sequence[int]) -> dict[int, list[Row]]:
        """Every file state (with ``identity_enc``) of each of ``person_ids``, in one statement: person id ->
        rows of ``STATE_COLUMNS`` (a prescreen reads its candidates a chunk at a time)."""
        out: dict[int, list[Row]] = {p: [] for p in person_ids}
        stmt = select(S.person_id, *STATE_COLUMNS, S.identity_enc).where(
            S.person_id.in_(list(person_ids)), S.held_reason.is_(None), PUBLISHED)
        for row in self.session.connection().execute(stmt):
            out[row.person_id].append(row)
        return out

    def persons_with_credit(self, *, after_id: int, limit: int, credit_products: Sequence[str],
                            condition: Callable[[ColumnElement], ColumnElement[bool]]) -> list[int]:
        """The next ``limit`` persons above ``after_id``, in id order, with a published credit account in their
        file and for whom ``condition`` (a fragment of the asking domain, on the person id column) holds."""
        stmt = (select(S.person_id).where(S.person_id > after_id, S.held_reason.is_(None), PUBLISHED,
                                          S.product_type.in_(list(credit_products)), condition(S.person_id))
                .group_by(S.person_id).order_by(S.person_id).limit(limit))
        return list(self.session.connection().execute(stmt).scalars())

    def counts(self) -> dict[str, int]:
        """Published accounts and account states stored."""
        accounts = select(S.furnisher_id, S.furnisher_account_id).where(PUBLISHED).distinct()
        return {"accounts": _count(self.session, accounts),
                "states": _count(self.session, select(S.person_id).where(PUBLISHED))}

    def stored_by_furnisher(self) -> dict[int, tuple[int, int]]:
        """(published states stored, of which held) by furnisher id."""
        stmt = (select(S.furnisher_id, func.count(), func.count(S.held_reason)).where(PUBLISHED)
                .group_by(S.furnisher_id))
        return {f: (int(stored), int(held)) for f, stored, held in self.session.execute(stmt)}

    # -- the consent gate's quarantine -------------------------------------------------------------------
    def release_held(self, *, reason: str, unblocked: Callable[[ColumnElement, ColumnElement], Select],
                     moment: datetime, furnisher_id: int | None = None, submission_id: int | None = None,
                     person_ids: Sequence[int] | None = None) -> pl.DataFrame:
        """Release published records held for ``reason`` for which ``unblocked(person_id, furnisher_id)`` (a
        correlated query over the record's columns) finds a row, only those of ``person_ids`` if given; the
        records released (``RELEASED_SCHEMA``). Guarded by the held reason, so a record is released exactly
        once however many releases run at once. Records of a load in progress wait for their load, which
        releases its own when it publishes them (their notices must not precede, or outlive, the load)."""
        where = [S.held_reason == reason, unblocked(S.person_id, S.furnisher_id).exists(), PUBLISHED]
        if furnisher_id is not None:
            where.append(S.furnisher_id == furnisher_id)
        if person_ids is not None:
            where.append(S.person_id.in_(person_ids))
        if submission_id is not None:
            where.append(S.submission_id == submission_id)
        stmt = (update(AccountState).values(held_reason=None, released_at=moment).where(*where)
                .returning(*(S[c] for c in RELEASED_SCHEMA)))
        rows = self.session.connection().execute(stmt).all()
        return pl.DataFrame([tuple(r) for r in rows], schema=RELEASED_SCHEMA, orient="row")

    def held_count(self, *, furnisher_id: int | None = None) -> int:
        """How many records are held back from the files (quarantine)."""
        stmt = select(func.count()).select_from(AccountState).where(S.held_reason.is_not(None))
        if furnisher_id is not None:
            stmt = stmt.where(S.furnisher_id == furnisher_id)
        return self.session.scalar(stmt) or 0

    # -- identity: whose records these are ---------------------------------------------------------------
    def identity_rows(self, batch: int = 50_000) -> Iterator[list[tuple]]:
        """Batches of (person_id, furnisher_id, furnisher_account_id, reporting_period, identity_enc)."""
        stmt = select(S.person_id, S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.identity_enc)
        result = self.session.execute(stmt.execution_options(yield_per=batch))
        # The first batch through the result (it has buffered a row already), the rest straight from the
        # driver's cursor (server-side on PostgreSQL): plain tuples, without building a million result rows
        # that the caller takes apart at once.
        rows = [tuple(r) for r in result.fetchmany(batch)]
        if len(rows) < batch:
            yield from [rows] if rows else []
            return
        cursor = result.cursor
        while rows:
            yield rows
            rows = cursor.fetchmany(batch)
        result.close()

    def identity_records(self, *, since_period: str, batch: int = 50_000) -> Iterator[list[tuple]]:
        """Batches of (person_id, furnisher_id, reporting_period, identity_enc) of the published states in the
        files (not held) from ``since_period`` on: what the fraud rings are built from."""
        stmt = (select(S.person_id, S.furnisher_id, S.reporting_period, S.identity_enc)
                .where(S.reporting_period >= since_period, S.held_reason.is_(None), PUBLISHED))
        result = self.session.connection().execute(stmt.execution_options(yield_per=batch))
        while rows := result.fetchmany(batch):
            yield [tuple(r) for r in rows]

    def delinquent_persons(self, *, since_period: str, min_days_past_due: int) -> set[int]:
        """Persons with a published state in the files, from ``since_period`` on, at least
        ``min_days_past_due`` days past due or charged off (any version: a correction that cured it still
        leaves the month it was reported)."""
        stmt = (select(S.person_id).where(S.reporting_period >= since_period, S.held_reason.is_(None), PUBLISHED,
                                          or_(S.days_past_due >= min_days_past_due, S.account_status == "charged_off"))
                .distinct())
        return set(self.session.connection().execute(stmt).scalars())

    def account_persons(self) -> pl.DataFrame:
        """Distinct (furnisher ``code``, ``period``, ``furnisher_account_id``, ``person_id``) of stored records."""
        stmt = (select(Member.code, S.reporting_period, S.furnisher_account_id, S.person_id)
                .join_from(AccountState, Member, Member.id == S.furnisher_id).distinct())
        rows = self.session.execute(stmt).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
            "furnisher": pl.String, "period": pl.String, "furnisher_account_id": pl.String, "person_id": pl.Int64})

    def accounts_of(self, person_id: int) -> list[tuple[int, str]]:
        """Distinct (furnisher_id, furnisher_account_id) of a person's records."""
        stmt = select(S.furnisher_id, S.furnisher_account_id).where(S.person_id == person_id).distinct()
        return sorted(tuple(r) for r in self.session.execute(stmt))

    def identities_of(self, person_id: int) -> list[tuple[int, bytes]]:
        """(furnisher_id, identity_enc) of a person's records."""
        stmt = select(S.furnisher_id, S.identity_enc).where(S.person_id == person_id)
        return [tuple(r) for r in self.session.execute(stmt)]

    def latest_identities(self, person_id: int, *, limit: int = 20) -> list[bytes]:
        """``identity_enc`` of a person's published, released records, most recently reported first (newest
        period, then newest stored): where the person's newest contact details are."""
        stmt = (select(S.identity_enc).where(S.person_id == person_id, S.held_reason.is_(None), PUBLISHED)
                .order_by(S.reporting_period.desc(), S.stored_at.desc()).limit(limit))
        return list(self.session.scalars(stmt))

    def held_by_furnisher(self, person_id: int, *, reason: str) -> dict[int, int]:
        """How many of a person's published records each furnisher has held back for ``reason``."""
        stmt = (select(S.furnisher_id, func.count()).where(S.person_id == person_id, S.held_reason == reason,
                                                           PUBLISHED).group_by(S.furnisher_id))
        return {int(f): int(n) for f, n in self.session.execute(stmt)}

    def move_person(self, *, from_person_id: int, to_person_id: int) -> None:
        """File every record and event of a person under another."""
        self.session.execute(update(AccountState).where(S.person_id == from_person_id)
                             .values(person_id=to_person_id))
        move_parties(self.session.connection(), [{"old": from_person_id, "new": to_person_id}])
        EventRepository(self.session.connection()).move(from_person_id=from_person_id, to_person_id=to_person_id)

    def move_account(self, *, person_id: int, furnisher_id: int, furnisher_account_id: str, to_person_id: int
                     ) -> int:
        """File one account's records (and events) of a person under another; the number of records moved."""
        EventRepository(self.session.connection()).move(
            from_person_id=person_id, to_person_id=to_person_id, furnisher_id=furnisher_id,
            furnisher_account_id=furnisher_account_id)
        return self.session.execute(
            update(AccountState).where(S.person_id == person_id, S.furnisher_id == furnisher_id,
                                       S.furnisher_account_id == furnisher_account_id)
            .values(person_id=to_person_id)).rowcount

    def move_persons(self, moves: list[dict[str, int]]) -> None:
        """File the records and events of each person ``old`` under ``new`` (one executemany each)."""
        if moves:
            stmt = update(AccountState.__table__).where(S.person_id == bindparam("old")).values(
                person_id=bindparam("new"))
            self.session.connection().execute(stmt, moves)
            events = LendingEvent.__table__
            self.session.connection().execute(update(events).where(events.c.person_id == bindparam("old")).values(
                person_id=bindparam("new")), moves)
            move_parties(self.session.connection(), moves)

    # -- retention and maintenance -----------------------------------------------------------------------
    def accounts_with_status_before(self, period: str, *, payment_statuses: tuple[str, ...],
                                    batch: int = 5_000) -> Iterator[list[tuple[int, str]]]:
        """Batches of (furnisher_id, furnisher_account_id) with, in ``period`` or before, one of
        ``payment_statuses``, a charge-off or days past due."""
        negative = or_(S.payment_status.in_(payment_statuses), S.account_status == "charged_off",
                       S.days_past_due > 0)
        stmt = (select(S.furnisher_id, S.furnisher_account_id).distinct()
                .where(S.reporting_period <= period, negative, PUBLISHED)
                .order_by(S.furnisher_id, S.furnisher_account_id))
        rows = [tuple(r) for r in self.session.execute(stmt)]
        for start in range(0, len(rows), batch):
            yield rows[start:start + batch]

    def states_of_accounts(self, accounts: list[tuple[int, str]]) -> Sequence[Row]:
        """Every stored state (``STATE_COLUMNS``) of the given accounts, held records included."""
        stmt = select(*STATE_COLUMNS).where(keys_in((S.furnisher_id, S.furnisher_account_id), accounts), PUBLISHED)
        return self.session.execute(stmt).all()

    def delete_periods(self, keys: list[tuple[int, str, str]]) -> int:
        """Delete every version of the given (furnisher_id, furnisher_account_id, reporting_period); the
        number of rows deleted."""
        delete_of_periods(self.session.connection(), keys)
        deleted = 0
        for start in range(0, len(keys), 1_000):
            result = self.session.execute(delete(AccountState).where(
                keys_in((S.furnisher_id, S.furnisher_account_id, S.reporting_period), keys[start:start + 1_000])))
            deleted += result.rowcount
        return deleted


def _count(session: Session, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

"""SQL of a bulk load's account states (``account_states``, ``loads_in_progress``), on the Core connection that
holds one of the load's transactions: the loader's writes and the reads it makes of what it wrote, and the
frames the quality and market jobs read. The per-person reads of the files are ``accounts.repository``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import ColumnElement, Connection, case, delete, exists, func, insert, or_, select

from openbureau.accounts.joint_rows import delete_of_states
from openbureau.accounts.models import AccountFunder, AccountParty, AccountState, LendingEvent, LoadInProgress
from openbureau.accounts.repository import PUBLISHED, STATE_FRAME_SCHEMA, S, of_furnisher
from openbureau.kit.dialects import dialect_for
from openbureau.kit.keys import keys_in

_PRIMARY_KEY = (S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version)
_RELEASE_KEYS = 300  # accounts per statement of a release's reads (two lists and a row-value list of them)
KEYED_BATCH = 1_000  # accounts per statement of ``versions_of`` (two lists and a row-value list of them)
_PERIOD_KEY = (S.furnisher_id, S.furnisher_account_id, S.reporting_period)

class AccountLoadRepository:
    """SQL of a bulk load's account states, on the Core connection that holds one of its transactions."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def latest_versions(self, *, furnisher_id: int, periods: Sequence[str]) -> pl.DataFrame:
        """(``furnisher_account_id``, ``stored_version``, ``reporting_period``) of every account stored for
        each of ``periods`` (one statement however many periods a file reports)."""
        stmt = (select(S.furnisher_account_id, func.max(S.version), S.reporting_period)
                .where(S.furnisher_id == furnisher_id, S.reporting_period.in_(sorted(set(periods))))
                .group_by(S.furnisher_account_id, S.reporting_period))
        return pl.DataFrame(self.conn.execute(stmt).all(), orient="row", schema={
            "furnisher_account_id": pl.String, "stored_version": pl.Int64, "reporting_period": pl.String})

    def versions_of(self, *, furnisher_id: int, keys: pl.DataFrame, except_submission: int) -> pl.DataFrame:
        """As :meth:`latest_versions`, for the (``furnisher_account_id``, ``reporting_period``) in ``keys`` only,
        leaving out the rows of the load ``except_submission`` (one search of the primary key per account,
        however many rows the furnisher has stored: what a small file reads)."""
        wanted = [(furnisher_id, account, period) for account, period in keys.unique().iter_rows()]
        rows = []
        for start in range(0, len(wanted), KEYED_BATCH):
            rows += self.conn.execute(
                select(S.furnisher_account_id, func.max(S.version), S.reporting_period)
                .where(keys_in(_PERIOD_KEY, wanted[start:start + KEYED_BATCH]),
                       S.submission_id.is_distinct_from(except_submission))
                .group_by(S.furnisher_account_id, S.reporting_period)).all()
        return pl.DataFrame(rows, orient="row", schema={
            "furnisher_account_id": pl.String, "stored_version": pl.Int64, "reporting_period": pl.String})

    def insert(self, frame: pl.DataFrame) -> None:
        """Append account-state rows (the table's column names) in the open transaction."""
        dialect_for(self.conn).insert(self.conn, AccountState.__table__, frame)

    def insert_funders(self, frame: pl.DataFrame) -> None:
        """Append the funders of account states just inserted (``account_funders``' column names)."""
        dialect_for(self.conn).insert(self.conn, AccountFunder.__table__, frame)

    def insert_parties(self, frame: pl.DataFrame) -> None:
        """Append the related persons of account states just inserted (``account_parties``' column names)."""
        dialect_for(self.conn).insert(self.conn, AccountParty.__table__, frame)

    def refresh_statistics(self, *, rows_written: int) -> None:
        """Let the planner see the rows a load wrote (see ``kit.dialects.base.Dialect.refresh_statistics``)."""
        dialect_for(self.conn).refresh_statistics(self.conn, AccountState.__table__, rows_written=rows_written)

    def begin_load(self, *, submission_id: int, furnisher_id: int, first_person_id: int) -> None:
        """List the submission as being loaded: its rows stay out of every read until :meth:`end_load`."""
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
        stmt = select(S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version).where(
            S.furnisher_id == furnisher_id, S.submission_id == submission_id)
        return [tuple(r) for r in self.conn.execute(stmt)]

    def new_accounts(self, *, submission_id: int, furnisher_id: int, person_ids: Sequence[int]) -> pl.DataFrame:
        """(``person_id``, ``opened_on``) of each account that a submission's rows in the files name for the
        first time (no published row of another submission has it), among ``person_ids`` (read through the
        persons' index: the monitored persons of the load); one row per account."""
        earlier = AccountState.__table__.alias("earlier")
        seen = exists().where(earlier.c.furnisher_id == S.furnisher_id,
                              earlier.c.furnisher_account_id == S.furnisher_account_id,
                              earlier.c.submission_id != submission_id,
                              earlier.c.submission_id.not_in(select(LoadInProgress.submission_id).scalar_subquery()))
        ids = sorted(set(person_ids))
        rows: list = []
        for start in range(0, len(ids), 5_000):
            rows += self.conn.execute(
                select(S.person_id, func.min(S.opened_on).label("opened_on"))
                .where(S.person_id.in_(ids[start:start + 5_000]), of_furnisher(furnisher_id),
                       S.submission_id == submission_id, S.held_reason.is_(None), ~seen)
                .group_by(S.person_id, S.furnisher_account_id)).all()
        return pl.DataFrame(rows, schema={"person_id": pl.Int64, "opened_on": pl.Date}, orient="row")

    def released_new_accounts(self, accounts: Sequence[tuple[int, str]], *, moment: datetime) -> pl.DataFrame:
        """(``person_id``, ``furnisher_id``, ``opened_on``) of each of ``accounts`` (``furnisher_id``,
        ``furnisher_account_id``) whose rows a consent release at ``moment`` let into the files when none of its
        other rows was in them (the account is new to the files)."""
        earlier = AccountState.__table__.alias("earlier")
        shown = exists().where(earlier.c.furnisher_id == S.furnisher_id,
                               earlier.c.furnisher_account_id == S.furnisher_account_id,
                               earlier.c.held_reason.is_(None),
                               or_(earlier.c.released_at.is_(None), earlier.c.released_at != moment),
                               earlier.c.submission_id.not_in(select(LoadInProgress.submission_id).scalar_subquery()))
        keys = sorted(set(accounts))
        rows: list = []
        for start in range(0, len(keys), _RELEASE_KEYS):
            rows += self.conn.execute(
                select(S.person_id, S.furnisher_id, func.min(S.opened_on))
                .where(keys_in((S.furnisher_id, S.furnisher_account_id), keys[start:start + _RELEASE_KEYS]),
                       S.released_at == moment, S.held_reason.is_(None), ~shown)
                .group_by(S.person_id, S.furnisher_id, S.furnisher_account_id)).all()
        return pl.DataFrame(rows, schema={"person_id": pl.Int64, "furnisher_id": pl.Int64, "opened_on": pl.Date},
                            orient="row")

    def released_identities(self, *, moment: datetime, person_ids: Sequence[int]) -> pl.DataFrame:
        """``person_id``, ``furnisher_id``, ``occurred_at`` (``moment`` for a record, the event's own time) and
        ``identity_enc`` of the records and lending events a consent release at ``moment`` let into the files,
        about these persons."""
        E = LendingEvent.__table__.c  # noqa: N806
        ids = sorted(set(person_ids))
        rows: list = []
        for start in range(0, len(ids), 5_000):
            chunk = ids[start:start + 5_000]
            rows += [(p, f, moment, enc) for p, f, enc in self.conn.execute(select(
                S.person_id, S.furnisher_id, S.identity_enc).where(
                S.person_id.in_(chunk), S.released_at == moment, S.held_reason.is_(None)))]
            rows += self.conn.execute(select(E.person_id, E.furnisher_id, E.occurred_at, E.identity_enc).where(
                E.person_id.in_(chunk), E.released_at == moment, E.held_reason.is_(None))).all()
        return pl.DataFrame(rows, schema={"person_id": pl.Int64, "furnisher_id": pl.Int64,
                                          "occurred_at": pl.Datetime("us", "UTC"), "identity_enc": pl.Binary},
                            orient="row")

    def load_identities(self, *, submission_id: int, person_ids: Sequence[int]) -> pl.DataFrame:
        """``person_id``, ``identity_enc`` of a load's released records about these persons."""
        rows = []
        ids = sorted(set(person_ids))
        for start in range(0, len(ids), 5_000):
            rows += self.conn.execute(select(S.person_id, S.identity_enc).where(
                S.submission_id == submission_id, S.held_reason.is_(None),
                S.person_id.in_(ids[start:start + 5_000]))).all()
        return pl.DataFrame(rows, schema={"person_id": pl.Int64, "identity_enc": pl.Binary}, orient="row")

    def known_identities(self, person_ids: Sequence[int], *, except_submission: int | None = None,
                         except_released_at: datetime | None = None, per_person: int = 12) -> pl.DataFrame:
        """``person_id``, ``identity_enc`` of the newest ``per_person`` published, released records and as many
        released lending events of each of these persons (not those of ``except_submission``, nor those a
        consent release at ``except_released_at`` let in): the contact details the person's file carried
        before."""
        ids = sorted(set(person_ids))
        E = LendingEvent.__table__.c  # noqa: N806
        rows: list = []
        for start in range(0, len(ids), 5_000):
            chunk = ids[start:start + 5_000]
            conditions = [S.person_id.in_(chunk), S.held_reason.is_(None), PUBLISHED]
            if except_submission is not None:
                conditions.append(S.submission_id != except_submission)
            event_conditions = [E.person_id.in_(chunk), E.held_reason.is_(None)]
            if except_released_at is not None:
                conditions.append(or_(S.released_at.is_(None), S.released_at != except_released_at))
                event_conditions.append(or_(E.released_at.is_(None), E.released_at != except_released_at))
            states = select(S.person_id, S.identity_enc, func.row_number().over(
                partition_by=S.person_id, order_by=(S.reporting_period.desc(), S.stored_at.desc())).label("n")
            ).where(*conditions).subquery()
            events = select(E.person_id, E.identity_enc, func.row_number().over(
                partition_by=E.person_id, order_by=E.occurred_at.desc()).label("n")
            ).where(*event_conditions).subquery()
            for q in (states, events):
                rows += self.conn.execute(select(q.c.person_id, q.c.identity_enc).where(q.c.n <= per_person)).all()
        return pl.DataFrame(rows, schema={"person_id": pl.Int64, "identity_enc": pl.Binary}, orient="row")

    def delete_states(self, keys: list[tuple[int, str, str, int]]) -> int:
        """Delete account states by primary key, with their funders and related persons; how many states."""
        if not keys:
            return 0
        delete_of_states(self.conn, keys)
        return self.conn.execute(delete(AccountState).where(keys_in(_PRIMARY_KEY, keys))).rowcount

    # -- frames for the quality and market jobs ------------------------------------------------------------
    def submission_periods(self) -> pl.DataFrame:
        """``submission_id, reporting_period, records``: which periods each submission's stored records describe."""
        stmt = (select(S.submission_id, S.reporting_period, func.count().label("records"))
                .where(PUBLISHED).group_by(S.submission_id, S.reporting_period))
        return dialect_for(self.conn).read_frame(self.conn, stmt, {
            "submission_id": pl.Int64, "reporting_period": pl.String, "records": pl.Int64})

    def state_frame(self, *, since: str | None = None, until: str | None = None,
                    furnisher_id: int | None = None) -> pl.DataFrame:
        """Every stored version of every account-period in ``[since, until]`` (``STATE_FRAME_SCHEMA``), with
        emptiness flags for the optional fields (their values are not needed, and dates cost more to
        transfer than flags)."""
        stmt = select(
            S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version, S.person_id, S.product_type,
            S.term_months, S.balance, S.days_past_due, S.payment_status, S.account_status,
            _flag(S.credit_limit).label("has_credit_limit"), _flag(S.original_amount).label("has_original_amount"),
            _flag(S.first_delinquency_date).label("has_first_delinquency_date"),
            _flag(S.closed_on).label("has_closed_on"), _flag(S.consent_ref).label("has_consent_ref"),
            _flag(S.negative_notice_date).label("has_negative_notice_date"),
            _flag(S.held_reason).label("held"),
        ).where(PUBLISHED)
        if since is not None:
            stmt = stmt.where(S.reporting_period >= since)
        if until is not None:
            stmt = stmt.where(S.reporting_period <= until)
        if furnisher_id is not None:
            stmt = stmt.where(S.furnisher_id == furnisher_id)
        return dialect_for(self.conn).read_frame(self.conn, stmt, STATE_FRAME_SCHEMA)


def _flag(column: ColumnElement) -> ColumnElement[int]:
    """``1`` when the column holds a value, ``0`` when it is empty (the same on SQLite and PostgreSQL)."""
    return case((column.is_(None), 0), else_=1)

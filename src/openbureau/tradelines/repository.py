"""Queries of the tradelines domain: a person's stored account states, and the retention purge."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from sqlalchemy import Date, Row, String, bindparam, delete, func, or_, select, text, tuple_, type_coerce
from sqlalchemy.orm import Session

from openbureau.intake.models import AccountState
from openbureau.intake.repository import PUBLISHED
from openbureau.intake.standard import PAST_DUE_STATUSES

S = AccountState.__table__.c

# The columns a tradeline is built from.
_COLUMNS = (
    S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version, S.product_type, S.opened_on,
    S.currency, S.credit_limit, S.original_amount, S.term_months, S.balance, S.amount_due, S.amount_paid,
    S.past_due_amount, S.days_past_due, S.payment_status, S.account_status, S.first_delinquency_date,
    S.closed_on, S.negative_notice_date, S.negative_held,
)
# Dates are read as the driver gives them and parsed only where used (``as_date``): SQLite keeps them as
# ISO text, and SQLAlchemy's per-value date parsing cost more than the whole query.
STATE_COLUMNS = tuple(type_coerce(c, String).label(c.name) if isinstance(c.type, Date) else c for c in _COLUMNS)
NEGATIVE_STATUSES = (*PAST_DUE_STATUSES, "D", "Z")


def as_date(value: date | str | None) -> date | None:
    """A date read through ``STATE_COLUMNS`` (a date on PostgreSQL, ISO text on SQLite) as a date."""
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


# Read on every inquiry: built once (building a statement costs more than running it).
_IN_FILE = (S.person_id == bindparam("person_id"), S.held_reason.is_(None), PUBLISHED)
_STATES_OF = select(*STATE_COLUMNS).where(*_IN_FILE)
_STATES_WITH_IDENTITY_OF = select(*STATE_COLUMNS, S.identity_enc).where(*_IN_FILE)


class TradelineRepository:
    """All SQL of the tradelines domain."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def states_of(self, person_id: int, *, with_identity: bool = False) -> Sequence[Row]:
        """Every stored state of a person's accounts that is part of the file (quarantined ones are not), as
        plain rows of ``STATE_COLUMNS`` (plus ``identity_enc``); read on every inquiry, so no ORM objects."""
        stmt = _STATES_WITH_IDENTITY_OF if with_identity else _STATES_OF
        return self.session.connection().execute(stmt, {"person_id": person_id}).all()

    def latest_period(self) -> str | None:
        """The newest reporting period in the bureau."""
        return self.session.scalar(select(func.max(S.reporting_period)).where(PUBLISHED))

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

    def negative_accounts_before(self, period: str, *, batch: int = 5_000) -> Iterator[list[tuple[int, str]]]:
        """Batches of (furnisher_id, furnisher_account_id) with negative information in ``period`` or before:
        the only accounts whose information can have outlived its retention period."""
        negative = or_(S.payment_status.in_(NEGATIVE_STATUSES), S.account_status == "charged_off",
                       S.days_past_due > 0)
        stmt = (select(S.furnisher_id, S.furnisher_account_id).distinct()
                .where(S.reporting_period <= period, negative, PUBLISHED)
                .order_by(S.furnisher_id, S.furnisher_account_id))
        rows = [tuple(r) for r in self.session.execute(stmt)]
        for start in range(0, len(rows), batch):
            yield rows[start:start + batch]

    def states_of_accounts(self, accounts: list[tuple[int, str]]) -> Sequence[Row]:
        """Every stored state (``STATE_COLUMNS``) of the given accounts, held records included."""
        stmt = select(*STATE_COLUMNS).where(tuple_(S.furnisher_id, S.furnisher_account_id).in_(accounts), PUBLISHED)
        return self.session.execute(stmt).all()

    def delete_periods(self, keys: list[tuple[int, str, str]]) -> int:
        """Delete every version of the given (furnisher_id, furnisher_account_id, reporting_period); the
        number of rows deleted."""
        deleted = 0
        for start in range(0, len(keys), 1_000):
            result = self.session.execute(delete(AccountState).where(
                tuple_(S.furnisher_id, S.furnisher_account_id, S.reporting_period).in_(keys[start:start + 1_000])))
            deleted += result.rowcount
        return deleted

    def cluster_by_person(self) -> int:
        """Rewrite the table so that each person's states lie together on disk, in (person, account, period,
        version) order; the number of rows. A person's file is then read from a few pages instead of one
        page per row. Rows loaded later go at the end again, so run it after a month's loads.

        SQLite: a copy in that order, swapped in for the table, with its indexes rebuilt from their own
        definitions (one write transaction; it needs free disk for a second copy of the table and its log).
        PostgreSQL: ``CLUSTER`` on the person index (it locks the table), then ``ANALYZE``.
        """
        conn = self.session.connection()
        table = AccountState.__tablename__
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"CLUSTER {table} USING ix_{table}_person_id"))
            conn.execute(text(f"ANALYZE {table}"))
            return self.session.scalar(select(func.count()).select_from(AccountState))
        raw = conn.connection.driver_connection
        definition = raw.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
        indexes = [r[0] for r in raw.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))]
        columns = ", ".join(r[1] for r in raw.execute(f"PRAGMA table_info({table})"))
        copy = f"{table}_by_person"
        rest = definition.split("(", 1)[1]
        raw.execute(f"CREATE TABLE {copy} ({rest}")
        # The copy's primary-key index takes rows out of its own order: a large page cache keeps most of it in
        # memory (2 GiB: a million persons' key index is about that).
        size = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute("PRAGMA cache_size = -2097152")
        try:
            rows = raw.execute(f"INSERT INTO {copy} ({columns}) SELECT {columns} FROM {table} "  # noqa: S608
                               "ORDER BY person_id, furnisher_id, furnisher_account_id, reporting_period, version"
                               ).rowcount
            raw.execute(f"DROP TABLE {table}")
            raw.execute(f"ALTER TABLE {copy} RENAME TO {table}")
            for sql in indexes:
                raw.execute(sql)
        finally:
            raw.execute(f"PRAGMA cache_size = {size}")
        return rows

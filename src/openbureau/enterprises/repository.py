"""All SQL on enterprises, enterprise borrowers' account states and sole traders' business links.

Every read adds :data:`PUBLISHED` (the rows of a load in progress stay hidden, as
``accounts.repository.PUBLISHED`` hides them in ``account_states``); the load writes through
:class:`EnterpriseLoadRepository` on its Core connection.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import ColumnElement, Connection, delete, exists, func, select

from openbureau.accounts.repository import has_state, keyed_rows_exist, published_by
from openbureau.enterprises.models import USCC, AccountEnterprise, Enterprise, EnterpriseState
from openbureau.kit.dialects import dialect_for
from openbureau.kit.keys import KeyedSelect

E, ES, AE = Enterprise.__table__.c, EnterpriseState.__table__.c, AccountEnterprise.__table__.c
PUBLISHED = published_by(ES.submission_id)
LINK_PUBLISHED = published_by(AE.submission_id)
_KEYS_PER_STATEMENT = 1_000
STATE_COLUMNS = tuple(c for c in ES if c.name not in ("submission_id", "line", "stored_at"))
# Read on every person's report: built once, the keys bound as one parameter (kit.keys.KeyedSelect).
_LINK_KEY = (AE.furnisher_id, AE.furnisher_account_id, AE.reporting_period, AE.version)
_LINKS = KeyedSelect(_LINK_KEY, lambda keys: (
    select(*_LINK_KEY, AE.enterprise_id, AE.name_enc, E.uscc_enc)
    .select_from(keys.table.join(AccountEnterprise, keys.on(_LINK_KEY)).join(Enterprise, E.id == AE.enterprise_id))
    .where(LINK_PUBLISHED)))


def links_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether any state of the person of ``person_id`` (a column or parameter of another domain's statement)
    names a business: when not, :meth:`EnterpriseRepository.links` finds none for their file's keys."""
    return keyed_rows_exist(person_id, _LINK_KEY)


class EnterpriseRepository:
    """Reads of enterprises and their accounts (reports, statistics), on any connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def enterprise_ids(self, indexes: Sequence[bytes]) -> dict[bytes, int]:
        """Enterprise id by blind index of the codes given (those the bureau knows)."""
        if not indexes:
            return {}
        rows = self.conn.execute(select(E.uscc_index, E.id).where(E.code_type == USCC,
                                                                   E.uscc_index.in_(list(indexes))))
        return {bytes(index): int(id_) for index, id_ in rows}

    def next_enterprise_id(self) -> int:
        """One more than the highest enterprise id (a load numbers new enterprises from here, under its lock)."""
        return int(self.conn.execute(select(func.coalesce(func.max(E.id), 0))).scalar_one()) + 1

    def uscc_enc(self, enterprise_id: int) -> bytes | None:
        """The sealed code of an enterprise."""
        return self.conn.execute(select(E.uscc_enc).where(E.id == enterprise_id)).scalar_one_or_none()

    def states(self, enterprise_id: int, *, furnisher_id: int | None = None) -> list:
        """Every published state of an enterprise borrower's accounts (of one furnisher when given), newest
        version last within each account and period."""
        stmt = select(*STATE_COLUMNS, ES.stored_at).where(ES.enterprise_id == enterprise_id, PUBLISHED)
        if furnisher_id is not None:
            stmt = stmt.where(ES.furnisher_id == furnisher_id)
        return list(self.conn.execute(stmt.order_by(ES.furnisher_id, ES.furnisher_account_id,
                                                    ES.reporting_period, ES.version)))

    def links(self, keys: Sequence[tuple[int, str, str, int]]) -> list:
        """(key..., enterprise_id, name_enc, uscc_enc) of the sole traders' account states among ``keys``."""
        found = []
        for start in range(0, len(keys), _KEYS_PER_STATEMENT):
            batch = keys[start:start + _KEYS_PER_STATEMENT]
            found += _LINKS.execute(self.conn, batch).all()
        return found

    def latest_frame(self, *, period: str | None = None) -> pl.DataFrame:
        """The newest version of each published enterprise account state (of one period when given): the
        figures the market statistics count."""
        newest = (select(ES.furnisher_id, ES.furnisher_account_id, ES.reporting_period,
                         func.max(ES.version).label("version"))
                  .where(PUBLISHED).group_by(ES.furnisher_id, ES.furnisher_account_id, ES.reporting_period))
        if period is not None:
            newest = newest.where(ES.reporting_period == period)
        latest = newest.subquery()
        stmt = select(ES.reporting_period, ES.furnisher_id, ES.enterprise_id, ES.product_type, ES.account_status,
                      ES.balance, ES.days_past_due).join(
            latest, (ES.furnisher_id == latest.c.furnisher_id)
            & (ES.furnisher_account_id == latest.c.furnisher_account_id)
            & (ES.reporting_period == latest.c.reporting_period) & (ES.version == latest.c.version))
        return pl.DataFrame(self.conn.execute(stmt).all(), orient="row", schema={
            "reporting_period": pl.String, "furnisher_id": pl.Int64, "enterprise_id": pl.Int64,
            "product_type": pl.String, "account_status": pl.String, "balance": pl.Int64, "days_past_due": pl.Int64})

    def sole_trader_keys(self, *, period: str | None = None) -> pl.DataFrame:
        """(furnisher_id, furnisher_account_id, reporting_period, version) of every published sole trader's
        account state (of one period when given)."""
        stmt = select(AE.furnisher_id, AE.furnisher_account_id, AE.reporting_period, AE.version).where(LINK_PUBLISHED)
        if period is not None:
            stmt = stmt.where(AE.reporting_period == period)
        return pl.DataFrame(self.conn.execute(stmt).all(), orient="row", schema={
            "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
            "version": pl.Int64})


class EnterpriseLoadRepository:
    """A bulk load's writes of enterprises, their states and sole traders' links, on the load's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def latest_versions(self, *, furnisher_id: int, periods: Sequence[str]) -> pl.DataFrame:
        """(``furnisher_account_id``, ``stored_version``, ``reporting_period``) of every enterprise account of
        a furnisher stored for each of ``periods`` (the stored-version rules see them as they see persons'
        accounts)."""
        stmt = (select(ES.furnisher_account_id, func.max(ES.version), ES.reporting_period)
                .where(ES.furnisher_id == furnisher_id, ES.reporting_period.in_(sorted(set(periods))))
                .group_by(ES.furnisher_account_id, ES.reporting_period))
        return pl.DataFrame(self.conn.execute(stmt).all(), orient="row", schema={
            "furnisher_account_id": pl.String, "stored_version": pl.Int64, "reporting_period": pl.String})

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        """Append rows to ``enterprises``, ``enterprise_states`` or ``account_enterprises``."""
        tables = {t.__tablename__: t.__table__ for t in (Enterprise, EnterpriseState, AccountEnterprise)}
        dialect_for(self.conn).insert(self.conn, tables[table], frame)

    def forget_orphan_links(self) -> int:
        """Delete the business links whose account state is gone (erased, or past retention); how many."""
        gone = ~has_state(AE.furnisher_id, AE.furnisher_account_id, AE.reporting_period, AE.version)
        deleted = self.conn.execute(delete(AccountEnterprise).where(gone)).rowcount
        if deleted:  # and a code no record names any more (a sole trader's identifies the owner)
            self.conn.execute(delete(Enterprise).where(~exists().where(AE.enterprise_id == E.id),
                                                       ~exists().where(ES.enterprise_id == E.id)))
        return deleted

    def discard(self, *, submission_id: int) -> None:
        """Delete what a discarded load wrote: its states, its links and the enterprises it first named."""
        for table in (EnterpriseState, AccountEnterprise, Enterprise):
            self.conn.execute(delete(table).where(table.submission_id == submission_id))

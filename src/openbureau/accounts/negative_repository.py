"""SQL that finds, for given account states or lending events, the account's state just before each of them.

Intake decides which furnished states and events are new negative items (``intake.negative_notices``); what
it needs of the stored data is, per item, the level of the account's previous state on file (the ladder of
``accounts.negative``) and when it was. Each lookup is a correlated ``ORDER BY ... LIMIT 1`` on an index
(``account_states``: its primary key, furnisher and account first; ``lending_events``: furnisher and
account), so its cost follows the number of items asked about, not the size of the tables.
"""

from __future__ import annotations

import functools
from datetime import datetime

import polars as pl
from sqlalchemy import ColumnElement, Connection, Select, Table, and_, or_, select

from openbureau.accounts.models import AccountState, LendingEvent
from openbureau.accounts.negative import event_level_sql, state_level_sql
from openbureau.accounts.repository import PUBLISHED
from openbureau.kit.dialects import dialect_for

S = AccountState.__table__.c
EVENTS = LendingEvent.__table__
BEFORE = EVENTS.alias("event_before")

STATE_LEVEL = state_level_sql(S.days_past_due, S.payment_status, S.account_status)
PRIOR_SCHEMA = {"state_level": pl.Int64, "state_period": pl.String, "event_level": pl.Int64,
                "event_at": pl.Datetime("us", "UTC")}
# What a notice says of an event, besides the prior levels.
EVENT_SCHEMA = {"id": pl.Int64, "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "person_id": pl.Int64,
                "id_type": pl.String, "id_index": pl.Binary, "id_enc": pl.Binary, "event_type": pl.String,
                "days_past_due": pl.Int64, "occurred_at": pl.Datetime("us", "UTC"), "product_type": pl.String}


def _newest(stmt: Select, *columns: ColumnElement) -> list[ColumnElement]:
    """One scalar subquery per column of the newest row of ``stmt`` (already ordered, newest first)."""
    return [stmt.with_only_columns(c).limit(1).scalar_subquery() for c in columns]


def _states_before(*, furnisher_id: ColumnElement, account_id: ColumnElement, person_id: ColumnElement,
                   earlier: ColumnElement[bool], own_submission: int | None) -> Select:
    visible = PUBLISHED if own_submission is None else or_(S.submission_id == own_submission, PUBLISHED)
    return (select(S.reporting_period)
            .where(S.furnisher_id == furnisher_id, S.furnisher_account_id == account_id,
                   S.person_id == person_id, S.held_reason.is_(None), visible, earlier)
            .order_by(S.reporting_period.desc(), S.version.desc()))


class PriorStateRepository:
    """The state of accounts just before given states or events, on the caller's Core connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        dialect_for(conn).many_lookups(conn)

    def before_states(self, staged: Table, *, period: str, until: datetime, own_submission: int | None
                      ) -> pl.DataFrame:
        """For each staged state of ``period`` (``furnisher_id``, ``furnisher_account_id``, ``reporting_period``,
        ``version``, ``person_id``): the level and period of the same person's account state just before it
        (the replaced version of a correction, else the newest earlier period), and the level and moment of
        the newest event of the account before ``until`` (the start of the next month).

        Args:
            own_submission: A load in progress whose rows count as stored (the load asking about itself).
        """
        c = staged.c
        earlier = or_(S.reporting_period < c.reporting_period,
                      and_(S.reporting_period == c.reporting_period, S.version < c.version))
        states = _states_before(furnisher_id=c.furnisher_id, account_id=c.furnisher_account_id,
                                person_id=c.person_id, earlier=earlier, own_submission=own_submission)
        e = BEFORE.c
        events = (select(e.occurred_at)
                  .where(e.furnisher_id == c.furnisher_id, e.furnisher_account_id == c.furnisher_account_id,
                         e.person_id == c.person_id, e.held_reason.is_(None), e.occurred_at < until)
                  .order_by(e.occurred_at.desc(), e.id.desc()))
        stmt = select(c.furnisher_id, c.furnisher_account_id, c.reporting_period, c.version,
                      *_newest(states, STATE_LEVEL, S.reporting_period),
                      *_newest(events, event_level_sql(e.event_type, e.days_past_due), e.occurred_at)
                      ).where(c.reporting_period == period)
        schema = {"furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
                  "version": pl.Int64, **PRIOR_SCHEMA}
        return pl.DataFrame([tuple(r) for r in self.conn.execute(stmt)], schema=schema, orient="row")

    def before_events(self, staged: Table) -> pl.DataFrame:
        """For each staged event (``furnisher_id``, ``event_id``, ``month``: its ``YYYY-MM``): what a notice says of it
        (``EVENT_SCHEMA``), and the level and moment of the account's event just before it and the level and
        period of its newest state of an earlier month. An event filed under no person yet (a load was
        running) is compared with the earlier events about the same identity document."""
        return pl.DataFrame([tuple(r) for r in self.conn.execute(_before_events(staged))],
                            schema={**EVENT_SCHEMA, **PRIOR_SCHEMA}, orient="row")


@functools.lru_cache(maxsize=64)
def _before_events(staged: Table) -> Select:
    """The statement of ``PriorStateRepository.before_events`` for a staged table, built once per table (a
    staged table is one object per name and columns: ``Dialect.staged``); building it took a tenth of a batch
    of 100 lending events."""
    now = EVENTS.alias("event_now")
    c, e = now.c, BEFORE.c
    same_subject = or_(and_(c.person_id.is_not(None), e.person_id == c.person_id),
                       and_(c.person_id.is_(None), e.person_id.is_(None), e.id_type == c.id_type,
                            e.id_index == c.id_index))
    events = (select(e.occurred_at)
              .where(e.furnisher_id == c.furnisher_id, e.furnisher_account_id == c.furnisher_account_id,
                     same_subject, e.held_reason.is_(None),
                     or_(e.occurred_at < c.occurred_at, and_(e.occurred_at == c.occurred_at, e.id < c.id)))
              .order_by(e.occurred_at.desc(), e.id.desc()))
    states = _states_before(furnisher_id=c.furnisher_id, account_id=c.furnisher_account_id, person_id=c.person_id,
                            earlier=S.reporting_period < staged.c.month, own_submission=None)
    return (select(c.id, c.furnisher_id, c.furnisher_account_id, c.person_id, c.id_type, c.id_index, c.id_enc,
                   c.event_type, c.days_past_due, c.occurred_at, c.product_type,
                   *_newest(states, STATE_LEVEL, S.reporting_period),
                   *_newest(events, event_level_sql(e.event_type, e.days_past_due), e.occurred_at))
            .join_from(staged, now, and_(c.furnisher_id == staged.c.furnisher_id, c.event_id == staged.c.event_id)))

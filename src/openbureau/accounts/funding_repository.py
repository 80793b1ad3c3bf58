"""All SQL on the funders of account states (``account_funders``, standard v1.1 joint lending) as readers need
them: a funder's review of what it funds, the regulator's exposure tables and the
joint-loan under-reporting findings (docs/reports.md, docs/quality.md).

The loader writes the table (``AccountLoadRepository``); everything here reads it beside ``account_states``,
always with the publication filter, and only the newest version of each (account, period): a correction is a
new version carrying its own funders, so an older version's funders are history, not the loan's.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, and_, case, exists, literal, or_, select, tuple_

from openbureau.accounts.models import AccountFunder, AccountState, LoadInProgress
from openbureau.accounts.repository import PUBLISHED, S
from openbureau.kit.dialects import dialect_for

F = AccountFunder.__table__.c

# Exposure rows (one per funder of the newest version of a state of a period) as the market job reads them.
EXPOSURE_SCHEMA = {
    "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "facilitator_id": pl.Int64,
    "facilitator_account_id": pl.String, "person_id": pl.Int64, "balance": pl.Int64, "days_past_due": pl.Int64,
    "held": pl.Int8, "funder_id": pl.Int64, "share_bp": pl.Int64,
}
# A funder's record naming its facilitator, and whether the facilitator's files hold that account that period.
CLAIM_SCHEMA = {
    "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
    "facilitator_id": pl.Int64, "facilitator_account_id": pl.String, "facilitator_has": pl.Int8,
    "person_id": pl.Int64,
}
# A facilitator's record listing a funder (the newest version of its period).
LISTING_SCHEMA = {"furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
                  "funder_id": pl.Int64, "person_id": pl.Int64}


def _published(table) -> object:
    return table.c.submission_id.not_in(select(LoadInProgress.submission_id).scalar_subquery())


def _newest_version():
    """Condition on ``S``: no published version of the same (account, period) is newer."""
    n = AccountState.__table__.alias("newer")
    return ~exists().where(n.c.furnisher_id == S.furnisher_id, n.c.furnisher_account_id == S.furnisher_account_id,
                           n.c.reporting_period == S.reporting_period, n.c.version > S.version, _published(n))


def _newest_state(*, in_file: bool):
    """Condition on ``S``: no published record of the same account (``in_file``: part of the files) is newer,
    by period then version."""
    n = AccountState.__table__.alias("later")
    later = or_(n.c.reporting_period > S.reporting_period,
                and_(n.c.reporting_period == S.reporting_period, n.c.version > S.version))
    conditions = [n.c.furnisher_id == S.furnisher_id, n.c.furnisher_account_id == S.furnisher_account_id, later,
                  _published(n)]
    if in_file:
        conditions.append(n.c.held_reason.is_(None))
    return ~exists().where(*conditions)


_JOIN = and_(F.furnisher_id == S.furnisher_id, F.furnisher_account_id == S.furnisher_account_id,
             F.reporting_period == S.reporting_period, F.version == S.version)


class FundingRepository:
    """Reads of account funders on a Core connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def funded_accounts(self, *, funder_id: int, after: tuple[int, str] | None, limit: int) -> list:
        """A page of the accounts whose newest record in the files lists ``funder_id`` as a funder, in
        (furnisher, account) order after ``after``: the record's columns and the funder's share."""
        stmt = (select(S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.facilitator_id,
                       S.facilitator_account_id, S.product_type, S.opened_on, S.currency, S.balance,
                       S.past_due_amount, S.days_past_due, S.payment_status, S.account_status, F.share_bp)
                .select_from(AccountFunder.__table__.join(AccountState.__table__, _JOIN))
                .where(F.funder_id == funder_id, PUBLISHED, S.held_reason.is_(None), S.account_status != "deleted",
                       _newest_state(in_file=True))
                .order_by(F.furnisher_id, F.furnisher_account_id).limit(limit))
        if after is not None:  # the funder's own columns: the page walks its index from the cursor
            stmt = stmt.where(tuple_(F.furnisher_id, F.furnisher_account_id) > tuple_(literal(after[0]),
                                                                                        literal(after[1])))
        return list(self.conn.execute(stmt).all())

    def exposure(self, *, period: str) -> pl.DataFrame:
        """One row per funder of the newest version of every published record of ``period`` that lists funders
        (``EXPOSURE_SCHEMA``); deleted records left out, held ones marked."""
        stmt = (select(S.furnisher_id, S.furnisher_account_id, S.facilitator_id, S.facilitator_account_id,
                       S.person_id, S.balance, S.days_past_due,
                       case((S.held_reason.is_not(None), 1), else_=0).label("held"), F.funder_id, F.share_bp)
                .select_from(AccountFunder.__table__.join(AccountState.__table__, _JOIN))
                .where(F.reporting_period == period, PUBLISHED, S.account_status != "deleted", _newest_version()))
        return dialect_for(self.conn).read_frame(self.conn, stmt, EXPOSURE_SCHEMA)

    def claims(self, *, since: str, until: str) -> pl.DataFrame:
        """Funders' records (newest version of each period in ``[since, until]``) that name a facilitator
        other than their furnisher, and whether the facilitator's published files hold that account number
        for the same period (``CLAIM_SCHEMA``)."""
        own = AccountState.__table__.alias("facilitators")
        has = exists().where(own.c.furnisher_id == S.facilitator_id,
                             own.c.furnisher_account_id == S.facilitator_account_id,
                             own.c.reporting_period == S.reporting_period, _published(own))
        stmt = (select(S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.facilitator_id,
                       S.facilitator_account_id, case((has, 1), else_=0).label("facilitator_has"), S.person_id)
                .where(S.facilitator_id.is_not(None), S.facilitator_account_id.is_not(None),
                       S.facilitator_id != S.furnisher_id, S.reporting_period >= since, S.reporting_period <= until,
                       PUBLISHED, S.account_status != "deleted", _newest_version()))
        return dialect_for(self.conn).read_frame(self.conn, stmt, CLAIM_SCHEMA)

    def listings(self, *, since: str, until: str) -> pl.DataFrame:
        """The funders each record (newest version of each period in ``[since, until]``) lists, other than its
        own furnisher (``LISTING_SCHEMA``)."""
        stmt = (select(S.furnisher_id, S.furnisher_account_id, S.reporting_period, F.funder_id, S.person_id)
                .select_from(AccountFunder.__table__.join(AccountState.__table__, _JOIN))
                .where(F.reporting_period >= since, F.reporting_period <= until, F.funder_id != S.furnisher_id,
                       PUBLISHED, S.account_status != "deleted", _newest_version())
                .distinct())
        return dialect_for(self.conn).read_frame(self.conn, stmt, LISTING_SCHEMA)


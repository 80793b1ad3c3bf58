"""Reads of account states for the under-reporting findings (``quality.under_reporting``): which accounts and
persons a furnisher's files hold, one furnisher at a time, so that memory is bounded by the largest one."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, func, select

from openbureau.accounts.repository import PUBLISHED, S, as_date

ACCOUNT_SCHEMA = {"furnisher_account_id": pl.String, "person_id": pl.Int64, "opened_on": pl.Date,
                  "last_period": pl.String}


class CoverageRepository:
    """What a furnisher's published files hold, grouped in SQL (one row per account or person)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def accounts(self, *, furnisher_id: int, since: str, until: str) -> pl.DataFrame:
        """One row per account the furnisher reported in a period of ``[since, until]`` (held records too):
        its person, its opening date and the last period reported."""
        stmt = (select(S.furnisher_account_id, func.max(S.person_id), func.min(S.opened_on),
                       func.max(S.reporting_period))
                .where(PUBLISHED, S.furnisher_id == furnisher_id, S.reporting_period >= since,
                       S.reporting_period <= until)
                .group_by(S.furnisher_account_id))
        rows = [(account, person, as_date(opened), last) for account, person, opened, last in self.conn.execute(stmt)]
        return pl.DataFrame(rows, schema=ACCOUNT_SCHEMA, orient="row")

    def persons(self, *, furnisher_id: int, until: str) -> pl.Series:
        """Every person the furnisher's files named in a period up to ``until``."""
        stmt = select(S.person_id).distinct().where(PUBLISHED, S.furnisher_id == furnisher_id,
                                                    S.reporting_period <= until)
        return pl.Series("person_id", self.conn.execute(stmt).scalars().all(), dtype=pl.Int64)

    def consent_refs(self, *, furnisher_id: int, until: str) -> pl.Series:
        """Every consent reference the furnisher's records carried in a period up to ``until``."""
        stmt = select(S.consent_ref).distinct().where(PUBLISHED, S.furnisher_id == furnisher_id,
                                                      S.consent_ref.is_not(None), S.reporting_period <= until)
        return pl.Series("consent_ref", self.conn.execute(stmt).scalars().all(), dtype=pl.String)

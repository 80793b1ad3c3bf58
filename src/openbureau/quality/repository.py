"""Bulk reads for the quality and market jobs: whole columns into Polars frames, never one ORM row at a time."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from openbureau.accounts.repository import STATE_FRAME_SCHEMA, AccountLoadRepository
from openbureau.intake.models import Finding, Submission, SubmissionStatus
from openbureau.intake.validation import FINDINGS_SCHEMA
from openbureau.kit.dialects import dialect_for
from openbureau.members.models import Member

STATE_SCHEMA = STATE_FRAME_SCHEMA  # the account states as the jobs read them (owned by accounts)
SUBMISSION_SCHEMA = {"submission_id": pl.Int64, "furnisher_id": pl.Int64, "filename": pl.String,
                     "received_at": pl.Datetime("us", "UTC"), "records_received": pl.Int64,
                     "records_rejected": pl.Int64}
# Stored record-level findings: their submission and the finding columns the metrics use (intake's schema).
STORED_FINDING_SCHEMA = {"submission_id": pl.Int64, **{
    c: FINDINGS_SCHEMA[c] for c in ("line", "furnisher_account_id", "code", "field", "severity")}}


class QualityRepository:
    """SQL of the quality domain, on a Core connection; every read returns a typed Polars frame."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _frame(self, stmt, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        return dialect_for(self.conn).read_frame(self.conn, stmt, schema)

    def members(self) -> pl.DataFrame:
        """``furnisher_id, furnisher`` of every member (codes name the furnishers in every output)."""
        rows = self.conn.execute(select(Member.id, Member.code)).all()
        return pl.DataFrame(rows, schema={"furnisher_id": pl.Int64, "furnisher": pl.String}, orient="row")

    def submissions(self, *, furnisher_id: int | None = None) -> pl.DataFrame:
        """Loaded submissions with their arrival time and record counts."""
        stmt = select(Submission.id.label("submission_id"), Submission.furnisher_id, Submission.filename,
                      Submission.received_at, Submission.records_received, Submission.records_rejected
                      ).where(Submission.status == SubmissionStatus.LOADED)
        if furnisher_id is not None:
            stmt = stmt.where(Submission.furnisher_id == furnisher_id)
        return self._frame(stmt, SUBMISSION_SCHEMA)

    def submission_periods(self) -> pl.DataFrame:
        """``submission_id, reporting_period, records``: which periods each submission's stored records describe."""
        return AccountLoadRepository(self.conn).submission_periods()

    def findings(self, *, submission_ids: list[int] | None = None) -> pl.DataFrame:
        """Record-level findings (line > 0) of the given submissions (all when None)."""
        stmt = select(Finding.submission_id, Finding.line, Finding.furnisher_account_id, Finding.code,
                      Finding.field, Finding.severity).where(Finding.line > 0)
        if submission_ids is not None:
            stmt = stmt.where(Finding.submission_id.in_(submission_ids))
        return self._frame(stmt, STORED_FINDING_SCHEMA)

    def states(self, *, since: str | None = None, until: str | None = None,
               furnisher_id: int | None = None) -> pl.DataFrame:
        """Every stored version of every account-period in ``[since, until]``, with emptiness flags for the
        optional fields (``STATE_SCHEMA``, plus ``has_term_months``)."""
        return AccountLoadRepository(self.conn).state_frame(since=since, until=until, furnisher_id=furnisher_id
                                                            ).with_columns(
            pl.col("term_months").is_not_null().cast(pl.Int8).alias("has_term_months"))

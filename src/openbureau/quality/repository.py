"""Bulk reads for the quality and market jobs: whole columns into Polars frames, never one ORM row at a time."""

from __future__ import annotations

import tempfile

import polars as pl
from sqlalchemy import Connection, case, func, select

from openbureau.intake.models import AccountState, Finding, Submission, SubmissionStatus
from openbureau.intake.repository import PUBLISHED
from openbureau.members.models import Member

BATCH_ROWS = 250_000

STATE_SCHEMA = {
    "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
    "version": pl.Int64, "person_id": pl.Int64, "product_type": pl.String, "term_months": pl.Int64,
    "balance": pl.Int64, "days_past_due": pl.Int64, "payment_status": pl.String, "account_status": pl.String,
    "has_credit_limit": pl.Int8, "has_original_amount": pl.Int8, "has_first_delinquency_date": pl.Int8,
    "has_closed_on": pl.Int8, "has_consent_ref": pl.Int8, "has_negative_notice_date": pl.Int8, "held": pl.Int8,
}
SUBMISSION_SCHEMA = {"submission_id": pl.Int64, "furnisher_id": pl.Int64, "filename": pl.String,
                     "received_at": pl.Datetime("us", "UTC"), "records_received": pl.Int64,
                     "records_rejected": pl.Int64}
FINDING_SCHEMA = {"submission_id": pl.Int64, "line": pl.Int64, "furnisher_account_id": pl.String,
                  "code": pl.String, "field": pl.String, "severity": pl.String}


def _flag(column) -> object:
    """``1`` when the column holds a value, ``0`` when it is empty (the same on SQLite and PostgreSQL)."""
    return case((column.is_(None), 0), else_=1)


class QualityRepository:
    """SQL of the quality domain, on a Core connection; every read returns a typed Polars frame."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _frame(self, stmt, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        if self.conn.dialect.name == "postgresql" and all(t in (pl.Int64, pl.Int8, pl.String) for t in schema.values()):
            return self._copy_frame(stmt, schema)
        batches = pl.read_database(stmt, self.conn, iter_batches=True, batch_size=BATCH_ROWS,
                                   schema_overrides=schema)
        frames = [b.select(list(schema)).cast(schema) for b in batches if b.height]
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)

    def _copy_frame(self, stmt, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """PostgreSQL: ``COPY (query) TO STDOUT`` as CSV into a spooled file, parsed by Polars. Several times
        faster than fetching rows through the driver; the query keeps its bound parameters."""
        compiled = stmt.compile(dialect=self.conn.dialect, compile_kwargs={"render_postcompile": True})
        raw = self.conn.connection.driver_connection
        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as buffer:
            with raw.cursor() as cursor, cursor.copy(
                    f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params) as copy:  # noqa: S608
                for block in copy:
                    buffer.write(block)
            if buffer.tell() == 0:
                return pl.DataFrame(schema=schema)
            buffer.seek(0)
            return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema)

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
        stmt = (select(AccountState.submission_id, AccountState.reporting_period, func.count().label("records"))
                .where(PUBLISHED).group_by(AccountState.submission_id, AccountState.reporting_period))
        return self._frame(stmt, {"submission_id": pl.Int64, "reporting_period": pl.String,
                                  "records": pl.Int64})

    def findings(self, *, submission_ids: list[int] | None = None) -> pl.DataFrame:
        """Record-level findings (line > 0) of the given submissions (all when None)."""
        stmt = select(Finding.submission_id, Finding.line, Finding.furnisher_account_id, Finding.code,
                      Finding.field, Finding.severity).where(Finding.line > 0)
        if submission_ids is not None:
            stmt = stmt.where(Finding.submission_id.in_(submission_ids))
        return self._frame(stmt, FINDING_SCHEMA)

    def states(self, *, since: str | None = None, until: str | None = None,
               furnisher_id: int | None = None) -> pl.DataFrame:
        """Every stored version of every account-period in ``[since, until]``, with emptiness flags for the
        optional fields (their values are not needed, and dates cost more to transfer than flags)."""
        s = AccountState
        stmt = select(
            s.furnisher_id, s.furnisher_account_id, s.reporting_period, s.version, s.person_id, s.product_type,
            s.term_months, s.balance, s.days_past_due, s.payment_status, s.account_status,
            _flag(s.credit_limit).label("has_credit_limit"), _flag(s.original_amount).label("has_original_amount"),
            _flag(s.first_delinquency_date).label("has_first_delinquency_date"),
            _flag(s.closed_on).label("has_closed_on"), _flag(s.consent_ref).label("has_consent_ref"),
            _flag(s.negative_notice_date).label("has_negative_notice_date"),
            _flag(s.held_reason).label("held"),
        ).where(PUBLISHED)
        if since is not None:
            stmt = stmt.where(s.reporting_period >= since)
        if until is not None:
            stmt = stmt.where(s.reporting_period <= until)
        if furnisher_id is not None:
            stmt = stmt.where(s.furnisher_id == furnisher_id)
        return self._frame(stmt, STATE_SCHEMA).with_columns(
            pl.col("term_months").is_not_null().cast(pl.Int8).alias("has_term_months"))

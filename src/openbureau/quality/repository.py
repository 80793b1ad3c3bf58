"""Bulk reads for the quality and market jobs: whole columns into Polars frames, never one ORM row at a time."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection, select

from openbureau.accounts.coverage_repository import CoverageRepository
from openbureau.accounts.event_repository import EventRepository
from openbureau.accounts.funding_repository import FundingRepository
from openbureau.accounts.load_repository import AccountLoadRepository
from openbureau.accounts.repository import STATE_FRAME_SCHEMA
from openbureau.consent.repository import furnish_consents
from openbureau.identity.repository import PersonRepository, survive
from openbureau.inquiries.repository import hard_inquiries
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

    # -- under-reporting: evidence beside the files (quality.under_reporting) ---------------------------
    def hard_inquiries(self, *, since: datetime, until: datetime) -> pl.DataFrame:
        """Hard inquiries by members about known persons in ``[since, until)``, filed under surviving persons."""
        return survive(hard_inquiries(self.conn, since=since, until=until), self._survivors())

    def opened_events(self, *, since: datetime, until: datetime) -> pl.DataFrame:
        """``opened`` lending events in ``[since, until)``, filed under surviving persons."""
        return survive(EventRepository(self.conn).opened_between(since=since, until=until), self._survivors())

    def furnish_consents(self, *, since: datetime, until: datetime) -> pl.DataFrame:
        """Consents to furnish recorded in ``[since, until)`` (not revoked), with the surviving person of
        their subject (null: the bureau holds no person of it)."""
        consents = furnish_consents(self.conn, since=since, until=until)
        persons = PersonRepository(self.conn).persons_of_subjects(consents.select("id_type", "id_index"))
        return consents.join(persons, on=["id_type", "id_index"], how="left").drop("id_type", "id_index")

    def furnished_accounts(self, *, furnisher_id: int, since: str, until: str) -> pl.DataFrame:
        """One row per account of the furnisher reported in ``[since, until]``."""
        return CoverageRepository(self.conn).accounts(furnisher_id=furnisher_id, since=since, until=until
                                                      ).with_columns(pl.lit(furnisher_id).alias("furnisher_id"))

    def furnished_persons(self, *, furnisher_id: int, until: str) -> tuple[pl.Series, pl.Series]:
        """Every person and every consent reference the furnisher's files named up to ``until``."""
        repo = CoverageRepository(self.conn)
        return (repo.persons(furnisher_id=furnisher_id, until=until),
                repo.consent_refs(furnisher_id=furnisher_id, until=until))

    def _survivors(self) -> pl.DataFrame:
        return PersonRepository(self.conn).survivors()

    # -- joint lending (standard v1.1): quality.under_reporting's joint-loan codes, the funders' exposure --------
    def joint_claims(self, *, since: str, until: str) -> pl.DataFrame:
        """Funders' records naming a facilitator in ``[since, until]``, with whether the facilitator holds them."""
        return FundingRepository(self.conn).claims(since=since, until=until)

    def joint_listings(self, *, since: str, until: str) -> pl.DataFrame:
        """The funders facilitators' records list in ``[since, until]``."""
        return FundingRepository(self.conn).listings(since=since, until=until)

    def exposure(self, *, period: str) -> pl.DataFrame:
        """One row per funder of each record of ``period`` that lists funders (``funding_repository``)."""
        return FundingRepository(self.conn).exposure(period=period)

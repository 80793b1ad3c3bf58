"""The bulk load of one submission: read, validate, check against stored data, link, store.

Everything happens in one database transaction per submission, chunk by chunk in bounded memory. Nothing
is stored in the person's file from a record that has an error; every finding is stored with its line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, Engine, Row, select, text

from openbureau.identity.service import link_records
from openbureau.intake.files import check_columns, stored_path
from openbureau.intake.models import AccountState, Finding, Submission, SubmissionStatus
from openbureau.intake.readers import ChunkReader, FileFormat, MalformedRecord
from openbureau.intake.repository import LoadRepository
from openbureau.intake.stored_rules import check_against_stored
from openbureau.intake.validation import FileState, validate_chunk
from openbureau.kit.bulk import BulkWriter, bulk_writer_for
from openbureau.kit.crypto import PiiVault
from openbureau.kit.settings import Settings

STATE_COLUMNS = [c.name for c in AccountState.__table__.columns if c.name != "id"]
FINDING_SCHEMA = {
    "line": pl.Int64, "furnisher_account_id": pl.String, "field": pl.String, "code": pl.String,
    "severity": pl.String, "value": pl.String, "message": pl.String,
}


class SubmissionLoader:
    """Loads received submissions; one instance may load many, one at a time."""

    def __init__(self, engine: Engine, *, settings: Settings, vault: PiiVault, today: date) -> None:
        self.engine = engine
        self.settings = settings
        self.vault = vault
        self.today = today

    def run(self, submission_id: int, *, progress: Callable[[int], None] | None = None) -> None:
        """Load the submission unless it is loaded already; all or nothing."""
        with self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE").begin() as conn:
            if conn.dialect.name == "postgresql":
                # One load at a time per database: persons are created without races.
                conn.execute(text("SELECT pg_advisory_xact_lock(7207301)"))
            repo = LoadRepository(conn)
            row = conn.execute(select(Submission.__table__).where(Submission.id == submission_id)).one()
            if row.status == SubmissionStatus.LOADED:
                return
            reader = ChunkReader(
                stored_path(self.settings, sha=row.sha256, fmt=row.format), FileFormat(row.format),
                chunk_size=self.settings.chunk_size,
            )
            unknown = check_columns(reader.open())
            job = _LoadJob(conn, loader=self, submission=row, writer=bulk_writer_for(conn))
            job.file_findings([
                {"line": 0, "field": c, "code": "UNKNOWN_COLUMN", "severity": "warning", "value": c,
                 "message": f"column {c!r} is not part of the furnishing standard and was ignored"}
                for c in unknown
            ])
            for chunk in reader.chunks():
                job.malformed(reader)
                job.chunk(chunk)
                if progress is not None:
                    progress(chunk.height)
            job.malformed(reader)
            repo.finish(
                submission_id, status=SubmissionStatus.LOADED, loaded_at=datetime.now(UTC),
                records_received=sum(job.counts.values()), records_accepted=job.counts["accepted"],
                records_warnings=job.counts["warning"], records_rejected=job.counts["rejected"],
                records_quarantined=job.counts["quarantined"], findings_count=job.findings_count,
            )


class _LoadJob:
    """The state of one submission's load."""

    def __init__(self, conn: Connection, *, loader: SubmissionLoader, submission: Row,
                 writer: BulkWriter) -> None:
        self.conn = conn
        self.loader = loader
        self.submission = submission
        self.writer = writer
        self.state = FileState()
        self.counts: Counter[str] = Counter({"accepted": 0, "warning": 0, "rejected": 0, "quarantined": 0})
        self.findings_count = 0
        self.versions: dict[str, pl.DataFrame] = {}
        self.malformed_seen = 0
        self.now = datetime.now(UTC)

    def file_findings(self, rows: list[dict]) -> None:
        """Store findings about the file or unparseable records."""
        if rows:
            frame = pl.DataFrame(rows, schema=FINDING_SCHEMA)
            self._store_findings(frame)

    def malformed(self, reader: ChunkReader) -> None:
        """Report records the reader could not parse since the last call."""
        fresh: list[MalformedRecord] = reader.malformed[self.malformed_seen :]
        self.malformed_seen = len(reader.malformed)
        self.counts["rejected"] += len(fresh)
        self.file_findings([
            {"line": m.line, "field": None, "code": "MALFORMED_RECORD", "severity": "error", "value": None,
             "message": m.message}
            for m in fresh
        ])

    def chunk(self, chunk: pl.DataFrame) -> None:
        """Validate, check, link and store one chunk."""
        loader = self.loader
        result = validate_chunk(chunk, today=loader.today, state=self.state,
                                balance_tolerance=loader.settings.balance_tolerance)
        records, stored_findings = check_against_stored(
            result.records, versions=self._versions_for(result.records)
        )
        findings = pl.concat([result.findings.select(list(FINDING_SCHEMA)), stored_findings])
        self._store_findings(findings)
        self.counts.update(dict(records["_outcome"].value_counts().iter_rows()))
        kept = records.filter(pl.col("_outcome") != "rejected")
        if kept.height == 0:
            return
        person_ids = link_records(self.conn, vault=loader.vault, writer=self.writer,
                                  furnisher_id=self.submission.furnisher_id, records=kept, now=self.now)
        states = kept.with_columns(
            person_ids.alias("person_id"),
            pl.col("_line").alias("line"),
            pl.lit(self.submission.id, dtype=pl.Int64).alias("submission_id"),
            pl.lit(self.submission.furnisher_id, dtype=pl.Int64).alias("furnisher_id"),
            (pl.col("_outcome") == "warning").cast(pl.Int8).alias("has_warnings"),
            pl.lit(self.now).alias("stored_at"),
        ).select(STATE_COLUMNS)
        self.writer.insert(self.conn, AccountState.__table__, states)

    def _versions_for(self, records: pl.DataFrame) -> pl.DataFrame:
        repo = LoadRepository(self.conn)
        for period in records["reporting_period"].drop_nulls().unique().to_list():
            if period not in self.versions:
                self.versions[period] = repo.latest_versions(
                    furnisher_id=self.submission.furnisher_id, period=period
                )
        if not self.versions:
            return pl.DataFrame(schema={"furnisher_account_id": pl.String, "stored_version": pl.Int64,
                                        "reporting_period": pl.String})
        return pl.concat(list(self.versions.values()))

    def _store_findings(self, findings: pl.DataFrame) -> None:
        if findings.height == 0:
            return
        self.findings_count += findings.height
        self.writer.insert(self.conn, Finding.__table__, findings.with_columns(
            pl.lit(self.submission.id, dtype=pl.Int64).alias("submission_id")
        ))

"""The bulk load of one submission: validated, linked records written in one transaction.

Nothing is stored in the person's file from a record that has an error; every finding is stored with its
line. The writer holds the load's transaction (and with it the intake's write lock) and only inserts; the
preparer (``intake.prepare``) does everything else beside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, Engine, select

from openbureau.identity.models import Person
from openbureau.identity.service import next_person_id, sync_person_sequence
from openbureau.intake.files import check_columns, stored_path
from openbureau.intake.models import AccountState, Finding, Submission, SubmissionStatus
from openbureau.intake.prepare import FINDING_SCHEMA, LoadSpec, PreparedChunk, prepare
from openbureau.intake.readers import ChunkReader, FileFormat
from openbureau.intake.repository import LoadRepository
from openbureau.kit.bulk import bulk_writer_for
from openbureau.kit.crypto import load_keys
from openbureau.kit.db import lock_intake
from openbureau.kit.settings import Settings


class SubmissionLoader:
    """Loads received submissions; one instance may load many, one at a time."""

    def __init__(self, engine: Engine, *, settings: Settings, today: date, as_of: datetime | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.today = today
        self.as_of = as_of

    def run(self, submission_id: int, *, progress: Callable[[int], None] | None = None) -> None:
        """Load the submission unless it is loaded already; all or nothing."""
        with self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE").begin() as conn:
            lock_intake(conn)
            row = conn.execute(select(Submission.__table__).where(Submission.id == submission_id)).one()
            if row.status == SubmissionStatus.LOADED:
                return
            path = stored_path(self.settings, sha=row.sha256, fmt=row.format)
            unknown = check_columns(ChunkReader(path, FileFormat(row.format)).open())
            writer = _Writer(conn, submission_id=row.id)
            writer.findings(pl.DataFrame([
                {"line": 0, "field": c, "code": "UNKNOWN_COLUMN", "severity": "warning", "value": c,
                 "message": f"column {c!r} is not part of the furnishing standard and was ignored"}
                for c in unknown
            ], schema=FINDING_SCHEMA))
            spec = LoadSpec(
                database_url=str(self.engine.url.render_as_string(hide_password=False)), path=path,
                format=row.format, chunk_size=self.settings.chunk_size, submission_id=row.id,
                furnisher_id=row.furnisher_id, first_new_id=next_person_id(conn), today=self.today,
                now=self.as_of or datetime.now(UTC), balance_tolerance=self.settings.balance_tolerance,
                jurisdiction=self.settings.jurisdiction,
                keys=load_keys(self.settings),
            )
            in_process = row.size_bytes >= self.settings.parallel_load_min_bytes
            for prepared in prepare(spec, in_process=in_process):
                writer.write(prepared)
                if progress is not None:
                    progress(prepared.size)
            sync_person_sequence(conn)
            writer.refresh_statistics()
            counts = writer.counts
            LoadRepository(conn).finish(
                submission_id, status=SubmissionStatus.LOADED, loaded_at=datetime.now(UTC),
                records_received=counts["accepted"] + counts["warning"] + counts["rejected"],
                records_accepted=counts["accepted"],
                records_warnings=counts["warning"], records_rejected=counts["rejected"],
                records_quarantined=counts["quarantined"], findings_count=writer.findings_count,
            )


class _Writer:
    """The writing side of a load: inserts inside the load's transaction, and the counts."""

    def __init__(self, conn: Connection, *, submission_id: int) -> None:
        self.conn = conn
        self.submission_id = submission_id
        self.bulk = bulk_writer_for(conn)
        self.counts: Counter[str] = Counter({"accepted": 0, "warning": 0, "rejected": 0, "quarantined": 0})
        self.findings_count = 0
        self.written: Counter[str] = Counter()

    def write(self, prepared: PreparedChunk) -> None:
        """Insert a prepared chunk."""
        self.counts.update(prepared.outcomes)
        self.findings(prepared.findings)
        self.bulk.insert(self.conn, Person.__table__, prepared.persons)
        self.bulk.insert(self.conn, AccountState.__table__, prepared.states)
        self.written.update({"persons": prepared.persons.height, "account_states": prepared.states.height})

    def refresh_statistics(self) -> None:
        """Statistics of the tables the load grew by a tenth or more, for the next load's queries."""
        for table in (Person.__table__, AccountState.__table__):
            if self.written[table.name]:
                self.bulk.refresh_statistics(self.conn, table, rows_written=self.written[table.name])

    def findings(self, findings: pl.DataFrame) -> None:
        """Insert findings of this submission."""
        if findings.height == 0:
            return
        self.findings_count += findings.height
        self.bulk.insert(self.conn, Finding.__table__, findings.with_columns(
            pl.lit(self.submission_id, dtype=pl.Int64).alias("submission_id")
        ))

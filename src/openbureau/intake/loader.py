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
from openbureau.intake.files import check_columns, file_keyring, stored_path
from openbureau.intake.limits import SHOWN_VALUE_CHARS, ReadLimits
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
            path = stored_path(self.settings, furnisher_id=row.furnisher_id, sha=row.sha256, fmt=row.format)
            keyring, limits = file_keyring(self.settings), ReadLimits.from_settings(self.settings)
            unknown = check_columns(ChunkReader(path, FileFormat(row.format), keys=keyring, limits=limits).open())
            writer = _Writer(conn, submission_id=row.id, sample_per_code=self.settings.findings_sample_per_code)
            writer.findings(pl.DataFrame([
                {"line": 0, "field": c[:SHOWN_VALUE_CHARS], "code": "UNKNOWN_COLUMN", "severity": "warning",
                 "value": c, "message": f"column {c[:SHOWN_VALUE_CHARS]!r} is not part of the furnishing standard "
                 "and was ignored"}
                for c in unknown
            ], schema=FINDING_SCHEMA))
            spec = LoadSpec(
                database_url=str(self.engine.url.render_as_string(hide_password=False)), path=path,
                format=row.format, chunk_size=self.settings.chunk_size, submission_id=row.id,
                furnisher_id=row.furnisher_id, first_new_id=next_person_id(conn), today=self.today,
                now=self.as_of or datetime.now(UTC), balance_tolerance=self.settings.balance_tolerance,
                jurisdiction=self.settings.jurisdiction,
                keys=load_keys(self.settings), file_keys=keyring, limits=limits,
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
                findings_stored=writer.findings_stored, finding_counts=dict(sorted(writer.by_code.items())),
            )


class _Writer:
    """The writing side of a load: inserts inside the load's transaction, and the counts."""

    def __init__(self, conn: Connection, *, submission_id: int, sample_per_code: int) -> None:
        self.conn = conn
        self.submission_id = submission_id
        self.sample_per_code = sample_per_code
        self.by_code: Counter[str] = Counter()
        self.findings_stored = 0
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
        """Count findings of this submission by code and insert the first ``sample_per_code`` of each code,
        their values cut short: a file of a million bad records costs counts, not a million rows."""
        if findings.height == 0:
            return
        self.findings_count += findings.height
        before = pl.DataFrame({"code": list(self.by_code), "_before": list(self.by_code.values())},
                              schema={"code": pl.String, "_before": pl.Int64})
        self.by_code.update(dict(findings["code"].value_counts().iter_rows()))
        sample = (findings.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("code").alias("_n"))
                  .join(before, on="code", how="left")
                  .filter(pl.col("_n") + pl.col("_before").fill_null(0) < self.sample_per_code)
                  .select(list(FINDING_SCHEMA)))
        if sample.height == 0:
            return
        self.findings_stored += sample.height
        self.bulk.insert(self.conn, Finding.__table__, sample.with_columns(
            pl.col("value").str.slice(0, SHOWN_VALUE_CHARS), pl.col("message").str.slice(0, 500),
            pl.lit(self.submission_id, dtype=pl.Int64).alias("submission_id"),
        ))

"""The bulk load of one submission: validated, linked records written in short transactions, published at once.

Nothing is stored in the person's file from a record that has an error; every finding is stored with its
line. The load holds the intake lock (one load at a time; ``kit.db.intake_lock``) but never a long write
transaction: it lists the submission as a load in progress, writes its rows in transactions of at most
``WRITE_BATCH`` rows (readers leave the rows of a load in progress out, ``accounts.repository.PUBLISHED``),
and publishes them all in one short last transaction that also marks the submission loaded. Inquiries,
consents and other readers therefore never wait for a load, and still see a file all or nothing. A load
that fails removes what it wrote; a killed one leaves its rows invisible, and the next load removes them
(:func:`discard_interrupted`). The preparer (``intake.prepare``) reads, validates, links and encrypts
beside the writer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from openbureau.accounts.load_repository import AccountLoadRepository
from openbureau.consent.profiles import Purpose
from openbureau.consent.repository import subjects_granted_since
from openbureau.enterprises import service as enterprises
from openbureau.identity.models import Person
from openbureau.identity.service import next_person_id, sync_person_sequence
from openbureau.intake import negative_notices, quarantine
from openbureau.intake.events.service import file_unlinked
from openbureau.intake.files import check_columns, file_keyring, stored_path
from openbureau.intake.limits import SHOWN_VALUE_CHARS, ReadLimits
from openbureau.intake.models import Finding, Submission, SubmissionStatus
from openbureau.intake.prepare import LoadSpec, PreparedChunk, prepare
from openbureau.intake.readers import ChunkReader, FileFormat
from openbureau.intake.repository import LoadRepository
from openbureau.intake.validation import FINDINGS_SCHEMA
from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import intake_lock
from openbureau.kit.dialects import dialect_for
from openbureau.kit.memory import release_freed_memory
from openbureau.kit.settings import Settings
from openbureau.monitoring import triggers
from openbureau.policy import Policy

# Rows per write transaction at a work share of 1 (``kit.pacing.WorkShare.rows``: at a share of 0.05, 100):
# SQLite has one writer, so the inquiry log waits for the one of the moment to end (2,000 account states take
# some 40-80 ms); larger batches load a little faster and make inquiries wait longer.
WRITE_BATCH = 2_000
DELETE_BATCH = 5_000


def _writing(engine: Engine) -> Engine:
    """``engine`` for a write transaction (SQLite: take the write lock at once, ``BEGIN IMMEDIATE``)."""
    return engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")


class SubmissionLoader:
    """Loads received submissions; one instance may load many, one at a time.

    ``policy`` is the bureau's (the jurisdiction profile, the balance tolerance); ``settings`` say only how
    to work (paths, keys, chunk sizes, limits), never a rule.
    """

    def __init__(self, engine: Engine, *, settings: Settings, policy: Policy, today: date,
                 as_of: datetime | None = None) -> None:
        if not isinstance(policy, Policy):
            raise TypeError(f"the bureau's Policy is required, not {type(policy).__name__}")
        self.engine = engine
        self.settings = settings
        self.policy = policy
        self.today = today
        self.as_of = as_of

    def run(self, submission_id: int, *, progress: Callable[[int], None] | None = None) -> None:
        """Load the submission unless it is loaded already; all or nothing, to readers and on failure."""
        with intake_lock(self.engine):
            discard_interrupted(self.engine)
            spec = self._begin(submission_id)
            if spec is None:
                return
            writer = _Writer(self.engine, submission_id=submission_id,
                             sample_per_code=self.settings.findings_sample_per_code)
            try:
                with _writing(self.engine).begin() as conn:
                    writer.findings(conn, _unknown_column_findings(spec))
                in_process = spec.path.stat().st_size >= self.settings.parallel_load_min_bytes
                for prepared in prepare(spec, in_process=in_process):
                    writer.write(prepared)
                    if progress is not None:
                        progress(prepared.size)
                    del prepared
                    release_freed_memory()  # the chunk's (and, in one process, its preparing's) freed heap
                self._publish(writer, spec, *self._negative_notices(writer, spec))
            except BaseException:
                _discard(self.engine, submission_id=submission_id, furnisher_id=spec.furnisher_id,
                         first_person_id=spec.first_new_id)
                raise

    def _begin(self, submission_id: int) -> LoadSpec | None:
        """List the submission as a load in progress and say how to prepare it; None when it is loaded."""
        with _writing(self.engine).begin() as conn:
            row = conn.execute(select(Submission.__table__).where(Submission.id == submission_id)).one()
            if row.status == SubmissionStatus.LOADED:
                return None
            first_new_id = next_person_id(conn)
            AccountLoadRepository(conn).begin_load(submission_id=row.id, furnisher_id=row.furnisher_id,
                                            first_person_id=first_new_id)
        return LoadSpec(
            database_url=str(self.engine.url.render_as_string(hide_password=False)),
            path=stored_path(self.settings, furnisher_id=row.furnisher_id, sha=row.sha256, fmt=row.format),
            format=row.format,
            chunk_size=self.settings.chunk_size, submission_id=row.id, furnisher_id=row.furnisher_id,
            first_new_id=first_new_id, today=self.today, now=self.as_of or datetime.now(UTC),
            balance_tolerance=self.policy.balance_tolerance, profile=self.policy.profile,
            keys=load_keys(self.settings), file_keys=file_keyring(self.settings),
            limits=ReadLimits.from_settings(self.settings), niceness=self.settings.load_niceness,
        )

    def _negative_notices(self, writer: _Writer, spec: LoadSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The new negative items among the load's rows in the files and their sealed notices, computed over
        its own rows and what is published, before the publishing transaction that writes them."""
        with self.engine.connect() as conn:
            items = negative_notices.new_state_items(conn, writer.negative_candidates(),
                                                     own_submission=spec.submission_id)
            messages = negative_notices.state_item_notices(conn, items, vault=PiiVault(spec.keys),
                                                           profile=spec.profile)
            conn.rollback()
        return messages, items

    def _publish(self, writer: _Writer, spec: LoadSpec, notices: pl.DataFrame, late: pl.DataFrame) -> None:
        """The load's last, short transaction: its rows become part of the files with the person's notice of
        each new negative item among them and the triggers of the lenders monitoring them, and it is marked
        loaded."""
        with _writing(self.engine).begin() as conn:
            sync_person_sequence(conn)
            writer.refresh_statistics(conn)
            counts = writer.counts
            now = datetime.now(UTC)
            AccountLoadRepository(conn).end_load(spec.submission_id)  # its rows become visible with this commit ...
            negative_notices.write(conn, notices, now=now)  # ... and so do their notices, never one without the other
            monitored = triggers.watched(conn, writer.persons())  # the load's persons some lender monitors
            triggers.write(conn, pl.concat([  # ... and the triggers of every other lender monitoring the person
                load_causes(conn, spec, now=now, persons=monitored),
                triggers.delinquency_causes(late, occurred_at=pl.lit(now)),
                triggers.load_identity_causes(conn, PiiVault(spec.keys), submission_id=spec.submission_id,
                                              furnisher_id=spec.furnisher_id, occurred_at=now, persons=monitored)]),
                           now=now)
            # A consent recorded while the load ran found none of its held rows (releases leave a load in
            # progress alone): look again, for those consents' subjects only (usually none: nothing to do).
            arrived = subjects_granted_since(conn, grantee_member_id=spec.furnisher_id, purpose=Purpose.FURNISH,
                                             since=spec.now)
            released = 0
            if arrived.height:
                with Session(bind=conn) as session:
                    released = quarantine.release(session, vault=PiiVault(spec.keys), profile=spec.profile,
                                                  furnisher_id=spec.furnisher_id, moment=now, subjects=arrived,
                                                  submission_id=spec.submission_id)
            # Lending events that arrived while the load ran about persons it created, or about subjects
            # nobody numbered yet: filed now, under the lock (their subjects counted for them meanwhile).
            file_unlinked(conn, vault=PiiVault(spec.keys), now=now)
            LoadRepository(conn).finish(
                spec.submission_id, status=SubmissionStatus.LOADED, loaded_at=now,
                records_received=counts["accepted"] + counts["warning"] + counts["rejected"],
                records_accepted=counts["accepted"],
                records_warnings=counts["warning"], records_rejected=counts["rejected"],
                records_quarantined=counts["quarantined"] - released, parties_held=counts["parties_held"],
                findings_count=writer.findings_count,
                findings_stored=writer.findings_stored, finding_counts=dict(sorted(writer.by_code.items())),
            )


def load_causes(conn: Connection, spec: LoadSpec, *, now: datetime, persons: list[int]) -> pl.DataFrame:
    """Causes of the accounts a load reports for the first time about ``persons`` (its monitored persons):
    opened recently, or older but new to the bureau (:func:`triggers.account_causes`, judged on the load's
    own today)."""
    new = AccountLoadRepository(conn).new_accounts(submission_id=spec.submission_id, furnisher_id=spec.furnisher_id,
                                                   person_ids=persons)
    return triggers.account_causes(new.with_columns(pl.lit(spec.furnisher_id, dtype=pl.Int64).alias("furnisher_id")),
                                   today=spec.today, occurred_at=now)


def _unknown_column_findings(spec: LoadSpec) -> pl.DataFrame:
    unknown = check_columns(ChunkReader(spec.path, FileFormat(spec.format), keys=spec.file_keys,
                                        limits=spec.limits).open())
    return pl.DataFrame([
        {"line": 0, "field": c[:SHOWN_VALUE_CHARS], "code": "UNKNOWN_COLUMN", "severity": "warning",
         "value": c, "message": f"column {c[:SHOWN_VALUE_CHARS]!r} is not part of the furnishing standard "
         "and was ignored"}
        for c in unknown
    ], schema=FINDINGS_SCHEMA)


def discard_interrupted(engine: Engine) -> int:
    """Remove what killed loads wrote (their rows were never visible); how many loads. Call under the
    intake lock, so that no listed load is still running."""
    with engine.connect() as conn:
        interrupted = AccountLoadRepository(conn).loads_in_progress()
        conn.rollback()
    for submission_id, furnisher_id, first_person_id in interrupted:
        _discard(engine, submission_id=submission_id, furnisher_id=furnisher_id, first_person_id=first_person_id)
    return len(interrupted)


def _paced(engine: Engine, start: int, stop: int, full: int) -> Iterator[tuple[int, int]]:
    """``[start, stop)`` in ranges of at most ``full``, one per write transaction of a long job: each after the
    pause between its writes (``Dialect.between_writes``), and smaller while its share of the time is low
    (``WorkShare.rows``), since on SQLite an inquiry's log entry waits for the transaction of the moment."""
    dialect = dialect_for(engine)
    while start < stop:
        dialect.between_writes(engine)
        end = min(start + dialect.work_share.rows(full), stop)
        yield start, end
        start = end


def _discard(engine: Engine, *, submission_id: int, furnisher_id: int, first_person_id: int) -> None:
    """Delete a load's rows, findings and new persons in short transactions, paced like the load's own writes
    (a killed million-record load is discarded by the next load while inquiries run), then unlist it."""
    begin = _writing(engine).begin
    with engine.connect() as conn:
        keys = AccountLoadRepository(conn).state_keys(submission_id=submission_id, furnisher_id=furnisher_id)
        last_person = next_person_id(conn) - 1
        conn.rollback()
    for start, end in _paced(engine, 0, len(keys), DELETE_BATCH):
        with begin() as conn:
            AccountLoadRepository(conn).delete_states(keys[start:end])
    for first, end in _paced(engine, first_person_id, last_person + 1, DELETE_BATCH):
        with begin() as conn:
            LoadRepository(conn).delete_unused_persons(first_id=first, last_id=end - 1)
    with begin() as conn:
        enterprises.discard(conn, submission_id=submission_id)
        LoadRepository(conn).delete_findings(submission_id)
        AccountLoadRepository(conn).end_load(submission_id)  # nothing of it is left: unlist it


class _Writer:
    """The writing side of a load: short write transactions of at most ``WRITE_BATCH`` rows, and the counts."""

    def __init__(self, engine: Engine, *, submission_id: int, sample_per_code: int) -> None:
        self.engine = _writing(engine)
        self.submission_id = submission_id
        self.recorder = FindingsRecorder(submission_id=submission_id, sample_per_code=sample_per_code)
        self.counts: Counter[str] = Counter({"accepted": 0, "warning": 0, "rejected": 0, "quarantined": 0})
        self.written: Counter[str] = Counter()
        self.candidates: list[pl.DataFrame] = []  # the negative rows in the files: what may need a notice
        self.released: list[pl.Series] = []  # the persons of the rows in the files, chunk by chunk

    @property
    def by_code(self) -> Counter[str]:
        return self.recorder.by_code

    @property
    def findings_count(self) -> int:
        return self.recorder.findings_count

    @property
    def findings_stored(self) -> int:
        return self.recorder.findings_stored

    def findings(self, conn: Connection, findings: pl.DataFrame) -> None:
        """Record a chunk's findings (see :class:`FindingsRecorder`)."""
        self.recorder.write(conn, findings)

    def negative_candidates(self) -> pl.DataFrame:
        """The load's rows that may be new negative items (``negative_notices.CANDIDATE_SCHEMA``)."""
        return pl.concat([negative_notices.load_candidates(pl.DataFrame()), *self.candidates])

    def persons(self) -> list[int]:
        """The persons of the load's rows in the files (not held): whom its triggers may concern."""
        return pl.concat([pl.Series("person_id", [], dtype=pl.Int64), *self.released]).unique().to_list()

    def write(self, prepared: PreparedChunk) -> None:
        """Insert a prepared chunk, a slice per transaction; persons before the states that name them."""
        self.counts.update(prepared.outcomes)
        if prepared.states.height:  # a chunk of rejected records only has no states (nor their columns)
            self.released.append(prepared.states.filter(pl.col("held_reason").is_null())["person_id"]
                                 .cast(pl.Int64).unique())
        self.candidates.append(negative_notices.load_candidates(prepared.states))
        with self.engine.begin() as conn:
            self.findings(conn, prepared.findings)
        for table, frame in (("persons", prepared.persons), ("states", prepared.states),
                             ("funders", prepared.funders), ("parties", prepared.parties)):
            for start, end in _paced(self.engine, 0, frame.height, WRITE_BATCH):
                piece = frame.slice(start, end - start)
                with self.engine.begin() as conn:
                    if table == "persons":
                        dialect_for(conn).insert(conn, Person.__table__, piece)
                    elif table == "states":
                        AccountLoadRepository(conn).insert(piece)
                    elif table == "funders":
                        AccountLoadRepository(conn).insert_funders(piece)
                    else:
                        AccountLoadRepository(conn).insert_parties(piece)
            self.written[table] += frame.height
        for table, frame in zip(enterprises.TABLES, prepared.business.frames(), strict=True):  # v1.1
            for piece in _slices(frame):
                with self.engine.begin() as conn:
                    enterprises.write(conn, table, piece)
            self.written[table] += frame.height

    def refresh_statistics(self, conn: Connection) -> None:
        """Statistics of the tables the load grew by a tenth or more, for the next load's queries."""
        if self.written["persons"]:
            dialect_for(conn).refresh_statistics(conn, Person.__table__, rows_written=self.written["persons"])
        if self.written["states"]:
            AccountLoadRepository(conn).refresh_statistics(rows_written=self.written["states"])


class FindingsRecorder:
    """Counts a submission's findings by code and stores a sample of each code (``sample_per_code``)."""

    def __init__(self, *, submission_id: int, sample_per_code: int) -> None:
        self.submission_id = submission_id
        self.sample_per_code = sample_per_code
        self.by_code: Counter[str] = Counter()
        self.findings_stored = 0
        self.findings_count = 0

    def write(self, conn: Connection, findings: pl.DataFrame) -> None:
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
                  .select(list(FINDINGS_SCHEMA)))
        if sample.height == 0:
            return
        self.findings_stored += sample.height
        dialect_for(conn).insert(conn, Finding.__table__, sample.with_columns(
            pl.col("value").str.slice(0, SHOWN_VALUE_CHARS), pl.col("message").str.slice(0, 500),
            pl.lit(self.submission_id, dtype=pl.Int64).alias("submission_id"),
        ))


def _slices(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, WRITE_BATCH):
        yield frame.slice(start, WRITE_BATCH)


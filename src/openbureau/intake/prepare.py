"""The reading side of a load: read, validate, check against stored data, link to persons, encrypt.

The preparer reads what was committed before the load on a read connection of its own; the load holds the
intake's write lock from start to end, so nothing it reads can change under it. It runs beside the writer
either in a thread (small files) or in a second process that hands over Arrow IPC frames (large files), so
that validation and encryption on one core overlap the inserts on the other.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection

from openbureau.accounts.load_repository import AccountLoadRepository
from openbureau.accounts.models import AccountState
from openbureau.accounts.person_repository import PersonRecordRepository
from openbureau.consent.profiles import JurisdictionProfile
from openbureau.enterprises import service as enterprises
from openbureau.identity.service import PersonLinker, seal_identities
from openbureau.intake import joint_lending, quarantine
from openbureau.intake.errors import FileRejected
from openbureau.intake.limits import ReadLimits
from openbureau.intake.metro2_in import HISTORY_COLUMN, NEGATIVE_HISTORY
from openbureau.intake.readers import ChunkReader, FileFormat, MalformedRecord
from openbureau.intake.stored_rules import check_against_stored
from openbureau.intake.validation import FINDINGS_SCHEMA, FileState, validate_chunk
from openbureau.kit.crypto import PiiKeys, PiiVault
from openbureau.kit.db import make_engine
from openbureau.kit.errors import BureauError
from openbureau.kit.memory import release_freed_memory
from openbureau.members.repository import member_ids_by_code

STATE_COLUMNS = [c.name for c in AccountState.__table__.columns]
STATE_KEY = [c.name for c in AccountState.__table__.primary_key.columns]
KEYED_VERSIONS_MAX = 20_000  # records of a chunk up to which it searches its own accounts' stored versions


@dataclass(slots=True)
class PreparedChunk:
    """A chunk validated, checked, linked and encrypted: what the writer inserts."""

    states: pl.DataFrame  # account_states rows
    persons: pl.DataFrame  # persons rows created for this chunk
    findings: pl.DataFrame
    funders: pl.DataFrame  # account_funders rows (standard v1.1; empty for a v1 file)
    parties: pl.DataFrame  # account_parties rows
    outcomes: dict[str, int]
    size: int  # records read, parseable or not
    business: enterprises.BusinessRows = field(default_factory=enterprises.BusinessRows.empty)  # v1.1

    def frames(self) -> tuple[pl.DataFrame, ...]:
        """The frames a preparing process hands over, in order (see :func:`_child_main`)."""
        return (self.states, self.persons, self.findings, self.funders, self.parties, *self.business.frames())

    FRAMES = 5  # the frames before the business rows' (standard v1.1)


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """Everything a preparer needs, in plain values (it may run in another process).

    The rules of the bureau come from its policy (``runtime.policy``), never from settings: the jurisdiction
    profile itself travels (a frozen value, pickled into a preparing process), so that the preparer applies
    exactly the profile the loader was given.
    """

    database_url: str
    path: Path
    format: str
    chunk_size: int
    submission_id: int
    furnisher_id: int
    first_new_id: int
    today: date
    now: datetime
    balance_tolerance: float  # the policy's
    profile: JurisdictionProfile  # the policy's: the consent gate and the negative-notice hold
    keys: PiiKeys
    file_keys: dict[str, bytes]  # keys the kept file may be sealed under, by key id
    limits: ReadLimits
    niceness: int = 0  # added to the preparing process's niceness (a second process only; see _child_main)


class Preparer:
    """Turns a file into prepared chunks."""

    def __init__(self, spec: LoadSpec, conn: Connection) -> None:
        self.spec = spec
        self.conn = conn
        self.vault = PiiVault(spec.keys)
        self.linker = PersonLinker(conn, vault=self.vault, first_new_id=spec.first_new_id, now=spec.now)
        self.businesses = enterprises.EnterpriseLinker(conn, vault=self.vault, submission_id=spec.submission_id,
                                                       now=spec.now)
        self.profile = spec.profile
        self.periods: set[str] = set()  # periods whose stored versions and erasures were read
        self.keyed_periods: set[str] = set()  # ... whose versions are searched account by account, chunk by chunk
        self.versions: list[pl.DataFrame] = []
        self.erased: list[tuple[str, str]] = []
        self.members = member_ids_by_code(conn)  # a v1.1 facilitator or funder must be one of them

    def chunks(self) -> Iterator[PreparedChunk]:
        """Prepared chunks of the file, then one for unparseable records found at its end."""
        reader = ChunkReader(self.spec.path, FileFormat(self.spec.format), chunk_size=self.spec.chunk_size,
                             keys=self.spec.file_keys, limits=self.spec.limits)
        state = FileState()
        for chunk in reader.chunks():
            prepared = [self._prepare(chunk, state, reader.take_malformed())]
            chunk = None  # the raw chunk is not kept while the consumer works on this one
            # Each chunk reads in a transaction of its own: a snapshot held for the whole load kept SQLite
            # from copying any of the log back (it grew by gigabytes) and PostgreSQL's vacuum from cleaning
            # up. What a chunk reads may differ from the last chunk's only by work the intake lock allows
            # beside a load; the persons this load numbered are remembered by the linker.
            self.conn.rollback()
            # Handed over without a reference left in this frame: once the consumer is done with a chunk it
            # is freed, not kept while the next one is prepared.
            yield prepared.pop()
        if reader.malformed:
            yield self._prepare(None, state, reader.take_malformed())

    def _prepare(self, chunk: pl.DataFrame | None, state: FileState, malformed: list[MalformedRecord]
                 ) -> PreparedChunk:
        findings = [pl.DataFrame([
            {"line": m.line, "furnisher_account_id": m.furnisher_account_id, "field": m.field, "code": m.code,
             "severity": m.severity, "value": m.value, "message": m.message} for m in malformed
        ], schema=FINDINGS_SCHEMA)]
        rejected = sum(m.rejects for m in malformed)
        outcomes = Counter({"rejected": rejected})
        if chunk is None:
            return PreparedChunk(pl.DataFrame(), pl.DataFrame(), findings[0], pl.DataFrame(), pl.DataFrame(),
                                 dict(outcomes), rejected)
        spec = self.spec
        result = validate_chunk(chunk, today=spec.today, state=state, balance_tolerance=spec.balance_tolerance,
                                profile=self.profile, members=self.members.keys())
        warned = [m.line for m in malformed if m.severity == "warning"]
        if warned:  # a reader's warning on a record that loads (Metro 2): the record has a finding
            result = replace(result, records=result.records.with_columns(
                pl.when(pl.col("_line").is_in(warned) & (pl.col("_outcome") == "accepted"))
                .then(pl.lit("warning")).otherwise(pl.col("_outcome")).alias("_outcome")))
        records, stored_findings = check_against_stored(result.records, versions=self._versions_for(result.records),
                                                        erased=self._erased_for(result.records))
        findings += [result.findings.select(list(FINDINGS_SCHEMA)), stored_findings]
        outcomes.update(dict(records["_outcome"].value_counts().iter_rows()))
        kept = records.filter(pl.col("_outcome") != "rejected")
        # v1.1: an enterprise borrows without a person, so its records skip the person linker and the consent
        # gate (enterprise_states); a sole trader's stay the owner's and also name the business.
        business = self.businesses.business_rows(kept, furnisher_id=spec.furnisher_id)
        kept = kept.filter(~enterprises.is_enterprise(kept))
        links, persons = self.linker.link(kept)
        consented = quarantine.consented(self.conn, profile=self.profile, furnisher_id=spec.furnisher_id,
                                         subjects=pl.concat([kept.select("id_type"), links.drop("person_id")],
                                                            how="horizontal"), moment=spec.now)
        outcomes["quarantined"] = int((~consented).sum())
        unnoticed = result.findings.filter(pl.col("code") == "NEGATIVE_NOTICE_MISSING")["line"]
        history = kept.select("_line").join(self._history_profiles(chunk), on="_line", how="left",
                                            maintain_order="left")["history_profile"]
        full = kept.with_columns(
            links["person_id"], history,
            pl.when(consented).then(None).otherwise(pl.lit(quarantine.NO_CONSENT)).alias("held_reason"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("released_at"),
            (pl.col("_line").is_in(unnoticed.implode()) & pl.lit(self.profile.negative_notice_required))
            .cast(pl.Int8).alias("negative_held"),
            seal_identities(self.vault, kept),
            pl.col("_line").alias("line"),
            pl.lit(spec.submission_id, dtype=pl.Int64).alias("submission_id"),
            pl.lit(spec.furnisher_id, dtype=pl.Int64).alias("furnisher_id"),
            (pl.col("_outcome") == "warning").cast(pl.Int8).alias("has_warnings"),
            pl.lit(spec.now).alias("stored_at"),
            joint_lending.facilitator_id(self.members).alias("facilitator_id"),
        )
        states = full.select(STATE_COLUMNS).sort(STATE_KEY)
        funders, parties = pl.DataFrame(), pl.DataFrame()
        if joint_lending.extended(kept):
            joint = joint_lending.prepare(self.conn, full, members=self.members, linker=self.linker,
                                          vault=self.vault, profile=self.profile, furnisher_id=spec.furnisher_id,
                                          moment=spec.now)
            funders, parties = joint.funders, joint.parties
            persons = pl.concat([persons, joint.persons], how="diagonal_relaxed")
            outcomes["parties_held"] = joint.held
        return PreparedChunk(states, persons, pl.concat(findings), funders, parties, dict(outcomes),
                             chunk.height + rejected, business)

    def _history_profiles(self, chunk: pl.DataFrame) -> pl.DataFrame:
        """(``_line``, ``history_profile``) of the chunk's records: a Metro 2 record's payment history profile
        (docs/metro2.md, "Payment history profile"), none for other formats. Under a profile that publishes no
        negative information before a notice (CN Art. 15), a profile with a negative month is not kept: Metro 2
        carries no notice date, and no later record can give one for those earlier months."""
        if HISTORY_COLUMN not in chunk.columns:
            return pl.DataFrame(schema={"_line": pl.Int64, "history_profile": pl.String})
        profile = pl.col(HISTORY_COLUMN)
        if self.profile.negative_notice_required:
            profile = pl.when(profile.str.contains(NEGATIVE_HISTORY)).then(None).otherwise(profile)
        return chunk.select(pl.col("_line"), profile.alias("history_profile"))

    def _versions_for(self, records: pl.DataFrame) -> pl.DataFrame:
        """The stored versions of the furnisher's accounts for the records' periods. A chunk of more than
        ``KEYED_VERSIONS_MAX`` records reads every account of the furnisher for each period it brings first (one
        statement, kept for the file's later chunks); a smaller one (a daily file) searches its own accounts
        only, so that it does not read a lender's whole month of accounts for a few of them (a furnisher with ten
        million stored rows made a file of 1,000 records read them all, half a minute). Either way the rows of
        this load itself are not stored versions."""
        self._read_periods(records)
        keyed = records.filter(pl.col("reporting_period").is_in(list(self.keyed_periods))).select(
            "furnisher_account_id", "reporting_period").drop_nulls()
        # Always one frame at least: the keyed read of no keys is an empty frame of the right columns.
        found = AccountLoadRepository(self.conn).versions_of(furnisher_id=self.spec.furnisher_id, keys=keyed,
                                                             except_submission=self.spec.submission_id)
        return pl.concat([*self.versions, found])

    def _read_periods(self, records: pl.DataFrame) -> None:
        """Read what is read once per period for the periods the records bring first: the erasures, the
        enterprises' versions and, for a large chunk, every stored version of the furnisher's accounts."""
        new = [p for p in records["reporting_period"].drop_nulls().unique().to_list() if p not in self.periods]
        if not new:
            return
        self.periods.update(new)
        if records.height > KEYED_VERSIONS_MAX:
            self.versions.append(AccountLoadRepository(self.conn).latest_versions(furnisher_id=self.spec.furnisher_id,
                                                                                  periods=new))
        else:
            self.keyed_periods.update(new)
        self.versions.append(enterprises.stored_versions(self.conn, furnisher_id=self.spec.furnisher_id, periods=new))
        self.erased += PersonRecordRepository(self.conn).erased_accounts(furnisher_id=self.spec.furnisher_id,
                                                                         periods=new)

    def _erased_for(self, records: pl.DataFrame) -> pl.DataFrame:
        """(``furnisher_account_id``, ``reporting_period``) of the records' periods that persons had erased (the
        suppression list; usually empty), read once per period."""
        self._read_periods(records)
        return pl.DataFrame(self.erased, orient="row",
                            schema={"furnisher_account_id": pl.String, "reporting_period": pl.String})


def prepare(spec: LoadSpec, *, in_process: bool) -> Iterator[PreparedChunk]:
    """Prepared chunks of ``spec``'s file, made ahead of the consumer in a thread or a second process."""
    return _from_process(spec) if in_process else _from_thread(spec)


# --- in a thread -----------------------------------------------------------------------------------

_DONE = object()


def _from_thread(spec: LoadSpec, depth: int = 2) -> Iterator[PreparedChunk]:
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            engine = make_engine(spec.database_url)
            with engine.connect() as conn:
                for item in Preparer(spec, conn).chunks():
                    if not put(item):
                        return
                conn.rollback()
            engine.dispose()
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)

    worker = threading.Thread(target=produce, name="intake-prepare", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


# --- in a second process ---------------------------------------------------------------------------

def _ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


def _end_with_parent(parent: int, interval: float = 0.2) -> None:
    """End this process as soon as ``parent`` is gone (re-parented): a killed loader leaves no preparer.

    A watchdog thread rather than PR_SET_PDEATHSIG: that signal follows the parent *thread*, and the API
    starts loads from worker threads that may end while the load is still wanted.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="intake-prepare-watchdog", daemon=True).start()


def _child_main(pipe: Any, spec: LoadSpec, parent: int) -> None:
    """Entry point of the preparing process (at its lower priority, see :func:`start_preparer`): sends each
    chunk as a header and three Arrow IPC frames."""
    _end_with_parent(parent)
    try:
        engine = make_engine(spec.database_url)
        with engine.connect() as conn:
            for chunk in Preparer(spec, conn).chunks():
                pipe.send(("chunk", chunk.outcomes, chunk.size))
                for frame in chunk.frames():
                    pipe.send_bytes(_ipc(frame))
                chunk = frame = None  # nothing of the chunk is left to hold its memory
                release_freed_memory()  # what the chunk freed, so that memory does not grow with the file
            conn.rollback()
        pipe.send(("done",))
    except BureauError as exc:
        pipe.send(("bureau_error", exc.message, exc.code, exc.field, exc.details, exc.status_code))
    except BaseException as exc:  # reported to the parent, which raises; by type only (messages may quote data)
        pipe.send(("crash", type(exc).__name__))
    finally:
        pipe.close()


def start_preparer(spec: LoadSpec) -> tuple[multiprocessing.process.BaseProcess, Any]:
    """Start the preparing process of ``spec`` at its lower priority; the process and the end of the pipe
    its chunks come through.

    Only that process runs at the lower priority: the loader that writes keeps its own, since on SQLite it
    holds the one write lock that the inquiry log waits for, and a writer starved of CPU would hold it longer.
    The priority is lowered as soon as the process exists, so that its start (a new interpreter importing the
    intake code, most of a second of CPU) runs at it too, not only its work after."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, spec, os.getpid()), name="intake-prepare",
                            daemon=True)
    child.start()
    with contextlib.suppress(ProcessLookupError):  # it may have ended already
        os.setpriority(os.PRIO_PROCESS, child.pid, min(os.getpriority(os.PRIO_PROCESS, 0) + spec.niceness, 19))
    sender.close()
    return child, receiver


def _from_process(spec: LoadSpec) -> Iterator[PreparedChunk]:
    child, receiver = start_preparer(spec)
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError as exc:
                raise RuntimeError(f"the preparing process ended unexpectedly ({child.exitcode})") from exc
            kind = message[0]
            if kind == "done":
                return
            if kind == "bureau_error":
                _, text, code, field, details, status = message
                raise FileRejected(text, code=code, field=field, details=details, status_code=status)
            if kind == "crash":
                raise RuntimeError(f"the preparing process failed ({message[1]})")
            frames = [pl.read_ipc(io.BytesIO(receiver.recv_bytes()))
                      for _ in range(PreparedChunk.FRAMES + len(enterprises.TABLES))]
            yield PreparedChunk(*frames[:PreparedChunk.FRAMES], outcomes=message[1], size=message[2],
                                business=enterprises.BusinessRows(*frames[PreparedChunk.FRAMES:]))
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
            child.join()

"""Files of lending events: the same formats as the monthly files (CSV, JSON Lines, Parquet), kept sealed,
registered as a submission of kind ``events``, their findings stored by line like a monthly file's.

An event file is taken batch by batch (``MAX_BATCH_EVENTS`` events per short transaction): events are
acknowledged one by one, so, unlike a monthly file, it is not all or nothing; a file cut short is simply
sent again, and the events already stored are acknowledged as duplicates (their ids).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from openbureau.consent.profiles import JurisdictionProfile
from openbureau.intake.errors import FILE_KIND_MISMATCH, FileRejected
from openbureau.intake.events.service import EventIntakeResult, receive_events
from openbureau.intake.events.standard import EVENTS, MAX_BATCH_EVENTS
from openbureau.intake.files import (
    SealedFile,
    check_columns,
    check_filename,
    file_keyring,
    private_dir,
    seal_file,
    stored_path,
)
from openbureau.intake.limits import ReadLimits
from openbureau.intake.loader import FindingsRecorder
from openbureau.intake.models import Submission, SubmissionStatus
from openbureau.intake.readers import ChunkReader, FileFormat, detect_format
from openbureau.intake.repository import LoadRepository, SubmissionRepository
from openbureau.intake.validation import FINDINGS_SCHEMA
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.errors import FILE_FORMAT_UNKNOWN
from openbureau.kit.settings import Settings
from openbureau.members.models import Member
from openbureau.members.service import get_member
from openbureau.principals import Action, Principal, authorize

EVENTS_KIND = "events"


def _malformed_findings(reader: ChunkReader) -> pl.DataFrame:
    return pl.DataFrame([
        {"line": m.line, "field": m.field, "code": m.code, "severity": "error", "value": m.value,
         "message": m.message} for m in reader.take_malformed()], schema=FINDINGS_SCHEMA)


def _event_format(name: str) -> FileFormat:
    """The format of a lending-events file: Metro 2 carries monthly account states, never events."""
    fmt = detect_format(name)
    if fmt is FileFormat.METRO2:
        raise FileRejected("lending events are furnished as CSV, JSON Lines or Parquet, not in Metro 2",
                           code=FILE_FORMAT_UNKNOWN, field="file")
    return fmt


def submit_event_file(engine: Engine, *, settings: Settings, vault: PiiVault, profile: JurisdictionProfile,
                      path: Path | None = None, sealed: SealedFile | None = None, filename: str | None = None,
                      furnisher: Member | None = None, furnisher_code: str | None = None,
                      received_at: datetime | None = None, progress: Callable[[int], None] | None = None
                      ) -> tuple[Submission, EventIntakeResult, bool]:
    """Receive a file of lending events (in clear at ``path`` or already ``sealed``) and store its events.

    Returns the submission, the file's figures and whether the same bytes had been taken before (nothing
    was stored again). ``received_at`` backdates the receipt (a replay of the simulated market only).
    """
    if sealed is None:
        if path is None:
            raise ValueError("submit_event_file needs a path or a sealed file")
        filename = filename or path.name
        _event_format(check_filename(filename))
        with path.open("rb") as source:
            sealed = seal_file(settings, source)
    name = check_filename(filename or sealed.path.name)
    fmt = _event_format(name)
    limits = ReadLimits.from_settings(settings)
    try:
        with session_scope(engine, write=True) as session:
            member = furnisher if furnisher is not None else get_member(session, code=furnisher_code or "")
            authorize(Principal.of_member(member), Action.SUBMIT_FILE)
            repo = SubmissionRepository(session)
            earlier = repo.by_hash(furnisher_id=member.id, sha256=sealed.sha256)
            if earlier is not None and earlier.kind != EVENTS_KIND:
                raise FileRejected("the same file was submitted before as a monthly file, not as lending events",
                                   code=FILE_KIND_MISMATCH, field="file", details={"submission_id": earlier.id})
            if earlier is not None and earlier.status == SubmissionStatus.LOADED:
                return earlier, _counts_of(earlier), True
            kept = stored_path(settings, furnisher_id=member.id, sha=sealed.sha256, fmt=fmt.value)
            if earlier is None:
                check_columns(ChunkReader(sealed.path, fmt, keys=file_keyring(settings), limits=limits,
                                          layout=EVENTS).open(), EVENTS)
                private_dir(settings.submissions_dir)
                private_dir(kept.parent)
                os.replace(sealed.path, kept)
                earlier = Submission(furnisher_id=member.id, sha256=sealed.sha256, filename=name, format=fmt.value,
                                     kind=EVENTS_KIND, size_bytes=sealed.size_bytes,
                                     status=SubmissionStatus.RECEIVED,
                                     **({"received_at": received_at} if received_at is not None else {}))
                repo.add(earlier)
            submission_id = earlier.id
    finally:
        sealed.path.unlink(missing_ok=True)
    result = _take(engine, settings=settings, vault=vault, profile=profile, member=member, path=kept, fmt=fmt,
                   submission_id=submission_id, now=received_at or datetime.now(UTC), progress=progress)
    with session_scope(engine) as session:
        return SubmissionRepository(session).get(submission_id), result, False


def _take(engine: Engine, *, settings: Settings, vault: PiiVault, profile: JurisdictionProfile, member: Member,
          path: Path, fmt: FileFormat, submission_id: int, now: datetime,
          progress: Callable[[int], None] | None) -> EventIntakeResult:
    reader = ChunkReader(path, fmt, chunk_size=min(MAX_BATCH_EVENTS, settings.chunk_size), keys=file_keyring(settings),
                         limits=ReadLimits.from_settings(settings), layout=EVENTS)
    recorder = FindingsRecorder(submission_id=submission_id, sample_per_code=settings.findings_sample_per_code)
    total, seen = EventIntakeResult(), {}
    writing = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    for chunk in reader.chunks():
        malformed = _malformed_findings(reader)
        result = receive_events(engine, vault=vault, profile=profile, furnisher=member, batch=chunk, now=now,
                                submission_id=submission_id, seen=seen)
        result.rejected += malformed.height
        result.received += malformed.height
        total.add(result)
        with writing.begin() as conn:
            recorder.write(conn, malformed)
            recorder.write(conn, result.findings)
        if progress is not None:
            progress(chunk.height + malformed.height)
    trailing = _malformed_findings(reader)
    total.rejected += trailing.height
    total.received += trailing.height
    with writing.begin() as conn:
        recorder.write(conn, trailing)
        LoadRepository(conn).finish(
            submission_id, status=SubmissionStatus.LOADED, loaded_at=datetime.now(UTC),
            records_received=total.received, records_accepted=total.stored - total.warnings,
            records_warnings=total.warnings, records_rejected=total.rejected, records_quarantined=total.held,
            findings_count=recorder.findings_count, findings_stored=recorder.findings_stored,
            finding_counts=dict(sorted(recorder.by_code.items())))
    return total


def _counts_of(submission: Submission) -> EventIntakeResult:
    return EventIntakeResult(
        received=submission.records_received, stored=submission.records_accepted + submission.records_warnings,
        warnings=submission.records_warnings, rejected=submission.records_rejected,
        held=submission.records_quarantined)

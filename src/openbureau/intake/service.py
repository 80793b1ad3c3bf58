"""Rules of the intake: receive a file, validate every record, and load what is valid as one unit.

A submission is registered (and its file kept, sealed: ``intake.files``) in one short transaction; its records
are then validated chunk by chunk and loaded in a second transaction that also marks it loaded. A process
killed during the load leaves the submission ``received`` with none of its records stored, and submitting
the same bytes again completes it. The same bytes submitted after a load return the earlier result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.accounts.models import AccountState
from openbureau.audit import service as audit
from openbureau.intake.errors import FILE_KIND_MISMATCH, SUBMISSION_NOT_FOUND, FileRejected
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
from openbureau.intake.loader import SubmissionLoader
from openbureau.intake.models import Finding, Submission, SubmissionStatus
from openbureau.intake.readers import ChunkReader, detect_format
from openbureau.intake.repository import SubmissionRepository
from openbureau.intake.schemas import FurnisherIntakeStats
from openbureau.kit.db import session_scope
from openbureau.kit.errors import ACCOUNT_NOT_FOUND, NotFound
from openbureau.kit.settings import Settings
from openbureau.kit.spreadsheet import csv_writer
from openbureau.members.models import Member
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """What a furnisher is told about a submitted file."""

    submission: Submission
    repeated: bool  # the same bytes had been submitted before; nothing was stored again


def receive(
    session: Session, *, settings: Settings, furnisher: Member, sealed: SealedFile, filename: str,
    received_at: datetime | None = None, file_format: str | None = None,
) -> SubmissionResult:
    """Register a sealed file from ``furnisher`` (or find its earlier submission) and keep it.

    The scratch file ``sealed`` is moved into the bureau's keeping, or removed: nothing is kept of a file
    refused here. ``file_format`` is the format the sender named (else the file name's suffix tells it).
    ``received_at`` backdates the receipt; only for replaying files whose arrival time is
    known (the demo's simulated market), never set from a furnisher's request.
    """
    try:
        authorize(Principal.of_member(furnisher), Action.SUBMIT_FILE)
        name = check_filename(filename)
        fmt = detect_format(name, file_format)
        repo = SubmissionRepository(session)
        earlier = repo.by_hash(furnisher_id=furnisher.id, sha256=sealed.sha256)
        if earlier is not None:
            if earlier.kind != "records":
                raise FileRejected("the same file was submitted before as lending events, not as a monthly file",
                                   code=FILE_KIND_MISMATCH, field="file", details={"submission_id": earlier.id})
            if earlier.status == SubmissionStatus.FAILED:
                raise FileRejected(earlier.error_message or "the file could not be read",
                                   code=earlier.error_code or "FILE_UNREADABLE", field="file",
                                   details={"submission_id": earlier.id})
            return SubmissionResult(earlier, repeated=earlier.status == SubmissionStatus.LOADED)
        check_columns(ChunkReader(sealed.path, fmt, keys=file_keyring(settings),
                                  limits=ReadLimits.from_settings(settings)).open())
        kept = stored_path(settings, furnisher_id=furnisher.id, sha=sealed.sha256, fmt=fmt.value)
        private_dir(settings.submissions_dir)
        private_dir(kept.parent)
        os.replace(sealed.path, kept)  # atomic: a kept file is always whole
    finally:
        sealed.path.unlink(missing_ok=True)
    submission = Submission(
        furnisher_id=furnisher.id, sha256=sealed.sha256, filename=name, format=fmt.value,
        size_bytes=sealed.size_bytes, status=SubmissionStatus.RECEIVED,
        **({"received_at": received_at} if received_at is not None else {}),
    )
    repo.add(submission)
    return SubmissionResult(submission, repeated=False)


def load(
    engine: Engine, *, settings: Settings, policy: Policy, submission_id: int, today: date | None = None,
    as_of: datetime | None = None, progress: Progress | None = None,
) -> Submission:
    """Validate and store the records of a received submission in one transaction (idempotent).

    ``policy`` is the bureau's (``runtime.policy``): its jurisdiction profile decides the consent gate and
    the negative-notice hold, its balance tolerance the balance warnings. ``as_of`` is the moment consent
    is judged at: now, except when replaying files whose arrival time is known (see :func:`receive`).
    """
    loader = SubmissionLoader(engine, settings=settings, policy=policy, today=today or date.today(), as_of=as_of)
    try:
        loader.run(submission_id, progress=progress)
    except FileRejected as exc:
        # Nothing of the file was stored (the load rolled back); the submission says why, for good.
        with session_scope(engine, write=True) as session:
            failed = get_submission_by_id(session, submission_id=submission_id)
            failed.status, failed.error_code, failed.error_message = SubmissionStatus.FAILED, exc.code, exc.message
        exc.details = {**(exc.details or {}), "submission_id": submission_id}
        raise
    return read_submission(engine, submission_id)


def read_submission(engine: Engine, submission_id: int) -> Submission:
    """A submission as stored now, read in a transaction of its own (after a load elsewhere)."""
    with session_scope(engine) as session:
        return get_submission_by_id(session, submission_id=submission_id)


def submit(
    engine: Engine, *, settings: Settings, policy: Policy, furnisher_code: str | None = None,
    furnisher: Member | None = None, path: Path | None = None, sealed: SealedFile | None = None,
    filename: str | None = None, today: date | None = None, received_at: datetime | None = None,
    progress: Progress | None = None, file_format: str | None = None,
) -> SubmissionResult:
    """Receive and load a file, in clear at ``path`` or already ``sealed``: the whole intake of one submission
    under the bureau's ``policy`` (:func:`register` then :func:`load`)."""
    if not isinstance(policy, Policy):  # before anything is received: no load falls back to the settings
        raise TypeError(f"the bureau's Policy is required, not {type(policy).__name__}")
    received = register(engine, settings=settings, furnisher_code=furnisher_code, furnisher=furnisher, path=path,
                        sealed=sealed, filename=filename, received_at=received_at, file_format=file_format)
    if received.repeated:
        return received
    loaded = load(engine, settings=settings, policy=policy, submission_id=received.submission.id, today=today,
                  as_of=received_at, progress=progress)
    return SubmissionResult(loaded, repeated=False)


def register(
    engine: Engine, *, settings: Settings, furnisher_code: str | None = None, furnisher: Member | None = None,
    path: Path | None = None, sealed: SealedFile | None = None, filename: str | None = None,
    received_at: datetime | None = None, file_format: str | None = None,
) -> SubmissionResult:
    """Receive a file, in clear at ``path`` or already ``sealed``, in a transaction of its own (:func:`receive`):
    the submission to :func:`load` next, or the earlier one of the same bytes (``repeated`` when loaded)."""
    if sealed is None:
        if path is None:
            raise ValueError("submit needs a path or a sealed file")
        filename = filename or path.name
        detect_format(check_filename(filename), file_format)  # refused before a byte is read
        with path.open("rb") as source:
            sealed = seal_file(settings, source)
    try:
        with session_scope(engine, write=True) as session:
            member = furnisher if furnisher is not None else get_member(session, code=furnisher_code or "")
            received = receive(session, settings=settings, furnisher=member, sealed=sealed,
                               filename=filename or sealed.path.name, received_at=received_at,
                               file_format=file_format)
    finally:
        sealed.path.unlink(missing_ok=True)
    return received


def get_submission_by_id(session: Session, *, submission_id: int) -> Submission:
    """A submission by id (operators and internal use)."""
    submission = SubmissionRepository(session).get(submission_id)
    if submission is None:
        raise NotFound(f"no submission {submission_id}", code=SUBMISSION_NOT_FOUND, field="submission_id")
    return submission


def _sees_all_submissions(principal: Principal) -> bool:
    """Whether ``principal`` sees every submission (the operator) or only its own (a furnisher); 403 else."""
    seen = authorize(principal, Action.READ_ALL_SUBMISSIONS, Action.READ_OWN_SUBMISSIONS,
                     message="only furnishers see submissions")
    return seen is Action.READ_ALL_SUBMISSIONS


def get_submission(session: Session, *, principal: Principal, submission_id: int) -> Submission:
    """A submission as ``principal`` may see it: the operator any, a furnisher only its own (others look
    absent)."""
    submission = get_submission_by_id(session, submission_id=submission_id)
    if not _sees_all_submissions(principal) and submission.furnisher_id != principal.member_id:
        raise NotFound(f"no submission {submission_id}", code=SUBMISSION_NOT_FOUND, field="submission_id")
    return submission


def list_submissions(session: Session, *, principal: Principal, limit: int = 100, offset: int = 0
                     ) -> list[Submission]:
    """Submissions visible to ``principal``, newest first."""
    own = None if _sees_all_submissions(principal) else principal.member_id
    return SubmissionRepository(session).list_for(furnisher_id=own, limit=limit, offset=offset)


def list_findings(
    session: Session, *, principal: Principal, submission_id: int, limit: int | None = None, offset: int = 0
) -> list[Finding]:
    """A page of a submission's findings, if ``principal`` may see the submission."""
    get_submission(session, principal=principal, submission_id=submission_id)
    return SubmissionRepository(session).findings(submission_id=submission_id, limit=limit, offset=offset)


def write_findings_csv(session: Session, *, principal: Principal, submission_id: int, out: Path) -> int:
    """Write every finding of a submission to a CSV file; returns how many. An operator export is audited."""
    get_submission(session, principal=principal, submission_id=submission_id)
    if principal.may(Action.READ_ALL_SUBMISSIONS):  # the operator, at the command line or through the API
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                     action="submission.errors_export", details={"submission_id": submission_id})
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv_writer(handle)  # values come from furnishers' files: never a live formula
        writer.writerow(["line", "furnisher_account_id", "field", "code", "severity", "value", "message"])
        for page in SubmissionRepository(session).iter_findings(submission_id=submission_id):
            for f in page:
                writer.writerow([f.line, f.furnisher_account_id, f.field, f.code, f.severity, f.value, f.message])
            count += len(page)
    return count


def has_loaded_submission(session: Session, *, furnisher_id: int) -> bool:
    """Whether the member has furnished: a submission of its loaded (the reciprocity rule asks it)."""
    return SubmissionRepository(session).has_loaded(furnisher_id=furnisher_id)


def furnished_use(session: Session, *, member_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    """(files, records accepted) the member furnished in loads that ended from ``start`` to ``end`` (exclusive)."""
    return SubmissionRepository(session).loaded_use(furnisher_id=member_id, start=start, end=end)


def bureau_totals(session: Session) -> dict[str, int]:
    """How many persons, accounts and monthly account states the bureau holds."""
    return {"persons": SubmissionRepository(session).person_count(), **accounts.bureau_counts(session)}


def account_history(session: Session, *, principal: Principal, furnisher_account_id: str) -> list[AccountState]:
    """Every stored version of one of the furnisher's own accounts; unknown to it: NotFound."""
    authorize(principal, Action.READ_OWN_ACCOUNTS)
    states = accounts.account_history(session, furnisher_id=principal.member_id,
                                      furnisher_account_id=furnisher_account_id)
    if not states:
        raise NotFound(f"no account {furnisher_account_id}", code=ACCOUNT_NOT_FOUND, field="furnisher_account_id")
    return states


def intake_statistics(session: Session, *, principal: Principal) -> list[FurnisherIntakeStats]:
    """Per-furnisher intake figures (aggregates only): for the regulator and the operator."""
    authorize(principal, Action.READ_INTAKE_STATISTICS,
              message="aggregate statistics are for the regulator and the operator")
    rows = []
    stored_held = accounts.stored_by_furnisher(session)
    for code, furnisher_id, submissions, received, rejected in SubmissionRepository(session).intake_by_furnisher():
        stored, held = stored_held.get(furnisher_id, (0, 0))
        rows.append(FurnisherIntakeStats(
            furnisher=code, submissions=submissions, records_received=received, records_rejected=rejected,
            records_stored=stored, records_held=held, consent_coverage=round(1 - held / stored, 4) if stored else 1.0))
    return rows

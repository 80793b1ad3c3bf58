"""Rules of batch inquiries: a lender submits a file of subjects, follows its job, cancels it, downloads its
answers. Only a subscriber submits, and a lender sees, cancels and downloads only its own jobs (another's is
not found). The rows are answered by the worker (``batches.worker``), each as an online inquiry.

A file is refused whole, with nothing stored, when it is malformed (not UTF-8 CSV or JSON Lines, unknown or
missing columns, a line of the wrong shape or too long), empty, or over the limits; a row whose values are
wrong is a finding of the job and the other rows go on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.batches import errors, files, results, rows
from openbureau.batches.models import BatchStatus
from openbureau.batches.repository import BatchRepository
from openbureau.batches.schemas import BatchRead
from openbureau.intake.files import SealedFile, file_keyring
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, NotFound
from openbureau.kit.filecrypt import open_sealed
from openbureau.kit.settings import Settings
from openbureau.members.models import Product
from openbureau.members.standing import check_use
from openbureau.principals import Action, Principal, authorize

MAX_PAGE = 200


def check_submitter(principal: Principal) -> None:
    """Refuse, before a byte of the file is read, a principal that may not submit batch inquiries: not a
    subscriber, or a member not vetted, without its licence in force, or not permitted the batch product."""
    authorize(principal, Action.BATCH_INQUIRE)
    check_use(principal, product=Product.BATCH, day=datetime.now(UTC).date())


def submit(engine: Engine, *, settings: Settings, principal: Principal, sealed: SealedFile, file_format: str,
           now: datetime | None = None) -> BatchRead:
    """Take a received file (sealed in the scratch area; this call owns it) as a new job, queued.

    The file is read once, as the job will read it, and refused whole when malformed, empty or over
    ``batch_max_rows`` (nothing is kept of it then); otherwise it moves into the job's folder and the job is
    recorded, with the number of its rows, in one transaction.
    """
    try:
        check_submitter(principal)
        if file_format not in rows.FORMATS:
            raise rows.FileMalformed("unknown format: use csv or jsonl", field="format")
        with open_sealed(sealed.path, keys=file_keyring(settings), buffer_size=1 << 16) as stream:
            _, total = rows.scan(stream, file_format, max_rows=settings.batch_max_rows)
    except BaseException:
        sealed.path.unlink(missing_ok=True)
        raise
    now = now or datetime.now(UTC)
    token = secrets.token_hex(16)
    folder = files.make_job_dir(settings, subscriber_id=principal.member_id, token=token)
    try:
        os.replace(sealed.path, folder / files.INPUT)
        with session_scope(engine, write=True) as session:
            repo = BatchRepository(session.connection())
            batch_id = repo.add(dict(
                subscriber_id=principal.member_id, actor_code=principal.code, token=token, file_format=file_format,
                input_sha256=sealed.sha256, input_bytes=sealed.size_bytes, status=BatchStatus.QUEUED,
                chunk_rows=settings.batch_chunk_rows, rows_total=total, rows_done=0, rows_answered=0,
                rows_refused=0, rows_invalid=0, input_offset=0, failures=0, created_at=now))
            audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                         action="batch.submit", details={"batch_id": batch_id, "rows": total,
                                                         "sha256": sealed.sha256})
            return BatchRead.of(repo.get(batch_id))
    except BaseException:
        sealed.path.unlink(missing_ok=True)
        files.remove_job(folder)
        raise


def _own(session: Session, principal: Principal, batch_id: int):
    authorize(principal, Action.BATCH_INQUIRE)
    batch = BatchRepository(session.connection()).get(batch_id, subscriber_id=principal.member_id)
    if batch is None:
        raise NotFound(f"you have no batch {batch_id}", code=errors.BATCH_NOT_FOUND, field="batch_id")
    return batch


def get_batch(session: Session, *, principal: Principal, batch_id: int) -> BatchRead:
    """One of the lender's jobs with its progress (another lender's is not found)."""
    return BatchRead.of(_own(session, principal, batch_id))


def list_batches(session: Session, *, principal: Principal, before_id: int = 0, limit: int = 50) -> list[BatchRead]:
    """A page of the lender's jobs, newest first."""
    authorize(principal, Action.BATCH_INQUIRE)
    found = BatchRepository(session.connection()).of_subscriber(principal.member_id, before_id=before_id,
                                                               limit=min(max(limit, 1), MAX_PAGE))
    return [BatchRead.of(b) for b in found]


def cancel(session: Session, *, settings: Settings, principal: Principal, batch_id: int,
           now: datetime | None = None) -> BatchRead:
    """Stop one of the lender's open jobs: the chunk being answered is not committed (its worker finds the job
    cancelled), the rows committed before stay logged and can be downloaded; 409 when the job had ended."""
    batch = _own(session, principal, batch_id)
    now = now or datetime.now(UTC)
    repo = BatchRepository(session.connection())
    if not repo.cancel(batch.id, now=now):
        raise Conflict(f"batch {batch_id} has ended ({batch.status})", code=errors.BATCH_FINISHED,
                       field="batch_id")
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="batch.cancel",
                 details={"batch_id": batch.id, "rows_done": batch.rows_done})
    # The lender's file is no longer needed. Should this transaction not commit, the job finds its file gone
    # and fails: nothing is answered that was not asked for.
    files.remove_input(files.job_dir(settings, subscriber_id=batch.subscriber_id, token=batch.token))
    return BatchRead.of(repo.get(batch.id))


def results_of(session: Session, *, settings: Settings, principal: Principal, batch_id: int,
               fmt: str | None = None) -> tuple[Iterator[bytes], str, str]:
    """The answers of one of the lender's finished jobs, streamed a part at a time: (the file's bytes, its
    format, a file name). 409 while the job runs. Every download is audited."""
    batch = _own(session, principal, batch_id)
    fmt = fmt or batch.file_format
    if fmt not in rows.FORMATS:
        raise rows.FileMalformed("unknown format: use csv or jsonl", field="format")
    if batch.status in BatchStatus.OPEN:
        raise Conflict(f"batch {batch_id} is {batch.status}: its results are ready when it ends "
                       f"({batch.rows_done:,} of {batch.rows_total:,} rows done)",
                       code=errors.BATCH_NOT_FINISHED, field="batch_id")
    parts = BatchRepository(session.connection()).parts(batch.id)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="batch.results_read", details={"batch_id": batch.id, "rows": sum(p.rows for p in parts),
                                                       "format": fmt})
    folder = files.job_dir(settings, subscriber_id=batch.subscriber_id, token=batch.token)
    stream = results.render((files.read_part(settings, folder, p.name) for p in parts), fmt)
    return stream, fmt, f"batch-{batch.id}-results.{fmt}"


def rows_used(session: Session, *, member_id: int, start: datetime, end: datetime) -> int:
    """How many rows of the member's batch jobs were answered from ``start`` to ``end`` (exclusive)."""
    return BatchRepository(session.connection()).rows_used(subscriber_id=member_id, start=start, end=end)


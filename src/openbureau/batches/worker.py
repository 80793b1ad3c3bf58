"""The batch worker: lease a job, answer its rows a chunk at a time, commit each chunk, resume after a kill.

Each row is checked (``rows.check_row``) and asked exactly as an online inquiry is
(``reports.service.prepare_inquiry``: the member's role, reciprocity and purposes, the consent or the
existing-account exception, objections, the freeze), under the principal of the member that submitted the
job, read again for every chunk. A chunk commits in one transaction: the job's progress moves from where the
chunk began (a compare-and-set on ``rows_done`` under the worker's lease), the allowed rows' inquiries are
logged with their audit entries and the person's notices (``inquiries.log.write_entries``, as the online log
writes them), and the chunk's part of the answers is recorded, its sealed file written and synced first.
A worker killed at any moment leaves either the whole chunk or nothing of it; the job's lease ends, and the
next worker resumes at the row after the last committed chunk (``input_offset``). No row is logged twice:
a second worker, a cancellation or an ended lease fails the compare-and-set and the chunk rolls back.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

from sqlalchemy import Engine, Row

from openbureau.batches import files, results, rows
from openbureau.batches.models import BatchStatus
from openbureau.batches.repository import BatchRepository
from openbureau.inquiries.log import write_entries
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.kit.settings import Settings
from openbureau.members.models import Product
from openbureau.members.service import members_by_id
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports.service import prepare_inquiry

GIVE_UP_AFTER = 5  # chunks failing in a row before the job is failed
MAX_RETRY_WAIT = timedelta(minutes=5)


class LeaseLost(Exception):
    """The job is no longer this worker's: cancelled, taken over after the lease ended, or finished."""


class Paused(Exception):
    """The job's member is suspended: the job waits (unleased) until the member is reinstated."""


@dataclass(slots=True)
class Outcome:
    """What a run did."""

    jobs: int = 0
    chunks: int = 0
    rows: int = 0


class Worker:
    """Answers batch jobs of one bureau: :meth:`run_once` takes every job that is due, :meth:`run` loops."""

    def __init__(self, engine: Engine, *, settings: Settings, vault: PiiVault, policy: Policy,
                 lease: timedelta | None = None) -> None:
        self.engine, self.settings, self.vault, self.policy = engine, settings, vault, policy
        self.lease = lease or timedelta(seconds=settings.batch_lease_seconds)

    def claim(self, *, now: datetime | None = None, batch_id: int | None = None) -> tuple[Row, str] | None:
        """Lease the oldest job that is due (or ``batch_id``): (the job, the lease's token), or None."""
        now = now or datetime.now(UTC)
        token = secrets.token_hex(16)
        with session_scope(self.engine, write=True) as session:
            batch = BatchRepository(session.connection()).claim(now=now, token=token, lease_until=now + self.lease,
                                                                batch_id=batch_id)
        return (batch, token) if batch is not None else None

    def run_chunk(self, batch: Row, token: str) -> Row:
        """Answer and commit the job's next chunk; the job as it stands after it. Raises :class:`LeaseLost`."""
        settings = self.settings
        folder = files.job_dir(settings, subscriber_id=batch.subscriber_id, token=batch.token)
        with files.open_input(settings, folder) as stream:
            layout = rows.read_layout(stream, batch.file_format)
            raw = list(islice(rows.rows_from(stream, layout, offset=batch.input_offset, number=batch.rows_done + 1),
                              batch.chunk_rows))
        checked = [rows.check_row(number, values) for number, _, values in raw]
        now = datetime.now(UTC)
        answers: list[tuple[rows.Row, object]] = []  # (row, Prepared | result line)
        with session_scope(self.engine, read_only=True) as session:
            member = members_by_id(session, {batch.subscriber_id})[batch.subscriber_id]
            if member.suspended_at is not None:  # suspended since the job was claimed: nothing of the chunk runs
                raise Paused(f"batch {batch.id} waits: its member is suspended")
            principal = Principal.of_member(member)
            for row in checked:
                if row.finding is not None:
                    answers.append((row, results.invalid(row)))
                    continue
                try:
                    answers.append((row, prepare_inquiry(session, vault=self.vault, principal=principal,
                                                         request=row.request, policy=self.policy, now=now,
                                                         product=Product.BATCH)))
                except BureauError as exc:
                    answers.append((row, results.refused(row, exc)))
        prepared = [(row, answer) for row, answer in answers if not isinstance(answer, dict)]
        done = batch.rows_done + len(checked)
        finished = not checked or done >= batch.rows_total
        counts = {"rows_answered": batch.rows_answered + len(prepared),
                  "rows_refused": batch.rows_refused + sum(isinstance(a, dict) and a["outcome"] == results.REFUSED
                                                           for _, a in answers),
                  "rows_invalid": batch.rows_invalid + sum(r.finding is not None for r in checked)}
        values = dict(rows_done=done, input_offset=raw[-1][1] if raw else batch.input_offset, failures=0,
                      last_error=None, lease_until=now + self.lease, **counts)
        if finished:
            values |= dict(status=BatchStatus.DONE, finished_at=now, lease_token=None)
        chunk = batch.rows_done // batch.chunk_rows
        with session_scope(self.engine, write=True) as session:
            repo = BatchRepository(session.connection())
            if not repo.advance(batch, token=token, values=values):
                raise LeaseLost(f"batch {batch.id} is no longer this worker's")
            ids = iter(write_entries(session, [p.entry for _, p in prepared]) if prepared else ())
            lines = [results.to_jsonl(answer if isinstance(answer, dict)
                                      else results.answered(row, answer.finish(next(ids))))
                     for row, answer in answers]
            if lines:
                name = files.write_part(settings, folder, chunk=chunk, lines=lines)
                repo.add_part(dict(batch_id=batch.id, chunk=chunk, name=name, rows=len(lines), created_at=now))
            after = repo.get(batch.id)
        if finished:
            self._tidy(after)
        return after

    def _tidy(self, batch: Row) -> None:
        """A job that ended keeps only its committed parts: the lender's file and stray parts go."""
        folder = files.job_dir(self.settings, subscriber_id=batch.subscriber_id, token=batch.token)
        files.remove_input(folder)
        with session_scope(self.engine, read_only=True) as session:
            keep = {p.name for p in BatchRepository(session.connection()).parts(batch.id)}
        files.remove_strays(folder, keep=keep)

    def run_job(self, batch: Row, token: str, *, stop: threading.Event | None = None, max_chunks: int | None = None,
                progress: Callable[[Row], None] | None = None) -> Outcome:
        """Answer a leased job chunk by chunk until it ends, ``stop`` is set or ``max_chunks`` were committed
        (then the lease is given back, for this or another worker to resume)."""
        outcome = Outcome(jobs=1)
        while batch.status == BatchStatus.RUNNING:
            if (stop is not None and stop.is_set()) or (max_chunks is not None and outcome.chunks >= max_chunks):
                with session_scope(self.engine, write=True) as session:
                    BatchRepository(session.connection()).release(batch.id, token=token, now=datetime.now(UTC))
                break
            before = batch.rows_done
            try:
                batch = self.run_chunk(batch, token)
            except LeaseLost:
                self._tidy_if_ended(batch.id)
                break
            except Paused:
                self._release(batch, token)
                break
            except Exception as exc:  # noqa: BLE001 - a busy database, a lost file: retried, then the job fails
                self._failed(batch, token, exc)
                break
            outcome.chunks += 1
            outcome.rows += batch.rows_done - before
            if progress is not None:
                progress(batch)
        return outcome

    def _tidy_if_ended(self, batch_id: int) -> None:
        with session_scope(self.engine, read_only=True) as session:
            batch = BatchRepository(session.connection()).get(batch_id)
        if batch is not None and batch.status not in BatchStatus.OPEN:
            self._tidy(batch)

    def _failed(self, batch: Row, token: str, exc: Exception) -> None:
        now = datetime.now(UTC)
        error = f"the chunk at row {batch.rows_done + 1:,} failed ({type(exc).__name__})"
        wait = min(timedelta(seconds=2 ** min(batch.failures + 1, 20)), MAX_RETRY_WAIT)
        with session_scope(self.engine, write=True) as session:
            status = BatchRepository(session.connection()).failed_chunk(
                batch.id, token=token, error=error, give_up_after=GIVE_UP_AFTER, now=now, retry_at=now + wait)
        if status == BatchStatus.FAILED:
            self._tidy_if_ended(batch.id)

    def run_once(self, *, max_chunks: int | None = None, progress: Callable[[Row], None] | None = None,
                 stop: threading.Event | None = None) -> Outcome:
        """Answer every job that is due now, one after another."""
        outcome = Outcome()
        seen: set[int] = set()
        while not (stop is not None and stop.is_set()):
            claimed = self.claim()
            if claimed is None or claimed[0].id in seen:
                if claimed is not None:
                    self._release(*claimed)
                break
            seen.add(claimed[0].id)
            done = self.run_job(*claimed, stop=stop, max_chunks=max_chunks, progress=progress)
            outcome.jobs += done.jobs
            outcome.chunks += done.chunks
            outcome.rows += done.rows
        return outcome

    def _release(self, batch: Row, token: str) -> None:
        with session_scope(self.engine, write=True) as session:
            BatchRepository(session.connection()).release(batch.id, token=token, now=datetime.now(UTC))

    def run(self, stop: threading.Event, *, poll: float = 1.0) -> Outcome:
        """Answer jobs until ``stop`` is set, looking for new ones every ``poll`` seconds when idle."""
        outcome = Outcome()
        while not stop.is_set():
            try:
                done = self.run_once(stop=stop)
            except Exception:  # noqa: BLE001 - a busy or restarting database: look again after the poll
                done = Outcome()
            outcome.jobs += done.jobs
            outcome.chunks += done.chunks
            outcome.rows += done.rows
            if not done.chunks:
                stop.wait(poll)
        return outcome


def in_background(engine: Engine, *, settings: Settings, vault: PiiVault, policy: Policy
                  ) -> tuple[threading.Event, threading.Thread]:
    """Run a worker in a daemon thread (``openbureau serve`` on the embedded default); set the event to stop."""
    stop = threading.Event()
    worker = Worker(engine, settings=settings, vault=vault, policy=policy)
    thread = threading.Thread(target=worker.run, args=(stop,), name="batch-inquiries", daemon=True)
    thread.start()
    return stop, thread

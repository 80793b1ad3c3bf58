"""A serving process's lending events taken in by a process of its own.

An event batch costs about 30 ms of CPU (``bench/event_batches.py``), most of it inside its write
transaction. Run in a thread of the serving process, that work shares the process's interpreter lock with
the inquiries it serves: the inquiries wait for the lock, and the transaction, stretched by them to four
times its length, holds SQLite's write lock for as long, so every inquiry's log entry waits for it too
(docs/events.md, "A share that follows the inquiries"). In a process of its own the batch takes the CPU the
system gives it and no interpreter lock of the inquiries'.

The intake process opens the bureau from the serving process's settings (its own engine, vault and
policy), reads the furnisher by id (a member suspended meanwhile is refused there as here), and answers
with the batch's result. If it dies (killed, out of memory), the batch it was taking in is answered 503
(its transaction either committed whole or left nothing: a resend is acknowledged as a duplicate or stored)
and the next batch starts a new process.

Example:
    >>> intake = EventProcess(settings)  # doctest: +SKIP
    >>> result = await intake.take_in(furnisher, batch, datetime.now(UTC))  # doctest: +SKIP
    >>> intake.close()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

import polars as pl

from openbureau.intake.events.service import EventIntakeResult, receive_events
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.kit.settings import Settings
from openbureau.members.models import Member
from openbureau.runtime import Runtime, open_runtime

INTAKE_RESTARTED = "EVENT_INTAKE_RESTARTED"
_runtime: Runtime | None = None  # the intake process's bureau, opened by _open


def _open(settings: Settings) -> None:
    global _runtime
    _runtime = open_runtime(settings, migrate=False)


def _take_in(furnisher_id: int, batch: pl.DataFrame, now: datetime) -> EventIntakeResult:
    assert _runtime is not None, "the intake process was not opened"
    with session_scope(_runtime.engine) as session:
        furnisher = session.get(Member, furnisher_id)
        session.expunge(furnisher)
    return receive_events(_runtime.engine, vault=_runtime.vault, profile=_runtime.policy.profile,
                          furnisher=furnisher, batch=batch, now=now)


class EventProcess:
    """Takes in event batches in a process of its own (started on first use or by :meth:`start`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._guard = threading.Lock()
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        with self._guard:
            if self._closed:
                raise BureauError("the server is stopping; send the batch again in a moment",
                                  code=INTAKE_RESTARTED, status_code=503)
            if self._pool is None:
                # spawn, not fork: the serving process runs threads (the event loop's, the database's).
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_open, initargs=(self.settings,))
            return self._pool

    def start(self) -> None:
        """Start the intake process now (it takes a second or two to open the bureau), not at the first batch."""
        self._executor().submit(os.getpid)

    def pid(self, timeout: float = 60) -> int:
        """The intake process's id (started if it was not)."""
        return self._executor().submit(os.getpid).result(timeout=timeout)

    async def take_in(self, furnisher: Member, batch: pl.DataFrame, now: datetime) -> EventIntakeResult:
        """Take in ``batch`` of ``furnisher`` as :func:`receive_events` would, in the intake process."""
        for _ in range(2):  # a process that stopped between batches has nothing of this one: a new process
            pool = self._executor()
            try:
                future = pool.submit(_take_in, furnisher.id, batch, now)
                break
            except BrokenProcessPool:
                self._discard(pool)
        else:
            raise BureauError("the event intake process cannot start; send the batch again later",
                              code=INTAKE_RESTARTED, status_code=503)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._discard(pool)
            raise BureauError("the event intake process stopped while taking in this batch; send it again "
                              "(events already stored are acknowledged as duplicates)",
                              code=INTAKE_RESTARTED, status_code=503) from None

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._guard:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False)

    def close(self) -> None:
        """Wait for the batch being taken in, then stop the intake process."""
        with self._guard:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=True)

"""A serving process's lending events taken in by two processes of their own (``api.side_process``): one
judges each batch, one writes it.

An event batch costs some 45 ms of CPU and more with its size (``bench/event_batches.py``). Run in a thread
of the serving process, that work shares the process's interpreter lock with the inquiries it serves: the
inquiries wait for the lock, and the transaction, stretched by them to four times its length, holds SQLite's
write lock for as long, so every inquiry's log entry waits for it too (docs/events.md, "A share that follows
the inquiries"). In processes of their own the batch takes the CPU the system gives it and no interpreter
lock of the inquiries'.

Most of that work, validation, sealing, linking and the consent gate, takes no write lock
(``intake.events.service.judge_events``): the judging process does it at a lower CPU priority
(``OPENBUREAU_EVENT_NICENESS``), so that on a busy machine the cores go to the inquiries first, as they do
before a load's preparing process. The write transaction (``store_judged``) runs in the writing process at
the serving process's priority: on SQLite it holds the one write lock every inquiry's log entry waits for,
and a writer starved of CPU would hold it longer (a single intake process at a lower priority made the
inquiries slower, not faster: docs/events.md).

Each process reads the furnisher by id (a member suspended meanwhile is refused there as here). A batch
whose process died is answered 503: its transaction either committed whole or left nothing, so a resend is
acknowledged as a duplicate or stored.

Example:
    >>> intake = EventProcess(settings)  # doctest: +SKIP
    >>> result = await intake.take_in(furnisher, batch, datetime.now(UTC))  # doctest: +SKIP
    >>> intake.close()  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from openbureau.api.side_process import SideProcess, side_runtime
from openbureau.intake.events.service import EventIntakeResult, JudgedBatch, judge_events, store_judged
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings
from openbureau.members.models import Member

INTAKE_RESTARTED = "EVENT_INTAKE_RESTARTED"


def _furnisher(furnisher_id: int) -> Member:
    with session_scope(side_runtime().engine) as session:
        furnisher = session.get(Member, furnisher_id)
        session.expunge(furnisher)
    return furnisher


def _judge(furnisher_id: int, batch: pl.DataFrame, now: datetime) -> JudgedBatch:
    runtime = side_runtime()
    return judge_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                        furnisher=_furnisher(furnisher_id), batch=batch, now=now)


def _store(furnisher_id: int, judged: JudgedBatch) -> EventIntakeResult:
    runtime = side_runtime()
    return store_judged(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                        furnisher=_furnisher(furnisher_id), judged=judged)


class EventProcess:
    """Takes in event batches in two processes of their own (each started on first use or by :meth:`start`):
    ``judging``, at ``OPENBUREAU_EVENT_NICENESS``, and ``writing``."""

    def __init__(self, settings: Settings) -> None:
        stopped = ("the event intake process stopped while taking in this batch; send it again (events already "
                   "stored are acknowledged as duplicates)")
        cannot_start = "the event intake process cannot start; send the batch again later"
        self.judging = SideProcess(settings, code=INTAKE_RESTARTED, stopped=stopped, cannot_start=cannot_start,
                                   niceness=settings.event_niceness)
        self.writing = SideProcess(settings, code=INTAKE_RESTARTED, stopped=stopped, cannot_start=cannot_start)

    def start(self) -> None:
        """Start both processes now, not at the first batch."""
        self.judging.start()
        self.writing.start()

    def pids(self) -> tuple[int, int]:
        """The judging and the writing process's ids (started if they were not)."""
        return self.judging.pid(), self.writing.pid()

    def close(self) -> None:
        """Wait for the batch in hand, then stop both processes."""
        self.judging.close()
        self.writing.close()

    async def take_in(self, furnisher: Member, batch: pl.DataFrame, now: datetime) -> EventIntakeResult:
        """Take in ``batch`` of ``furnisher`` as :func:`receive_events` would: judged in one process, stored
        in the other."""
        judged = await self.judging.run(_judge, furnisher.id, batch, now)
        return await self.writing.run(_store, furnisher.id, judged)

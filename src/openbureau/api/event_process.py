"""A serving process's lending events taken in by a process of its own (``api.side_process``).

An event batch costs about 30 ms of CPU (``bench/event_batches.py``), most of it inside its write
transaction. Run in a thread of the serving process, that work shares the process's interpreter lock with
the inquiries it serves: the inquiries wait for the lock, and the transaction, stretched by them to four
times its length, holds SQLite's write lock for as long, so every inquiry's log entry waits for it too
(docs/events.md, "A share that follows the inquiries"). In a process of its own the batch takes the CPU the
system gives it and no interpreter lock of the inquiries'.

The intake process reads the furnisher by id (a member suspended meanwhile is refused there as here) and
answers with the batch's result. A batch whose process died is answered 503: its transaction either
committed whole or left nothing, so a resend is acknowledged as a duplicate or stored.

Example:
    >>> intake = EventProcess(settings)  # doctest: +SKIP
    >>> result = await intake.take_in(furnisher, batch, datetime.now(UTC))  # doctest: +SKIP
    >>> intake.close()  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from openbureau.api.side_process import SideProcess, side_runtime
from openbureau.intake.events.service import EventIntakeResult, receive_events
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings
from openbureau.members.models import Member

INTAKE_RESTARTED = "EVENT_INTAKE_RESTARTED"


def _take_in(furnisher_id: int, batch: pl.DataFrame, now: datetime) -> EventIntakeResult:
    runtime = side_runtime()
    with session_scope(runtime.engine) as session:
        furnisher = session.get(Member, furnisher_id)
        session.expunge(furnisher)
    return receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                          furnisher=furnisher, batch=batch, now=now)


class EventProcess(SideProcess):
    """Takes in event batches in a process of its own (started on first use or by :meth:`start`)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, code=INTAKE_RESTARTED,
                         stopped="the event intake process stopped while taking in this batch; send it again "
                         "(events already stored are acknowledged as duplicates)",
                         cannot_start="the event intake process cannot start; send the batch again later")

    async def take_in(self, furnisher: Member, batch: pl.DataFrame, now: datetime) -> EventIntakeResult:
        """Take in ``batch`` of ``furnisher`` as :func:`receive_events` would, in the intake process."""
        return await self.run(_take_in, furnisher.id, batch, now)

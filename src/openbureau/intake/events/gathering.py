"""Small batches of one furnisher received at the same time, taken in as one: a batch costs some 45-50 ms
of CPU whatever its size and a fraction of a millisecond per event beyond (``bench/event_batches.py``), so
ten single-event calls that arrive together cost several times what one call of ten events does.

While one of a furnisher's batches is being taken in, the batches that arrive from the same furnisher wait;
when it is done, those waiting are taken in as one batch (up to 10,000 events), and each caller gets the
part of the result about its own events, numbered from its own first line, as if its batch had been taken
in alone. A caller who sends alone waits for nobody. Batches of different furnishers never wait for each
other (each furnisher's are taken in one after the other, as a furnisher's own calls are ordered).

With a ``linger`` (``OPENBUREAU_EVENT_GATHER_MS``), each take-in of a furnisher's waiting batches waits that
long first, so that the furnisher's batches that arrive meanwhile are taken in with them: a platform that
posts a batch every 100 ms then pays one transaction's fixed cost for two or three (on SQLite that is also
the time its write lock is held, which inquiries wait for), and every call waits up to the linger longer.

What would differ if batches were joined is kept apart: a batch is not joined to others when an event id
appears in it twice (the finding names the earlier line, which must be a line of its own batch), or when
one of its event ids is in a batch already joined (the second would be a duplicate within one batch, a
finding, instead of an acknowledged resend). A joined call that fails is taken again batch by batch, so
that a batch that fails fails alone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine

from openbureau.consent.profiles import JurisdictionProfile
from openbureau.intake.events.service import EventIntakeResult, receive_events
from openbureau.intake.events.standard import MAX_BATCH_EVENTS
from openbureau.intake.validation.engine import LINE
from openbureau.kit.crypto import PiiVault
from openbureau.members.models import Member


@dataclass(slots=True)
class _Waiting:
    batch: pl.DataFrame
    ids: frozenset[str]
    joinable: bool  # no event id twice within it
    answer: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


TakeIn = Callable[[Member, pl.DataFrame, datetime], Awaitable[EventIntakeResult]]


class EventGatherer:
    """One serving process's intake of event batches (``POST /v1/events``), gathering each furnisher's
    concurrent batches into one call of :func:`receive_events`: in a thread of this process, or by ``take_in``
    (``api.event_process``: a process of its own)."""

    def __init__(self, engine: Engine, *, vault: PiiVault, profile: JurisdictionProfile,
                 max_events: int = MAX_BATCH_EVENTS, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 take_in: TakeIn | None = None, linger: float = 0.0) -> None:
        self.engine, self.vault, self.profile, self.max_events, self.clock = engine, vault, profile, max_events, clock
        self.take_in = take_in or self._in_thread
        self.linger = linger
        self._waiting: dict[int, deque[_Waiting]] = {}
        self._draining: dict[int, asyncio.Task] = {}

    async def receive(self, furnisher: Member, batch: pl.DataFrame) -> EventIntakeResult:
        """Take in ``batch`` (``_line`` from 1 and the event columns as text) of ``furnisher``; its result."""
        ids = [i for i in batch["event_id"].to_list() if i is not None] if "event_id" in batch.columns else []
        waiting = _Waiting(batch, frozenset(ids), joinable=len(set(ids)) == len(ids))
        self._waiting.setdefault(furnisher.id, deque()).append(waiting)
        if furnisher.id not in self._draining:
            self._draining[furnisher.id] = asyncio.get_running_loop().create_task(self._drain(furnisher))
        return await asyncio.shield(waiting.answer)

    async def _drain(self, furnisher: Member) -> None:
        queue = self._waiting[furnisher.id]
        try:
            while queue:
                if self.linger:
                    await asyncio.sleep(self.linger)
                await self._take_in(furnisher, self._next_group(queue))
        finally:
            del self._draining[furnisher.id]
            if not queue:
                del self._waiting[furnisher.id]

    def _next_group(self, queue: deque[_Waiting]) -> list[_Waiting]:
        """The batches at the front of the queue that may be taken in as one, in the order they came."""
        group = [queue.popleft()]
        if not group[0].joinable:
            return group
        events, ids = group[0].batch.height, set(group[0].ids)
        while queue and queue[0].joinable and events + queue[0].batch.height <= self.max_events \
                and ids.isdisjoint(queue[0].ids):
            following = queue.popleft()
            group.append(following)
            events += following.batch.height
            ids |= following.ids
        return group

    async def _take_in(self, furnisher: Member, group: list[_Waiting]) -> None:
        if len(group) > 1:
            try:
                joined, firsts = _joined([w.batch for w in group])
                result = await self._receive(furnisher, joined)
            except Exception:  # noqa: BLE001 - each batch is taken again alone, and fails alone
                pass
            else:
                for waiting, first in zip(group, firsts, strict=True):
                    _answer(waiting, result=result.lines(first, waiting.batch.height))
                return
        for waiting in group:
            try:
                _answer(waiting, result=await self._receive(furnisher, waiting.batch))
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who answers it
                _answer(waiting, error=exc)

    async def _receive(self, furnisher: Member, batch: pl.DataFrame) -> EventIntakeResult:
        return await self.take_in(furnisher, batch, self.clock())

    async def _in_thread(self, furnisher: Member, batch: pl.DataFrame, now: datetime) -> EventIntakeResult:
        return await asyncio.to_thread(receive_events, self.engine, vault=self.vault, profile=self.profile,
                                       furnisher=furnisher, batch=batch, now=now)


def _joined(batches: list[pl.DataFrame]) -> tuple[pl.DataFrame, list[int]]:
    """The batches one after the other, lines numbered on from one to the next; each batch's first line."""
    firsts, parts, first = [], [], 1
    for batch in batches:
        firsts.append(first)
        parts.append(batch.with_columns(pl.col(LINE) + (first - 1)))
        first += batch.height
    return pl.concat(parts, how="vertical"), firsts


def _answer(waiting: _Waiting, *, result: EventIntakeResult | None = None, error: Exception | None = None) -> None:
    if waiting.answer.done():  # the caller went away; its events are stored all the same
        return
    if error is not None:
        waiting.answer.set_exception(error)
    else:
        waiting.answer.set_result(result)

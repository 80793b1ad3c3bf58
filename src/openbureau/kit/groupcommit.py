"""Group commit: requests on one event loop hand small writes to a committer task that commits them together.

A request that must not answer before its write is durable (an inquiry is logged before the report leaves
the bureau) awaits :meth:`GroupCommitter.submit`. The committer task, on the same loop, takes every item
waiting, runs the batch function on them in one write transaction, commits (one fsync for the lot) and
hands each caller its own result. While the loop is busy preparing requests the items pile up, so under
load each commit carries as many items as there are requests in flight.

It runs on the loop thread, not in a thread of its own: a writer thread would compete with the request
handlers for the GIL and the core, commit as fast as items arrive, and so commit them one at a time. The
commit blocks the loop for its duration (a fraction of a millisecond), which is time the loop would have
spent waiting for it anyway. What would block it for longer is kept off it: on SQLite the committer writes
through a connection of its own that fails at once when another serving process holds the write lock (it
then retries after ``linger`` while the loop prepares requests, instead of sleeping in the driver), and
the write-ahead log is copied back into the database by a checkpoint thread, not by a commit.

Example:
    >>> committer = GroupCommitter(engine, write_batch)   # write_batch(session, items) -> results
    >>> inquiry_id = await committer.submit(entry)        # returns once the batch holding it committed
    >>> await committer.stop()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.kit.db import Checkpointer, lock_busy, session_scope, writer_engine
from openbureau.kit.dialects import dialect_for
from openbureau.kit.errors import BureauError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class WriteUnavailable(BureauError):
    """The write could not be made durable; the caller must not answer as if it were."""

    status_code = 503
    code = "WRITE_UNAVAILABLE"


class GroupCommitter(Generic[Item, Result]):
    """Commits items submitted by coroutines of one event loop, in shared transactions.

    Args:
        engine: The database to write to.
        write_batch: Writes the items in the given session (flush, never commit) and returns one result per
            item, in order.
        max_batch: Most items in one transaction.
        linger: Seconds to wait for more items after each one arrives ...
        max_wait: ... but no longer than this after the first.
        lock_wait: Seconds a batch may wait for another process's write lock before its callers are told
            that the write failed.
    """

    def __init__(self, engine: Engine, write_batch: Callable[[Session, Sequence[Item]], list[Result]], *,
                 max_batch: int = 256, linger: float = 0.0005, max_wait: float = 0.005,
                 lock_wait: float = 30.0) -> None:
        self.source = engine
        self.engine = writer_engine(engine)
        self._own_writer = self.engine is not engine  # SQLite: a connection of its own, and a checkpointer
        self._dialect = dialect_for(self.engine)
        self.lock_wait = lock_wait
        self._checkpointer: Checkpointer | None = None
        self._busy_since: float | None = None
        self.write_batch = write_batch
        self.max_batch = max_batch
        self.linger = linger
        self.max_wait = max_wait
        self._pending: list[tuple[Item, asyncio.Future]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self.batches = 0
        self.items = 0

    async def submit(self, item: Item) -> Result:
        """Write ``item`` and return its result once the transaction holding it has committed."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wakeup = asyncio.Event()
            if self._own_writer and self._checkpointer is None:
                self._checkpointer = Checkpointer(self.source).start()
            self._task = loop.create_task(self._run(), name="group-commit")
        future = loop.create_future()
        self._pending.append((item, future))
        self._wakeup.set()
        return await future

    async def stop(self) -> None:
        """Commit what is waiting and stop the committer task."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        while self._pending:
            if not self._commit_next():
                time.sleep(self.linger)
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._own_writer:
            self.engine.dispose()  # its connection; a later submit opens another

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            # Linger while items keep coming (requests under way finishing their reads), at most max_wait:
            # a commit costs about as much as preparing a request, so it should carry all that are ready.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.max_wait
            while True:
                before = len(self._pending)
                await asyncio.sleep(self.linger)
                if len(self._pending) in (before, 0) or len(self._pending) >= self.max_batch or loop.time() > deadline:
                    break
            while self._pending:
                if not self._commit_next():  # another process holds the write lock: let the loop work meanwhile
                    await asyncio.sleep(self.linger)

    def _commit_next(self) -> bool:
        """Commit the next batch; False, with the batch still waiting, when the write lock is busy."""
        pending = self._pending[:self.max_batch]
        items = [item for item, _ in pending]
        try:
            with session_scope(self.engine, write=True) as session:
                results = self.write_batch(session, items)
            if len(results) != len(items):
                raise RuntimeError(f"write_batch returned {len(results)} results for {len(items)} items")
        except Exception as exc:  # the driver's own error when the lock is refused at BEGIN
            if lock_busy(exc) and not self._waited_too_long():
                # A long job (a load) takes the lock again between its transactions: ask it for the next turn.
                self._dialect.ask_turn(self.engine)
                return False
            self._end_turn()
            self._fail(pending, exc)
            return True
        self._end_turn()
        del self._pending[:len(pending)]
        self.batches += 1
        self.items += len(items)
        for (_, future), result in zip(pending, results, strict=True):
            if not future.done():  # its request may have gone away; the write stands
                future.set_result(result)
        return True

    def _end_turn(self) -> None:
        if self._busy_since is not None:
            self._dialect.end_turn(self.engine)
        self._busy_since = None

    def _waited_too_long(self) -> bool:
        now = time.monotonic()
        if self._busy_since is None:
            self._busy_since = now
        return now - self._busy_since > self.lock_wait

    def _fail(self, pending: list[tuple[Item, asyncio.Future]], exc: Exception) -> None:
        """Every caller waiting on ``pending`` learns that its write failed."""
        self._busy_since = None
        del self._pending[:len(pending)]
        log.error("group commit of %d items failed", len(pending), exc_info=exc)
        error = exc if isinstance(exc, BureauError) else WriteUnavailable(
            f"the write could not be committed: {type(exc).__name__}")
        for _, future in pending:
            if not future.done():
                future.set_exception(error)

"""Group commit: many request threads hand small writes to one writer thread, which commits them together.

A request that must not answer before its write is durable (an inquiry is logged before the report leaves
the bureau) calls :meth:`GroupCommitter.submit` and waits. The writer thread takes every item waiting,
runs the batch function on them in one write transaction, commits (one fsync for the lot) and hands each
caller its own result. Under load this turns a thousand transactions a second into a few hundred, and on
SQLite it means one connection per process competes for the single write lock instead of every thread.

Example:
    >>> committer = GroupCommitter(engine, write_batch)   # write_batch(session, items) -> results
    >>> committer.start()
    >>> inquiry_id = committer.submit(entry)             # returns once the batch holding it committed
    >>> committer.stop()
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

_STOP = object()


class WriteUnavailable(BureauError):
    """The write could not be made durable; the caller must not answer as if it were."""

    status_code = 503
    code = "WRITE_UNAVAILABLE"


class GroupCommitter(Generic[Item, Result]):
    """A writer thread committing batches of items with ``write_batch(session, items) -> results``.

    Args:
        engine: The database to write to.
        write_batch: Writes the items in the given session (flush, never commit) and returns one result per
            item, in order.
        max_batch: Most items in one transaction.
        timeout: Seconds a caller waits for its commit before it is told the write is unavailable.
    """

    def __init__(self, engine: Engine, write_batch: Callable[[Session, Sequence[Item]], list[Result]], *,
                 max_batch: int = 256, timeout: float = 30.0) -> None:
        self.engine = engine
        self.write_batch = write_batch
        self.max_batch = max_batch
        self.timeout = timeout
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0

    def start(self) -> GroupCommitter[Item, Result]:
        """Start the writer thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        """Commit what is waiting, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _enqueue(self, item: Item) -> Future:
        if self._thread is None:
            self.start()
        future: Future = Future()
        self._queue.put((item, future))
        return future

    def submit(self, item: Item) -> Result:
        """Write ``item`` and return its result once the transaction holding it has committed."""
        try:
            return self._enqueue(item).result(timeout=self.timeout)
        except TimeoutError as exc:
            raise WriteUnavailable(f"the write was not committed within {self.timeout:.0f} s") from exc

    async def submit_async(self, item: Item) -> Result:
        """:meth:`submit` for an event loop: the loop serves other requests while the commit is made."""
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self._enqueue(item)), self.timeout)
        except TimeoutError as exc:
            raise WriteUnavailable(f"the write was not committed within {self.timeout:.0f} s") from exc

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            pending = [first]
            while len(pending) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stopping = True
                    break
                pending.append(nxt)
            self._commit(pending)

    def _commit(self, pending: list[tuple[Item, Future]]) -> None:
        items = [item for item, _ in pending]
        try:
            with session_scope(self.engine, write=True) as session:
                results = self.write_batch(session, items)
            if len(results) != len(items):
                raise RuntimeError(f"write_batch returned {len(results)} results for {len(items)} items")
        except Exception as exc:  # every waiting caller learns that its write failed
            log.exception("group commit of %d items failed", len(items))
            error = exc if isinstance(exc, BureauError) else WriteUnavailable(
                f"the write could not be committed: {type(exc).__name__}")
            for _, future in pending:
                future.set_exception(error)
            return
        self.batches += 1
        self.items += len(items)
        for (_, future), result in zip(pending, results, strict=True):
            future.set_result(result)

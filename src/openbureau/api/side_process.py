"""Work a serving process hands to a process of its own: lending event batches (``api.event_process``) and
furnishing files' loads (``api.load_process``).

Done in a thread of the serving process, that work would share the process's interpreter lock with the
inquiries it serves, and on SQLite stretch its write transactions, which every inquiry's log entry waits for
(docs/events.md). A side process opens the bureau from the serving process's settings (its own engine,
vault and policy) when it starts, so the imports and the opening, a second or two of CPU, are paid once,
when the server starts, not by the first batch or file. It takes one piece of work at a time. If it dies
(killed, out of memory), the work it was doing is answered 503 (each piece is all or nothing: the client
sends it again) and the next piece starts a new process.

Example:
    >>> side = SideProcess(settings, stopped="...", cannot_start="...")  # doctest: +SKIP
    >>> side.start()  # doctest: +SKIP
    >>> result = await side.run(function, argument)  # doctest: +SKIP
    >>> side.close()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from openbureau.kit.errors import BureauError
from openbureau.kit.settings import Settings
from openbureau.runtime import Runtime, open_runtime

_runtime: Runtime | None = None  # the side process's bureau, opened by _open


def _open(settings: Settings, niceness: int) -> None:
    global _runtime
    if niceness:
        os.nice(niceness)
    _runtime = open_runtime(settings, migrate=False)


def side_runtime() -> Runtime:
    """The bureau as a side process opened it (only inside a side process)."""
    assert _runtime is not None, "not in a side process"
    return _runtime


class SideProcess:
    """Runs module-level functions in a process of its own (started on first use or by :meth:`start`).

    ``stopped`` is the message of a 503 when the process dies during a piece of work, ``cannot_start``
    when no process can be started; both carry ``code``. ``niceness`` lowers the process's CPU priority by
    that much before it opens the bureau.
    """

    def __init__(self, settings: Settings, *, code: str, stopped: str, cannot_start: str, niceness: int = 0) -> None:
        self.settings = settings
        self.niceness = niceness
        self.code = code
        self.stopped = stopped
        self.cannot_start = cannot_start
        self._pool: ProcessPoolExecutor | None = None
        self._guard = threading.Lock()
        self._closed = False

    def _refused(self, message: str) -> BureauError:
        return BureauError(message, code=self.code, status_code=503)

    def _executor(self) -> ProcessPoolExecutor:
        with self._guard:
            if self._closed:
                raise self._refused("the server is stopping; send it again in a moment")
            if self._pool is None:
                # spawn, not fork: the serving process runs threads (the event loop's, the database's).
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_open, initargs=(self.settings, self.niceness))
            return self._pool

    def start(self) -> None:
        """Start the process now (it takes a second or two to open the bureau), not at the first piece of work."""
        self._executor().submit(os.getpid)

    def pid(self, timeout: float = 60) -> int:
        """The process's id (started if it was not)."""
        return self._executor().submit(os.getpid).result(timeout=timeout)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the process; a ``BureauError`` it raises is raised here as it was."""
        for _ in range(2):  # a process that stopped between two pieces has nothing of this one: a new process
            pool = self._executor()
            try:
                future = pool.submit(function, *args)
                break
            except BrokenProcessPool:
                self._discard(pool)
        else:
            raise self._refused(self.cannot_start)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._discard(pool)
            raise self._refused(self.stopped) from None

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._guard:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False)

    def close(self) -> None:
        """Wait for the piece of work in hand, then stop the process."""
        with self._guard:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=True)

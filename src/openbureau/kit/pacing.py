"""A long job's share of the machine: it works at most a stated share of the time and rests the rest.

A load, a consent import, a retention run or a rewrite of the account states writes in short transactions
and calls ``Dialect.between_writes`` between two of them. There the job's thread rests, when a share below 1
is set, for as long as keeps its busy time (everything since its last rest: its own work, the database's
work for it, and the wait for its preparing side) at ``share`` of the time that passed: after 40 ms of work
at a share of 0.5, 40 ms of rest. On a small machine the serving processes keep the cores the job leaves, so
inquiries answered during a load take less long than beside an unpaced one, and the job takes up to
``1 / share`` times as long (measured: docs/events.md, Loads that leave room for inquiries). The preparing
process of a load waits for its writer once the hand-off between them is full, so it follows the same pace.

The rest is per thread (a serving process's jobs each keep their own), at most ``MAX_REST`` at a time, and a
call after ``NEW_JOB_GAP`` without one starts the count again (a thread that was not in a job, or waited
long for a file to arrive, was not busy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_REST = 1.0  # seconds of one rest: a job never stops for long, whatever its last step took
NEW_JOB_GAP = 30.0  # seconds since the last call after which the thread counts as starting a new job


class WorkShare:
    """Keeps the busy time of each thread's long job at ``share`` of the wall time (1: never rests)."""

    def __init__(self, share: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"a job's share of the time must be above 0 and at most 1, not {share}")
        self.share = share
        self._clock, self._sleep = clock, sleep
        self._local = threading.local()

    def rest(self) -> float:
        """Rest as long as the work since this thread's last rest asks; the seconds rested."""
        now = self._clock()
        since = getattr(self._local, "since", None)
        self._local.since = now
        if self.share >= 1 or since is None or now - since > NEW_JOB_GAP:
            return 0.0
        rest = min((now - since) * (1 / self.share - 1), MAX_REST)
        self._sleep(rest)
        self._local.since = self._clock()
        return rest

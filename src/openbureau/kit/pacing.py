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

A fixed share is a guess: too low and a load at night crawls for nothing, too high and inquiries by day wait.
With a latency target, the share follows the inquiries instead. Each serving process writes the p99 of the
inquiries it answered in the last ``LatencyBoard.window`` seconds to a small file of its own in the bureau's
data directory (``LatencyBoard.record``); a job reads the highest of them (``LatencyBoard.p99``) at most every
``ADAPT_EVERY`` seconds and halves its share while that p99 is above the target, and raises it by
``SHARE_STEP`` while it is below ``EASE_BELOW`` of the target or nobody is asking (add a little, take away much:
the rule TCP uses for its congestion window). The share stays between ``MIN_SHARE`` (a load always moves on)
and the configured one.
"""

from __future__ import annotations

import math
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

MAX_REST = 1.0  # seconds of one rest: a job never stops for long, whatever its last step took
NEW_JOB_GAP = 30.0  # seconds since the last call after which the thread counts as starting a new job
ADAPT_EVERY = 0.5  # seconds between two looks at the inquiries' latency, when a target is set
MIN_SHARE = 0.05  # the least share a job adapting to the inquiries is given: it always moves on
SHARE_STEP = 0.1  # added to the share at each look while the inquiries are well within the target
EASE_BELOW = 0.75  # "well within": a p99 below this part of the target

_RECORD = struct.Struct("<dQd")  # p99 seconds, inquiries in the window, wall-clock time of the window's end


class LatencyBoard:
    """The serving processes' recent inquiry latency, shared through one small file per process in
    ``directory`` (``<pid>``: p99, count, time), each replaced whole (``os.replace``) so a reader never sees
    half of one. A process writes when an inquiry ends at least ``window`` seconds after its last write; a
    file older than ``max_age`` seconds is a process that answers nothing now (or no longer runs) and counts
    as no figure. The files hold timings only, nothing about anyone."""

    def __init__(self, directory: Path, *, window: float = 1.0, max_age: float = 3.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory, self.window, self.max_age, self._clock = Path(directory), window, max_age, clock
        self._latencies: list[float] = []
        self._since: float | None = None

    # -- a serving process ----------------------------------------------------------------------------
    def record(self, seconds: float) -> None:
        """One inquiry answered in ``seconds``; publishes the window's p99 once the window is over."""
        now = self._clock()
        self._latencies.append(seconds)
        if self._since is None:
            self._since = now
        elif now - self._since >= self.window:
            latencies, self._latencies, self._since = sorted(self._latencies), [], now
            p99 = latencies[math.ceil(0.99 * len(latencies)) - 1]  # the nearest rank
            self._publish(_RECORD.pack(p99, len(latencies), now))

    def _publish(self, payload: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / str(os.getpid())
        partial = path.with_suffix(".partial")
        partial.write_bytes(payload)
        os.replace(partial, path)

    def withdraw(self) -> None:
        """A serving process that stops removes its file."""
        (self.directory / str(os.getpid())).unlink(missing_ok=True)

    # -- a job ----------------------------------------------------------------------------------------
    def p99(self) -> float | None:
        """The highest p99 (seconds) any serving process published within ``max_age``; None when none did."""
        now, worst = self._clock(), None
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return None
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(entry.path, "rb") as handle:  # a record's size and one byte more, whatever lies there
                    p99, _, at = _RECORD.unpack(handle.read(_RECORD.size + 1))
            except (OSError, struct.error):  # replaced or removed while read, or not one of ours
                continue
            fresh = -1.0 <= now - at <= self.max_age  # a time ahead of the clock is no figure either
            if fresh and math.isfinite(p99) and p99 >= 0 and (worst is None or p99 > worst):
                worst = p99
        return worst


class WorkShare:
    """Keeps the busy time of each thread's long job at ``share`` of the wall time (1: never rests); with a
    ``latency_target`` (seconds) and the serving processes' ``board``, at the share that keeps their inquiries'
    p99 within the target, at most ``share``."""

    def __init__(self, share: float = 1.0, *, latency_target: float | None = None,
                 board: LatencyBoard | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"a job's share of the time must be above 0 and at most 1, not {share}")
        if latency_target is not None and (latency_target <= 0 or board is None):
            raise ValueError("a latency target must be above 0 and come with the serving processes' board")
        self.share, self.latency_target, self.board = share, latency_target, board
        self.current = share  # the share in force: ``share``, or what the inquiries' latency left of it
        self._clock, self._sleep = clock, sleep
        self._local = threading.local()
        self._looked = float("-inf")

    def adapt(self) -> float:
        """Look at the inquiries' latency (at most every ``ADAPT_EVERY`` seconds) and set the share in force."""
        now = self._clock()
        if self.latency_target is None or now - self._looked < ADAPT_EVERY:
            return self.current
        self._looked = now
        p99 = self.board.p99()
        if p99 is not None and p99 > self.latency_target:
            self.current = max(MIN_SHARE, self.current / 2)
        elif p99 is None or p99 < EASE_BELOW * self.latency_target:
            self.current = min(self.share, self.current + SHARE_STEP)
        return self.current

    def rows(self, full: int) -> int:
        """Rows for a job's next write transaction, of ``full`` at a share of 1: the share in force of them
        (at least one). On SQLite an inquiry's log entry waits for the write transaction of the moment to
        end, so a job that leaves inquiries more time also holds the lock for less at once."""
        return max(1, round(full * self.current))

    def rest(self) -> float:
        """Rest as long as the work since this thread's last rest asks; the seconds rested."""
        share = self.adapt()
        now = self._clock()
        since = getattr(self._local, "since", None)
        self._local.since = now
        if share >= 1 or since is None or now - since > NEW_JOB_GAP:
            return 0.0
        rest = min((now - since) * (1 / share - 1), MAX_REST)
        self._sleep(rest)
        self._local.since = self._clock()
        return rest

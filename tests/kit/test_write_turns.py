"""Turns at SQLite's one write lock: a long job lets the writers that asked (the inquiry log) write before it
takes the lock again, for at most its wait, and a writer that dies leaves nothing behind."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from openbureau.inquiries.log import GroupCommitLog
from openbureau.kit.dialects import dialect_for
from openbureau.kit.dialects.sqlite import WriteTurns
from tests.kit.test_groupcommit import entry, logged


def _asked(database: str) -> bool:
    """Whether some writer holds the turn file's shared lock (an exclusive try fails)."""
    fd = os.open(f"{database}.write-turn", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_the_job_goes_on_at_once_when_nobody_asked(tmp_path: Path) -> None:
    waited = WriteTurns().give(str(tmp_path / "bureau.db"), 1.0)
    assert waited < 0.1


def test_the_job_waits_until_the_writer_that_asked_has_written(tmp_path: Path) -> None:
    database = str(tmp_path / "bureau.db")
    writer, job = WriteTurns(), WriteTurns()
    writer.ask(database)
    waited: list[float] = []
    giving = threading.Thread(target=lambda: waited.append(job.give(database, 5.0)))
    giving.start()
    time.sleep(0.2)
    assert giving.is_alive()  # the job holds back while the writer has not written
    writer.end(database)
    giving.join(timeout=5)
    # It waited for about the 0.2 s the writer took (counted from the thread's own start, a little later).
    assert not giving.is_alive() and 0.15 <= waited[0] < 2.0


def test_a_writer_that_never_writes_holds_the_job_back_for_its_wait_only(tmp_path: Path) -> None:
    database = str(tmp_path / "bureau.db")
    WriteTurns().ask(database)
    started = time.monotonic()
    waited = WriteTurns().give(database, 0.2)
    assert 0.2 <= waited and time.monotonic() - started < 1.0


def test_a_writer_killed_while_asking_leaves_no_turn_behind(tmp_path: Path) -> None:
    database = str(tmp_path / "bureau.db")
    code = ("import sys, time\nfrom openbureau.kit.dialects.sqlite import WriteTurns\n"
            f"WriteTurns().ask({database!r})\nprint('asked', flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "asked"
        assert _asked(database)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert not _asked(database)
        assert WriteTurns().give(database, 5.0) < 0.1
    finally:
        child.kill()
        child.wait()


def test_the_inquiry_log_asks_for_the_turn_while_refused_and_ends_it_once_written(sqlite_runtime) -> None:
    database = sqlite_runtime.engine.url.database
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a load's transaction

    async def scenario() -> tuple[bool, bool, int]:
        log = GroupCommitLog(sqlite_runtime.engine)
        write = asyncio.ensure_future(log.write_async(entry(21)))
        await asyncio.sleep(0.05)
        asked_while_refused = _asked(database)
        other.execute("COMMIT")
        inquiry_id = await asyncio.wait_for(write, timeout=5)
        asked_after = _asked(database)
        await log.stop()
        return asked_while_refused, asked_after, inquiry_id

    asked_while_refused, asked_after, inquiry_id = asyncio.run(scenario())
    other.close()
    assert asked_while_refused and not asked_after and inquiry_id > 0
    assert logged(sqlite_runtime) == [21]


async def _until_asked(database: str, timeout: float = 10.0) -> None:
    """Wait until some writer has asked for the next turn (:func:`_asked`)."""
    deadline = time.monotonic() + timeout
    while not _asked(database):
        assert time.monotonic() < deadline, "the inquiry log never asked for its turn"
        await asyncio.sleep(0.002)


def test_between_its_transactions_a_job_lets_the_waiting_inquiry_log_write_first(sqlite_runtime, monkeypatch) -> None:
    """The job's next transaction starts only after the inquiry log that asked has committed.

    The job waits for it at most ``turn_wait`` (0.05 s by default; the bound has a test of its own above). On a
    machine busy with other work the log's retry can take longer than that, so here the job may wait 10 s:
    the order is what this test proves."""
    engine = sqlite_runtime.engine
    database = engine.url.database
    dialect = dialect_for(engine)
    monkeypatch.setattr(dialect, "turn_wait", 10.0)
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    order: list[str] = []

    async def scenario() -> None:
        log = GroupCommitLog(engine)
        write = asyncio.ensure_future(log.write_async(entry(22)))
        await _until_asked(database)  # refused, so it asked (however long a busy machine takes to get there)
        other.execute("COMMIT")  # the job's transaction ends ...

        def job_next_transaction() -> None:
            dialect.between_writes(engine)  # ... and before its next one, it gives the turn
            order.append("job")

        giving = asyncio.get_running_loop().run_in_executor(None, job_next_transaction)
        time.sleep(0.02)  # the loop is busy preparing other requests
        await write
        order.append("inquiry")
        await giving
        await log.stop()

    asyncio.run(scenario())
    other.close()
    assert order == ["inquiry", "job"]

"""Group commit: concurrent writers share transactions, each gets its own result, a failure reaches them all."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

from sqlalchemy import select

from openbureau.inquiries.log import GroupCommitLog, LogEntry, write_entries
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import Checkpointer, session_scope
from openbureau.kit.groupcommit import GroupCommitter, WriteUnavailable

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def entry(person_id: int) -> LogEntry:
    return LogEntry(values=dict(subscriber_id=None, person_id=person_id, purpose="self_inquiry", hard=0, basis="self",
                                actor_code="OPERATOR:test", created_at=NOW))


def logged(runtime) -> list[int]:
    with session_scope(runtime.engine) as session:
        return sorted(session.scalars(select(Inquiry.person_id)))


def test_concurrent_writes_are_committed_in_shared_transactions_each_with_its_own_id(runtime) -> None:
    log = GroupCommitLog(runtime.engine)

    async def requests() -> list[int]:
        ids = await asyncio.gather(*(log.write_async(entry(p)) for p in range(1, 201)))
        await log.stop()
        return ids

    ids = asyncio.run(requests())
    assert logged(runtime) == list(range(1, 201)) and len(set(ids)) == 200
    with session_scope(runtime.engine) as session:
        assert [session.get(Inquiry, i).person_id for i in ids] == list(range(1, 201))
    assert log.committer.items == 200 and log.committer.batches == 1  # all waiting writes shared one commit


def test_a_failed_batch_is_rolled_back_and_every_waiting_writer_is_told(runtime) -> None:
    def failing(session, items):
        write_entries(session, items)
        raise RuntimeError("disk full")

    async def attempt() -> list:
        committer = GroupCommitter(runtime.engine, failing)
        outcome = await asyncio.gather(*(committer.submit(entry(p)) for p in (1, 2)), return_exceptions=True)
        await committer.stop()
        good = GroupCommitLog(runtime.engine)
        outcome.append(await good.write_async(entry(3)))  # a later write still goes through
        await good.stop()
        return outcome

    first, second, later = asyncio.run(attempt())
    assert isinstance(first, WriteUnavailable) and isinstance(second, WriteUnavailable)
    assert first.status_code == 503 and "RuntimeError" in first.message and later > 0
    assert logged(runtime) == [3]


def test_stopping_commits_what_is_waiting(runtime) -> None:
    async def shutdown() -> None:
        log = GroupCommitLog(runtime.engine)
        waiting = asyncio.ensure_future(log.write_async(entry(7)))
        await asyncio.sleep(0)  # the entry is queued; the committer has not run yet
        await log.stop()
        assert await waiting > 0

    asyncio.run(shutdown())
    assert logged(runtime) == [7]


def test_a_write_lock_held_elsewhere_is_waited_for_without_blocking_the_loop(sqlite_runtime) -> None:
    """Another process (here: another connection) holds SQLite's write lock: the batch waits, the loop goes
    on with other work meanwhile, and the batch commits once the lock is free."""
    other = sqlite3.connect(sqlite_runtime.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def scenario() -> tuple[int, int]:
        log = GroupCommitLog(sqlite_runtime.engine)
        write = asyncio.ensure_future(log.write_async(entry(11)))
        ticks = 0
        for _ in range(20):  # 0.1 s of other work on the loop while the lock is held
            await asyncio.sleep(0.005)
            ticks += 1
        assert not write.done()
        other.execute("COMMIT")
        inquiry_id = await asyncio.wait_for(write, timeout=5)
        await log.stop()
        return ticks, inquiry_id

    ticks, inquiry_id = asyncio.run(scenario())
    other.close()
    assert ticks == 20 and inquiry_id > 0
    assert logged(sqlite_runtime) == [11]


def test_a_write_lock_held_too_long_fails_the_waiting_writers(sqlite_runtime) -> None:
    other = sqlite3.connect(sqlite_runtime.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def scenario():
        committer = GroupCommitter(sqlite_runtime.engine, write_entries, lock_wait=0.2)
        outcome = await asyncio.gather(committer.submit(entry(12)), return_exceptions=True)
        other.execute("ROLLBACK")
        await committer.stop()
        return outcome[0]

    error = asyncio.run(scenario())
    other.close()
    assert isinstance(error, WriteUnavailable) and "OperationalError" in error.message
    assert logged(sqlite_runtime) == []


def test_the_checkpointer_copies_the_log_back_into_the_database(sqlite_runtime) -> None:
    async def writes() -> None:
        log = GroupCommitLog(sqlite_runtime.engine)
        await asyncio.gather(*(log.write_async(entry(p)) for p in range(1, 51)))
        await log.stop()

    asyncio.run(writes())
    path = sqlite_runtime.engine.url.database
    probe = sqlite3.connect(path)
    busy, log_frames, checkpointed = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    probe.close()
    assert busy == 0 and log_frames == checkpointed  # nothing was left in the log to copy
    checkpointer = Checkpointer(sqlite_runtime.engine).start()
    checkpointer.stop()  # stopping makes a last checkpoint
    assert checkpointer.checkpoints == 1
    assert logged(sqlite_runtime) == list(range(1, 51))

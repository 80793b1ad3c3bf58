"""Group commit: concurrent writers share transactions, each gets its own result, a failure reaches them all."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from openbureau.inquiries.log import GroupCommitLog, LogEntry, write_entries
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
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

"""Group commit: concurrent writers share transactions, each gets its own result, a failure reaches them all."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
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
    log = GroupCommitLog(runtime.engine).start()
    ids: dict[int, int] = {}

    def write(person: int) -> None:
        ids[person] = log.write(entry(person))

    threads = [threading.Thread(target=write, args=(p,)) for p in range(1, 201)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.stop()
    assert logged(runtime) == list(range(1, 201)) and len(set(ids.values())) == 200
    with session_scope(runtime.engine) as session:
        assert all(session.get(Inquiry, i).person_id == p for p, i in ids.items())
    assert log.committer.items == 200 and log.committer.batches < 200  # writes were grouped


def test_a_failed_batch_is_rolled_back_and_every_waiting_writer_is_told(runtime) -> None:
    def failing(session, items):
        write_entries(session, items)
        raise RuntimeError("disk full")

    committer = GroupCommitter(runtime.engine, failing).start()
    with pytest.raises(WriteUnavailable) as err:
        committer.submit(entry(1))
    assert err.value.status_code == 503 and "RuntimeError" in err.value.message
    committer.stop()
    assert logged(runtime) == []
    good = GroupCommitLog(runtime.engine).start()
    assert good.write(entry(2)) > 0  # a later write still goes through
    good.stop()
    assert logged(runtime) == [2]


def test_an_event_loop_waits_for_its_commit_without_blocking(runtime) -> None:
    log = GroupCommitLog(runtime.engine).start()

    async def many() -> list[int]:
        return await asyncio.gather(*(log.write_async(entry(p)) for p in range(1, 51)))

    ids = asyncio.run(many())
    log.stop()
    assert len(set(ids)) == 50 and logged(runtime) == list(range(1, 51))

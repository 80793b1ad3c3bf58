"""Batches of one furnisher that arrive together are taken in as one, and each caller is answered about its
own batch as if it had been taken in alone (both engines)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import polars as pl
from sqlalchemy import select

from openbureau.accounts.models import LendingEvent
from openbureau.intake.events.gathering import EventGatherer
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from tests.events.conftest import NOW
from tests.events.factories import event, frame

AT = NOW - timedelta(hours=1)


def _gather(runtime, code: str, batches: list[list[dict]]):
    """Every batch sent at once by ``code``; each caller's result or error, in order."""
    with session_scope(runtime.engine) as session:
        member = get_member(session, code=code)
        session.expunge(member)
    gatherer = EventGatherer(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                             clock=lambda calls=itertools.count(): NOW + timedelta(seconds=next(calls)))

    async def send_all():
        return await asyncio.gather(*(gatherer.receive(member, b if isinstance(b, pl.DataFrame) else frame(b))
                                      for b in batches), return_exceptions=True)

    return asyncio.run(send_all())


def _received_at(runtime) -> dict[str, object]:
    with runtime.engine.connect() as conn:
        return dict(conn.execute(select(LendingEvent.event_id, LendingEvent.received_at)).all())


def test_concurrent_batches_are_taken_in_as_one_and_each_caller_hears_of_its_own(platforms) -> None:
    runtime, _ = platforms
    batches = [
        [event(0, "A-1", at=AT)],                                                    # accepted
        [event(1, "B-1", at=AT, amount="0"), event(1, "B-2", at=AT)],                # line 1 rejected
        [event(2, "C-1", at=AT)],                                                    # no consent: held
        [event(0, "D-1", at=AT), event(1, "D-2", at=AT, kind="application")],       # both accepted
    ]
    a, b, c, d = _gather(runtime, "P1", batches)
    assert (a.received, a.stored, a.rejected, a.held) == (1, 1, 0, 0)
    assert a.outcomes.select("line", "event_id", "outcome").rows() == [(1, "A-1", "accepted")]
    assert (b.received, b.stored, b.rejected) == (2, 1, 1)
    assert b.outcomes["outcome"].to_list() == ["rejected", "accepted"]
    assert set(b.findings["line"]) == {1} and "amount" in set(b.findings["field"])  # its own line 1, not the 2nd
    assert (c.received, c.stored, c.held) == (1, 1, 1) and c.outcomes["outcome"].to_list() == ["held"]
    assert (d.received, d.stored) == (2, 2) and d.findings.height == 0
    assert [r.findings.height for r in (a, c, d)] == [0, 0, 0]
    # They were taken in as one batch: one moment of receipt for every event stored (the clock moves on at
    # each call of the intake).
    stored = _received_at(runtime)
    assert set(stored) == {"A-1", "B-2", "C-1", "D-1", "D-2"} and len(set(stored.values())) == 1


def test_a_resend_and_a_batch_with_an_id_twice_are_taken_in_on_their_own(platforms) -> None:
    runtime, _ = platforms
    first, resent, twice = _gather(runtime, "P1", [
        [event(0, "E-1", at=AT)],
        [event(0, "E-1", at=AT), event(0, "E-2", at=AT)],  # E-1 sent again: acknowledged, not a finding
        [event(1, "E-3", at=AT), event(1, "E-3", at=AT)],  # an id twice: the finding names its own line 1
    ])
    assert (first.stored, first.duplicates) == (1, 0)
    assert resent.outcomes["outcome"].to_list() == ["duplicate", "accepted"] and resent.rejected == 0
    assert twice.findings.select("line", "code").rows() == [(2, "DUPLICATE_EVENT_ID")]
    assert "line 1" in twice.findings["message"][0]
    stored = _received_at(runtime)
    assert set(stored) == {"E-1", "E-2", "E-3"} and len({stored["E-1"], stored["E-2"], stored["E-3"]}) == 3


def test_a_joined_call_that_fails_is_taken_again_batch_by_batch_and_fails_alone(platforms) -> None:
    runtime, _ = platforms
    broken = frame([event(0, "F-2", at=AT)]).drop("amount")  # a column missing: the validator refuses it
    results = _gather(runtime, "P1", [[event(0, "F-0", at=AT)], [event(0, "F-1", at=AT)], broken,
                                      [event(1, "F-3", at=AT)]])
    assert [type(r).__name__ for r in results] == ["EventIntakeResult", "EventIntakeResult", "ValueError",
                                                   "EventIntakeResult"]
    assert "amount" in str(results[2])
    assert set(_received_at(runtime)) == {"F-0", "F-1", "F-3"}


def test_furnishers_are_never_joined(platforms) -> None:
    runtime, _ = platforms
    with session_scope(runtime.engine) as session:
        p1, p2 = (get_member(session, code=c) for c in ("P1", "P2"))
        session.expunge_all()
    gatherer = EventGatherer(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, clock=lambda: NOW)

    async def send_both():
        return await asyncio.gather(gatherer.receive(p1, frame([event(0, "G-1", at=AT)])),
                                    gatherer.receive(p2, frame([event(0, "G-1", at=AT)])))

    mine, theirs = asyncio.run(send_both())
    assert (mine.stored, theirs.stored) == (1, 1)  # the same id is each furnisher's own
    with runtime.engine.connect() as conn:
        owners = conn.execute(select(LendingEvent.furnisher_id).where(LendingEvent.event_id == "G-1")).scalars()
        assert sorted(owners) == sorted([p1.id, p2.id])


def test_with_a_linger_batches_that_arrive_apart_are_taken_in_as_one(platforms) -> None:
    runtime, _ = platforms
    with session_scope(runtime.engine) as session:
        member = get_member(session, code="P1")
        session.expunge(member)
    calls = itertools.count()
    gatherer = EventGatherer(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile,
                             clock=lambda: NOW + timedelta(seconds=next(calls)), linger=0.5)

    async def one_then_another():
        first = asyncio.ensure_future(gatherer.receive(member, frame([event(0, "L-1", at=AT)])))
        await asyncio.sleep(0.1)  # the second arrives while the first lingers
        second = await gatherer.receive(member, frame([event(1, "L-2", at=AT)]))
        return await first, second

    first, second = asyncio.run(one_then_another())
    assert (first.stored, second.stored) == (1, 1)
    assert first.outcomes["event_id"].to_list() == ["L-1"] and second.outcomes["event_id"].to_list() == ["L-2"]
    stored = _received_at(runtime)
    assert set(stored) == {"L-1", "L-2"} and len(set(stored.values())) == 1  # one call of the intake
    assert next(calls) == 1


def test_without_a_linger_a_batch_is_taken_in_at_once(platforms) -> None:
    runtime, _ = platforms
    with session_scope(runtime.engine) as session:
        member = get_member(session, code="P1")
        session.expunge(member)
    gatherer = EventGatherer(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile)

    async def apart():
        first = asyncio.ensure_future(gatherer.receive(member, frame([event(0, "N-1", at=AT)])))
        await asyncio.sleep(0.1)
        second = await gatherer.receive(member, frame([event(1, "N-2", at=AT)]))
        return await first, second

    asyncio.run(apart())
    stored = _received_at(runtime)
    assert len(set(stored.values())) == 2  # two calls: the first did not wait for the second

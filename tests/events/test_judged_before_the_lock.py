"""A batch of events is judged against what is committed before its write transaction takes the lock; what
commits in between (the same events from another batch, a consent, the person numbered by another batch) is
seen under the lock, never lost or doubled (both engines).

Each test commits its change at the moment the batch's write transaction is about to begin: after the batch
was judged, before it writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from openbureau.accounts.models import LendingEvent
from openbureau.identity.models import Person
from openbureau.intake.events.service import judge_events, store_judged
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from tests.consent.factories import grant
from tests.events.conftest import NOW, PLATFORMS
from tests.events.factories import event, frame, receive
from tests.intake.factories import PEOPLE

AT = NOW - timedelta(hours=1)


@contextmanager
def before_the_write(runtime, change: Callable[[], None]) -> Iterator[list[bool]]:
    """Run ``change`` (in transactions of its own) once, when the next write transaction is about to begin."""
    done: list[bool] = []

    def hook(conn) -> None:
        if not done and conn.get_execution_options().get("sqlite_begin") == "BEGIN IMMEDIATE":
            done.append(True)
            # On SQLite the engine's own listener has begun the transaction already (BEGIN IMMEDIATE, which
            # takes the write lock): it is begun again after the change, as if the change had come first.
            driver = conn.connection.dbapi_connection
            began = getattr(driver, "in_transaction", False) is True
            if began:
                driver.execute("ROLLBACK")
            change()
            if began:
                driver.execute("BEGIN IMMEDIATE")

    sa_event.listen(runtime.engine, "begin", hook)
    try:
        yield done
    finally:
        sa_event.remove(runtime.engine, "begin", hook)


def _events(runtime) -> list[tuple[str, int | None, str | None]]:
    with runtime.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(LendingEvent.event_id, LendingEvent.person_id,
                                                      LendingEvent.held_reason).order_by(LendingEvent.event_id))]


def test_events_stored_meanwhile_by_another_batch_are_duplicates_not_stored_twice(platforms) -> None:
    runtime, _ = platforms
    batch = [event(0, "R-1", at=AT), event(1, "R-2", at=AT)]
    with before_the_write(runtime, lambda: receive(runtime, "P1", batch)) as done:
        result = receive(runtime, "P1", batch)  # the other batch stores both first; this one is judged again
    assert done
    assert (result.received, result.stored, result.duplicates, result.rejected) == (2, 0, 2, 0)
    assert result.outcomes["outcome"].to_list() == ["duplicate", "duplicate"]
    assert [e for e, _, _ in _events(runtime)] == ["R-1", "R-2"]


def test_a_consent_granted_meanwhile_releases_the_event_it_would_have_held(platforms) -> None:
    runtime, _ = platforms
    batch = [event(2, "C-1", at=AT), event(0, "C-2", at=AT)]  # person 2 had no consent when judged
    with before_the_write(runtime, lambda: grant(runtime, "P1", PEOPLE[2][0])) as done:
        result = receive(runtime, "P1", batch)
    assert done
    assert (result.stored, result.held) == (2, 0)
    assert [(e, held) for e, _, held in _events(runtime)] == [("C-1", None), ("C-2", None)]


def test_a_person_numbered_meanwhile_by_another_batch_is_the_one_linked(platforms) -> None:
    runtime, _ = platforms
    # Nobody is numbered yet: P1's batch finds no person for person 0 when judged; P2's numbers one meanwhile.
    with before_the_write(runtime, lambda: receive(runtime, "P2", [event(0, "N-2", at=AT)])) as done:
        result = receive(runtime, "P1", [event(0, "N-1", at=AT)])
    assert done and (result.stored, result.unlinked) == (1, 0)
    stored = _events(runtime)
    assert [e for e, _, _ in stored] == ["N-1", "N-2"]
    assert stored[0][1] is not None and stored[0][1] == stored[1][1]  # one person, both events in their file
    with runtime.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Person)) == 1


def test_a_batch_judged_for_one_furnisher_is_never_stored_as_another_s(platforms) -> None:
    # The intake judges a batch in one process and stores it in another; the furnisher is read afresh in
    # each, and a judged batch carries whose it is: stored under another furnisher it is refused whole.
    runtime, _ = platforms
    with session_scope(runtime.engine) as session:
        first, second = (get_member(session, code=code) for code in PLATFORMS[:2])
    settings = {"vault": runtime.vault, "profile": runtime.policy.profile}
    judged = judge_events(runtime.engine, furnisher=first, batch=frame([event(0, "J-1", at=AT)]), now=NOW,
                          **settings)
    with pytest.raises(ValueError, match="judged for furnisher"):
        store_judged(runtime.engine, furnisher=second, judged=judged, **settings)
    assert _events(runtime) == []
    stored = store_judged(runtime.engine, furnisher=first, judged=judged, **settings)
    assert (stored.stored, [e[0] for e in _events(runtime)]) == (1, ["J-1"])

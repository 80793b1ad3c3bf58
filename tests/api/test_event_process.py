"""Lending events taken in by processes of their own (``api.event_process``), as a serving app does: judged
by one at a lower CPU priority, written by the other, answered and stored as in a thread; a killed intake
process, either of the two, loses nothing and is replaced; both stop with the app."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openbureau.accounts.models import LendingEvent
from openbureau.api.app import create_app
from openbureau.api.event_process import INTAKE_RESTARTED, EventProcess
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.members.models import Member, Role
from tests.consent.factories import grant
from tests.events.factories import event, frame
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member


@pytest.fixture
def served(runtime):
    key = make_member(runtime, "P1", Role.FURNISHER)
    grant(runtime, "P1", PEOPLE[0][0])
    app = create_app(runtime, event_process=True)
    with TestClient(app) as http:
        yield http, key, runtime, app.state.event_process


def _post(http, key, events):
    return http.post("/v1/events", headers={"X-API-Key": key}, json={"events": events})


def _stored(runtime) -> set[str]:
    with session_scope(runtime.engine) as session:
        return set(session.scalars(select(LendingEvent.event_id)))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_batch_is_taken_in_by_another_process_and_answered_as_in_a_thread(served) -> None:
    http, key, runtime, intake = served
    judging, writing = intake.pids()
    assert len({judging, writing, os.getpid()}) == 3
    # The judging process yields the cores to the inquiries; the writing one, which holds the write lock,
    # keeps the serving process's priority.
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, judging) == min(own + runtime.settings.event_niceness, 19) > own
    assert os.getpriority(os.PRIO_PROCESS, writing) == own
    now = datetime.now(UTC)
    good = event(0, "E-1", at=now - timedelta(hours=1))
    bad = event(0, "E-2", at=now - timedelta(hours=1), id_number="11010119900307123X")
    unconsented = event(1, "E-3", at=now - timedelta(minutes=30))
    response = _post(http, key, [good, bad, unconsented])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["stored"], body["rejected"], body["held"]) == (3, 2, 1, 1)
    assert [o["outcome"] for o in body["outcomes"]] == ["accepted", "rejected", "held"]
    assert {(f["line"], f["code"]) for f in body["findings"]} >= {(2, "ID_CHECK_DIGIT")}
    assert _stored(runtime) == {"E-1", "E-3"}
    assert _post(http, key, [good]).json()["duplicates"] == 1


@pytest.mark.parametrize("which", ["judging", "writing"])
def test_an_intake_process_killed_during_a_batch_loses_nothing_and_is_replaced(served, which) -> None:
    http, key, runtime, intake = served
    side = getattr(intake, which)
    first = side.pid()
    os.kill(first, signal.SIGSTOP)  # the batch is handed over, then the process dies before it is done with it
    now = datetime.now(UTC)
    batch = [event(0, f"K-{i}", at=now - timedelta(minutes=5)) for i in range(3)]
    answers: list = []
    poster = threading.Thread(target=lambda: answers.append(_post(http, key, batch)))
    poster.start()
    time.sleep(0.5 if which == "judging" else 3)  # the writing process gets the batch once it is judged
    os.kill(first, signal.SIGKILL)
    poster.join(timeout=60)
    assert answers[0].status_code == 503 and answers[0].json()["code"] == INTAKE_RESTARTED
    assert _stored(runtime) == set()
    again = _post(http, key, batch)  # the client's resend: a new process takes it in
    assert again.status_code == 200 and again.json()["stored"] == 3
    assert _stored(runtime) == {"K-0", "K-1", "K-2"}
    assert side.pid() != first


@pytest.mark.parametrize("which", ["judging", "writing"])
def test_an_intake_process_killed_between_batches_is_replaced_unseen(served, which) -> None:
    http, key, runtime, intake = served
    side = getattr(intake, which)
    first = side.pid()
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not _gone(first) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2)  # the pool notices its process is gone (at once; the margin is for a busy machine)
    answer = _post(http, key, [event(0, "A-1", at=datetime.now(UTC) - timedelta(minutes=1))])
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    assert side.pid() != first


def test_the_intake_process_stops_with_the_app(runtime) -> None:
    app = create_app(runtime, event_process=True)
    with TestClient(app):
        pids = app.state.event_process.pids()
    assert all(_gone(pid) for pid in pids)


def test_a_test_or_embedded_app_takes_events_in_its_own_threads(runtime) -> None:
    app = create_app(runtime)
    with TestClient(app):
        assert app.state.event_process is None


def test_a_batch_after_the_intake_closed_is_refused_not_started_again(runtime) -> None:
    intake = EventProcess(runtime.settings)
    pids = intake.pids()
    intake.close()
    assert all(_gone(pid) for pid in pids)
    with pytest.raises(BureauError) as refused:
        asyncio.run(intake.take_in(Member(id=1, code="P1", name="P1"), None, datetime.now(UTC)))
    assert refused.value.status_code == 503 and refused.value.code == INTAKE_RESTARTED


def test_an_intake_process_that_cannot_open_the_bureau_answers_503_and_stores_nothing(runtime, tmp_path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")  # the intake process cannot make its data directory here
    intake = EventProcess(runtime.settings.model_copy(update={"data_dir": blocked}))
    batch = frame([event(0, "X-1", at=datetime.now(UTC) - timedelta(minutes=1))])
    try:
        with pytest.raises(BureauError) as refused:
            asyncio.run(intake.take_in(Member(id=1, code="P1", name="P1"), batch, datetime.now(UTC)))
    finally:
        intake.close()
    assert refused.value.status_code == 503 and refused.value.code == INTAKE_RESTARTED
    assert _stored(runtime) == set()

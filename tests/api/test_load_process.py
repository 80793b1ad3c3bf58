"""Files furnished through the API loaded by a process of its own (``api.load_process``), as a serving app
does: answered as a load in a thread, a refused file refused the same, a load process killed in the middle of
a load leaves nothing visible and the file sent again loads whole, and the process stops with the app."""

from __future__ import annotations

import os
import signal
import threading
import time

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openbureau.accounts.models import AccountState
from openbureau.api.app import create_app
from openbureau.api.load_process import LOAD_RESTARTED
from openbureau.intake.models import Submission
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.api.test_event_process import _gone
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.intake.test_crash import _visible
from tests.members.factories import make_member


@pytest.fixture
def served(runtime):
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    for number, _, _ in PEOPLE:
        grant(runtime, "BANK_A", number)
    app = create_app(runtime, load_process=True)
    with TestClient(app) as http:
        yield http, key, runtime, app.state.load_process


def _upload(http, key, name: str, data: bytes):
    return http.post("/v1/submissions", headers={"X-API-Key": key},
                     files={"file": (name, data, "application/octet-stream")})


def test_a_file_is_loaded_by_another_process_and_answered_as_in_a_thread(served, tmp_path) -> None:
    http, key, runtime, loads = served
    assert loads.pid() != os.getpid()
    rows = [person(0), person(1, furnisher_account_id="A2", days_past_due="45")]
    data = write_file(tmp_path / "sep.csv", rows).read_bytes()
    response = _upload(http, key, "sep.csv", data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["records_received"], body["records_accepted"], body["records_rejected"],
            body["repeated"]) == ("loaded", 2, 1, 1, False)
    assert _visible(runtime)["account_states"] == 1
    again = _upload(http, key, "sep.csv", data)
    assert again.status_code == 200 and again.json()["repeated"] is True and again.json()["id"] == body["id"]


def _damaged_parquet(path) -> bytes:
    """A Parquet file whose footer (its schema) is whole and whose data pages are not: refused by the load,
    after it was received."""
    pl.DataFrame([person(i % len(PEOPLE), furnisher_account_id=f"A{i}") for i in range(5_000)]).write_parquet(
        path, compression="uncompressed", statistics=False)
    data = bytearray(path.read_bytes())
    data[2_000:len(data) // 3] = b"\xff" * (len(data) // 3 - 2_000)
    return bytes(data)


@pytest.mark.parametrize("in_process", [True, False], ids=["load-process", "thread"])
def test_a_file_refused_by_its_load_is_refused_alike(runtime, tmp_path, in_process) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    with TestClient(create_app(runtime, load_process=in_process)) as http:
        response = _upload(http, key, "damaged.parquet", _damaged_parquet(tmp_path / "d.parquet"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "FILE_UNREADABLE"
    with session_scope(runtime.engine) as session:
        assert [(s.id, s.status, s.error_code) for s in session.scalars(select(Submission))] == [
            (response.json()["details"]["submission_id"], "failed", "FILE_UNREADABLE")]
    assert _stored_rows(runtime) == 0


def _stored_rows(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(AccountState))


def test_a_load_process_killed_during_a_load_leaves_nothing_visible_and_the_file_sent_again_loads(
        served, tmp_path) -> None:
    http, key, runtime, loads = served
    first = loads.pid()
    rows = [person(i % len(PEOPLE), furnisher_account_id=f"A{i}") for i in range(6_000)]
    data = write_file(tmp_path / "big.csv", rows).read_bytes()
    answers: list = []
    poster = threading.Thread(target=lambda: answers.append(_upload(http, key, "big.csv", data)))
    poster.start()
    deadline = time.monotonic() + 60
    while _stored_rows(runtime) == 0 and time.monotonic() < deadline:  # the first chunk is written, unpublished
        time.sleep(0.005)
    os.kill(first, signal.SIGKILL)
    poster.join(timeout=60)
    assert answers[0].status_code == 503 and answers[0].json()["code"] == LOAD_RESTARTED, answers[0].text
    assert _stored_rows(runtime) > 0 and _visible(runtime)["account_states"] == 0
    again = _upload(http, key, "big.csv", data)  # the furnisher's resend: a new process, which discards first
    assert again.status_code == 201, again.text
    assert (again.json()["status"], again.json()["records_accepted"]) == ("loaded", 6_000)
    assert _stored_rows(runtime) == _visible(runtime)["account_states"] == 6_000
    assert loads.pid() != first


def test_the_load_process_stops_with_the_app(runtime) -> None:
    app = create_app(runtime, load_process=True)
    with TestClient(app):
        pid = app.state.load_process.pid()
    assert _gone(pid)


def test_a_test_or_embedded_app_loads_in_its_own_threads(runtime) -> None:
    app = create_app(runtime)
    with TestClient(app):
        assert app.state.load_process is None and app.state.event_process is None

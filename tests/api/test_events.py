"""POST /v1/events and /v1/events/files as a furnisher's client calls them, and as an attacker would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.intake.events.standard import EVENT_COLUMNS, MAX_BATCH_EVENTS
from openbureau.members.models import Role
from tests.adapters import embedded_runtime  # noqa: F401
from tests.consent.factories import grant
from tests.events.factories import event
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member


@pytest.fixture
def client(runtime):
    keys = {"P1": make_member(runtime, "P1", Role.FURNISHER), "P2": make_member(runtime, "P2", Role.FURNISHER)}
    grant(runtime, "P1", PEOPLE[0][0])
    with TestClient(create_app(runtime)) as http:
        yield http, keys, runtime


def _post(http, key, events):
    return http.post("/v1/events", headers={"X-API-Key": key}, json={"events": events})


def test_a_batch_is_acknowledged_event_by_event(client) -> None:
    http, keys, _ = client
    now = datetime.now(UTC)
    good = event(0, "E-1", at=now - timedelta(hours=1)) | {"amount": 300000, "term_months": 6}  # JSON numbers
    bad = event(0, "E-2", at=now - timedelta(hours=1), id_number="11010119900307123X")
    unconsented = event(1, "E-3", at=now - timedelta(minutes=30))
    response = _post(http, keys["P1"], [good, bad, unconsented])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["stored"], body["rejected"], body["held"]) == (3, 2, 1, 1)
    assert [o["outcome"] for o in body["outcomes"]] == ["accepted", "rejected", "held"]
    assert {(f["line"], f["code"]) for f in body["findings"]} >= {(2, "ID_CHECK_DIGIT")}
    assert "11010119900307123X" not in response.text and PEOPLE[1][0] not in response.text
    again = _post(http, keys["P1"], [good])
    assert again.json()["duplicates"] == 1 and again.json()["outcomes"][0]["outcome"] == "duplicate"


def test_oversized_unknown_or_empty_batches_are_refused_whole(client) -> None:
    http, keys, runtime = client
    now = datetime.now(UTC)
    one = event(0, "E-1", at=now)
    too_many = _post(http, keys["P1"], [one] * (MAX_BATCH_EVENTS + 1))
    assert too_many.status_code == 422 and too_many.json()["code"] == "INVALID_REQUEST"
    unknown = _post(http, keys["P1"], [one | {"blood_type": "A"}])
    assert unknown.status_code == 422 and "blood_type" in unknown.json()["message"]
    assert _post(http, keys["P1"], []).status_code == 422
    huge = http.post("/v1/events", headers={"X-API-Key": keys["P1"], "content-type": "application/json"},
                     content=b'{"events": [' + b" " * (runtime.settings.max_event_batch_bytes + 10) + b"]}")
    assert huge.status_code == 413
    assert _post(http, "not-a-key", [one]).status_code == 401


def test_an_event_file_is_read_like_a_monthly_file_and_its_findings_are_the_furnishers_own(client, tmp_path) -> None:
    http, keys, _ = client
    now = datetime.now(UTC)
    rows = [event(0, f"E-{i}", at=now - timedelta(hours=2)) for i in range(3)]
    rows.append(event(0, "E-bad", at=now - timedelta(hours=2), event_type="granted"))
    path = write_file(tmp_path / "events.csv", rows, columns=list(EVENT_COLUMNS))
    with path.open("rb") as handle:
        response = http.post("/v1/events/files", headers={"X-API-Key": keys["P1"]},
                             files={"file": ("events.csv", handle)})
    assert response.status_code == 201, response.text
    read = response.json()
    assert read["kind"] == "events" and read["records_received"] == 4 and read["records_rejected"] == 1
    errors = http.get(f"/v1/submissions/{read['id']}/errors", headers={"X-API-Key": keys["P1"]}).json()
    # Line 5 of the file: the header is line 1, as in a monthly file.
    assert [(f["line"], f["field"], f["code"]) for f in errors["items"]] == [(5, "event_type", "INVALID_ENUM")]
    assert http.get(f"/v1/submissions/{read['id']}/errors", headers={"X-API-Key": keys["P2"]}).status_code == 404
    with path.open("rb") as handle:
        again = http.post("/v1/events/files", headers={"X-API-Key": keys["P1"]},
                          files={"file": ("events.csv", handle)})
    assert again.status_code == 200 and again.json()["repeated"]
    # The same bytes as a monthly file: refused (the kinds are not mixed), and a monthly file is no event file.
    with path.open("rb") as handle:
        mixed = http.post("/v1/submissions", headers={"X-API-Key": keys["P1"]}, files={"file": ("events.csv", handle)})
    assert mixed.status_code == 422 and mixed.json()["code"] == "FILE_KIND_MISMATCH"
    monthly = write_file(tmp_path / "monthly.csv", [person(0)])
    with monthly.open("rb") as handle:
        wrong = http.post("/v1/events/files", headers={"X-API-Key": keys["P1"]},
                          files={"file": ("monthly.csv", handle)})
    assert wrong.status_code == 422 and wrong.json()["code"] == "FILE_MISSING_COLUMNS"


def test_single_event_batches_sent_at_once_are_each_answered_about_their_own_event(client) -> None:
    """Concurrent calls of one furnisher may be taken in as one batch (intake.events.gathering): each answer
    still speaks of its own batch only, numbered from its own first line."""
    from concurrent.futures import ThreadPoolExecutor

    http, keys, _ = client
    now = datetime.now(UTC)
    batches = [[event(0, f"C-{n}", at=now - timedelta(minutes=5), **({"amount": "0"} if n % 3 == 0 else {}))]
               for n in range(9)]
    with ThreadPoolExecutor(max_workers=9) as pool:
        answers = list(pool.map(lambda batch: _post(http, keys["P1"], batch), batches))
    for n, answer in enumerate(answers):
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [(o["line"], o["event_id"]) for o in body["outcomes"]] == [(1, f"C-{n}")]
        assert (body["received"], body["rejected"]) == (1, int(n % 3 == 0))
        assert {f["line"] for f in body["findings"]} == ({1} if n % 3 == 0 else set())

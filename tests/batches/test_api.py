"""Batch inquiries as a lender's client calls them: a streamed upload answered 202, the job's progress, the
results streamed; another member sees nothing of it; every input bounded; a malformed file stores nothing."""

from __future__ import annotations

import gc
import json
import time

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import batches_in_process, create_app
from openbureau.members.models import Role
from openbureau.runtime import Runtime
from tests.adapters import embedded_runtime  # noqa: F401
from tests.batches.factories import batch_count, result_lines, sealed_files, subject, worker, write_batch
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member

PATH = "/v1/inquiries/batches"


@pytest.fixture
def client(market):
    runtime, keys = market
    keys["REG"] = make_member(runtime, "REG", Role.REGULATOR)
    with TestClient(create_app(runtime)) as http:
        yield http, runtime, keys


def _post(http, key, name: str, content: bytes, **params):
    return http.post(PATH, headers={"X-API-Key": key}, params=params, files={"file": (name, content)})


def test_submit_follow_and_download_as_the_lender_only(client, tmp_path) -> None:
    http, runtime, keys = client
    lender, other = {"X-API-Key": keys["LENDER"]}, {"X-API-Key": keys["BANK_A"]}
    body = write_batch(tmp_path / "s.csv", [subject(0, "R-1", consent_ref="L-1"), subject(2, "R-2")]).read_bytes()
    submitted = _post(http, keys["LENDER"], "s.csv", body)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert submitted.headers["Location"] == f"{PATH}/{job['id']}"
    assert (job["status"], job["rows_total"], job["file_format"]) == ("queued", 2, "csv")
    early = http.get(f"{PATH}/{job['id']}/results", headers=lender)
    assert (early.status_code, early.json()["code"]) == (409, "BATCH_NOT_FINISHED")
    worker(runtime).run_once()
    status = http.get(f"{PATH}/{job['id']}", headers=lender).json()
    assert (status["status"], status["rows_done"], status["rows_answered"], status["rows_refused"],
            status["rows_failed"], status["progress"]) == ("done", 2, 1, 1, 1, 1.0)
    csv_answer = http.get(f"{PATH}/{job['id']}/results", headers=lender)
    assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.headers["cache-control"] == "no-store"
    assert [line.split(",")[:4] for line in csv_answer.text.splitlines()[1:]] == [
        ["1", "R-1", "answered", ""], ["2", "R-2", "refused", "CONSENT_REQUIRED"]]
    jsonl = http.get(f"{PATH}/{job['id']}/results", headers=lender, params={"format": "jsonl"})
    assert [json.loads(line)["outcome"] for line in jsonl.text.splitlines()] == ["answered", "refused"]
    for method, url in (("GET", f"{PATH}/{job['id']}"), ("GET", f"{PATH}/{job['id']}/results"),
                        ("POST", f"{PATH}/{job['id']}/cancel")):
        stranger = http.request(method, url, headers=other)
        assert (stranger.status_code, stranger.json()["code"]) == (404, "BATCH_NOT_FOUND"), url
    assert http.get(PATH, headers=other).json() == []
    assert [b["id"] for b in http.get(PATH, headers=lender).json()] == [job["id"]]
    assert http.get(PATH).status_code == 401


def test_operators_regulators_and_furnishers_cannot_submit(client, tmp_path) -> None:
    http, runtime, keys = client
    ops = make_member(runtime, "OPS_2", Role.OPERATOR)
    body = write_batch(tmp_path / "s.csv", [subject(0, "R-1", consent_ref="L-1")]).read_bytes()
    for key in (keys["OPS"], keys["REG"], keys["TELCO"], ops):
        refused = _post(http, key, "s.csv", body)
        assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_REQUIRED")
    assert batch_count(runtime) == 0 and sealed_files(runtime) == []


def test_oversized_files_are_413_and_leave_nothing(market, tmp_path) -> None:
    runtime, keys = market
    small = Runtime(settings=runtime.settings.model_copy(update={"batch_max_bytes": 1_000, "batch_max_rows": 3}),
                    engine=runtime.engine, vault=runtime.vault)
    rows = [subject(0, f"R-{n}", consent_ref="L-1") for n in range(40)]
    with TestClient(create_app(small)) as http:
        declared = _post(http, keys["LENDER"], "big.csv", write_batch(tmp_path / "big.csv", rows).read_bytes() * 40)
        assert (declared.status_code, declared.json()["code"]) == (413, "BODY_TOO_LARGE")  # at the edge
        streamed = _post(http, keys["LENDER"], "big.csv", write_batch(tmp_path / "big.csv", rows).read_bytes())
        assert (streamed.status_code, streamed.json()["code"]) == (413, "FILE_TOO_LARGE")  # as it arrived
        many = _post(http, keys["LENDER"], "m.csv", write_batch(tmp_path / "m.csv", rows[:4]).read_bytes())
        assert (many.status_code, many.json()["code"]) == (413, "BATCH_TOO_MANY_ROWS")
        long_field = _post(http, keys["LENDER"], "l.jsonl", json.dumps(subject(0, "R") | {"name": "x" * 101}).encode())
        assert long_field.status_code == 202  # a field too long is a finding of its row, not a refusal
    assert batch_count(runtime) == 1 and [p.name for p in sealed_files(runtime)] == ["input.sealed"]
    worker(runtime).run_once()
    (line,) = result_lines(runtime, "LENDER", long_field.json()["id"])
    assert (line["outcome"], line["field"], line["code"]) == ("invalid", "name", "VALUE_TOO_LONG")


MALFORMED = [
    ("missing.csv", b"reference,id_type,id_number\nR,CN_RESIDENT_ID,1\n", "BATCH_COLUMNS"),
    ("unknown.csv", b"reference,id_type,id_number,purpose,religion\nR,CN_RESIDENT_ID,1,loan_origination,x\n",
     "BATCH_COLUMNS"),
    ("headless.csv", f"R-1,CN_RESIDENT_ID,{PEOPLE[0][0]},loan_origination\n".encode(), "BATCH_COLUMNS"),
    ("fields.csv", b"reference,id_type,id_number,purpose\nR,CN_RESIDENT_ID,1\n", "BATCH_FILE_MALFORMED"),
    ("quote.csv", b'reference,id_type,id_number,purpose\n"R,CN_RESIDENT_ID,1,x\n', "BATCH_FILE_MALFORMED"),
    ("latin.csv", b"reference,id_type,id_number,purpose\nR\xe9,CN_RESIDENT_ID,1,x\n", "BATCH_FILE_MALFORMED"),
    ("empty.csv", b"reference,id_type,id_number,purpose\n\n", "BATCH_FILE_EMPTY"),
    ("nothing.jsonl", b"", "BATCH_FILE_EMPTY"),
    ("broken.jsonl", b'{"reference": "R"}\n{"reference": \n', "BATCH_FILE_MALFORMED"),
    ("array.jsonl", b'["R"]\n', "BATCH_FILE_MALFORMED"),
    ("extra.jsonl", b'{"reference": "R", "blood_type": "A"}\n', "BATCH_COLUMNS"),
    ("long.jsonl", b'{"reference": "' + b"x" * 5000 + b'"}\n', "BATCH_FILE_MALFORMED"),
    ("subjects.xlsx", b"PK\x03\x04", "BATCH_FILE_MALFORMED"),
]


@pytest.mark.parametrize(("name", "content", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_gives_a_clear_error_and_stores_nothing(client, name, content, code) -> None:
    http, runtime, keys = client
    refused = _post(http, keys["LENDER"], name, content)
    assert (refused.status_code, refused.json()["code"]) == (422, code), refused.text
    assert refused.json()["message"] and b"CN_RESIDENT_ID,1" not in refused.content
    assert not [p for person in PEOPLE for p in person if p.encode() in refused.content]
    assert batch_count(runtime) == 0 and sealed_files(runtime) == []


@pytest.mark.parametrize("runtime", ["sqlite"], indirect=True)  # the embedded default is SQLite by definition
def test_the_serving_process_answers_batches_on_the_embedded_default(market, tmp_path) -> None:
    runtime, keys = market
    assert batches_in_process(runtime) is None  # a database URL is set: the worker runs apart
    embedded = Runtime(settings=runtime.settings.model_copy(update={"database_url": None}), engine=runtime.engine,
                       vault=runtime.vault)
    body = write_batch(tmp_path / "s.csv", [subject(0, "R-1", consent_ref="L-1")]).read_bytes()
    before = gc.get_threshold()
    try:
        with TestClient(create_app(embedded, serving=True)) as http:
            job = _post(http, keys["LENDER"], "s.csv", body).json()
            deadline = time.monotonic() + 20
            while (status := http.get(f"{PATH}/{job['id']}", headers={"X-API-Key": keys["LENDER"]}).json())[
                    "status"] != "done" and time.monotonic() < deadline:
                time.sleep(0.05)
        assert (status["status"], status["rows_answered"]) == ("done", 1)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

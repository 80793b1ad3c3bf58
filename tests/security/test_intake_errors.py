"""Error messages never quote a furnished record; bad names and duplicated columns are clear 4xx errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openbureau.api.app import create_app
from openbureau.intake import service
from openbureau.intake.models import Finding, Submission
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.intake.factories import write_file
from tests.members.factories import make_member
from tests.security.factories import people_records, secrets_of


@pytest.fixture
def api(runtime):
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    with TestClient(create_app(runtime)) as client:
        yield client, key


def _post(client, key, name, data: bytes):
    return client.post("/v1/submissions", headers={"X-API-Key": key}, files={"file": (name, data, "text/csv")})


def test_one_record_not_utf8_is_a_masked_finding_and_the_rest_loads(api, runtime, tmp_path) -> None:
    client, key = api
    rows = people_records(8)
    lines = write_file(tmp_path / "f.csv", rows).read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(rows[2]["phone"].encode(), rows[2]["phone"].encode() + b"\xff")
    lines[5] = lines[5].replace(b",", b",,", 3)  # the wrong number of fields
    response = _post(client, key, "f.csv", b"".join(lines))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["records_accepted"], body["records_rejected"]) == (6, 2)
    findings = client.get(f"/v1/submissions/{body['id']}/errors", headers={"X-API-Key": key}).json()["items"]
    assert [(f["line"], f["code"]) for f in findings] == [(4, "MALFORMED_RECORD"), (6, "MALFORMED_RECORD")]
    shown = str(findings)
    assert all(f["value"] for f in findings)  # the row is shown, masked
    assert not [s for s in secrets_of(rows) if s.decode() in shown]


def test_a_file_in_another_encoding_is_refused_as_not_utf8(api, tmp_path) -> None:
    client, key = api
    text = write_file(tmp_path / "f.csv", people_records(5)).read_text("utf-8")
    response = _post(client, key, "gbk.csv", text.encode("gbk"))
    assert response.status_code == 422
    assert response.json()["code"] == "FILE_NOT_UTF8" and "UTF-8" in response.json()["message"]


def test_a_300_character_file_name_is_a_clear_4xx(api, runtime, tmp_path) -> None:
    client, key = api
    data = write_file(tmp_path / "f.csv", people_records(2)).read_bytes()
    for name in ("x" * 296 + ".csv", "f." + "c" * 298):
        response = _post(client, key, name, data)
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["code"] in ("FILE_NAME_TOO_LONG", "FILE_FORMAT_UNKNOWN")
        assert "x" * 100 not in response.text
    with session_scope(runtime.engine) as session:
        assert list(session.scalars(select(Submission))) == []


def test_duplicate_column_names_are_a_clear_4xx_and_leave_nothing_stuck(api, runtime, tmp_path) -> None:
    client, key = api
    rows = people_records(3)
    path = write_file(tmp_path / "f.csv", rows)
    lines = path.read_text().splitlines()
    lines[0] += ",balance"
    data = ("\n".join([lines[0], *[line + ",1" for line in lines[1:]]]) + "\n").encode()
    response = _post(client, key, "dup.csv", data)
    assert response.status_code == 422 and response.json()["code"] == "FILE_DUPLICATE_COLUMNS"
    assert response.json()["details"]["columns"] == ["balance"]
    with session_scope(runtime.engine) as session:
        assert list(session.scalars(select(Submission))) == []
        assert list(session.scalars(select(Finding))) == []


def test_jsonl_lines_that_are_not_json_are_masked_findings(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    rows = people_records(4)
    path = write_file(tmp_path / "f.jsonl", rows)
    lines = path.read_text("utf-8").splitlines()
    lines[1] = lines[1][:-5]  # cut: not JSON, and it quotes the record
    path.write_text("\n".join(lines) + "\n", "utf-8")
    s = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A", path=path).submission
    assert (s.records_accepted, s.records_rejected) == (3, 1)
    with session_scope(runtime.engine) as session:
        [finding] = session.scalars(select(Finding))
    assert finding.code == "MALFORMED_RECORD" and finding.line == 2
    assert not [x for x in secrets_of(rows) if x.decode() in (finding.value or "") + finding.message]


def test_malformed_uploads_are_clear_4xx_and_leave_no_scratch(api, runtime, tmp_path) -> None:
    client, key = api
    headers = {"X-API-Key": key}
    assert client.post("/v1/submissions", headers=headers, content=b"x").json()["code"] == "UPLOAD_MALFORMED"
    cut = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\n\r\nabc")
    response = client.post("/v1/submissions", headers={**headers, "Content-Type": "multipart/form-data; boundary=B"},
                           content=cut)
    assert response.status_code == 400 and response.json()["code"] == "UPLOAD_MALFORMED"
    data = write_file(tmp_path / "f.csv", people_records(2)).read_bytes()
    twice = client.post("/v1/submissions", headers=headers,
                        files=[("file", ("f.csv", data, "text/csv")), ("file", ("g.csv", b"junk,\n1,2\n", "text/csv"))])
    assert twice.status_code == 201 and twice.json()["records_accepted"] == 2  # the first file part only
    assert not list((runtime.settings.data_dir / "tmp").glob("*"))

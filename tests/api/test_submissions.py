"""The submissions API: upload, outcome, findings; a furnisher sees only its own; errors have one shape."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.members.models import Role
from tests.adapters import embedded_runtime  # noqa: F401
from tests.intake.factories import person, record, write_file
from tests.members.factories import make_member


@pytest.fixture
def api(runtime):
    keys = {
        "bank": make_member(runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER),
        "other": make_member(runtime, "BANK_B", Role.FURNISHER),
        "lender": make_member(runtime, "LENDER", Role.SUBSCRIBER),
    }
    with TestClient(create_app(runtime)) as client:
        yield client, keys


def _upload(client, key, path):
    with path.open("rb") as handle:
        return client.post("/v1/submissions", headers={"X-API-Key": key},
                           files={"file": (path.name, handle, "application/octet-stream")})


def test_submit_read_and_download_findings(api, tmp_path) -> None:
    client, keys = api
    rows = [person(0), person(1, furnisher_account_id="A2", days_past_due="45")]
    response = _upload(client, keys["bank"], write_file(tmp_path / "sep.csv", rows))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["records_received"], body["records_accepted"], body["records_rejected"],
            body["repeated"]) == ("loaded", 2, 1, 1, False)
    sid = body["id"]
    again = _upload(client, keys["bank"], tmp_path / "sep.csv")
    assert again.status_code == 200 and again.json()["repeated"] is True and again.json()["id"] == sid

    read = client.get(f"/v1/submissions/{sid}", headers={"Authorization": f"Bearer {keys['bank']}"})
    assert read.status_code == 200 and read.json()["findings_count"] == body["findings_count"]
    page = client.get(f"/v1/submissions/{sid}/errors", headers={"X-API-Key": keys["bank"]}).json()
    assert page["total"] == len(page["items"]) > 0
    assert {f["line"] for f in page["items"]} == {3}
    assert "STATUS_DPD_MISMATCH" in {f["code"] for f in page["items"]}
    download = client.get(f"/v1/submissions/{sid}/errors?format=csv", headers={"X-API-Key": keys["bank"]})
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == page["total"] and rows[0]["line"] == "3"
    listed = client.get("/v1/submissions", headers={"X-API-Key": keys["bank"]}).json()
    assert [s["id"] for s in listed] == [sid]


def test_a_furnisher_sees_only_its_own_submissions(api, tmp_path) -> None:
    client, keys = api
    sid = _upload(client, keys["bank"], write_file(tmp_path / "a.csv", [record()])).json()["id"]
    for path in (f"/v1/submissions/{sid}", f"/v1/submissions/{sid}/errors"):
        response = client.get(path, headers={"X-API-Key": keys["other"]})
        assert response.status_code == 404
        assert response.json()["code"] == "SUBMISSION_NOT_FOUND"
    assert client.get("/v1/submissions", headers={"X-API-Key": keys["other"]}).json() == []


def test_roles_and_keys_are_enforced_with_one_error_shape(api, tmp_path) -> None:
    client, keys = api
    path = write_file(tmp_path / "a.csv", [record()])
    no_key = client.get("/v1/submissions")
    assert no_key.status_code == 401 and no_key.json() == {
        "code": "UNAUTHENTICATED", "message": no_key.json()["message"], "field": None}
    assert client.get("/v1/submissions", headers={"X-API-Key": "ob_x_y"}).json()["code"] == "INVALID_API_KEY"
    forbidden = _upload(client, keys["lender"], path)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "ROLE_REQUIRED"
    invalid = client.get("/v1/submissions?limit=0", headers={"X-API-Key": keys["bank"]})
    assert invalid.status_code == 422 and invalid.json()["code"] == "INVALID_REQUEST"
    assert invalid.json()["field"] == "limit"


def test_a_refused_file_gets_a_clear_error(api, tmp_path) -> None:
    client, keys = api
    banned = write_file(tmp_path / "a.csv", [record(fingerprint_hash="x")], columns=[*record(), "fingerprint_hash"])
    response = _upload(client, keys["bank"], banned)
    assert response.status_code == 422
    assert response.json()["code"] == "BANNED_ATTRIBUTE" and response.json()["field"] == "fingerprint_hash"
    other = tmp_path / "a.xlsx"
    other.write_bytes(b"PK")
    assert _upload(client, keys["bank"], other).json()["code"] == "FILE_FORMAT_UNKNOWN"


def test_openapi_documents_the_v1_surface(api) -> None:
    client, _ = api
    paths = client.get("/v1/openapi.json").json()["paths"]
    assert {"/v1/submissions", "/v1/submissions/{submission_id}", "/v1/submissions/{submission_id}/errors",
            "/v1/members/me"} <= set(paths)
    assert client.get("/v1/docs").status_code == 200

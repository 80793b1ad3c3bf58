"""A consent file uploaded through the API is never in clear on disk, and its errors quote nothing of it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.members.models import Role
from tests.members.factories import make_member
from tests.security.factories import files_holding, people_records

HEADER = "consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash\n"


def test_a_consent_upload_is_sealed_as_it_streams_in(runtime, tmp_path) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    people = people_records(20)
    secrets = {p["id_number"].encode() for p in people}
    body = HEADER + "".join(f"C{i},CN_RESIDENT_ID,{p['id_number']},furnish,2026-01-01T00:00:00Z,app,{'ab' * 32}\n"
                            for i, p in enumerate(people))
    with TestClient(create_app(runtime)) as client:
        done = client.post("/v1/consents/import", headers={"X-API-Key": key},
                           files={"file": ("consents.csv", body.encode(), "text/csv")})
        assert done.status_code == 200, done.text
        assert (done.json()["created"], done.json()["rejected"]) == (20, 0)
        # A line that is not JSON is that line's finding: the rest of the file is imported.
        broken = client.post("/v1/consents/import", headers={"X-API-Key": key},
                             files={"file": ("consents.jsonl", f'{{"id_number": "{people[0]["id_number"]}"\n'.encode(),
                                             "application/x-ndjson")})
        too_long = client.post("/v1/consents/import", headers={"X-API-Key": key},
                               files={"file": ("consents.csv", (HEADER + f"C99,CN_RESIDENT_ID,{people[1]['id_number']},"
                                                                f"furnish,{'9' * 5000},app,{'ab' * 32}\n").encode(),
                                               "text/csv")})
        # The upload's name says what it is: a consent file is CSV or JSON Lines, never anything else.
        parquet = client.post("/v1/consents/import", headers={"X-API-Key": key},
                              files={"file": ("consents.parquet", body.encode(), "application/octet-stream")})
    assert broken.status_code == 200 and people[0]["id_number"] not in broken.text
    assert (broken.json()["received"], broken.json()["rejected"]) == (1, 1)
    assert [(f["line"], f["code"]) for f in broken.json()["findings"]] == [(1, "MALFORMED_RECORD")]
    assert too_long.status_code == 200 and people[1]["id_number"] not in too_long.text
    assert [(f["line"], f["field"], f["code"]) for f in too_long.json()["findings"]] == [
        (2, "granted_at", "VALUE_TOO_LONG")]
    assert parquet.status_code == 422 and parquet.json()["code"] == "FILE_FORMAT_UNKNOWN"
    assert secrets and files_holding(runtime.settings.data_dir, secrets) == {}

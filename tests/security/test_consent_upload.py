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
        broken = client.post("/v1/consents/import", headers={"X-API-Key": key},
                             files={"file": ("consents.jsonl", f'{{"id_number": "{people[0]["id_number"]}"\n'.encode(),
                                             "application/x-ndjson")})
    assert broken.status_code == 422 and people[0]["id_number"] not in broken.text
    assert secrets and files_holding(runtime.settings.data_dir, secrets) == {}

"""Attacks on the HTTP edge, as an outsider and as members: authentication before the body, body limits,
response headers. Rate limits: test_api_ratelimits.py; exports: test_api_exports.py."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.consent.profiles import Purpose
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE, person, write_file
from tests.live_server import LiveServer
from tests.members.factories import make_member
from tests.security.helpers import Upload, app_with, call

MULTIPART = "multipart/form-data; boundary=edge"


def test_a_200_mb_upload_without_a_key_is_refused_before_a_byte_is_read(runtime) -> None:
    upload = call(create_app(runtime), Upload(chunks=200), path="/v1/submissions",
                  headers={"content-type": MULTIPART, "content-length": str(200 << 20)})
    assert upload.status == 401 and upload.body["code"] == "UNAUTHENTICATED"
    assert upload.read_bytes == 0  # not one chunk of the body was taken from the client
    assert upload.headers["connection"] == "close"


def test_a_wrong_key_is_refused_before_the_body_is_read(runtime) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    upload = call(create_app(runtime), Upload(chunks=50), path="/v1/submissions",
                  headers={"content-type": MULTIPART, "x-api-key": "ob_0123456789ab_wrong",
                           "transfer-encoding": "chunked"})
    assert (upload.status, upload.body["code"], upload.read_bytes) == (401, "INVALID_API_KEY", 0)


def test_invalid_json_without_a_key_is_a_401_not_a_422(runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        response = client.post("/v1/inquiries", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 401 and response.json()["code"] == "UNAUTHENTICATED"


def test_an_upload_declared_over_the_limit_is_refused_unread(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    app = app_with(runtime, max_upload_bytes=5 << 20)
    upload = call(app, Upload(chunks=10), path="/v1/submissions",
                  headers={"content-type": MULTIPART, "content-length": str(10 << 20), "x-api-key": key})
    assert (upload.status, upload.body["code"], upload.read_bytes) == (413, "BODY_TOO_LARGE", 0)
    assert "5,242,880 bytes" in upload.body["message"] and upload.headers["connection"] == "close"


def test_a_streamed_upload_is_cut_off_once_it_passes_the_limit(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    app = app_with(runtime, max_upload_bytes=5 << 20)
    upload = call(app, Upload(chunks=500), path="/v1/submissions",
                  headers={"content-type": MULTIPART, "transfer-encoding": "chunked", "x-api-key": key})
    assert (upload.status, upload.body["code"]) == (413, "BODY_TOO_LARGE")
    assert upload.read_bytes <= 6 << 20  # stopped at the first chunk past 5 MiB, not at the 500th
    assert set(upload.body) >= {"code", "message", "field"}


def test_json_bodies_have_a_small_limit_of_their_own(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.SUBSCRIBER)
    big = b'{"subject": {"id_type": "CN_RESIDENT_ID", "id_number": "' + b"1" * (2 << 20) + b'"}}'
    with TestClient(create_app(runtime)) as client:
        response = client.post("/v1/inquiries", content=big,
                               headers={"x-api-key": key, "content-type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "BODY_TOO_LARGE"
    assert "1,048,576 bytes" in response.json()["message"]


def test_a_body_left_unread_closes_the_connection_instead_of_draining_it(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    app = create_app(runtime)
    for path, headers, status in (("/v1/nowhere", {"x-api-key": key}, 404), ("/v1/health", {}, 405)):
        upload = call(app, Upload(chunks=100), path=path,
                      headers={**headers, "content-type": MULTIPART, "transfer-encoding": "chunked"})
        assert (upload.status, upload.read_bytes) == (status, 0), path
        assert upload.headers["connection"] == "close", path


def test_a_client_that_stops_sending_is_timed_out(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    app = app_with(runtime, body_idle_timeout_seconds=0.3)
    started = time.monotonic()
    upload = call(app, Upload(chunks=3, chunk=b"x" * 1000, pause=2.0), path="/v1/submissions",
                  headers={"content-type": MULTIPART, "transfer-encoding": "chunked", "x-api-key": key})
    assert (upload.status, upload.body["code"]) == (408, "REQUEST_TIMEOUT")
    assert time.monotonic() - started < 1.5 and upload.headers["connection"] == "close"


def test_a_client_that_dribbles_is_held_to_a_total_deadline(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    app = app_with(runtime, body_idle_timeout_seconds=1.0, upload_timeout_seconds=0.5)
    started = time.monotonic()
    upload = call(app, Upload(chunks=100, chunk=b"x" * 10, pause=0.1), path="/v1/submissions",
                  headers={"content-type": MULTIPART, "transfer-encoding": "chunked", "x-api-key": key})
    assert (upload.status, upload.body["code"]) == (408, "REQUEST_TIMEOUT")
    assert time.monotonic() - started < 1.5 and upload.read_calls < 10


def _slow_upload(port: int, headers: str) -> tuple[bytes, float]:
    """Start a large upload, send a little of it, and wait: what the server answers, and when it closed."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.settimeout(5)
        conn.sendall(f"POST /v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: {MULTIPART}\r\n"
                     f"Content-Length: {100 << 20}\r\n{headers}\r\n".encode() + b"--edge\r\n")
        started = time.monotonic()
        answer = b""
        while chunk := conn.recv(65536):  # b"" once the server closed the connection
            answer += chunk
        return answer, time.monotonic() - started


def test_slow_uploads_without_a_key_get_a_401_and_are_disconnected_at_once(runtime) -> None:
    with LiveServer(create_app(runtime), lifespan="off") as server:
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(_slow_upload(server.port, "")))
                   for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert len(answers) == 20
    for answer, held in answers:
        assert answer.startswith(b"HTTP/1.1 401") and b"UNAUTHENTICATED" in answer
        assert held < 2  # closed by the server, not held open waiting for the other 100 MB


def test_a_stalled_upload_with_a_key_is_answered_408_and_disconnected(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    with LiveServer(app_with(runtime, body_idle_timeout_seconds=0.5), lifespan="off") as server:
        answer, held = _slow_upload(server.port, f"X-API-Key: {key}\r\n")
    assert answer.startswith(b"HTTP/1.1 408") and b"REQUEST_TIMEOUT" in answer and held < 3


def test_public_routes_stay_open(runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        for path in ("/v1/health", "/v1/openapi.json", "/v1/docs"):
            assert client.get(path).status_code == 200, path
        assert client.get("/v1/submissions").status_code == 401


def _is_strict_json_policy(headers) -> bool:
    return headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_every_response_carries_the_security_headers(runtime, tmp_path) -> None:
    furnisher = make_member(runtime, "FURN", Role.FURNISHER)
    subscriber = make_member(runtime, "SUB", Role.SUBSCRIBER)
    grant(runtime, "FURN", PEOPLE[0][0])
    grant(runtime, "SUB", PEOPLE[0][0], Purpose.LOAN_ORIGINATION, ref="SUB-1")
    path = write_file(tmp_path / "sep.csv", [person(0, furnisher_account_id="F-1")])
    inquiry = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[0][0]}, "purpose": "loan_origination",
               "consent_ref": "SUB-1"}
    with TestClient(create_app(runtime)) as client:
        with path.open("rb") as handle:
            sid = client.post("/v1/submissions", headers={"X-API-Key": furnisher},
                              files={"file": ("sep.csv", handle)}).json()["id"]
        responses = {
            "json": client.get(f"/v1/submissions/{sid}", headers={"X-API-Key": furnisher}),
            "csv": client.get(f"/v1/submissions/{sid}/errors?format=csv", headers={"X-API-Key": furnisher}),
            "refusal": client.get("/v1/submissions"),
            "not found": client.get("/v1/nowhere", headers={"X-API-Key": furnisher}),
            "report": client.post("/v1/inquiries", json=inquiry, headers={"X-API-Key": subscriber}),
            "html": client.post("/v1/inquiries?format=html", json=inquiry, headers={"X-API-Key": subscriber}),
            "health": client.get("/v1/health"),
            "docs": client.get("/v1/docs"),
        }
    assert responses["html"].status_code == 201 and responses["report"].status_code == 201
    for name, response in responses.items():
        assert response.status_code < 500, (name, response.text)
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] == "no-referrer", name
        assert response.headers["cache-control"] == "no-store", name
    for name in ("json", "csv", "refusal", "not found", "report", "health"):
        assert _is_strict_json_policy(responses[name].headers), name
    html_policy = responses["html"].headers["content-security-policy"]
    assert "default-src 'none'" in html_policy and "script-src" not in html_policy
    assert "frame-ancestors 'none'" in html_policy


def test_the_docs_pages_load_everything_from_the_bureau_and_run_no_inline_script(runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        pages = {path: client.get(path) for path in ("/v1/docs", "/v1/redoc")}
        spec = client.get("/v1/openapi.json")
        for page in pages.values():
            assert page.status_code == 200
            sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert sources and all(s.startswith("/v1/docs/assets/") for s in sources), sources
            assert not re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)  # no inline script
            for source in sources:  # every one is served, by anyone, and may be cached
                asset = client.get(source)
                assert asset.status_code == 200 and len(asset.content) > 100, source
                assert "max-age" in asset.headers["cache-control"], source
            policy = page.headers["content-security-policy"]
            script = policy.split("script-src")[1].split(";")[0]
            assert script.strip() == "'self'" and "default-src 'none'" in policy and "connect-src 'self'" in policy
            assert "http" not in policy  # no other origin
        assert client.get("/v1/docs/assets/..%2Fdocs.py").status_code == 404
        assert client.get("/v1/docs/assets/docs.py").status_code == 404
        assert "SwaggerUIBundle(" in client.get("/v1/docs/assets/swagger-init.js").text
    assert spec.status_code == 200


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
def test_both_key_headers_pass_the_edge(runtime, header) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    value = key if header == "X-API-Key" else f"Bearer {key}"
    with TestClient(create_app(runtime)) as client:
        assert client.get("/v1/submissions", headers={header: value}).status_code == 200


def test_a_key_revoked_elsewhere_is_refused_within_the_remembered_time(runtime) -> None:
    """A serving process remembers a key it authenticated for OPENBUREAU_API_KEY_CACHE_SECONDS; a revocation
    made by another process (the command line) is honoured by the next call after that, never later."""
    from openbureau.audit.service import terminal_operator
    from openbureau.kit.db import session_scope
    from openbureau.members.service import revoke_key

    key = make_member(runtime, "BANK_A", Role.SUBSCRIBER)
    app = app_with(runtime, api_key_cache_seconds=2.0)
    now = [1_000.0]
    app.state.edge.keys.clock = lambda: now[0]
    with TestClient(app) as client:
        assert client.get("/v1/members/me", headers={"x-api-key": key}).status_code == 200
        with session_scope(runtime.engine, write=True) as session:
            revoke_key(session, principal=terminal_operator(), prefix=key.split("_")[1])
        now[0] += 2.0
        refused = client.get("/v1/members/me", headers={"x-api-key": key})
        assert (refused.status_code, refused.json()["code"]) == (401, "API_KEY_REVOKED")
        now[0] += 0.5  # and stays refused: a refusal is not remembered as a success
        assert client.get("/v1/members/me", headers={"x-api-key": key}).status_code == 401


def test_with_no_remembered_time_a_revoked_key_is_refused_at_once(runtime) -> None:
    from openbureau.audit.service import terminal_operator
    from openbureau.kit.db import session_scope
    from openbureau.members.service import revoke_key

    key = make_member(runtime, "BANK_A", Role.SUBSCRIBER)
    with TestClient(app_with(runtime, api_key_cache_seconds=0)) as client:
        assert client.get("/v1/members/me", headers={"x-api-key": key}).status_code == 200
        with session_scope(runtime.engine, write=True) as session:
            revoke_key(session, principal=terminal_operator(), prefix=key.split("_")[1])
        refused = client.get("/v1/members/me", headers={"x-api-key": key})
        assert (refused.status_code, refused.json()["code"]) == (401, "API_KEY_REVOKED")

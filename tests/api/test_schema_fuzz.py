"""Property test from the API's own OpenAPI schema: no generated request, however odd, is a server error,
and every refusal has the one error shape."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from openbureau.api.app import create_app
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member


def test_no_request_is_a_server_error(sqlite_runtime) -> None:
    key = make_member(sqlite_runtime, "BANK_A", Role.FURNISHER, Role.SUBSCRIBER)
    grant(sqlite_runtime, "BANK_A", PEOPLE[0][0])
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", create_app(sqlite_runtime))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            case.headers = {**(case.headers or {}), "X-API-Key": key}
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text)
            if response.status_code >= 400:
                assert {"code", "message", "field"} <= set(response.json()), response.text

        check()

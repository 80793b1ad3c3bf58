"""The reports' small market (person 0 known to three lenders, LENDER holding a loan consent), served by the
whole web application (API and portal) over HTTPS as a browser sees it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openbureau.web.app import create_app
from tests.reports.conftest import market  # noqa: F401


@pytest.fixture
def portal(market):  # noqa: F811
    runtime, keys = market
    with TestClient(create_app(runtime), base_url="https://testserver") as client:
        yield client, runtime, keys

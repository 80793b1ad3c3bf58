"""The reports' small market (person 0 known to three lenders, LENDER holding a loan consent), served by the
whole web application (API and portal) over HTTPS as a browser sees it, in English."""

from __future__ import annotations

import pytest

from openbureau.web.app import create_app
from tests.reports.conftest import market  # noqa: F401
from tests.web.factories import english


@pytest.fixture
def portal(market):  # noqa: F811
    runtime, keys = market
    with english(create_app(runtime)) as client:
        yield client, runtime, keys

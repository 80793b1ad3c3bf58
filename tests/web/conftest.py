"""The reports' small market (person 0 known to three lenders, LENDER holding a loan consent), served by the
whole web application (API and portal) over HTTPS as a browser sees it, in English.

The web pages are a thin adapter: every page renders what a service returns, and the services' own tests run
on both engines. So the pages are tested on the embedded default alone (``runtime`` below overrides the
suite's two-engine fixture for this package), which keeps the browser tests' share of the run's time in
bounds (docs/testing.md)."""

from __future__ import annotations

import pytest

from openbureau.web.app import create_app
from tests.reports.conftest import market  # noqa: F401
from tests.web.factories import english


@pytest.fixture(params=["sqlite"])
def runtime(sqlite_runtime):
    """The bureau of a page test: SQLite only (see the module)."""
    return sqlite_runtime


@pytest.fixture
def portal(market):  # noqa: F811
    runtime, keys = market
    with english(create_app(runtime)) as client:
        yield client, runtime, keys

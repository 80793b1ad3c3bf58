"""Disputes tests use the reports tests' small market, and collect the notices owed to the person."""

import pytest

from tests.disputes.factories import Notices
from tests.reports.conftest import market  # noqa: F401


@pytest.fixture
def owed():
    """The notices owed to persons during the test."""
    collected = Notices()
    yield collected
    collected.close()

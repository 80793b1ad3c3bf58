"""Rights tests use the reports tests' small market, and collect the notices owed to the person."""

from tests.disputes.conftest import owed  # noqa: F401
from tests.reports.conftest import market  # noqa: F401

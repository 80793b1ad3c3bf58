"""The reports' small market (person 0 known to three lenders, LENDER holding a loan consent) for the person's
side; the command line's empty bureau for the counter's export."""

from tests.cli.conftest import bureau_env  # noqa: F401
from tests.reports.conftest import market  # noqa: F401

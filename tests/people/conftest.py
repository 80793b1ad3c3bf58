"""The reports' small market (person 0 known to three lenders, LENDER holding a loan consent) for the person's
side."""

from tests.reports.conftest import market  # noqa: F401

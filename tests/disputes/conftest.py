"""Disputes tests use the reports tests' small market."""

from tests.reports.conftest import market  # noqa: F401

"""Batch inquiries over the reports' small market: person 0 known to three lenders, person 1 at BANK_A only;
LENDER holds person 0's consent for loan origination (``L-1``) and person 1's (``L-2``)."""

from __future__ import annotations

import pytest

from openbureau.consent.profiles import Purpose
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.reports.conftest import market as reports_market  # noqa: F401 - the fixture this one builds on


@pytest.fixture
def market(reports_market):  # noqa: F811
    runtime, keys = reports_market
    grant(runtime, "LENDER", PEOPLE[1][0], Purpose.LOAN_ORIGINATION, ref="L-2")
    return runtime, keys

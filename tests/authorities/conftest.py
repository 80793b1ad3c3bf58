"""The reports tests' small market (person 0 known to three lenders, LENDER holding a loan consent), with three
authorities and a regulator."""

from __future__ import annotations

import pytest

from openbureau.members.models import Role
from tests.members.factories import make_member
from tests.reports.conftest import market  # noqa: F401

AUTHORITIES = {"COURT": "Haidian People's Court", "POLICE": "Beijing Public Security Bureau",
               "TAX": "Beijing Tax Service"}


@pytest.fixture
def bureau(market):  # noqa: F811
    """(runtime, member code -> API key): the market, the authorities COURT, POLICE and TAX, and REG."""
    runtime, keys = market
    for code, name in AUTHORITIES.items():
        keys[code] = make_member(runtime, code, Role.AUTHORITY, name=name)
    keys["REG"] = make_member(runtime, "REG", Role.REGULATOR, name="The Regulator")
    return runtime, keys
